/*
 * Signatures by lurkd.  Only digest_sign: libssl hands over the whole
 * to-be-signed bytes (TLS 1.3 CertificateVerify content, TLS 1.2
 * ServerKeyExchange params), lurkd checks they are exactly that, hashes
 * and signs.  Plain sign() of a ready digest is not offered: that would
 * be a generic signing oracle.
 *
 * Everything before the signature itself is local: digest_sign_init is
 * called by libssl just to probe a sigalg (check_cert_usable), and the
 * size query (sig == NULL) is answered from the public key.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "keyref.h"
#include "provider.h"

#define TBS_MAX		0xffff	/* tbs<2> */

enum md { MD_NONE, MD_SHA224, MD_SHA256, MD_SHA384, MD_SHA512 };

struct sig_ctx {
	struct lurk_prov	*prov;
	struct lurk_key		*key;
	enum md			 md;
	int			 pad;		/* RSA_PKCS1{,_PSS}_PADDING */
	int			 saltlen;	/* -1: digest length */
	enum md			 mgf1;		/* MD_NONE: same as md */
	uint8_t			*buf;		/* update() data */
	size_t			 len, cap;
};

static const struct {
	const char	*name;
	enum md		 md;
} md_names[] = {
	{ "SHA224", MD_SHA224 }, { "SHA2-224", MD_SHA224 },
	{ "SHA-224", MD_SHA224 }, { "2.16.840.1.101.3.4.2.4", MD_SHA224 },
	{ "SHA256", MD_SHA256 }, { "SHA2-256", MD_SHA256 },
	{ "SHA-256", MD_SHA256 }, { "2.16.840.1.101.3.4.2.1", MD_SHA256 },
	{ "SHA384", MD_SHA384 }, { "SHA2-384", MD_SHA384 },
	{ "SHA-384", MD_SHA384 }, { "2.16.840.1.101.3.4.2.2", MD_SHA384 },
	{ "SHA512", MD_SHA512 }, { "SHA2-512", MD_SHA512 },
	{ "SHA-512", MD_SHA512 }, { "2.16.840.1.101.3.4.2.3", MD_SHA512 },
};

static size_t
md_len(enum md md)
{
	switch (md) {
	case MD_SHA224:
		return 28;
	case MD_SHA256:
		return 32;
	case MD_SHA384:
		return 48;
	case MD_SHA512:
		return 64;
	default:
		return 0;
	}
}

static const char *
md_name(enum md md)
{
	switch (md) {
	case MD_SHA224:
		return "SHA2-224";
	case MD_SHA256:
		return "SHA2-256";
	case MD_SHA384:
		return "SHA2-384";
	case MD_SHA512:
		return "SHA2-512";
	default:
		return "";
	}
}

static int
is_ed(const struct lurk_key *k)
{
	return k->kind == EDGE_KIND_ED25519 || k->kind == EDGE_KIND_ED448;
}

static int
is_rsa(const struct lurk_key *k)
{
	return k->kind == EDGE_KIND_RSA || k->kind == EDGE_KIND_RSA_PSS;
}

/*
 * The digest a key may sign with: SHA-2 only, Ed25519/Ed448 none.  SHA-1,
 * MD5 and the rest fail here.  Any SHA-2 hash goes with any curve, as in
 * TLS 1.2 (RFC 8422 §5.1.3) with the key file: libssl probes each sigalg
 * with this init, and in TLS 1.3 itself picks only the curve's own hash.
 */
static int
set_md(struct sig_ctx *c, const char *name)
{
	enum md	 md = MD_NONE;
	size_t	 i;

	if (name != NULL && *name != '\0' && strcasecmp(name, "UNDEF") != 0) {
		for (i = 0; i < sizeof(md_names) / sizeof(md_names[0]); i++)
			if (strcasecmp(name, md_names[i].name) == 0)
				md = md_names[i].md;
		if (md == MD_NONE)
			goto bad;
	}
	if (is_ed(c->key)) {
		if (md != MD_NONE)
			goto bad;
	} else if (md == MD_NONE)
		goto bad;
	c->md = md;
	return 1;
 bad:
	LURK_ERR(c->prov, LURK_R_BAD_DIGEST, "digest \"%s\" with %s key \"%s\"",
	    name ? name : "none", lurk_kind_name(c->key->kind),
	    c->key->name ? c->key->name : "?");
	return 0;
}

static void *
sig_newctx(void *provctx, const char *propq)
{
	struct sig_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->prov = provctx;
	return c;
}

static void
sig_freectx(void *vctx)
{
	struct sig_ctx	*c = vctx;

	if (c == NULL)
		return;
	if (c->buf != NULL) {
		explicit_bzero(c->buf, c->cap);
		free(c->buf);
	}
	free(c);
}

static void *
sig_dupctx(void *vctx)
{
	struct sig_ctx	*c = vctx, *d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return NULL;
	*d = *c;
	d->buf = NULL;
	d->cap = 0;
	if (c->len > 0) {
		if ((d->buf = malloc(c->len)) == NULL) {
			free(d);
			return NULL;
		}
		memcpy(d->buf, c->buf, c->len);
		d->cap = c->len;
	}
	return d;
}

static int sig_set_ctx_params(void *, const OSSL_PARAM []);

static int
sig_digest_sign_init(void *vctx, const char *mdname, void *provkey,
    const OSSL_PARAM params[])
{
	struct sig_ctx	*c = vctx;
	struct lurk_key	*k = provkey;

	if (k == NULL) {
		k = c->key;	/* re-init with the same key */
		if (k == NULL)
			return 0;
	}
	if (!k->has_ref) {
		LURK_ERR(c->prov, LURK_R_NO_REFERENCE,
		    "cannot sign with a public key");
		return 0;
	}
	c->key = k;
	c->len = 0;
	c->pad = k->kind == EDGE_KIND_RSA_PSS ? RSA_PKCS1_PSS_PADDING :
	    RSA_PKCS1_PADDING;
	c->saltlen = RSA_PSS_SALTLEN_DIGEST;
	c->mgf1 = MD_NONE;
	if (!set_md(c, mdname))
		return 0;
	return sig_set_ctx_params(c, params);
}

static int
sig_update(void *vctx, const unsigned char *data, size_t datalen)
{
	struct sig_ctx	*c = vctx;
	uint8_t		*nb;
	size_t		 ncap;

	if (datalen > TBS_MAX - c->len) {
		LURK_ERR(c->prov, LURK_R_NOT_SUPPORTED,
		    "more than %d bytes to sign", TBS_MAX);
		return 0;
	}
	if (c->len + datalen > c->cap) {
		ncap = c->len + datalen < 256 ? 256 : c->len + datalen;
		if ((nb = malloc(ncap)) == NULL)
			return 0;
		if (c->len > 0)
			memcpy(nb, c->buf, c->len);
		if (c->buf != NULL) {
			explicit_bzero(c->buf, c->cap);
			free(c->buf);
		}
		c->buf = nb;
		c->cap = ncap;
	}
	if (datalen > 0)
		memcpy(c->buf + c->len, data, datalen);
	c->len += datalen;
	return 1;
}

/*
 * The TLS SignatureScheme for the key, digest and padding.  An ECDSA
 * scheme is sent by its hash: in TLS 1.2 "ecdsa_secp384r1_sha384" is
 * ECDSA with SHA-384 on any curve; in TLS 1.3 libssl has already bound
 * hash and curve.  SHA-224 has TLS 1.2 codes for PKCS#1 and ECDSA only.
 */
static int
scheme_of(struct sig_ctx *c, uint16_t *scheme)
{
	static const uint16_t pkcs1[] = { TLS_SS_RSA_PKCS1_SHA224,
	    TLS_SS_RSA_PKCS1_SHA256, TLS_SS_RSA_PKCS1_SHA384,
	    TLS_SS_RSA_PKCS1_SHA512 };
	static const uint16_t rsae[] = { 0, TLS_SS_RSA_PSS_RSAE_SHA256,
	    TLS_SS_RSA_PSS_RSAE_SHA384, TLS_SS_RSA_PSS_RSAE_SHA512 };
	static const uint16_t pss[] = { 0, TLS_SS_RSA_PSS_PSS_SHA256,
	    TLS_SS_RSA_PSS_PSS_SHA384, TLS_SS_RSA_PSS_PSS_SHA512 };
	static const uint16_t ecdsa[] = { TLS_SS_ECDSA_SHA224,
	    TLS_SS_ECDSA_SECP256R1_SHA256, TLS_SS_ECDSA_SECP384R1_SHA384,
	    TLS_SS_ECDSA_SECP521R1_SHA512 };
	int	 i;

	switch (c->key->kind) {
	case EDGE_KIND_ED25519:
		*scheme = TLS_SS_ED25519;
		return 1;
	case EDGE_KIND_ED448:
		*scheme = TLS_SS_ED448;
		return 1;
	}
	if (c->md == MD_NONE)
		return 0;
	i = c->md - MD_SHA224;
	switch (c->key->kind) {
	case EDGE_KIND_EC:
		*scheme = ecdsa[i];
		return 1;
	case EDGE_KIND_RSA:
	case EDGE_KIND_RSA_PSS:
		if (c->pad == RSA_PKCS1_PSS_PADDING) {
			if ((c->saltlen != RSA_PSS_SALTLEN_DIGEST &&
			    (size_t)c->saltlen != md_len(c->md)) ||
			    (c->mgf1 != MD_NONE && c->mgf1 != c->md)) {
				LURK_ERR(c->prov, LURK_R_BAD_PADDING,
				    "PSS needs salt and MGF1 digest equal to "
				    "the hash");
				return 0;
			}
			*scheme = c->key->kind == EDGE_KIND_RSA ? rsae[i] :
			    pss[i];
			if (*scheme == 0) {
				LURK_ERR(c->prov, LURK_R_BAD_DIGEST,
				    "no TLS signature scheme for RSA-PSS "
				    "with %s", md_name(c->md));
				return 0;
			}
			return 1;
		}
		if (c->pad == RSA_PKCS1_PADDING &&
		    c->key->kind == EDGE_KIND_RSA) {
			*scheme = pkcs1[i];
			return 1;
		}
		break;
	}
	LURK_ERR(c->prov, LURK_R_BAD_PADDING, "padding mode %d", c->pad);
	return 0;
}

static int
is_tls13(const uint8_t *tbs, size_t len)
{
	static const char ctx[] = "TLS 1.3, ";
	size_t	 i;

	if (len < TLS13_CV_PAD_LEN + sizeof(ctx) - 1)
		return 0;
	for (i = 0; i < TLS13_CV_PAD_LEN; i++)
		if (tbs[i] != 0x20)
			return 0;
	return memcmp(tbs + TLS13_CV_PAD_LEN, ctx, sizeof(ctx) - 1) == 0;
}

static int
do_sign(struct sig_ctx *c, unsigned char *sig, size_t *siglen,
    size_t sigsize, const uint8_t *tbs, size_t tbslen)
{
	struct lurk_key	*k = c->key;
	uint8_t		*req, *resp = NULL;
	size_t		 reqlen, resplen, slen;
	uint16_t	 scheme;
	uint8_t		 type;
	int		 ok = 0;

	if (k == NULL || !k->has_ref)
		return 0;
	if (sig == NULL) {
		*siglen = k->maxsig;
		return 1;
	}
	if (!scheme_of(c, &scheme))
		return 0;
	if (tbslen == 0 || tbslen > TBS_MAX) {
		LURK_ERR(c->prov, LURK_R_NOT_SUPPORTED,
		    "%zu bytes to sign", tbslen);
		return 0;
	}
	type = is_tls13(tbs, tbslen) ? EDGE_TYPE_SIGN_TLS13 :
	    EDGE_TYPE_SIGN_TLS12;
	reqlen = EDGE_KEY_ID_LEN + 2 + 2 + tbslen;
	if ((req = malloc(reqlen)) == NULL)
		return 0;
	memcpy(req, k->key_id, EDGE_KEY_ID_LEN);
	req[32] = scheme >> 8;
	req[33] = scheme & 0xff;
	req[34] = tbslen >> 8;
	req[35] = tbslen & 0xff;
	memcpy(req + 36, tbs, tbslen);
	if (!lurk_call(c->prov, k->conn, k->name, type, req, reqlen, &resp,
	    &resplen))
		goto out;
	if (resplen < 2 || (slen = (size_t)resp[0] << 8 | resp[1]) !=
	    resplen - 2 || slen == 0 || slen > k->maxsig) {
		LURK_ERR(c->prov, LURK_R_PROTOCOL, "key \"%s\": signature of "
		    "%zu bytes for a key that makes at most %zu", k->name,
		    resplen >= 2 ? resplen - 2 : 0, k->maxsig);
		goto out;
	}
	if (slen > sigsize) {
		LURK_ERR(c->prov, LURK_R_INTERNAL, "signature buffer too small");
		goto out;
	}
	memcpy(sig, resp + 2, slen);
	*siglen = slen;
	ok = 1;
 out:
	free(req);
	lurk_free_response(resp, resplen);
	return ok;
}

static int
sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
    size_t sigsize)
{
	struct sig_ctx	*c = vctx;

	return do_sign(c, sig, siglen, sigsize, c->buf, c->len);
}

static int
sig_digest_sign(void *vctx, unsigned char *sig, size_t *siglen,
    size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
	struct sig_ctx	*c = vctx;

	return do_sign(c, sig, siglen, sigsize, tbs, tbslen);
}

static int
get_md_param(const OSSL_PARAM *p, enum md *md)
{
	const char	*s;
	size_t		 i;

	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		return 0;
	for (i = 0; i < sizeof(md_names) / sizeof(md_names[0]); i++)
		if (strcasecmp(s, md_names[i].name) == 0) {
			*md = md_names[i].md;
			return 1;
		}
	return 0;
}

static int
sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct sig_ctx	*c = vctx;
	const OSSL_PARAM *p;
	const char	*s;
	char		*end;
	long		 l;
	int		 v;

	if (params == NULL)
		return 1;
	if (c->key == NULL)
		return 0;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_DIGEST)) != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !set_md(c, s))
			return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
				return 0;
			v = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ?
			    RSA_PKCS1_PADDING :
			    strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0 ?
			    RSA_PKCS1_PSS_PADDING : -1;
		} else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if (!is_rsa(c->key) || (v != RSA_PKCS1_PADDING &&
		    v != RSA_PKCS1_PSS_PADDING) ||
		    (c->key->kind == EDGE_KIND_RSA_PSS &&
		    v != RSA_PKCS1_PSS_PADDING)) {
			LURK_ERR(c->prov, LURK_R_BAD_PADDING,
			    "padding mode %d for key \"%s\"", v,
			    c->key->name ? c->key->name : "?");
			return 0;
		}
		c->pad = v;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
				return 0;
			if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
				v = RSA_PSS_SALTLEN_DIGEST;
			else {
				l = strtol(s, &end, 10);
				v = *s != '\0' && *end == '\0' && l >= 0 &&
				    l <= 64 ? (int)l : -100;
			}
		} else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if (!is_rsa(c->key) || (v != RSA_PSS_SALTLEN_DIGEST &&
		    (v < 0 || v > 64))) {
			LURK_ERR(c->prov, LURK_R_BAD_PADDING,
			    "PSS salt length must be the hash length");
			return 0;
		}
		c->saltlen = v;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		if (!is_rsa(c->key) || !get_md_param(p, &c->mgf1)) {
			LURK_ERR(c->prov, LURK_R_BAD_DIGEST,
			    "MGF1 digest not usable");
			return 0;
		}
	}
	return 1;
}

static const OSSL_PARAM settable[] = {
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
	OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
sig_settable_ctx_params(void *vctx, void *provctx)
{
	return settable;
}

static int
sig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct sig_ctx	*c = vctx;
	OSSL_PARAM	*p;

	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) !=
	    NULL && !OSSL_PARAM_set_utf8_string(p, md_name(c->md)))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) !=
	    NULL && c->key != NULL && is_rsa(c->key)) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_set_utf8_string(p,
			    c->pad == RSA_PKCS1_PSS_PADDING ?
			    OSSL_PKEY_RSA_PAD_MODE_PSS :
			    OSSL_PKEY_RSA_PAD_MODE_PKCSV15))
				return 0;
		} else if (!OSSL_PARAM_set_int(p, c->pad))
			return 0;
	}
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) !=
	    NULL && c->key != NULL && is_rsa(c->key)) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_set_utf8_string(p,
			    OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST))
				return 0;
		} else if (!OSSL_PARAM_set_int(p, c->saltlen))
			return 0;
	}
	return 1;
}

static const OSSL_PARAM gettable[] = {
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
	OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL),
	OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
sig_gettable_ctx_params(void *vctx, void *provctx)
{
	return gettable;
}

const OSSL_DISPATCH lurk_signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT,
	    (void (*)(void))sig_digest_sign_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL,
	    (void (*)(void))sig_digest_sign_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))sig_digest_sign },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS,
	    (void (*)(void))sig_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
	    (void (*)(void))sig_settable_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS,
	    (void (*)(void))sig_get_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,
	    (void (*)(void))sig_gettable_ctx_params },
	{ 0, NULL }
};
