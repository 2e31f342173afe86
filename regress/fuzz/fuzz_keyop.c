/*
 * fuzz_keyop: an IMSG_KEYOP_REQ payload as keyproc receives it from
 * netproc (which must be assumed compromised): keyop_req_parse(), then
 * keyop_run() with real keys: the key's policy, the content checks, the
 * scheme checks, the signature or the RSA premaster decryption.
 *
 * Input: struct keyop_req (host layout, as netproc composes it), then
 * the bytes to sign or decrypt.  An index past the key table, which
 * keyproc answers with fatalx() (fail closed), ends the input early.
 *
 * What must hold: keyop_req_parse() takes exactly the well-formed
 * payloads; a success happens only for an operation the key's policy
 * allows and, for a signature, only over content DESIGN.md allows and
 * with a signature that verifies with the key and scheme asked for; a
 * premaster is 48 bytes; a refusal always says why.
 */
/* tlsoracle.h gets the RFC 7919 primes the 3.0-deprecated way */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include "keyproc.h"
#include "lurk.h"
#include "lurkd.h"
#include "tlsoracle.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NKEYS	6
static struct key	 keys[NKEYS];

static void
setup(int i, EVP_PKEY *pkey, int kind, int nid, uint32_t ops)
{
	if (pkey == NULL)
		abort();
	keys[i].pkey = pkey;
	keys[i].pub.index = i;
	snprintf(keys[i].pub.name, sizeof(keys[i].pub.name), "key%d", i);
	keys[i].pub.kind = kind;
	keys[i].pub.bits = EVP_PKEY_get_bits(pkey);
	keys[i].pub.curve_nid = nid;
	keys[i].operations = ops;
}

static EVP_PKEY *
rsapss_gen(void)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL)) ==
	    NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1)
		abort();
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY	*rsa;

	rsa = EVP_RSA_gen(2048);
	setup(0, rsa, KEY_RSA, NID_undef, EDGE_OP_SIGN_TLS13 |
	    EDGE_OP_SIGN_TLS12 | EDGE_OP_RSA_PREMASTER);
	setup(1, EVP_EC_gen("P-256"), KEY_EC, NID_X9_62_prime256v1,
	    EDGE_OP_SIGN_TLS13 | EDGE_OP_SIGN_TLS12);
	setup(2, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), KEY_ED25519,
	    NID_undef, EDGE_OP_SIGN_TLS13);
	setup(3, rsapss_gen(), KEY_RSA_PSS, NID_undef, EDGE_OP_SIGN_TLS13 |
	    EDGE_OP_SIGN_TLS12);
	/* the same RSA key, with a policy that allows TLS 1.2 only */
	if (!EVP_PKEY_up_ref(rsa))
		abort();
	setup(4, rsa, KEY_RSA, NID_undef, EDGE_OP_SIGN_TLS12);
	setup(5, EVP_EC_gen("P-384"), KEY_EC, NID_secp384r1,
	    EDGE_OP_SIGN_TLS13);
	return 0;
}

static uint32_t
type_op(uint8_t type)
{
	return type == EDGE_TYPE_SIGN_TLS13 ? EDGE_OP_SIGN_TLS13 :
	    type == EDGE_TYPE_SIGN_TLS12 ? EDGE_OP_SIGN_TLS12 :
	    type == EDGE_TYPE_RSA_PREMASTER ? EDGE_OP_RSA_PREMASTER : 0;
}

/* The signature keyop_run() made verifies, with the scheme's padding. */
static void
verify(struct key *k, const struct keyop_req *req, const uint8_t *tbs,
    const uint8_t *out, size_t outlen)
{
	const EVP_MD	*md;
	const char	*why;
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	size_t		 siglen;
	int		 pss, ok;

	if (outlen < 2 || (siglen = (size_t)out[0] << 8 | out[1]) !=
	    outlen - 2 || siglen == 0)
		abort();
	if (scheme_check(k->pub.kind, k->pub.curve_nid, req->type,
	    req->scheme, &md, &pss, &why) != 0)
		abort();
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) == 1;
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
	else if (ok && k->pub.kind == KEY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) == 1;
	if (ok)
		ok = EVP_DigestVerify(ctx, out + 2, siglen, tbs,
		    req->len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyop_req	 req, raw;
	struct key		*k;
	const uint8_t		*in;
	const char		*why;
	uint8_t			 out[1024];
	size_t			 outlen = sizeof(out);
	int			 st, wellformed, ec;

	wellformed = size >= sizeof(raw);
	if (wellformed) {
		memcpy(&raw, data, sizeof(raw));
		wellformed = raw.len != 0 && raw.len == size - sizeof(raw);
	}
	if (keyop_req_parse(data, size, &req, &in) == -1) {
		if (wellformed)
			abort();
		return 0;
	}
	if (!wellformed || in != data + sizeof(req) ||
	    memcmp(&req, data, sizeof(req)) != 0)
		abort();
	if (req.index >= NKEYS)
		return 0;	/* keyproc: fatalx, fail closed */
	k = &keys[req.index];

	why = NULL;
	st = keyop_run(k, &req, in, out, &outlen, &why);
	if (st != LURK_ST_SUCCESS) {
		if (why == NULL || strlen(why) == 0 || st == LURK_ST_REQUEST)
			abort();
		return 0;
	}
	if (outlen == 0 || outlen > sizeof(out) ||
	    (k->operations & type_op(req.type)) == 0)
		abort();
	switch (req.type) {
	case EDGE_TYPE_SIGN_TLS13:
		if (!tls13_ok(in, req.len))
			abort();
		verify(k, &req, in, out, outlen);
		break;
	case EDGE_TYPE_SIGN_TLS12:
		if ((!tls12_form(in, req.len, &ec) || (ec && in[68] != 4)) &&
		    !tls12_dh_ok(in, req.len))
			abort();
		verify(k, &req, in, out, outlen);
		break;
	case EDGE_TYPE_RSA_PREMASTER:
		if (k->pub.kind != KEY_RSA || outlen != EDGE_PREMASTER_LEN ||
		    req.len != (size_t)EVP_PKEY_get_size(k->pkey) ||
		    req.client_version < 0x0300 ||
		    req.client_version > 0x0303 ||
		    req.negotiated_version < 0x0300 ||
		    req.negotiated_version > 0x0303)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
