/*
 * The key operations keyproc performs for netproc, each after its own
 * checks.  keyproc trusts nothing netproc says: the key's policy, the
 * content and the scheme are checked here, whatever netproc checked.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "keyproc.h"
#include "log.h"
#include "lurk.h"

/* A signing context set up for md and padding, ready for EVP_DigestSign. */
EVP_MD_CTX *
keyop_signctx(struct key *k, const EVP_MD *md, int pss)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	ok = EVP_DigestSignInit(ctx, &pctx, md, NULL, k->pkey) == 1;
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
	else if (ok && k->pub.kind == KEY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) == 1;
	if (!ok) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * OpenSSL 3 spends more on EVP_DigestSignInit (fetches, locks) than on a
 * P-256 signature's arithmetic: set a context up once per key and
 * scheme, and copy it for each request.
 */
static EVP_MD_CTX	*work;		/* the copy a request signs with */

/*
 * A reload retires a key table: the last copy still refers to one of
 * its keys, which must not outlive the table.
 */
void
keyop_forget(void)
{
	EVP_MD_CTX_free(work);
	work = NULL;
}

static EVP_MD_CTX *
signctx_get(struct key *k, unsigned scheme, const EVP_MD *md, int pss)
{
	int		 i, slot = -1;

	for (i = 0; i < KEY_SIGNCTX_MAX; i++) {
		if (k->signctx[i] != NULL && k->signscheme[i] == scheme) {
			slot = i;
			break;
		}
		if (k->signctx[i] == NULL && slot == -1)
			slot = i;
	}
	if (slot == -1)
		return keyop_signctx(k, md, pss);	/* caller frees */
	if (k->signctx[slot] == NULL) {
		if ((k->signctx[slot] = keyop_signctx(k, md, pss)) == NULL)
			return NULL;
		k->signscheme[slot] = scheme;
	}
	if (work == NULL && (work = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_MD_CTX_copy_ex(work, k->signctx[slot]) != 1)
		return NULL;
	return work;
}

static int	 keyop_signature(struct key *, const struct keyop_req *,
		    const uint8_t *, uint8_t *, size_t *, const char **);

/*
 * Sign tbs (req->len bytes) as req->type (EDGE_TYPE_SIGN_TLS13 or 12)
 * with req->scheme, after the content and scheme checks: signature<2>
 * in sig.  Also the drafts' ecdhe (lurk12.c).
 */
int
keyop_sign(struct key *k, const struct keyop_req *req, const uint8_t *tbs,
    uint8_t *sig, size_t *siglen, const char **why)
{
	int	 st;

	if (req->type == EDGE_TYPE_SIGN_TLS13)
		st = tls13_check(tbs, req->len, why);
	else
		st = tls12_check(tbs, req->len, why);
	if (st != 0)
		return st;
	return keyop_signature(k, req, tbs, sig, siglen, why);
}

/* Content checked: the scheme for the key, then the signature<2>. */
static int
keyop_signature(struct key *k, const struct keyop_req *req,
    const uint8_t *tbs, uint8_t *sig, size_t *siglen, const char **why)
{
	const EVP_MD	*md;
	EVP_MD_CTX	*ctx;
	size_t		 len;
	int		 st, pss, ok;

	if ((st = scheme_check(k->pub.kind, k->pub.curve_nid, req->type,
	    req->scheme, &md, &pss, why)) != 0)
		return st;

	if ((ctx = signctx_get(k, req->scheme, md, pss)) == NULL) {
		*why = "cannot set up the signature";
		return LURK_ST_TEMPORARY_FAILURE;
	}
	/* the answer is signature<2> */
	len = *siglen - 2;
	ok = EVP_DigestSign(ctx, sig + 2, &len, tbs, req->len) == 1 &&
	    len <= 0xffff;
	if (ctx != work)
		EVP_MD_CTX_free(ctx);
	if (!ok) {
		*why = "signing failed";
		return LURK_ST_UNDEFINED_ERROR;
	}
	sig[0] = len >> 8;
	sig[1] = len;
	*siglen = len + 2;
	return LURK_ST_SUCCESS;
}

/*
 * TLS 1.2 RSA key exchange: the premaster decryption with implicit
 * rejection (RFC 5246 §7.4.7.1).  OpenSSL's RSA_PKCS1_WITH_TLS_PADDING
 * returns 48 random bytes, in constant time, for a bad padding or version.
 */
static int
keyop_premaster(struct key *k, const struct keyop_req *req,
    const uint8_t *in, uint8_t *out, size_t *outlen, const char **why)
{
	unsigned int	 cv = req->client_version, nv = req->negotiated_version;
	int		 st;

	if (k->pub.kind != KEY_RSA) {
		*why = "RSA key exchange needs an RSA key";
		return EDGE_ST_OPERATION_REFUSED;
	}
	if (req->len != (size_t)EVP_PKEY_get_size(k->pkey)) {
		*why = "ciphertext is not the size of the modulus";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (cv < 0x0300 || cv > 0x0303 || nv < 0x0300 || nv > 0x0303) {
		*why = "not a TLS 1.0-1.2 version";
		return LURK_ST_INVALID_FORMAT;
	}
	if ((st = keyop_rsa_decrypt(k, cv, nv, in, req->len, out, outlen,
	    why)) != 0)
		return st == -2 ? LURK_ST_TEMPORARY_FAILURE :
		    LURK_ST_UNDEFINED_ERROR;
	return LURK_ST_SUCCESS;
}

/*
 * The TLS premaster in a ciphertext of the modulus' size, 48 bytes in
 * out: random bytes for a bad padding or version, in constant time.
 * Also the drafts' rsa_master (lurk12.c).  0; -2 out of memory, -1
 * another failure (out wiped).
 */
int
keyop_rsa_decrypt(struct key *k, unsigned int cv, unsigned int nv,
    const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen,
    const char **why)
{
	EVP_PKEY_CTX	*ctx;
	OSSL_PARAM	 params[3];
	size_t		 len;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL) {
		*why = "out of memory";
		return -2;
	}
	params[0] = OSSL_PARAM_construct_uint(
	    OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &cv);
	params[1] = OSSL_PARAM_construct_uint(
	    OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, &nv);
	params[2] = OSSL_PARAM_construct_end();
	len = *outlen;
	ok = EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) ==
	    1 && EVP_PKEY_CTX_set_params(ctx, params) == 1 &&
	    EVP_PKEY_decrypt(ctx, out, &len, in, inlen) == 1 &&
	    len == EDGE_PREMASTER_LEN;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		explicit_bzero(out, *outlen);
		*why = "decryption failed";
		return -1;
	}
	*outlen = len;
	return 0;
}

static uint32_t
type_op(uint8_t type)
{
	switch (type) {
	case EDGE_TYPE_SIGN_TLS13:
		return EDGE_OP_SIGN_TLS13;
	case EDGE_TYPE_SIGN_TLS12:
		return EDGE_OP_SIGN_TLS12;
	case EDGE_TYPE_RSA_PREMASTER:
		return EDGE_OP_RSA_PREMASTER;
	}
	return 0;
}

/*
 * An IMSG_KEYOP_REQ payload: a struct keyop_req, then exactly req->len
 * bytes, at least one.  -1 for anything else.  *data points into buf.
 */
int
keyop_req_parse(const uint8_t *buf, size_t len, struct keyop_req *req,
    const uint8_t **data)
{
	if (len < sizeof(*req))
		return -1;
	memcpy(req, buf, sizeof(*req));
	if (len - sizeof(*req) != req->len || req->len == 0)
		return -1;
	*data = buf + sizeof(*req);
	return 0;
}

/*
 * A handshake of netproc's own (KEYOP_TLS_SIGN13, 12) with a TLS
 * listener's key: the key's SPKI hash, then what a TLS server signs,
 * checked as an edge's.  An edge's key never signs for lurkd.
 */
static int
keyop_tls_sign(struct key *k, const struct keyop_req *req, const uint8_t *in,
    uint8_t *out, size_t *outlen, const char **why)
{
	struct keyop_req	 r = *req;
	int			 st;

	if (k->usage != KEY_USE_SERVER && k->usage != KEY_USE_CLIENT) {
		*why = "not a TLS listener's or upstream's key";
		return EDGE_ST_OPERATION_REFUSED;
	}
	if (req->len <= sizeof(k->pub.spki_sha256) || memcmp(in,
	    k->pub.spki_sha256, sizeof(k->pub.spki_sha256)) != 0) {
		/* a reload replaced the key the handshake began with */
		*why = "not the key of the handshake";
		return EDGE_ST_UNKNOWN_KEY;
	}
	r.type = req->type == KEYOP_TLS_SIGN13 ? EDGE_TYPE_SIGN_TLS13 :
	    EDGE_TYPE_SIGN_TLS12;
	if ((k->operations & type_op(r.type)) == 0) {
		*why = "TLS 1.2 not allowed on the listener";
		return EDGE_ST_OPERATION_REFUSED;
	}
	r.len -= sizeof(k->pub.spki_sha256);
	in += sizeof(k->pub.spki_sha256);
	/* an upstream's key: this lurkd's client CertificateVerify only */
	if (k->usage == KEY_USE_CLIENT) {
		if (r.type != EDGE_TYPE_SIGN_TLS13) {
			*why = "an upstream's key signs TLS 1.3 only";
			return EDGE_ST_OPERATION_REFUSED;
		}
		if ((st = tls13_client_check(in, r.len, why)) != 0)
			return st;
		return keyop_signature(k, &r, in, out, outlen, why);
	}
	return keyop_sign(k, &r, in, out, outlen, why);
}

/* Run one operation; the LURK status, with out/outlen on success. */
int
keyop_run(struct key *k, const struct keyop_req *req, const uint8_t *in,
    uint8_t *out, size_t *outlen, const char **why)
{
	uint32_t	 op = type_op(req->type);

	if (req->type == KEYOP_TLS_SIGN13 || req->type == KEYOP_TLS_SIGN12)
		return keyop_tls_sign(k, req, in, out, outlen, why);
	if (k->usage != KEY_USE_EDGE) {
		/* netproc never names a listener's key for an edge */
		*why = "a TLS listener's key";
		return EDGE_ST_OPERATION_REFUSED;
	}
	if (op == 0) {
		*why = "unknown operation";
		return LURK_ST_INVALID_TYPE;
	}
	if ((k->operations & op) == 0) {
		*why = "operation not allowed for this key";
		return EDGE_ST_OPERATION_REFUSED;
	}
	if (req->type == EDGE_TYPE_RSA_PREMASTER)
		return keyop_premaster(k, req, in, out, outlen, why);
	return keyop_sign(k, req, in, out, outlen, why);
}
