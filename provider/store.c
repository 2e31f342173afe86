/*
 * The lurk: store: a key named by lurkd itself, fetched with key_info.
 *
 *	lurk:name=NAME[?socket=PATH|?endpoints=LIST]
 *	lurk:sha256=HEX[?socket=PATH|?endpoints=LIST]
 *					(SHA-256 of the SubjectPublicKeyInfo)
 *
 * LIST: endpoints as in openssl.cnf (client.h), %20 or commas between.
 *
 * Values may be %-encoded.  load() gives the key (by reference, to our
 * keymgmt), then the certificate chain from lurkd, leaf first, so the
 * same URI serves as -key and -cert.  This is the only place besides a
 * key operation that talks to lurkd, and only on load(), not on open.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/store.h>

#include "keyref.h"
#include "provider.h"

struct store_ctx {
	struct lurk_prov	*prov;
	uint8_t			 seltype;	/* EDGE_SEL_* */
	uint8_t			 sel[KEYREF_NAME_MAX];
	size_t			 sellen;
	char			*socket;	/* from the URI (socket or
						   endpoints), or NULL */
	struct lc_conn		*conn;		/* its key servers */
	char			*uri;
	int			 expect;	/* OSSL_STORE_INFO_*, 0 any */
	int			 state;		/* ST_* */
	uint8_t			*info;		/* key_info response */
	size_t			 infolen;
	struct edge_keyinfo	 ki;
	const uint8_t		*chainp;	/* next certificate */
	size_t			 chainleft;
};
#define ST_KEY		0
#define ST_CERTS	1
#define ST_EOF		2

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %-decodes [s, s+len) into out (outsize); -1 if bad or too long */
static int
pct_decode(const char *s, size_t len, char *out, size_t outsize,
    size_t *outlen)
{
	size_t	 i, o = 0;
	int	 h, l;

	for (i = 0; i < len; i++) {
		if (o >= outsize)
			return -1;
		if (s[i] == '%') {
			if (len - i < 3 ||
			    (h = hexval(s[i + 1])) == -1 ||
			    (l = hexval(s[i + 2])) == -1)
				return -1;
			out[o++] = h << 4 | l;
			i += 2;
		} else
			out[o++] = s[i];
		if (out[o - 1] == '\0')
			return -1;
	}
	*outlen = o;
	return 0;
}

static int
parse_uri(struct store_ctx *c, const char *uri)
{
	const char	*p, *q, *v;
	char		 buf[256], sock[2048];
	size_t		 len, n, i;
	int		 h, l;

	if (strncasecmp(uri, "lurk:", 5) != 0)
		return -1;
	p = uri + 5;
	q = strchr(p, '?');
	len = q != NULL ? (size_t)(q - p) : strlen(p);
	if (len > 5 && strncmp(p, "name=", 5) == 0) {
		if (pct_decode(p + 5, len - 5, buf, KEYREF_NAME_MAX, &n) == -1 ||
		    n == 0)
			return -1;
		c->seltype = EDGE_SEL_NAME;
		memcpy(c->sel, buf, n);
		c->sellen = n;
	} else if (len == 7 + 2 * EDGE_KEY_ID_LEN &&
	    strncmp(p, "sha256=", 7) == 0) {
		v = p + 7;
		for (i = 0; i < EDGE_KEY_ID_LEN; i++) {
			if ((h = hexval(v[2 * i])) == -1 ||
			    (l = hexval(v[2 * i + 1])) == -1)
				return -1;
			c->sel[i] = h << 4 | l;
		}
		c->seltype = EDGE_SEL_SPKI_SHA256;
		c->sellen = EDGE_KEY_ID_LEN;
	} else
		return -1;
	if (q == NULL)
		return 0;
	q++;
	/* a list is checked when the key servers are opened (lurk_conn) */
	if (strncmp(q, "endpoints=", 10) == 0) {
		if (pct_decode(q + 10, strlen(q + 10), sock, sizeof(sock) - 1,
		    &n) == -1 || n == 0 || sock[0] == '/')
			return -1;
	} else if (strncmp(q, "socket=", 7) != 0 ||
	    pct_decode(q + 7, strlen(q + 7), sock, KEYREF_SOCKET_MAX, &n) ==
	    -1 || n == 0 || sock[0] != '/')
		return -1;
	sock[n] = '\0';
	if ((c->socket = strdup(sock)) == NULL)
		return -1;
	return 0;
}

static void
store_free(struct store_ctx *c)
{
	if (c == NULL)
		return;
	lurk_free_response(c->info, c->infolen);
	free(c->socket);
	free(c->uri);
	free(c);
}

static void *
store_open(void *provctx, const char *uri)
{
	struct lurk_prov	*prov = provctx;
	struct store_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->prov = prov;
	if ((c->uri = strdup(uri)) == NULL || parse_uri(c, uri) == -1) {
		LURK_ERR(prov, LURK_R_BAD_URI, "\"%s\": want lurk:name=NAME "
		    "or lurk:sha256=HEX, then ?socket=PATH or ?endpoints=LIST "
		    "if needed", uri);
		store_free(c);
		return NULL;
	}
	return c;
}

static const OSSL_PARAM settable[] = {
	OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
	OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_PROPERTIES, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_INPUT_TYPE, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
store_settable_ctx_params(void *provctx)
{
	return settable;
}

static int
store_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct store_ctx	*c = vctx;
	const OSSL_PARAM	*p;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT)) !=
	    NULL && !OSSL_PARAM_get_int(p, &c->expect))
		return 0;
	return 1;
}

static int
fetch_info(struct store_ctx *c)
{
	uint8_t		 req[2 + KEYREF_NAME_MAX];

	req[0] = c->seltype;
	req[1] = c->sellen;
	memcpy(req + 2, c->sel, c->sellen);
	if ((c->conn = lurk_conn(c->prov, c->uri, c->socket, NULL)) == NULL)
		return 0;
	if (!lurk_call(c->prov, c->conn, c->uri, EDGE_TYPE_KEY_INFO, req,
	    2 + c->sellen, &c->info, &c->infolen))
		return 0;
	if (edge_keyinfo_decode(c->info, c->infolen, &c->ki) == -1 ||
	    (c->seltype == EDGE_SEL_SPKI_SHA256 &&
	    memcmp(c->ki.key_id, c->sel, EDGE_KEY_ID_LEN) != 0)) {
		LURK_ERR(c->prov, LURK_R_PROTOCOL, "%s: malformed key_info",
		    c->uri);
		return 0;
	}
	c->chainp = c->ki.chain;
	c->chainleft = c->ki.chainlen;
	return 1;
}

static int
load_key(struct store_ctx *c, OSSL_CALLBACK *cb, void *cbarg)
{
	struct lurk_key	*k;
	OSSL_PARAM	 params[4];
	int		 objtype = OSSL_OBJECT_PKEY, ok;

	if (!lurk_check_order(c->prov))
		return 0;
	if ((k = lurk_key_from_spki(c->prov, c->ki.spki, c->ki.spkilen,
	    c->ki.key_id, c->ki.name, c->ki.namelen, c->conn)) == NULL)
		return 0;
	if (k->kind != c->ki.kind) {
		LURK_ERR(c->prov, LURK_R_PROTOCOL,
		    "%s: key kind %u does not match its public key", c->uri,
		    c->ki.kind);
		lurk_key_free(k);
		return 0;
	}
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_OBJECT_PARAM_DATA_TYPE,
	    (char *)(uintptr_t)lurk_kind_name(k->kind), 0);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof(k));
	params[3] = OSSL_PARAM_construct_end();
	ok = cb(params, cbarg);
	lurk_key_free(k);	/* NULL if our keymgmt took it */
	return ok;
}

static int
load_cert(struct store_ctx *c, OSSL_CALLBACK *cb, void *cbarg)
{
	const uint8_t	*cert;
	size_t		 certlen;
	OSSL_PARAM	 params[3];
	int		 objtype = OSSL_OBJECT_CERT;

	if (edge_chain_next(&c->chainp, &c->chainleft, &cert, &certlen) != 1)
		return 0;
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA,
	    (void *)(uintptr_t)cert, certlen);
	params[2] = OSSL_PARAM_construct_end();
	return cb(params, cbarg);
}

static int
store_load(void *vctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
    OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct store_ctx	*c = vctx;

	if (c->state == ST_EOF)
		return 0;
	if (c->info == NULL && !fetch_info(c)) {
		c->state = ST_EOF;
		return 0;
	}
	if (c->state == ST_KEY) {
		c->state = ST_CERTS;
		if (c->expect == 0 || c->expect == OSSL_STORE_INFO_PKEY)
			return load_key(c, object_cb, object_cbarg);
	}
	if (c->chainleft == 0 || (c->expect != 0 &&
	    c->expect != OSSL_STORE_INFO_CERT)) {
		c->state = ST_EOF;
		return 0;
	}
	return load_cert(c, object_cb, object_cbarg);
}

static int
store_eof(void *vctx)
{
	struct store_ctx	*c = vctx;

	if (c->state == ST_CERTS && (c->chainleft == 0 || (c->expect != 0 &&
	    c->expect != OSSL_STORE_INFO_CERT)))
		c->state = ST_EOF;
	return c->state == ST_EOF;
}

static int
store_close(void *vctx)
{
	store_free(vctx);
	return 1;
}

static int
store_export_object(void *vctx, const void *reference, size_t reference_sz,
    OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	return 0;	/* see dec_export_object() */
}

const OSSL_DISPATCH lurk_store[] = {
	{ OSSL_FUNC_STORE_OPEN, (void (*)(void))store_open },
	{ OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS,
	    (void (*)(void))store_settable_ctx_params },
	{ OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))store_set_ctx_params },
	{ OSSL_FUNC_STORE_LOAD, (void (*)(void))store_load },
	{ OSSL_FUNC_STORE_EOF, (void (*)(void))store_eof },
	{ OSSL_FUNC_STORE_CLOSE, (void (*)(void))store_close },
	{ OSSL_FUNC_STORE_EXPORT_OBJECT,
	    (void (*)(void))store_export_object },
	{ 0, NULL }
};
