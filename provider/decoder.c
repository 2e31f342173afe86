/*
 * Decoders for key references: how PEM_read_bio_PrivateKey() (nginx,
 * haproxy), SSL_CTX_use_PrivateKey_file() and OSSL_STORE's file: loader
 * (openssl s_server -key, openssl pkey -in) find lurkd keys.
 *
 * OpenSSL 3.0's pem2der passes on only the PEM labels it knows, so the
 * chain is ours from end to end:
 *
 *   "DER" input=PEM        PEM "LURK KEY REFERENCE" -> the reference blob,
 *                          with data type (RSA, EC...) and data structure
 *                          LURKREF.  Being named DER, OSSL_DECODER's
 *                          "extra" decoders pick it up wherever DER is
 *                          wanted (pkey decoding and the file: store).
 *   "EC" input=DER         reference blob -> key object, passed by
 *     structure=LURKREF    reference to our keymgmt's load().
 *   (one per key type)
 *
 * The first step never hands over a reference: the file: store would
 * give a reference with data type "EC" to the default provider's EC
 * load(), which takes it for its own kind of pointer.  Only the second
 * step, which OSSL_DECODER pairs with a keymgmt of its own provider,
 * does.  Neither step connects to lurkd.
 *
 * The PEM step reads PEM blocks until it finds ours, so a reference
 * after a certificate in one file (haproxy's crt bundle) is found too.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keyref.h"
#include "provider.h"

#define REF_MAX		(KEYREF_MAGIC_LEN + 1 + EDGE_KEY_ID_LEN + 1 + \
			    KEYREF_NAME_MAX + 2 + KEYREF_SOCKET_MAX + 2 + \
			    KEYREF_SPKI_MAX)

struct dec_ctx {
	struct lurk_prov	*prov;
};

static void *
dec_newctx(void *provctx)
{
	struct dec_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->prov = provctx;
	return c;
}

static void
dec_freectx(void *vctx)
{
	free(vctx);
}

/* A reference's key never leaves for another provider's keymgmt. */
static int
dec_export_object(void *vctx, const void *objref, size_t objref_sz,
    OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	return 0;
}

/* Keys only: no parameters-only decoding (DH parameters from a bundle). */
static int
dec_does_selection(void *provctx, int selection)
{
	return selection == 0 ||
	    (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
}

/* The kind of the key a decoded reference names; -1 if unusable. */
static int
ref_kind(struct lurk_prov *prov, const struct keyref *r)
{
	const unsigned char	*p = r->spki;
	EVP_PKEY		*pk;
	int			 kind;

	if ((pk = d2i_PUBKEY_ex(NULL, &p, (long)r->spkilen, NULL,
	    LURK_NOT_US)) == NULL) {
		LURK_ERR(prov, LURK_R_BAD_REFERENCE,
		    "key \"%.*s\": public key does not parse", (int)r->namelen,
		    r->name);
		return -1;
	}
	kind = lurk_kind_of(pk);
	EVP_PKEY_free(pk);
	if (kind == -1)
		LURK_ERR(prov, LURK_R_BAD_REFERENCE,
		    "key \"%.*s\": unsupported key type", (int)r->namelen,
		    r->name);
	return kind;
}

/* a reference's key name, for messages: as far as it goes before a NUL */
static const char *
ref_name(const struct keyref *r, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)r->namelen, r->name);
	return buf;
}

static int
pem2ref_decode(void *vctx, OSSL_CORE_BIO *cin, int selection,
    OSSL_CALLBACK *data_cb, void *data_cbarg,
    OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct dec_ctx	*c = vctx;
	struct keyref	 r;
	enum keyref_err	 e;
	OSSL_PARAM	 params[4];
	BIO		*in;
	char		*name = NULL, *header = NULL;
	char		 kname[KEYREF_NAME_MAX + 1];
	unsigned char	*data = NULL;
	long		 len = 0;
	int		 kind, found = 0, ok = 1;

	if ((in = BIO_new_from_core_bio(c->prov->corectx, cin)) == NULL)
		return 0;
	/* PEM_read_bio says "no start line" at the end: not our error */
	ERR_set_mark();
	for (;;) {
		if (!PEM_read_bio(in, &name, &header, &data, &len))
			break;
		if (strcmp(name, KEYREF_PEM_LABEL) == 0) {
			found = 1;
			break;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ERR_pop_to_mark();
	BIO_free(in);
	if (!found)
		return 1;	/* not ours: empty-handed is no error */

	if (len <= 0 || (e = keyref_decode(data, len, &r)) != KEYREF_OK) {
		LURK_ERR(c->prov, LURK_R_BAD_REFERENCE, "%s",
		    len <= 0 ? "empty" : keyref_strerror(e));
		ok = 0;
		goto out;
	}
	/*
	 * The key servers now, though ref2key_decode takes them: what fails
	 * there (a TLS file) is not reported by OpenSSL's decoder chain;
	 * here it is.  They are interned: ref2key_decode finds them again.
	 */
	if ((kind = ref_kind(c->prov, &r)) == -1 ||
	    !lurk_check_order(c->prov) ||
	    lurk_conn(c->prov, ref_name(&r, kname, sizeof(kname)), NULL,
	    &r) == NULL) {
		ok = 0;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA,
	    data, len);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_OBJECT_PARAM_DATA_TYPE, (char *)(uintptr_t)lurk_kind_name(kind),
	    0);
	params[2] = OSSL_PARAM_construct_utf8_string(
	    OSSL_OBJECT_PARAM_DATA_STRUCTURE, LURK_REF_STRUCTURE, 0);
	params[3] = OSSL_PARAM_construct_end();
	ok = data_cb(params, data_cbarg);
 out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	return ok;
}

static int
ref2key_decode(struct dec_ctx *c, OSSL_CORE_BIO *cin, int want,
    OSSL_CALLBACK *data_cb, void *data_cbarg)
{
	struct keyref	 r;
	struct lurk_key	*k = NULL;
	struct lc_conn	*conn;
	OSSL_PARAM	 params[4];
	char		 name[KEYREF_NAME_MAX + 1];
	BIO		*in;
	uint8_t		*buf;
	size_t		 len = 0, n;
	int		 objtype = OSSL_OBJECT_PKEY, ok = 1;

	if ((buf = malloc(REF_MAX + 1)) == NULL)
		return 0;
	if ((in = BIO_new_from_core_bio(c->prov->corectx, cin)) == NULL) {
		free(buf);
		return 0;
	}
	while (len <= REF_MAX && BIO_read_ex(in, buf + len, REF_MAX + 1 - len,
	    &n) && n > 0)
		len += n;
	BIO_free(in);
	/* not a reference, or not one of our kind: not ours to decode */
	if (len > REF_MAX || keyref_decode(buf, len, &r) != KEYREF_OK)
		goto out;
	if ((conn = lurk_conn(c->prov, ref_name(&r, name, sizeof(name)), NULL,
	    &r)) == NULL ||
	    (k = lurk_key_from_spki(c->prov, r.spki, r.spkilen, r.key_id,
	    r.name, r.namelen, conn)) == NULL) {
		ok = 0;
		goto out;
	}
	if (k->kind != want)
		goto out;
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_OBJECT_PARAM_DATA_TYPE, (char *)(uintptr_t)lurk_kind_name(want),
	    0);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof(k));
	params[3] = OSSL_PARAM_construct_end();
	ok = data_cb(params, data_cbarg);
	/* load() took it and cleared k, or nobody did */
 out:
	lurk_key_free(k);
	free(buf);
	return ok;
}

#define REF2KEY(tag, kind)						\
static int								\
ref2##tag##_decode(void *vctx, OSSL_CORE_BIO *cin, int selection,	\
    OSSL_CALLBACK *data_cb, void *data_cbarg,				\
    OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)			\
{									\
	return ref2key_decode(vctx, cin, kind, data_cb, data_cbarg);	\
}									\
const OSSL_DISPATCH lurk_ref2##tag##_decoder[] = {			\
	{ OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))dec_newctx },	\
	{ OSSL_FUNC_DECODER_FREECTX, (void (*)(void))dec_freectx },	\
	{ OSSL_FUNC_DECODER_DOES_SELECTION,				\
	    (void (*)(void))dec_does_selection },			\
	{ OSSL_FUNC_DECODER_DECODE, (void (*)(void))ref2##tag##_decode }, \
	{ OSSL_FUNC_DECODER_EXPORT_OBJECT,				\
	    (void (*)(void))dec_export_object },			\
	{ 0, NULL }							\
};
REF2KEY(rsa, EDGE_KIND_RSA)
REF2KEY(rsapss, EDGE_KIND_RSA_PSS)
REF2KEY(ec, EDGE_KIND_EC)
REF2KEY(ed25519, EDGE_KIND_ED25519)
REF2KEY(ed448, EDGE_KIND_ED448)

const OSSL_DISPATCH lurk_pem2ref_decoder[] = {
	{ OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))dec_newctx },
	{ OSSL_FUNC_DECODER_FREECTX, (void (*)(void))dec_freectx },
	{ OSSL_FUNC_DECODER_DECODE, (void (*)(void))pem2ref_decode },
	{ OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))dec_export_object },
	{ 0, NULL }
};
