/*
 * What keyproc agrees to sign (DESIGN.md): the exact TLS structures a
 * server handshake signs, nothing else.  Pure functions over bytes, so
 * that they can be fuzzed; each refusal names its reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "keyproc.h"
#include "lurk.h"

/*
 * TLS 1.3 server CertificateVerify content (RFC 8446 §4.4.3): 64 spaces,
 * the server context string, a zero byte, a 32- or 48-byte transcript
 * hash.  The hash length follows the cipher suite, not the signature.
 */
int
tls13_check(const uint8_t *tbs, size_t len, const char **why)
{
	static const uint8_t	 ctx[] = TLS13_CV_SERVER_CTX;
	static const uint8_t	 cctx[] = TLS13_CV_CLIENT_CTX;
	size_t			 i, hlen;

	if (len < TLS13_CV_PREFIX_LEN) {
		*why = "too short for TLS 1.3 CertificateVerify content";
		return EDGE_ST_INVALID_CONTENT;
	}
	for (i = 0; i < TLS13_CV_PAD_LEN; i++)
		if (tbs[i] != 0x20) {
			*why = "not TLS 1.3 CertificateVerify content (padding)";
			return EDGE_ST_INVALID_CONTENT;
		}
	if (memcmp(tbs + TLS13_CV_PAD_LEN, cctx, sizeof(cctx)) == 0) {
		*why = "TLS 1.3 client CertificateVerify context";
		return EDGE_ST_INVALID_CONTENT;
	}
	/* sizeof(ctx) counts the NUL, which is the separator byte */
	if (memcmp(tbs + TLS13_CV_PAD_LEN, ctx, sizeof(ctx)) != 0) {
		*why = "not the TLS 1.3 server CertificateVerify context";
		return EDGE_ST_INVALID_CONTENT;
	}
	hlen = len - TLS13_CV_PREFIX_LEN;
	if (hlen != 32 && hlen != 48) {
		*why = "TLS 1.3 transcript hash is neither 32 nor 48 bytes";
		return EDGE_ST_INVALID_CONTENT;
	}
	return 0;
}

/*
 * A TLS 1.3 client CertificateVerify content: the client context, then
 * as a server's (an upstream's client key signs its handshakes only).
 */
int
tls13_client_check(const uint8_t *tbs, size_t len, const char **why)
{
	static const uint8_t	 sctx[] = TLS13_CV_SERVER_CTX;
	static const uint8_t	 cctx[] = TLS13_CV_CLIENT_CTX;
	uint8_t			 buf[TLS13_CV_PREFIX_LEN + 48];

	_Static_assert(sizeof(sctx) == sizeof(cctx), "context lengths");
	if (len < TLS13_CV_PREFIX_LEN || len > sizeof(buf) ||
	    memcmp(tbs + TLS13_CV_PAD_LEN, cctx, sizeof(cctx)) != 0) {
		*why = "not the TLS 1.3 client CertificateVerify context";
		return EDGE_ST_INVALID_CONTENT;
	}
	memcpy(buf, tbs, len);
	memcpy(buf + TLS13_CV_PAD_LEN, sctx, sizeof(sctx));
	return tls13_check(buf, len, why);
}

/*
 * The size of the public value of a named group, 0 if not allowed; the
 * curve's NID for the NIST groups, NID_undef for the others.
 */
size_t
group_point_len(unsigned group, int *nid)
{
	*nid = NID_undef;
	switch (group) {
	case TLS_GROUP_SECP256R1:
		*nid = NID_X9_62_prime256v1;
		return 65;
	case TLS_GROUP_SECP384R1:
		*nid = NID_secp384r1;
		return 97;
	case TLS_GROUP_SECP521R1:
		*nid = NID_secp521r1;
		return 133;
	case TLS_GROUP_X25519:
		return 32;
	case TLS_GROUP_X448:
		return 56;
	}
	return 0;
}

/* The group of a curve, made once: it costs more than the check. */
const EC_GROUP *
curve_group(int nid)
{
	static EC_GROUP	*groups[3];
	int		 i;

	switch (nid) {
	case NID_X9_62_prime256v1:
		i = 0;
		break;
	case NID_secp384r1:
		i = 1;
		break;
	case NID_secp521r1:
		i = 2;
		break;
	default:
		return NULL;
	}
	if (groups[i] == NULL)
		groups[i] = EC_GROUP_new_by_curve_name(nid);
	return groups[i];
}

/* An uncompressed point that lies on the curve. */
static int
point_on_curve(int nid, const uint8_t *p, size_t len)
{
	const EC_GROUP	*g;
	EC_POINT	*pt;
	int		 ok = 0;

	if (p[0] != 0x04 || (g = curve_group(nid)) == NULL)
		return 0;
	if ((pt = EC_POINT_new(g)) != NULL &&
	    EC_POINT_oct2point(g, pt, p, len, NULL) == 1 &&
	    EC_POINT_is_on_curve(g, pt, NULL) == 1)
		ok = 1;
	EC_POINT_free(pt);
	return ok;
}

/*
 * The finite-field groups whose ServerDHParams keyproc signs: those
 * OpenSSL's automatic DH parameters (RFC 3526 MODP) and haproxy or
 * others' defaults (RFC 7919 FFDHE) use, 2048 bits and up, all with
 * generator 2.  A prime of the edge's choosing is refused: it would put
 * hundreds of bytes of its choosing under the signature.
 */
static const char *const dh_names[] = {
	"ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
	"modp_2048", "modp_3072", "modp_4096", "modp_6144", "modp_8192",
};
#define DH_NGROUPS	(sizeof(dh_names) / sizeof(dh_names[0]))
static struct {
	uint8_t	*p;
	size_t	 len;
} dh_primes[DH_NGROUPS];
static int	 dh_ready;

/*
 * Make the primes once, before the sandbox: OpenSSL fetches its DH code
 * on first use.  0, or -1 if a group could not be made.
 */
int
tlscheck_init(void)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey;
	OSSL_PARAM	 params[2];
	BIGNUM		*bn;
	size_t		 i;
	int		 ok;

	if (dh_ready)
		return 0;
	for (i = 0; i < DH_NGROUPS; i++) {
		pkey = NULL;
		bn = NULL;
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)dh_names[i],
		    0);
		params[1] = OSSL_PARAM_construct_end();
		ok = (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH",
		    NULL)) != NULL &&
		    EVP_PKEY_paramgen_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_params(ctx, params) == 1 &&
		    EVP_PKEY_paramgen(ctx, &pkey) == 1 &&
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P,
		    &bn) == 1 &&
		    (dh_primes[i].len = BN_num_bytes(bn)) > 0 &&
		    (dh_primes[i].p = malloc(dh_primes[i].len)) != NULL &&
		    BN_bn2bin(bn, dh_primes[i].p) ==
		    (int)dh_primes[i].len;
		BN_free(bn);
		EVP_PKEY_free(pkey);
		EVP_PKEY_CTX_free(ctx);
		if (!ok)
			return -1;
	}
	dh_ready = 1;
	return 0;
}

/* A TLS opaque<1..2^16-1>; NULL if it does not fit in the rest. */
static const uint8_t *
opaque16(const uint8_t **p, size_t *rest, size_t *len)
{
	const uint8_t	*v;

	if (*rest < 2)
		return NULL;
	*len = (size_t)(*p)[0] << 8 | (*p)[1];
	if (*len == 0 || *rest - 2 < *len)
		return NULL;
	v = *p + 2;
	*p += 2 + *len;
	*rest -= 2 + *len;
	return v;
}

/*
 * ServerDHParams (RFC 5246 §7.4.3): a known prime, generator 2, and
 * 1 < dh_Ys < p - 1, nothing after it.
 */
static int
dh_params_check(const uint8_t *p, size_t rest, const char **why)
{
	const uint8_t	*dp, *dg, *dy;
	size_t		 plen, glen, ylen, i, k;
	int		 cmp;

	if ((dp = opaque16(&p, &rest, &plen)) == NULL ||
	    (dg = opaque16(&p, &rest, &glen)) == NULL ||
	    (dy = opaque16(&p, &rest, &ylen)) == NULL) {
		*why = "ServerDHParams truncated";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (rest != 0) {
		*why = "trailing bytes after ServerDHParams";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (tlscheck_init() == -1) {
		*why = "DH groups not available";
		return EDGE_ST_INVALID_CONTENT;
	}
	for (i = 0; i < DH_NGROUPS; i++)
		if (plen == dh_primes[i].len &&
		    memcmp(dp, dh_primes[i].p, plen) == 0)
			break;
	if (i == DH_NGROUPS) {
		*why = "ServerDHParams prime is not a known group";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (glen != 1 || dg[0] != 2) {
		*why = "ServerDHParams generator is not 2";
		return EDGE_ST_INVALID_CONTENT;
	}
	/* compare Ys with p - 1 (p is odd: its last byte minus one) */
	while (ylen > 0 && dy[0] == 0) {
		dy++;
		ylen--;
	}
	if (ylen == 0 || (ylen == 1 && dy[0] == 1)) {
		*why = "DHE public value is 0 or 1";
		return EDGE_ST_INVALID_CONTENT;
	}
	cmp = ylen < plen ? -1 : ylen > plen ? 1 : 0;
	for (k = 0; cmp == 0 && k < plen; k++) {
		uint8_t	 pk = k == plen - 1 ? dp[k] - 1 : dp[k];

		cmp = dy[k] < pk ? -1 : dy[k] > pk ? 1 : 0;
	}
	if (cmp >= 0) {
		*why = "DHE public value is not below p - 1";
		return EDGE_ST_INVALID_CONTENT;
	}
	return 0;
}

/*
 * TLS 1.2 ServerKeyExchange content (RFC 5246 §7.4.3): client_random,
 * server_random, then the key exchange parameters, and not one byte more.
 * ECDHE (RFC 8422 §5.4): curve_type named_curve (3), a group from the
 * allow-list, a point of exactly that group's size on its curve.  DHE:
 * ServerDHParams of a known group.  ECDHE starts with curve_type 3 and a
 * NamedCurve below 0xff; a DH prime of 768 bytes also starts 03 00, but
 * then comes the prime, whose first byte is 0xff in every known group.
 */
int
tls12_check(const uint8_t *tbs, size_t len, const char **why)
{
	const uint8_t	*p = tbs + 64;
	size_t		 rest, plen;
	unsigned	 group;
	int		 nid;

	if (len < 64 + 4) {
		*why = "too short for TLS 1.2 ServerKeyExchange content";
		return EDGE_ST_INVALID_CONTENT;
	}
	rest = len - 64;
	if (p[0] != 3 || p[1] != 0 || p[2] == 0xff)
		return dh_params_check(p, rest, why);
	group = (unsigned)p[1] << 8 | p[2];
	if ((plen = group_point_len(group, &nid)) == 0) {
		*why = "ServerECDHParams group not allowed";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (p[3] != plen) {
		*why = "ECDHE public value of the wrong size for its group";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (rest != 4 + plen) {
		*why = rest < 4 + plen ? "ECDHE public value truncated" :
		    "trailing bytes after ServerECDHParams";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (nid != NID_undef && !point_on_curve(nid, p + 4, plen)) {
		*why = "ECDHE public value is not a point on its curve";
		return EDGE_ST_INVALID_CONTENT;
	}
	return 0;
}

/*
 * The signature schemes keyproc signs with, and for which key (RFC 8446
 * §4.2.3; RFC 5246 §7.4.1.4.1 and RFC 8422 §5.1.3 for TLS 1.2).  In TLS
 * 1.3 an ECDSA scheme names its curve; in TLS 1.2 it names only the
 * hash, which any curve may use, as the key file would.  SHA-224 exists
 * only in TLS 1.2, RSA PKCS#1 v1.5 only in TLS 1.2.  SHA-1 (and MD5,
 * which has no scheme) is refused everywhere: a stock OpenSSL 3 server
 * refuses it too at its default security level; docs and the
 * differential test say where that differs.
 */
static const struct scheme {
	unsigned	 scheme;
	int		 kind;		/* KEY_* */
	int		 nid;		/* digest, NID_undef for EdDSA */
	int		 pss;
	int		 tls12_only;
	int		 curve13;	/* the curve TLS 1.3 binds it to */
} schemes[] = {
	{ TLS_SS_RSA_PKCS1_SHA224, KEY_RSA, NID_sha224, 0, 1, NID_undef },
	{ TLS_SS_RSA_PKCS1_SHA256, KEY_RSA, NID_sha256, 0, 1, NID_undef },
	{ TLS_SS_RSA_PKCS1_SHA384, KEY_RSA, NID_sha384, 0, 1, NID_undef },
	{ TLS_SS_RSA_PKCS1_SHA512, KEY_RSA, NID_sha512, 0, 1, NID_undef },
	{ TLS_SS_RSA_PSS_RSAE_SHA256, KEY_RSA, NID_sha256, 1, 0, NID_undef },
	{ TLS_SS_RSA_PSS_RSAE_SHA384, KEY_RSA, NID_sha384, 1, 0, NID_undef },
	{ TLS_SS_RSA_PSS_RSAE_SHA512, KEY_RSA, NID_sha512, 1, 0, NID_undef },
	{ TLS_SS_RSA_PSS_PSS_SHA256, KEY_RSA_PSS, NID_sha256, 1, 0, NID_undef },
	{ TLS_SS_RSA_PSS_PSS_SHA384, KEY_RSA_PSS, NID_sha384, 1, 0, NID_undef },
	{ TLS_SS_RSA_PSS_PSS_SHA512, KEY_RSA_PSS, NID_sha512, 1, 0, NID_undef },
	{ TLS_SS_ECDSA_SHA224, KEY_EC, NID_sha224, 0, 1, NID_undef },
	{ TLS_SS_ECDSA_SECP256R1_SHA256, KEY_EC, NID_sha256, 0, 0,
	    NID_X9_62_prime256v1 },
	{ TLS_SS_ECDSA_SECP384R1_SHA384, KEY_EC, NID_sha384, 0, 0,
	    NID_secp384r1 },
	{ TLS_SS_ECDSA_SECP521R1_SHA512, KEY_EC, NID_sha512, 0, 0,
	    NID_secp521r1 },
	{ TLS_SS_ED25519, KEY_ED25519, NID_undef, 0, 0, NID_undef },
	{ TLS_SS_ED448, KEY_ED448, NID_undef, 0, 0, NID_undef },
};

/*
 * Whether a key may sign with a scheme in this TLS version; fills in the
 * digest (NULL for EdDSA) and whether the padding is PSS.
 */
int
scheme_check(int kind, int curve_nid, int type, unsigned scheme,
    const EVP_MD **md, int *pss, const char **why)
{
	const struct scheme	*s = NULL;
	int			 tls13 = type == EDGE_TYPE_SIGN_TLS13;
	size_t			 i;

	*md = NULL;
	*pss = 0;
	if (scheme == TLS_SS_RSA_PKCS1_SHA1 || scheme == TLS_SS_ECDSA_SHA1) {
		*why = "SHA-1 signature scheme";
		return EDGE_ST_INVALID_SCHEME;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].scheme == scheme) {
			s = &schemes[i];
			break;
		}
	if (s == NULL) {
		*why = "unknown signature scheme";
		return EDGE_ST_INVALID_SCHEME;
	}
	if (s->kind != kind) {
		*why = "signature scheme does not fit the key";
		return EDGE_ST_INVALID_SCHEME;
	}
	if (tls13 && s->tls12_only) {
		*why = kind == KEY_RSA && !s->pss ?
		    "RSA PKCS#1 v1.5 signature in TLS 1.3" :
		    "signature scheme not defined for TLS 1.3";
		return EDGE_ST_INVALID_SCHEME;
	}
	if (tls13 && s->curve13 != NID_undef && s->curve13 != curve_nid) {
		*why = "TLS 1.3 ECDSA scheme of another curve";
		return EDGE_ST_INVALID_SCHEME;
	}
	switch (s->nid) {
	case NID_sha224:
		*md = EVP_sha224();
		break;
	case NID_sha256:
		*md = EVP_sha256();
		break;
	case NID_sha384:
		*md = EVP_sha384();
		break;
	case NID_sha512:
		*md = EVP_sha512();
		break;
	}
	*pss = s->pss;
	return 0;
}

/*
 * The schemes a key signs with in TLS 1.3 or 1.2, as scheme_check()
 * allows them, into out (at most max); how many.  For capabilities.
 */
size_t
scheme_list(int kind, int curve_nid, int tls13, uint16_t *out, size_t max)
{
	const EVP_MD	*md;
	const char	*why;
	size_t		 i, n = 0;
	int		 pss;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && n < max; i++)
		if (scheme_check(kind, curve_nid, tls13 ? EDGE_TYPE_SIGN_TLS13 :
		    EDGE_TYPE_SIGN_TLS12, schemes[i].scheme, &md, &pss,
		    &why) == 0)
			out[n++] = schemes[i].scheme;
	return n;
}
