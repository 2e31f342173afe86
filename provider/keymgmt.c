/*
 * Key management: a key object is a reference to a lurkd key (key_id,
 * name, the key servers to ask) plus its public key, held as an EVP_PKEY
 * of another provider (default).  Everything public is answered from that public
 * key; nothing private exists here to export.
 *
 * What libcrypto and libssl 3.0 need from it:
 * - has(PUBLIC_KEY) true and match(), and import of a public key and
 *   export of public parts, so that X509_check_private_key() can compare
 *   the key with its certificate either way round;
 * - export of anything that includes the private key fails: libcrypto
 *   tries to move the key to the default provider's signature first, and
 *   a public-only copy there would be signed with no key at all;
 * - get_params for bits, security bits, max size, group and point
 *   format, default digest: answered locally, never by lurkd;
 * - query_operation_name naming our own signature and cipher.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "keyref.h"
#include "provider.h"

static const struct {
	int		 kind;
	const char	*name;	/* our keymgmt's name */
	const char	*sig;	/* our signature's name */
} kinds[] = {
	{ EDGE_KIND_RSA,	"RSA",		"LURK-RSA" },
	{ EDGE_KIND_RSA_PSS,	"RSA-PSS",	"LURK-RSA" },
	{ EDGE_KIND_EC,		"EC",		"LURK-ECDSA" },
	{ EDGE_KIND_ED25519,	"ED25519",	"LURK-ED25519" },
	{ EDGE_KIND_ED448,	"ED448",	"LURK-ED448" },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

const char *
lurk_kind_name(int kind)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return NULL;
}

/* The kind of a public key; RSA-PSS before RSA, which it also "is". */
int
lurk_kind_of(const EVP_PKEY *pk)
{
	if (EVP_PKEY_is_a(pk, "RSA-PSS"))
		return EDGE_KIND_RSA_PSS;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return EDGE_KIND_RSA;
	if (EVP_PKEY_is_a(pk, "EC"))
		return EDGE_KIND_EC;
	if (EVP_PKEY_is_a(pk, "ED25519"))
		return EDGE_KIND_ED25519;
	if (EVP_PKEY_is_a(pk, "ED448"))
		return EDGE_KIND_ED448;
	return -1;
}

struct lurk_key *
lurk_key_new(struct lurk_prov *prov, int kind)
{
	struct lurk_key	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->magic = LURK_KEY_MAGIC;
	k->prov = prov;
	k->kind = kind;
	return k;
}

void
lurk_key_free(struct lurk_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub);
	free(k->name);
	k->magic = 0;
	free(k);
}

static int
group_of(const EVP_PKEY *pk)
{
	char	 name[64];
	size_t	 len;
	int	 nid;

	if (!EVP_PKEY_get_group_name(pk, name, sizeof(name), &len))
		return 0;
	if ((nid = OBJ_sn2nid(name)) == NID_undef &&
	    (nid = EC_curve_nist2nid(name)) == NID_undef)
		nid = OBJ_txt2nid(name);
	switch (nid) {
	case NID_X9_62_prime256v1:
		return TLS_GROUP_SECP256R1;
	case NID_secp384r1:
		return TLS_GROUP_SECP384R1;
	case NID_secp521r1:
		return TLS_GROUP_SECP521R1;
	}
	return 0;
}

/* Takes pk (one reference) as the key's public key. */
int
lurk_key_set_pub(struct lurk_key *k, EVP_PKEY *pk)
{
	int	 size;

	if (lurk_kind_of(pk) != k->kind || (size = EVP_PKEY_get_size(pk)) <= 0)
		return 0;
	EVP_PKEY_free(k->pub);
	k->pub = pk;
	k->has_pub = 1;
	k->maxsig = size;
	k->group = k->kind == EDGE_KIND_EC ? group_of(pk) : 0;
	return 1;
}

static char *
strndup0(const char *s, size_t len)
{
	char	*r;

	if ((r = malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/*
 * A key object for a lurkd key from its SPKI; no connection is made.
 * The kind is that of the SPKI.
 */
struct lurk_key *
lurk_key_from_spki(struct lurk_prov *prov, const uint8_t *spki,
    size_t spkilen, const uint8_t *key_id, const char *name, size_t namelen,
    struct lc_conn *conn)
{
	struct lurk_key		*k;
	EVP_PKEY		*pk;
	const unsigned char	*p = spki;
	int			 kind;

	if (spkilen > 0x7fffffff ||
	    (pk = d2i_PUBKEY_ex(NULL, &p, (long)spkilen, NULL, LURK_NOT_US)) ==
	    NULL || p != spki + spkilen) {
		LURK_ERR(prov, LURK_R_BAD_REFERENCE,
		    "public key of \"%.*s\" does not parse", (int)namelen,
		    name);
		return NULL;
	}
	if ((kind = lurk_kind_of(pk)) == -1) {
		EVP_PKEY_free(pk);
		LURK_ERR(prov, LURK_R_BAD_REFERENCE,
		    "key \"%.*s\": unsupported key type", (int)namelen, name);
		return NULL;
	}
	if ((k = lurk_key_new(prov, kind)) == NULL) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	if (!lurk_key_set_pub(k, pk)) {
		EVP_PKEY_free(pk);
		goto fail;
	}
	memcpy(k->key_id, key_id, EDGE_KEY_ID_LEN);
	k->has_ref = 1;
	if ((k->name = strndup0(name, namelen)) == NULL)
		goto fail;
	k->conn = conn;
	return k;
 fail:
	lurk_key_free(k);
	LURK_ERR(prov, LURK_R_INTERNAL, "cannot make key object");
	return NULL;
}

/* keymgmt functions */

static void *
km_new(void *provctx, int kind)
{
	return lurk_key_new(provctx, kind);
}

static void *
km_new_rsa(void *provctx)
{
	return km_new(provctx, EDGE_KIND_RSA);
}

static void *
km_new_rsapss(void *provctx)
{
	return km_new(provctx, EDGE_KIND_RSA_PSS);
}

static void *
km_new_ec(void *provctx)
{
	return km_new(provctx, EDGE_KIND_EC);
}

static void *
km_new_ed25519(void *provctx)
{
	return km_new(provctx, EDGE_KIND_ED25519);
}

static void *
km_new_ed448(void *provctx)
{
	return km_new(provctx, EDGE_KIND_ED448);
}

static void
km_free(void *keydata)
{
	lurk_key_free(keydata);
}

/*
 * The reference is the address of a key object pointer made by our
 * decoder or store: take the object if it is of our kind.
 */
static void *
km_load(const void *reference, size_t reference_sz, int kind)
{
	struct lurk_key	*k;

	if (reference == NULL || reference_sz != sizeof(k))
		return NULL;
	memcpy(&k, reference, sizeof(k));
	if (k == NULL || k->magic != LURK_KEY_MAGIC || k->kind != kind)
		return NULL;
	memset((void *)(uintptr_t)reference, 0, sizeof(k));
	return k;
}

static void *
km_load_rsa(const void *ref, size_t sz)
{
	return km_load(ref, sz, EDGE_KIND_RSA);
}

static void *
km_load_rsapss(const void *ref, size_t sz)
{
	return km_load(ref, sz, EDGE_KIND_RSA_PSS);
}

static void *
km_load_ec(const void *ref, size_t sz)
{
	return km_load(ref, sz, EDGE_KIND_EC);
}

static void *
km_load_ed25519(const void *ref, size_t sz)
{
	return km_load(ref, sz, EDGE_KIND_ED25519);
}

static void *
km_load_ed448(const void *ref, size_t sz)
{
	return km_load(ref, sz, EDGE_KIND_ED448);
}

static void *
km_dup(const void *keydata, int selection)
{
	const struct lurk_key	*k = keydata;
	struct lurk_key		*d;

	if ((d = lurk_key_new(k->prov, k->kind)) == NULL)
		return NULL;
	if (k->pub != NULL) {
		if (!EVP_PKEY_up_ref(k->pub))
			goto fail;
		d->pub = k->pub;	/* never modified: share it */
		d->has_pub = k->has_pub;
		d->maxsig = k->maxsig;
		d->group = k->group;
	}
	if (k->has_ref && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
		d->has_ref = 1;
		memcpy(d->key_id, k->key_id, sizeof(d->key_id));
		if (k->name && (d->name = strdup(k->name)) == NULL)
			goto fail;
		d->conn = k->conn;	/* interned, never freed */
	}
	return d;
 fail:
	lurk_key_free(d);
	return NULL;
}

static int
km_has(const void *keydata, int selection)
{
	const struct lurk_key	*k = keydata;

	if (k == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !k->has_ref)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !k->has_pub)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) &&
	    k->pub == NULL && k->kind == EDGE_KIND_EC)
		return 0;
	return 1;
}

static int
km_match(const void *keydata1, const void *keydata2, int selection)
{
	const struct lurk_key	*a = keydata1, *b = keydata2;

	if (a->kind != b->kind)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0) {
		if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) == 0)
			return 1;
		if (a->pub == NULL || b->pub == NULL)
			return a->pub == b->pub;
		return EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
	}
	/* two references: the same lurkd key */
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0 &&
	    a->has_ref && b->has_ref)
		return memcmp(a->key_id, b->key_id, sizeof(a->key_id)) == 0;
	if (!a->has_pub || !b->has_pub)
		return 0;
	return EVP_PKEY_eq(a->pub, b->pub) == 1;
}

/*
 * Import keeps only public parts; a private key handed in is not taken
 * (nothing secret lives here) and the result has no reference.
 */
static int
km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	struct lurk_key	*k = keydata;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	int		 sel, ok = 0;

	if (k == NULL)
		return 0;
	if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)
		sel = EVP_PKEY_PUBLIC_KEY;
	else if (selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)
		sel = EVP_PKEY_KEY_PARAMETERS;
	else
		return 1;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, lurk_kind_name(k->kind),
	    LURK_NOT_US)) == NULL)
		return 0;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pk, sel, (OSSL_PARAM *)(uintptr_t)params) ==
	    1) {
		if (sel == EVP_PKEY_PUBLIC_KEY) {
			ok = lurk_key_set_pub(k, pk);
		} else {
			EVP_PKEY_free(k->pub);
			k->pub = pk;
			k->has_pub = 0;
			ok = 1;
		}
		if (ok)
			pk = NULL;
	}
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static int
km_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct lurk_key	*k = keydata;

	/* silently: libcrypto tries this on its way to our signature */
	if (k == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ||
	    k->pub == NULL)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !k->has_pub)
		return 0;
	return EVP_PKEY_export(k->pub, selection, cb, cbarg);
}

#define PUBLIC_PARAMS_RSA						\
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),			\
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0)

static const OSSL_PARAM rsa_types[] = {
	PUBLIC_PARAMS_RSA,
	OSSL_PARAM_END
};

static const OSSL_PARAM rsapss_types[] = {
	PUBLIC_PARAMS_RSA,
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MASKGENFUNC, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, NULL, 0),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, NULL),
	OSSL_PARAM_END
};

static const OSSL_PARAM ec_types[] = {
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM ecx_types[] = {
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
types_of(int kind, int selection)
{
	if ((selection & (OSSL_KEYMGMT_SELECT_PUBLIC_KEY |
	    OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)) == 0)
		return NULL;
	switch (kind) {
	case EDGE_KIND_RSA:
		return rsa_types;
	case EDGE_KIND_RSA_PSS:
		return rsapss_types;
	case EDGE_KIND_EC:
		return ec_types;
	}
	return ecx_types;
}

#define TYPES_FNS(tag, kind)						\
static const OSSL_PARAM *						\
km_types_##tag(int selection)						\
{									\
	return types_of(kind, selection);				\
}
TYPES_FNS(rsa, EDGE_KIND_RSA)
TYPES_FNS(rsapss, EDGE_KIND_RSA_PSS)
TYPES_FNS(ec, EDGE_KIND_EC)
TYPES_FNS(ed25519, EDGE_KIND_ED25519)
TYPES_FNS(ed448, EDGE_KIND_ED448)

static const OSSL_PARAM gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
km_gettable_params(void *provctx)
{
	return gettable;
}

/* Everything asked is public: the public key answers it. */
static int
km_get_params(void *keydata, OSSL_PARAM params[])
{
	struct lurk_key	*k = keydata;
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
km_query_name(int operation_id, int kind)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			break;
	if (i == NKINDS)
		return NULL;
	switch (operation_id) {
	case OSSL_OP_SIGNATURE:
		return kinds[i].sig;
	case OSSL_OP_ASYM_CIPHER:
		return kind == EDGE_KIND_RSA ? "LURK-RSA" : NULL;
	}
	return NULL;
}

#define KM_FNS(tag, kind)						\
static const char *							\
km_query_##tag(int operation_id)					\
{									\
	return km_query_name(operation_id, kind);			\
}									\
const OSSL_DISPATCH lurk_##tag##_keymgmt[] = {				\
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new_##tag },	\
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },		\
	{ OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))km_load_##tag },	\
	{ OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))km_dup },		\
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },		\
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match },		\
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import },	\
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES,				\
	    (void (*)(void))km_types_##tag },				\
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export },	\
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES,				\
	    (void (*)(void))km_types_##tag },				\
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params }, \
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,				\
	    (void (*)(void))km_gettable_params },			\
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,			\
	    (void (*)(void))km_query_##tag },				\
	{ 0, NULL }							\
};
KM_FNS(rsa, EDGE_KIND_RSA)
KM_FNS(rsapss, EDGE_KIND_RSA_PSS)
KM_FNS(ec, EDGE_KIND_EC)
KM_FNS(ed25519, EDGE_KIND_ED25519)
KM_FNS(ed448, EDGE_KIND_ED448)
