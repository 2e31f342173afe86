/*
 * Provider entry point: configuration, the algorithm tables, errors, and
 * the one place that talks to lurkd.
 *
 * Initialisation only reads configuration: nginx and haproxy load keys
 * in a root master and fork workers that drop privileges, so nothing
 * connects before the first key operation (client.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "client.h"
#include "keyref.h"
#include "provider.h"

static const OSSL_ALGORITHM lurk_keymgmts[] = {
	{ "RSA", LURK_PROPS, lurk_rsa_keymgmt, "lurkd RSA key" },
	{ "RSA-PSS", LURK_PROPS, lurk_rsapss_keymgmt, "lurkd RSA-PSS key" },
	{ "EC", LURK_PROPS, lurk_ec_keymgmt, "lurkd EC key" },
	{ "ED25519", LURK_PROPS, lurk_ed25519_keymgmt, "lurkd Ed25519 key" },
	{ "ED448", LURK_PROPS, lurk_ed448_keymgmt, "lurkd Ed448 key" },
	{ NULL, NULL, NULL, NULL }
};

/*
 * Names of our own, returned by our keymgmts' query_operation_name: a
 * fetch of "RSA" or "ECDSA" by anybody else (certificate verification)
 * can never land here.
 */
static const OSSL_ALGORITHM lurk_signatures[] = {
	{ "LURK-RSA", LURK_PROPS, lurk_signature, "signature by lurkd" },
	{ "LURK-ECDSA", LURK_PROPS, lurk_signature, "signature by lurkd" },
	{ "LURK-ED25519", LURK_PROPS, lurk_signature, "signature by lurkd" },
	{ "LURK-ED448", LURK_PROPS, lurk_signature, "signature by lurkd" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM lurk_asym_ciphers[] = {
	{ "LURK-RSA", LURK_PROPS, lurk_asym_cipher,
	    "TLS premaster decryption by lurkd" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM lurk_decoders[] = {
	{ "DER", LURK_PROPS ",input=PEM", lurk_pem2ref_decoder,
	    "LURK KEY REFERENCE PEM" },
	{ "RSA", LURK_PROPS ",input=DER,structure=" LURK_REF_STRUCTURE,
	    lurk_ref2rsa_decoder, "lurkd key reference" },
	{ "RSA-PSS", LURK_PROPS ",input=DER,structure=" LURK_REF_STRUCTURE,
	    lurk_ref2rsapss_decoder, "lurkd key reference" },
	{ "EC", LURK_PROPS ",input=DER,structure=" LURK_REF_STRUCTURE,
	    lurk_ref2ec_decoder, "lurkd key reference" },
	{ "ED25519", LURK_PROPS ",input=DER,structure=" LURK_REF_STRUCTURE,
	    lurk_ref2ed25519_decoder, "lurkd key reference" },
	{ "ED448", LURK_PROPS ",input=DER,structure=" LURK_REF_STRUCTURE,
	    lurk_ref2ed448_decoder, "lurkd key reference" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM lurk_stores[] = {
	{ "lurk", LURK_PROPS, lurk_store, "keys held by lurkd" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ITEM reason_strings[] = {
	{ LURK_R_LURKD_STATUS, "lurkd refused the operation" },
	{ LURK_R_UNREACHABLE, "lurkd not reachable" },
	{ LURK_R_TIMEOUT, "lurkd did not answer in time" },
	{ LURK_R_CONNECTION_LOST, "connection to lurkd lost" },
	{ LURK_R_PROTOCOL, "malformed answer from lurkd" },
	{ LURK_R_BAD_REFERENCE, "invalid LURK key reference" },
	{ LURK_R_NOT_SUPPORTED, "operation not offered for lurkd keys" },
	{ LURK_R_BAD_DIGEST, "digest not usable with a lurkd key" },
	{ LURK_R_BAD_PADDING, "padding not usable with a lurkd key" },
	{ LURK_R_NO_REFERENCE, "public key only: no lurkd key reference" },
	{ LURK_R_BAD_URI, "invalid lurk: URI" },
	{ LURK_R_INTERNAL, "internal error" },
	{ LURK_R_BAD_PARAMETER, "invalid parameter" },
	{ LURK_R_CONFIG, "provider misconfigured" },
	{ LURK_R_TLS, "TLS with lurkd refused" },
	{ 0, NULL }
};

static const OSSL_PARAM gettable_params[] = {
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
	OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
	OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
	OSSL_PARAM_END
};

void
lurk_raise(struct lurk_prov *p, const char *file, int line, const char *func,
    int reason, const char *fmt, ...)
{
	va_list	 ap;

	if (p == NULL || p->new_error == NULL)
		return;
	p->new_error(p->handle);
	p->set_error_debug(p->handle, file, line, func);
	va_start(ap, fmt);
	p->vset_error(p->handle, reason, fmt, ap);
	va_end(ap);
}

/* a key reference's string, NUL-terminated, or NULL if empty */
static char *
ref_str(const struct keyref_str *f)
{
	char	*s;

	if (f->len == 0)
		return NULL;
	if ((s = malloc(f->len + 1)) == NULL)
		return NULL;
	memcpy(s, f->s, f->len);
	s[f->len] = '\0';
	return s;
}

/*
 * The key servers of a key: the endpoints of its reference r (each TLS
 * file its own, else the provider's), else the socket r names, else
 * spec (a lurk: URI's), else the provider's endpoints.  The TLS files
 * are read now, when keys are loaded (as root, in the master of a
 * server that forks workers), not at the first handshake.  NULL, the
 * error raised, if anything is wrong with them.
 */
struct lc_conn *
lurk_conn(struct lurk_prov *p, const char *what, const char *spec,
    const struct keyref *r)
{
	struct lc_tls_files	 tf;
	struct lc_conn		*c = NULL;
	struct lc_error		 e;
	char			*cert = NULL, *key = NULL, *ca = NULL;
	char			*sock = NULL;

	memset(&e, 0, sizeof(e));
	tf.certificate = p->tls_certificate;
	tf.key = p->tls_key;
	tf.ca = p->tls_ca;
	if (r != NULL && r->nendpoints > 0) {
		if (((cert = ref_str(&r->tls_certificate)) == NULL &&
		    r->tls_certificate.len > 0) ||
		    ((key = ref_str(&r->tls_key)) == NULL &&
		    r->tls_key.len > 0) ||
		    ((ca = ref_str(&r->tls_ca)) == NULL && r->tls_ca.len > 0)) {
			e.result = LC_ENOMEM;
			snprintf(e.msg, sizeof(e.msg), "out of memory");
			goto out;
		}
		if (cert != NULL)
			tf.certificate = cert;
		if (key != NULL)
			tf.key = key;
		if (ca != NULL)
			tf.ca = ca;
		c = lc_conn_open_list(r->endpoints, r->nendpoints, p->lenmode,
		    &tf, &e);
		goto out;
	}
	if (r != NULL && r->socketlen > 0) {
		if ((sock = malloc(r->socketlen + 1)) == NULL) {
			e.result = LC_ENOMEM;
			snprintf(e.msg, sizeof(e.msg), "out of memory");
			goto out;
		}
		memcpy(sock, r->socket, r->socketlen);
		sock[r->socketlen] = '\0';
		spec = sock;
	}
	c = lc_conn_open(spec != NULL ? spec : p->endpoints, p->lenmode, &tf,
	    &e);
 out:
	if (c == NULL)
		LURK_ERR(p, e.result == LC_ETLS ? LURK_R_TLS :
		    e.result == LC_ENOMEM ? LURK_R_INTERNAL :
		    LURK_R_BAD_REFERENCE, "key \"%s\": %s", what ? what : "?",
		    e.msg);
	free(cert);
	free(key);
	free(ca);
	free(sock);
	return c;
}

/*
 * One request for a key to its key servers; the error, if any, is
 * raised with what lurkd or the connection said.  1 and *resp on
 * success, 0 on failure.
 */
int
lurk_call(struct lurk_prov *p, struct lc_conn *c, const char *keyname,
    uint8_t type, const uint8_t *req, size_t reqlen, uint8_t **resp,
    size_t *resplen)
{
	struct lc_error	 e;
	int		 reason;

	if (c == NULL) {
		LURK_ERR(p, LURK_R_INTERNAL, "key \"%s\": no key server",
		    keyname ? keyname : "?");
		return 0;
	}
	if (lc_request(c, p->timeout_ms, type, req, reqlen, resp, resplen,
	    &e) == LC_OK)
		return 1;
	switch (e.result) {
	case LC_ESTATUS:
		reason = LURK_R_LURKD_STATUS;
		break;
	case LC_ECONNECT:
		reason = LURK_R_UNREACHABLE;
		break;
	case LC_ETIMEOUT:
		reason = LURK_R_TIMEOUT;
		break;
	case LC_EIO:
		reason = LURK_R_CONNECTION_LOST;
		break;
	case LC_EPROTO:
		reason = LURK_R_PROTOCOL;
		break;
	case LC_ETLS:
		reason = LURK_R_TLS;
		break;
	default:
		reason = LURK_R_INTERNAL;
		break;
	}
	if (e.result == LC_ESTATUS && e.status == EDGE_ST_UNKNOWN_KEY &&
	    type != EDGE_TYPE_KEY_INFO && reqlen >= EDGE_KEY_ID_LEN) {
		/* every key operation begins with the key's id */
		char	 hex[EDGE_KEY_ID_LEN * 2 + 1];

		LURK_ERR(p, reason, "key \"%s\": %s: lurkd holds no key with "
		    "id %s", keyname ? keyname : "?", e.msg,
		    lurk_hex(req, EDGE_KEY_ID_LEN, hex, sizeof(hex)));
		return 0;
	}
	LURK_ERR(p, reason, "key \"%s\": %s", keyname ? keyname : "?", e.msg);
	return 0;
}

/*
 * Our keymgmts carry the standard names (libssl asks EVP_PKEY_is_a(pk,
 * "EC")), so a fetch of "EC" without a property query finds whichever
 * provider was activated first.  If that is us, libssl drops the NIST
 * groups (TLS 1.2 with an EC certificate: "no shared cipher") and key
 * generation fails.  Say so when a key is loaded, rather than break
 * handshakes later.  0 if misordered.
 */
int
lurk_check_order(struct lurk_prov *p)
{
	static const char *const names[] = { "RSA", "EC", "ED25519" };
	EVP_KEYMGMT	*km;
	size_t		 i;
	int		 ours;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ERR_set_mark();
		km = EVP_KEYMGMT_fetch(NULL, names[i], NULL);
		ERR_pop_to_mark();
		if (km == NULL)
			continue;
		ours = OSSL_PROVIDER_get0_provider_ctx(
		    EVP_KEYMGMT_get0_provider(km)) == p;
		EVP_KEYMGMT_free(km);
		if (ours) {
			LURK_ERR(p, LURK_R_CONFIG, "the lurk provider is "
			    "activated before the default provider: list "
			    "default first in the providers section");
			return 0;
		}
	}
	return 1;
}

void
lurk_free_response(uint8_t *r, size_t len)
{
	lc_free_response(r, len);
}

static const OSSL_PARAM *
prov_gettable_params(void *provctx)
{
	return gettable_params;
}

static int
prov_get_params(void *provctx, OSSL_PARAM params[])
{
	OSSL_PARAM	*p;

	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) != NULL &&
	    !OSSL_PARAM_set_utf8_ptr(p, "lurkd key provider"))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) != NULL &&
	    !OSSL_PARAM_set_utf8_ptr(p, LURK_PROV_VERSION))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) !=
	    NULL && !OSSL_PARAM_set_utf8_ptr(p, OPENSSL_VERSION_TEXT))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) != NULL &&
	    !OSSL_PARAM_set_int(p, 1))
		return 0;
	return 1;
}

static const OSSL_ALGORITHM *
prov_query(void *provctx, int operation_id, int *no_cache)
{
	*no_cache = 0;
	switch (operation_id) {
	case OSSL_OP_KEYMGMT:
		return lurk_keymgmts;
	case OSSL_OP_SIGNATURE:
		return lurk_signatures;
	case OSSL_OP_ASYM_CIPHER:
		return lurk_asym_ciphers;
	case OSSL_OP_DECODER:
		return lurk_decoders;
	case OSSL_OP_STORE:
		return lurk_stores;
	}
	return NULL;
}

static const OSSL_ITEM *
prov_reason_strings(void *provctx)
{
	return reason_strings;
}

static void
prov_free(struct lurk_prov *p)
{
	free(p->endpoints);
	free(p->tls_certificate);
	free(p->tls_key);
	free(p->tls_ca);
	free(p);
}

static void
prov_teardown(void *provctx)
{
	struct lurk_prov	*p = provctx;

	OSSL_LIB_CTX_free(p->corectx);
	prov_free(p);
}

static const OSSL_DISPATCH prov_functions[] = {
	{ OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))prov_teardown },
	{ OSSL_FUNC_PROVIDER_GETTABLE_PARAMS,
	    (void (*)(void))prov_gettable_params },
	{ OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))prov_get_params },
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
	{ OSSL_FUNC_PROVIDER_GET_REASON_STRINGS,
	    (void (*)(void))prov_reason_strings },
	{ 0, NULL }
};

static int
parse_timeout(const char *s, int *ms)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 600000)
		return -1;
	*ms = (int)v;
	return 0;
}

static int
parse_length(const char *s, int *mode)
{
	if (strcmp(s, "auto") == 0)
		*mode = LC_LEN_AUTO;
	else if (strcmp(s, "payload") == 0)
		*mode = LURK_LEN_PAYLOAD;
	else if (strcmp(s, "message") == 0)
		*mode = LURK_LEN_MESSAGE;
	else
		return -1;
	return 0;
}

int	OSSL_provider_init(const OSSL_CORE_HANDLE *, const OSSL_DISPATCH *,
	    const OSSL_DISPATCH **, void **);

/* a copy of a cnf value, NULL if not set or empty */
static int
cnf_dup(const char *v, char **out)
{
	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	return (*out = strdup(v)) == NULL ? -1 : 0;
}

/*
 * Settings, each from the first place that has it: environment
 * (LURK_SOCKET, LURK_TIMEOUT_MS), the provider's section of openssl.cnf
 * (socket or endpoints, tls_certificate, tls_key, tls_ca, timeout_ms,
 * length), the defaults.  A key reference that names a socket or
 * endpoints, or TLS files, overrides them for its key.  The environment
 * is read with secure_getenv: a set-id program that loads this provider
 * (through a system-wide openssl.cnf) is not pointed at another socket
 * by whoever runs it.  Nothing is connected and no file read here.
 */
int
OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	OSSL_FUNC_core_get_params_fn	*get_params = NULL;
	struct lurk_prov		*p;
	const OSSL_DISPATCH		*d;
	struct lc_error			 e;
	const char			*sock, *tmo;
	char				*cnf_sock = NULL, *cnf_tmo = NULL;
	char				*cnf_len = NULL, *cnf_eps = NULL;
	char				*cnf_cert = NULL, *cnf_key = NULL;
	char				*cnf_ca = NULL, *eps;
	OSSL_PARAM			 cp[8];
	size_t				 neps;
	int				 ntls;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 0;
	p->handle = handle;
	for (d = in; d->function_id != 0; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CORE_GET_PARAMS:
			get_params = OSSL_FUNC_core_get_params(d);
			break;
		case OSSL_FUNC_CORE_NEW_ERROR:
			p->new_error = OSSL_FUNC_core_new_error(d);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			p->set_error_debug = OSSL_FUNC_core_set_error_debug(d);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			p->vset_error = OSSL_FUNC_core_vset_error(d);
			break;
		}
	}
	if (p->new_error == NULL || p->set_error_debug == NULL ||
	    p->vset_error == NULL)
		p->new_error = NULL;

	cp[0] = OSSL_PARAM_construct_utf8_ptr("socket", &cnf_sock, 0);
	cp[1] = OSSL_PARAM_construct_utf8_ptr("timeout_ms", &cnf_tmo, 0);
	cp[2] = OSSL_PARAM_construct_utf8_ptr("length", &cnf_len, 0);
	cp[3] = OSSL_PARAM_construct_utf8_ptr("endpoints", &cnf_eps, 0);
	cp[4] = OSSL_PARAM_construct_utf8_ptr("tls_certificate", &cnf_cert, 0);
	cp[5] = OSSL_PARAM_construct_utf8_ptr("tls_key", &cnf_key, 0);
	cp[6] = OSSL_PARAM_construct_utf8_ptr("tls_ca", &cnf_ca, 0);
	cp[7] = OSSL_PARAM_construct_end();
	if (get_params != NULL && !get_params(handle, cp))
		cnf_sock = cnf_tmo = cnf_len = cnf_eps = cnf_cert = cnf_key =
		    cnf_ca = NULL;

	if (cnf_sock != NULL && *cnf_sock != '\0' && cnf_eps != NULL &&
	    *cnf_eps != '\0') {
		LURK_ERR(p, LURK_R_BAD_PARAMETER, "socket and endpoints: "
		    "set one of them");
		goto fail;
	}
	if ((sock = secure_getenv("LURK_SOCKET")) == NULL || *sock == '\0')
		sock = cnf_eps != NULL && *cnf_eps != '\0' ? cnf_eps :
		    cnf_sock != NULL && *cnf_sock != '\0' ? cnf_sock :
		    LC_DEFAULT_SOCKET;
	if (lc_endpoints_split(sock, &eps, &neps, &ntls, &e) == -1) {
		LURK_ERR(p, LURK_R_BAD_PARAMETER, "endpoints \"%s\": %s", sock,
		    e.msg);
		goto fail;
	}
	free(eps);
	if ((p->endpoints = strdup(sock)) == NULL)
		goto fail;
	if (cnf_dup(cnf_cert, &p->tls_certificate) == -1 ||
	    cnf_dup(cnf_key, &p->tls_key) == -1 ||
	    cnf_dup(cnf_ca, &p->tls_ca) == -1)
		goto fail;
	p->timeout_ms = LC_DEFAULT_TIMEOUT_MS;
	if ((tmo = secure_getenv("LURK_TIMEOUT_MS")) == NULL || *tmo == '\0')
		tmo = cnf_tmo;
	if (tmo != NULL && parse_timeout(tmo, &p->timeout_ms) == -1) {
		LURK_ERR(p, LURK_R_BAD_PARAMETER,
		    "timeout_ms \"%s\": want 1 to 600000", tmo);
		goto fail;
	}
	p->lenmode = LC_LEN_AUTO;
	if (cnf_len != NULL && parse_length(cnf_len, &p->lenmode) == -1) {
		LURK_ERR(p, LURK_R_BAD_PARAMETER,
		    "length \"%s\": want auto, payload or message", cnf_len);
		goto fail;
	}

	/* a library context of our own, only to wrap the core's BIOs */
	if ((p->corectx = OSSL_LIB_CTX_new_from_dispatch(handle, in)) == NULL)
		goto fail;

	*out = prov_functions;
	*provctx = p;
	return 1;
 fail:
	prov_free(p);
	return 0;
}
