/*
 * RSA decryption by lurkd, and only one kind: the TLS 1.2 premaster with
 * RSA_PKCS1_WITH_TLS_PADDING, as libssl asks for it.  lurkd checks the
 * padding and the client version and rejects implicitly (48 random
 * bytes), so the answer is always exactly 48 bytes.  Any other padding
 * would make a decryption oracle: refused here already.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "keyref.h"
#include "provider.h"

struct ciph_ctx {
	struct lurk_prov	*prov;
	struct lurk_key		*key;
	int			 pad;
	unsigned int		 client_version;
	unsigned int		 negotiated_version;
};

static void *
ciph_newctx(void *provctx)
{
	struct ciph_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->prov = provctx;
	return c;
}

static void
ciph_freectx(void *vctx)
{
	free(vctx);
}

static void *
ciph_dupctx(void *vctx)
{
	struct ciph_ctx	*d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return NULL;
	memcpy(d, vctx, sizeof(*d));
	return d;
}

static int ciph_set_ctx_params(void *, const OSSL_PARAM []);

static int
ciph_decrypt_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
	struct ciph_ctx	*c = vctx;
	struct lurk_key	*k = provkey;

	if (k == NULL || k->kind != EDGE_KIND_RSA || !k->has_ref) {
		LURK_ERR(c->prov, LURK_R_NO_REFERENCE,
		    "not an RSA key held by lurkd");
		return 0;
	}
	c->key = k;
	c->pad = RSA_PKCS1_PADDING;
	c->client_version = c->negotiated_version = 0;
	return ciph_set_ctx_params(c, params);
}

static int
ciph_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
    const unsigned char *in, size_t inlen)
{
	struct ciph_ctx	*c = vctx;
	struct lurk_key	*k = c->key;
	uint8_t		*req, *resp = NULL;
	size_t		 reqlen, resplen;
	unsigned int	 nv;
	int		 ok = 0;

	if (k == NULL)
		return 0;
	if (c->pad != RSA_PKCS1_WITH_TLS_PADDING) {
		LURK_ERR(c->prov, LURK_R_BAD_PADDING,
		    "key \"%s\": only the TLS premaster is decrypted", k->name);
		return 0;
	}
	if (out == NULL) {
		*outlen = EDGE_PREMASTER_LEN;
		return 1;
	}
	if (outsize < EDGE_PREMASTER_LEN || c->client_version == 0 ||
	    c->client_version > 0xffff || c->negotiated_version > 0xffff ||
	    inlen == 0 || inlen > k->maxsig) {
		LURK_ERR(c->prov, LURK_R_BAD_PARAMETER,
		    "key \"%s\": premaster request out of range", k->name);
		return 0;
	}
	reqlen = EDGE_KEY_ID_LEN + 2 + 2 + 2 + inlen;
	if ((req = malloc(reqlen)) == NULL)
		return 0;
	memcpy(req, k->key_id, EDGE_KEY_ID_LEN);
	req[32] = c->client_version >> 8;
	req[33] = c->client_version & 0xff;
	/*
	 * libssl gives the negotiated version only with
	 * SSL_OP_TLS_ROLLBACK_BUG; without it only client_version is
	 * acceptable, which is what sending it twice says.
	 */
	nv = c->negotiated_version != 0 ? c->negotiated_version :
	    c->client_version;
	req[34] = nv >> 8;
	req[35] = nv & 0xff;
	req[36] = inlen >> 8;
	req[37] = inlen & 0xff;
	memcpy(req + 38, in, inlen);
	if (!lurk_call(c->prov, k->conn, k->name, EDGE_TYPE_RSA_PREMASTER,
	    req, reqlen, &resp, &resplen))
		goto out;
	if (resplen != EDGE_PREMASTER_LEN) {
		LURK_ERR(c->prov, LURK_R_PROTOCOL,
		    "key \"%s\": premaster of %zu bytes", k->name, resplen);
		goto out;
	}
	memcpy(out, resp, EDGE_PREMASTER_LEN);
	*outlen = EDGE_PREMASTER_LEN;
	ok = 1;
 out:
	free(req);
	lurk_free_response(resp, resplen);
	return ok;
}

static int
ciph_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct ciph_ctx	*c = vctx;
	const OSSL_PARAM *p;
	const char	*s;
	int		 v;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			/* there is no name for the TLS padding */
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
				return 0;
			v = -1;
		} else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if (v != RSA_PKCS1_WITH_TLS_PADDING) {
			LURK_ERR(c->prov, LURK_R_BAD_PADDING,
			    "only RSA_PKCS1_WITH_TLS_PADDING is offered");
			return 0;
		}
		c->pad = v;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) != NULL &&
	    !OSSL_PARAM_get_uint(p, &c->client_version))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) != NULL &&
	    !OSSL_PARAM_get_uint(p, &c->negotiated_version))
		return 0;
	return 1;
}

static const OSSL_PARAM settable[] = {
	OSSL_PARAM_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL),
	OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
	OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
ciph_settable_ctx_params(void *vctx, void *provctx)
{
	return settable;
}

static int
ciph_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct ciph_ctx	*c = vctx;
	OSSL_PARAM	*p;

	if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) !=
	    NULL && p->data_type == OSSL_PARAM_INTEGER &&
	    !OSSL_PARAM_set_int(p, c->pad))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) != NULL &&
	    !OSSL_PARAM_set_uint(p, c->client_version))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) != NULL &&
	    !OSSL_PARAM_set_uint(p, c->negotiated_version))
		return 0;
	return 1;
}

static const OSSL_PARAM *
ciph_gettable_ctx_params(void *vctx, void *provctx)
{
	return settable;
}

const OSSL_DISPATCH lurk_asym_cipher[] = {
	{ OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))ciph_newctx },
	{ OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))ciph_freectx },
	{ OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))ciph_dupctx },
	{ OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT,
	    (void (*)(void))ciph_decrypt_init },
	{ OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))ciph_decrypt },
	{ OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS,
	    (void (*)(void))ciph_set_ctx_params },
	{ OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS,
	    (void (*)(void))ciph_settable_ctx_params },
	{ OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS,
	    (void (*)(void))ciph_get_ctx_params },
	{ OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS,
	    (void (*)(void))ciph_gettable_ctx_params },
	{ 0, NULL }
};
