/*
 * fuzz_tlscheck: keyproc's content checks (keyproc/tlscheck.c), the only
 * thing between netproc's bytes and a signature.  Each is held against
 * an independent reading of what DESIGN.md says keyproc agrees to sign.
 *
 * Input: kind(1) curve(1) type(1) scheme(2) tbs...
 *   kind    enum key_kind (0-4; above that: no such kind)
 *   curve   0 none, 1 P-256, 2 P-384, 3 P-521, 4 secp256k1
 *   type    even: sign_tls13, odd: sign_tls12
 *   tbs     given to tls13_check() and to tls12_check()
 */
/* tlsoracle.h gets the RFC 7919 primes the 3.0-deprecated way */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "keyproc.h"
#include "lurk.h"
#include "tlsoracle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
refusal(int st, int want, const char *why)
{
	if (st != want || why == NULL || strlen(why) == 0)
		abort();
}

/*
 * Which schemes a key may use, as a table: RSA PKCS#1 only in TLS 1.2,
 * RSA-PSS "rsae" with RSA keys and "pss" with RSA-PSS keys, ECDSA with
 * the hash of its curve in TLS 1.3 and with any curve in TLS 1.2,
 * SHA-224 only in TLS 1.2, EdDSA pure, SHA-1 never.  The digest NID, or
 * NID_undef for EdDSA; -1 for a refusal.
 */
static int
scheme_md(int kind, int nid, int tls13, unsigned scheme)
{
	switch (scheme) {
	case 0x0301:
		return kind == KEY_RSA && !tls13 ? NID_sha224 : -1;
	case 0x0401:
		return kind == KEY_RSA && !tls13 ? NID_sha256 : -1;
	case 0x0501:
		return kind == KEY_RSA && !tls13 ? NID_sha384 : -1;
	case 0x0601:
		return kind == KEY_RSA && !tls13 ? NID_sha512 : -1;
	case 0x0804:
		return kind == KEY_RSA ? NID_sha256 : -1;
	case 0x0805:
		return kind == KEY_RSA ? NID_sha384 : -1;
	case 0x0806:
		return kind == KEY_RSA ? NID_sha512 : -1;
	case 0x0809:
		return kind == KEY_RSA_PSS ? NID_sha256 : -1;
	case 0x080a:
		return kind == KEY_RSA_PSS ? NID_sha384 : -1;
	case 0x080b:
		return kind == KEY_RSA_PSS ? NID_sha512 : -1;
	case 0x0303:
		return kind == KEY_EC && !tls13 ? NID_sha224 : -1;
	case 0x0403:
		return kind == KEY_EC && (!tls13 ||
		    nid == NID_X9_62_prime256v1) ? NID_sha256 : -1;
	case 0x0503:
		return kind == KEY_EC && (!tls13 || nid == NID_secp384r1) ?
		    NID_sha384 : -1;
	case 0x0603:
		return kind == KEY_EC && (!tls13 || nid == NID_secp521r1) ?
		    NID_sha512 : -1;
	case 0x0807:
		return kind == KEY_ED25519 ? NID_undef : -1;
	case 0x0808:
		return kind == KEY_ED448 ? NID_undef : -1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 curves[] = { NID_undef, NID_X9_62_prime256v1,
		NID_secp384r1, NID_secp521r1, NID_secp256k1 };
	const EVP_MD		*md;
	const uint8_t		*tbs;
	const char		*why;
	size_t			 len;
	unsigned		 scheme;
	int			 kind, nid, tls13, st, pss, want, ec = 0;

	if (size < 5)
		return 0;
	kind = data[0] & 7;
	nid = curves[data[1] % 5];
	tls13 = (data[2] & 1) == 0;
	scheme = data[3] << 8 | data[4];
	tbs = data + 5;
	len = size - 5;

	why = NULL;
	st = tls13_check(tbs, len, &why);
	if (tls13_ok(tbs, len)) {
		if (st != 0)
			abort();
	} else
		refusal(st, EDGE_ST_INVALID_CONTENT, why);

	why = NULL;
	st = tls12_check(tbs, len, &why);
	if (st == 0) {
		/* accepted: the exact form, an uncompressed point, or DHE */
		if ((!tls12_form(tbs, len, &ec) || (ec && tbs[68] != 4)) &&
		    !tls12_dh_ok(tbs, len))
			abort();
	} else {
		refusal(st, EDGE_ST_INVALID_CONTENT, why);
		/* X25519/X448 values have no form to check beyond size */
		if ((tls12_form(tbs, len, &ec) && !ec) ||
		    tls12_dh_ok(tbs, len))
			abort();
	}

	why = NULL;
	md = NULL;
	pss = -1;
	st = scheme_check(kind, nid, tls13 ? EDGE_TYPE_SIGN_TLS13 :
	    EDGE_TYPE_SIGN_TLS12, scheme, &md, &pss, &why);
	want = scheme_md(kind, nid, tls13, scheme);
	if (want == -1)
		refusal(st, EDGE_ST_INVALID_SCHEME, why);
	else {
		if (st != 0)
			abort();
		if (want == NID_undef ? md != NULL :
		    md == NULL || EVP_MD_get_type(md) != want)
			abort();
		if (pss != ((scheme & 0xff00) == 0x0800 && want != NID_undef))
			abort();
	}
	return 0;
}
