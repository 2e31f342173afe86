/*
 * netproc's own TLS keys, which it does not hold: a TLS listener's key
 * is in keyproc like any other (lurkd.h, enum key_usage).  libssl signs
 * a handshake through an OpenSSL provider built into netproc, in a
 * library context of its own (the default provider, then this one):
 *
 *   keymgmt   a key object is the public key (the default provider's)
 *             and the SHA-256 of its SPKI, by which keyproc finds the
 *             private key; everything public is answered locally, and
 *             nothing private can be exported;
 *   signature digest_sign only: libssl hands over the whole bytes to be
 *             signed (TLS 1.3 CertificateVerify content, TLS 1.2
 *             ServerKeyExchange params), which tls_sign() (tls.c) sends
 *             to keyproc, pausing the handshake's async job until the
 *             answer is in.  A bare digest is never signed.
 *
 * The key object is made by EVP_PKEY_fromdata() with the parameters of
 * tlskey_pkey(): the SPKI and its hash.  netproc's provider is not the
 * edges' lurk.so (provider/): it has no decoder, store, cipher or
 * connection of its own, and is never loaded by anyone else.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "log.h"
#include "lurk.h"
#include "netproc.h"

#define TK_NAME		"lurkd-netproc"
#define TK_PROPS	"provider=" TK_NAME
#define TK_DEFAULT	"provider=default"
#define TK_SIGNATURE	"LURKD-NETPROC-SIGNATURE"
#define TK_PARAM_SPKI	"lurkd-spki"		/* octet string: DER */
#define TK_PARAM_ID	"lurkd-spki-sha256"	/* octet string: 32 bytes */
#define TK_TBS_MAX	0xffff

static OSSL_LIB_CTX	*libctx;

struct tkey {
	int		 kind;		/* EDGE_KIND_* */
	EVP_PKEY	*pub;		/* the default provider's */
	int		 ref;		/* keyproc holds it: id valid */
	uint8_t		 id[32];	/* SHA-256 of the SPKI */
};

static const struct {
	int		 kind;
	const char	*name;
} kinds[] = {
	{ EDGE_KIND_RSA,	"RSA" },
	{ EDGE_KIND_RSA_PSS,	"RSA-PSS" },
	{ EDGE_KIND_EC,		"EC" },
	{ EDGE_KIND_ED25519,	"ED25519" },
	{ EDGE_KIND_ED448,	"ED448" },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static const char *
kind_name(int kind)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "?";
}

/* RSA-PSS before RSA, which it also "is". */
static int
kind_of(const EVP_PKEY *pk)
{
	size_t	 i;

	for (i = NKINDS; i-- > 0; )
		if (EVP_PKEY_is_a(pk, kinds[i].name) &&
		    (kinds[i].kind != EDGE_KIND_RSA ||
		    !EVP_PKEY_is_a(pk, "RSA-PSS")))
			return kinds[i].kind;
	return -1;
}

/* ---- keymgmt -------------------------------------------------------- */

static struct tkey *
tk_new(int kind)
{
	struct tkey	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->kind = kind;
	return k;
}

#define TK_NEW(tag, kind)						\
static void *								\
tk_new_##tag(void *provctx)						\
{									\
	return tk_new(kind);						\
}
TK_NEW(rsa, EDGE_KIND_RSA)
TK_NEW(rsapss, EDGE_KIND_RSA_PSS)
TK_NEW(ec, EDGE_KIND_EC)
TK_NEW(ed25519, EDGE_KIND_ED25519)
TK_NEW(ed448, EDGE_KIND_ED448)

static void
tk_free(void *keydata)
{
	struct tkey	*k = keydata;

	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub);
	free(k);
}

static void *
tk_dup(const void *keydata, int selection)
{
	const struct tkey	*k = keydata;
	struct tkey		*d;

	if ((d = tk_new(k->kind)) == NULL)
		return NULL;
	if (k->pub != NULL && EVP_PKEY_up_ref(k->pub))
		d->pub = k->pub;	/* never changed: shared */
	if (k->ref && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
		d->ref = 1;
		memcpy(d->id, k->id, sizeof(d->id));
	}
	return d;
}

static int
tk_has(const void *keydata, int selection)
{
	const struct tkey	*k = keydata;

	if (k == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !k->ref)
		return 0;
	if ((selection & (OSSL_KEYMGMT_SELECT_PUBLIC_KEY |
	    OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)) && k->pub == NULL)
		return 0;
	return 1;
}

static int
tk_match(const void *keydata1, const void *keydata2, int selection)
{
	const struct tkey	*a = keydata1, *b = keydata2;

	if (a->kind != b->kind || a->pub == NULL || b->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
		return (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0 ||
		    EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

/* A public key in k, of k's kind. */
static int
tk_set_pub(struct tkey *k, EVP_PKEY *pk)
{
	if (kind_of(pk) != k->kind)
		return 0;
	EVP_PKEY_free(k->pub);
	k->pub = pk;
	return 1;
}

/*
 * From tlskey_pkey(): the SPKI and its hash, a key keyproc holds.  Else
 * a public key (EVP_PKEY_eq() with a certificate's): public parts only,
 * never a reference.
 */
static int
tk_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	struct tkey		*k = keydata;
	const OSSL_PARAM	*ps, *pi;
	const unsigned char	*p;
	const void		*spki, *id;
	size_t			 spkilen, idlen;
	EVP_PKEY_CTX		*ctx;
	EVP_PKEY		*pk = NULL;
	int			 ok = 0;

	if (k == NULL)
		return 0;
	ps = OSSL_PARAM_locate_const(params, TK_PARAM_SPKI);
	pi = OSSL_PARAM_locate_const(params, TK_PARAM_ID);
	if (ps != NULL && pi != NULL) {
		if (!OSSL_PARAM_get_octet_string_ptr(ps, &spki, &spkilen) ||
		    !OSSL_PARAM_get_octet_string_ptr(pi, &id, &idlen) ||
		    idlen != sizeof(k->id) || spkilen > 0x7fffffff)
			return 0;
		p = spki;
		if ((pk = d2i_PUBKEY_ex(NULL, &p, spkilen, libctx,
		    TK_DEFAULT)) == NULL || p != (const unsigned char *)spki +
		    spkilen || !tk_set_pub(k, pk)) {
			EVP_PKEY_free(pk);
			return 0;
		}
		memcpy(k->id, id, sizeof(k->id));
		k->ref = 1;
		return 1;
	}
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
		return 0;
	if ((ctx = EVP_PKEY_CTX_new_from_name(libctx, kind_name(k->kind),
	    TK_DEFAULT)) == NULL)
		return 0;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    (OSSL_PARAM *)(uintptr_t)params) == 1 && tk_set_pub(k, pk))
		ok = 1;
	else
		EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* Public parts only: there is nothing private here to give. */
static int
tk_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct tkey	*k = keydata;

	if (k == NULL || k->pub == NULL ||
	    (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	return EVP_PKEY_export(k->pub, selection, cb, cbarg);
}

static const OSSL_PARAM tk_import_params[] = {
	OSSL_PARAM_octet_string(TK_PARAM_SPKI, NULL, 0),
	OSSL_PARAM_octet_string(TK_PARAM_ID, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
tk_import_types(int selection)
{
	return tk_import_params;
}

static const OSSL_PARAM *
tk_export_types(int selection)
{
	return tk_import_params + 2;
}

static const OSSL_PARAM tk_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
tk_gettable_params(void *provctx)
{
	return tk_gettable;
}

/* Everything asked is public: the public key answers. */
static int
tk_get_params(void *keydata, OSSL_PARAM params[])
{
	struct tkey	*k = keydata;
	OSSL_PARAM	*p;

	if (k == NULL || k->pub == NULL)
		return 0;
	for (p = params; p->key != NULL; p++)
		if (strcmp(p->key, OSSL_PKEY_PARAM_PRIV_KEY) == 0 ||
		    strcmp(p->key, OSSL_PKEY_PARAM_RSA_D) == 0)
			return 0;
	return EVP_PKEY_get_params(k->pub, params);
}

static const char *
tk_query_name(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? TK_SIGNATURE : NULL;
}

#define TK_KEYMGMT(tag)							\
static const OSSL_DISPATCH tk_##tag##_keymgmt[] = {			\
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))tk_new_##tag },	\
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))tk_free },		\
	{ OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))tk_dup },		\
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))tk_has },		\
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))tk_match },		\
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))tk_import },	\
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES,				\
	    (void (*)(void))tk_import_types },				\
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))tk_export },	\
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES,				\
	    (void (*)(void))tk_export_types },				\
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))tk_get_params }, \
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,				\
	    (void (*)(void))tk_gettable_params },			\
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,			\
	    (void (*)(void))tk_query_name },				\
	{ 0, NULL }							\
};
TK_KEYMGMT(rsa)
TK_KEYMGMT(rsapss)
TK_KEYMGMT(ec)
TK_KEYMGMT(ed25519)
TK_KEYMGMT(ed448)

/* ---- signature ------------------------------------------------------ */

struct tsig {
	struct tkey	*key;
	int		 md;		/* index in mds[], -1: none (EdDSA) */
	int		 pad;		/* RSA_PKCS1{,_PSS}_PADDING */
	int		 saltlen;	/* RSA_PSS_SALTLEN_DIGEST, or bytes */
	int		 mgf1;		/* index in mds[], -1: as md */
	uint8_t		*buf;		/* update() data */
	size_t		 len;
};

/* SHA-2 only: the TLS SignatureSchemes a server signs with. */
static const struct {
	const char	*names[4];
	size_t		 len;
	uint16_t	 ecdsa, pkcs1, rsae, pss;
} mds[] = {
	{ { "SHA224", "SHA2-224", "SHA-224", NULL }, 28,
	    TLS_SS_ECDSA_SHA224, TLS_SS_RSA_PKCS1_SHA224, 0, 0 },
	{ { "SHA256", "SHA2-256", "SHA-256", NULL }, 32,
	    TLS_SS_ECDSA_SECP256R1_SHA256, TLS_SS_RSA_PKCS1_SHA256,
	    TLS_SS_RSA_PSS_RSAE_SHA256, TLS_SS_RSA_PSS_PSS_SHA256 },
	{ { "SHA384", "SHA2-384", "SHA-384", NULL }, 48,
	    TLS_SS_ECDSA_SECP384R1_SHA384, TLS_SS_RSA_PKCS1_SHA384,
	    TLS_SS_RSA_PSS_RSAE_SHA384, TLS_SS_RSA_PSS_PSS_SHA384 },
	{ { "SHA512", "SHA2-512", "SHA-512", NULL }, 64,
	    TLS_SS_ECDSA_SECP521R1_SHA512, TLS_SS_RSA_PKCS1_SHA512,
	    TLS_SS_RSA_PSS_RSAE_SHA512, TLS_SS_RSA_PSS_PSS_SHA512 },
};
#define NMDS	(sizeof(mds) / sizeof(mds[0]))

/* The index of a digest name, -1 for none, -2 for one we do not sign. */
static int
md_index(const char *name)
{
	size_t	 i, j;

	if (name == NULL || *name == '\0' || strcasecmp(name, "UNDEF") == 0)
		return -1;
	for (i = 0; i < NMDS; i++)
		for (j = 0; j < 4 && mds[i].names[j] != NULL; j++)
			if (strcasecmp(name, mds[i].names[j]) == 0)
				return i;
	return -2;
}

static int
is_rsa(const struct tkey *k)
{
	return k->kind == EDGE_KIND_RSA || k->kind == EDGE_KIND_RSA_PSS;
}

static int
is_ed(const struct tkey *k)
{
	return k->kind == EDGE_KIND_ED25519 || k->kind == EDGE_KIND_ED448;
}

static int
ts_set_md(struct tsig *c, const char *name)
{
	int	 md = md_index(name);

	/* EdDSA signs without a digest, the others with SHA-2 */
	if (md == -2 || (md == -1) != is_ed(c->key))
		return 0;
	c->md = md;
	return 1;
}

static void *
ts_newctx(void *provctx, const char *propq)
{
	struct tsig	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->md = c->mgf1 = -1;
	return c;
}

static void
ts_freectx(void *vctx)
{
	struct tsig	*c = vctx;

	if (c == NULL)
		return;
	free(c->buf);
	free(c);
}

static void *
ts_dupctx(void *vctx)
{
	struct tsig	*c = vctx, *d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return NULL;
	*d = *c;
	d->buf = NULL;
	if (c->len > 0) {
		if ((d->buf = malloc(c->len)) == NULL) {
			free(d);
			return NULL;
		}
		memcpy(d->buf, c->buf, c->len);
	}
	return d;
}

static int	 ts_set_ctx_params(void *, const OSSL_PARAM []);

/* Local and cheap: libssl calls it to probe a sigalg, too. */
static int
ts_digest_sign_init(void *vctx, const char *mdname, void *provkey,
    const OSSL_PARAM params[])
{
	struct tsig	*c = vctx;
	struct tkey	*k = provkey != NULL ? provkey : c->key;

	if (k == NULL || !k->ref)
		return 0;
	c->key = k;
	c->len = 0;
	c->pad = k->kind == EDGE_KIND_RSA_PSS ? RSA_PKCS1_PSS_PADDING :
	    RSA_PKCS1_PADDING;
	c->saltlen = RSA_PSS_SALTLEN_DIGEST;
	c->mgf1 = -1;
	if (!ts_set_md(c, mdname))
		return 0;
	return ts_set_ctx_params(c, params);
}

static int
ts_update(void *vctx, const unsigned char *data, size_t len)
{
	struct tsig	*c = vctx;
	uint8_t		*nb;

	if (len > TK_TBS_MAX - c->len)
		return 0;
	if ((nb = realloc(c->buf, c->len + len + 1)) == NULL)
		return 0;
	c->buf = nb;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 1;
}

/*
 * The TLS SignatureScheme of the key, digest and padding: in TLS 1.2 an
 * ECDSA scheme names only its hash, in TLS 1.3 libssl has bound hash
 * and curve already.  0 if none fits (keyproc would refuse it anyway).
 */
static uint16_t
ts_scheme(const struct tsig *c)
{
	const struct tkey	*k = c->key;

	if (k->kind == EDGE_KIND_ED25519)
		return TLS_SS_ED25519;
	if (k->kind == EDGE_KIND_ED448)
		return TLS_SS_ED448;
	if (c->md < 0)
		return 0;
	if (k->kind == EDGE_KIND_EC)
		return mds[c->md].ecdsa;
	if (c->pad == RSA_PKCS1_PSS_PADDING) {
		if ((c->saltlen != RSA_PSS_SALTLEN_DIGEST &&
		    (size_t)c->saltlen != mds[c->md].len) ||
		    (c->mgf1 != -1 && c->mgf1 != c->md))
			return 0;
		return k->kind == EDGE_KIND_RSA ? mds[c->md].rsae :
		    mds[c->md].pss;
	}
	return k->kind == EDGE_KIND_RSA ? mds[c->md].pkcs1 : 0;
}

static int
ts_sign(struct tsig *c, unsigned char *sig, size_t *siglen, size_t sigsize,
    const unsigned char *tbs, size_t tbslen)
{
	uint16_t	 scheme;
	size_t		 max;

	if (c->key == NULL || !c->key->ref)
		return 0;
	max = EVP_PKEY_get_size(c->key->pub);
	if (sig == NULL) {
		*siglen = max;
		return 1;
	}
	if ((scheme = ts_scheme(c)) == 0 || tbslen == 0 ||
	    tbslen > TK_TBS_MAX || sigsize < max)
		return 0;
	return tls_sign(c->key->id, scheme, tbs, tbslen, sig, siglen, max);
}

static int
ts_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
    size_t sigsize)
{
	struct tsig	*c = vctx;

	return ts_sign(c, sig, siglen, sigsize, c->buf, c->len);
}

static int
ts_digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
    const unsigned char *tbs, size_t tbslen)
{
	return ts_sign(vctx, sig, siglen, sigsize, tbs, tbslen);
}

static int
ts_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct tsig		*c = vctx;
	const OSSL_PARAM	*p;
	const char		*s;
	int			 v;

	if (params == NULL)
		return 1;
	if (c->key == NULL)
		return 0;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
	    (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || !ts_set_md(c, s)))
		return 0;
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
		if (!is_rsa(c->key) || (v != RSA_PKCS1_PSS_PADDING &&
		    (v != RSA_PKCS1_PADDING ||
		    c->key->kind == EDGE_KIND_RSA_PSS)))
			return 0;
		c->pad = v;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			/* only "digest": the salt a TLS signature has */
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
			    strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) != 0)
				return 0;
			v = RSA_PSS_SALTLEN_DIGEST;
		} else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if (!is_rsa(c->key))
			return 0;
		c->saltlen = v;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
		if (!is_rsa(c->key) || !OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
		    (c->mgf1 = md_index(s)) < 0)
			return 0;
	}
	return 1;
}

static const OSSL_PARAM ts_settable[] = {
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
	OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
ts_settable_ctx_params(void *vctx, void *provctx)
{
	return ts_settable;
}

static int
ts_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct tsig	*c = vctx;
	OSSL_PARAM	*p;

	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) !=
	    NULL && !OSSL_PARAM_set_utf8_string(p, c->md >= 0 ?
	    mds[c->md].names[1] : ""))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) !=
	    NULL && c->key != NULL && is_rsa(c->key) &&
	    !OSSL_PARAM_set_int(p, c->pad))
		return 0;
	return 1;
}

static const OSSL_PARAM ts_gettable[] = {
	OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
	OSSL_PARAM_int(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
ts_gettable_ctx_params(void *vctx, void *provctx)
{
	return ts_gettable;
}

static const OSSL_DISPATCH tk_signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))ts_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))ts_freectx },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))ts_dupctx },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT,
	    (void (*)(void))ts_digest_sign_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))ts_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL,
	    (void (*)(void))ts_digest_sign_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))ts_digest_sign },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS,
	    (void (*)(void))ts_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
	    (void (*)(void))ts_settable_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS,
	    (void (*)(void))ts_get_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,
	    (void (*)(void))ts_gettable_ctx_params },
	{ 0, NULL }
};

/* ---- the provider --------------------------------------------------- */

static const OSSL_ALGORITHM tk_keymgmts[] = {
	{ "RSA", TK_PROPS, tk_rsa_keymgmt, NULL },
	{ "RSA-PSS", TK_PROPS, tk_rsapss_keymgmt, NULL },
	{ "EC", TK_PROPS, tk_ec_keymgmt, NULL },
	{ "ED25519", TK_PROPS, tk_ed25519_keymgmt, NULL },
	{ "ED448", TK_PROPS, tk_ed448_keymgmt, NULL },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM tk_signatures[] = {
	{ TK_SIGNATURE, TK_PROPS, tk_signature, NULL },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
tk_query(void *provctx, int operation_id, int *no_cache)
{
	*no_cache = 0;
	switch (operation_id) {
	case OSSL_OP_KEYMGMT:
		return tk_keymgmts;
	case OSSL_OP_SIGNATURE:
		return tk_signatures;
	}
	return NULL;
}

static const OSSL_DISPATCH tk_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))tk_query },
	{ 0, NULL }
};

static int
tk_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	*out = tk_dispatch;
	*provctx = (void *)(uintptr_t)handle;
	return 1;
}

/*
 * The library context of netproc's TLS: the default provider first, so
 * that every fetch without a property query (the handshake's key
 * exchange, the peers' keys) lands there, then this one.
 */
OSSL_LIB_CTX *
tlskey_libctx(void)
{
	if (libctx != NULL)
		return libctx;
	if ((libctx = OSSL_LIB_CTX_new()) == NULL ||
	    OSSL_PROVIDER_load(libctx, "default") == NULL ||
	    !OSSL_PROVIDER_add_builtin(libctx, TK_NAME, tk_provider_init) ||
	    OSSL_PROVIDER_load(libctx, TK_NAME) == NULL ||
	    !EVP_set_default_properties(libctx, "?" TK_DEFAULT))
		fatalx("%s: cannot set up netproc's TLS library context",
		    __func__);
	return libctx;
}

/*
 * A key keyproc holds, for libssl: its public key (SPKI DER) and the
 * SHA-256 of it, by which keyproc knows it.  NULL if it does not parse.
 */
EVP_PKEY *
tlskey_pkey(const uint8_t *spki, size_t spkilen, const uint8_t *id)
{
	EVP_PKEY_CTX		*ctx;
	EVP_PKEY		*pk = NULL, *pub;
	const unsigned char	*p = spki;
	OSSL_PARAM		 params[3];
	int			 kind;

	/* the kind of key, from the SPKI itself */
	if ((pub = d2i_PUBKEY_ex(NULL, &p, spkilen, tlskey_libctx(),
	    TK_DEFAULT)) == NULL)
		return NULL;
	kind = kind_of(pub);
	EVP_PKEY_free(pub);
	if (kind == -1)
		return NULL;
	params[0] = OSSL_PARAM_construct_octet_string(TK_PARAM_SPKI,
	    (void *)(uintptr_t)spki, spkilen);
	params[1] = OSSL_PARAM_construct_octet_string(TK_PARAM_ID,
	    (void *)(uintptr_t)id, 32);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(libctx, kind_name(kind),
	    TK_PROPS)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}
