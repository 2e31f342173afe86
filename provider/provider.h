/*
 * lurk.so: an OpenSSL 3 provider through which stock TLS servers use
 * keys held by lurkd.  Only key operations: keymgmt, signature, RSA
 * asymmetric cipher (TLS premaster), a decoder for key references and a
 * store for lurk: URIs.  Everything public (bits, sizes, matching the
 * certificate) is answered locally from the public key the key object
 * always carries; only signatures and the premaster go to lurkd.
 */
#ifndef LURK_PROVIDER_H
#define LURK_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include "lurk.h"

#define LURK_PROV_NAME		"lurk"
#define LURK_PROV_VERSION	"0.1"
#define LURK_PROPS		"provider=lurk"
/* Inner public-key objects come from any provider but this one. */
#define LURK_NOT_US		"provider!=lurk"

/* our reason codes (provider.c has their strings) */
#define LURK_R_LURKD_STATUS	1	/* lurkd answered an error status */
#define LURK_R_UNREACHABLE	2
#define LURK_R_TIMEOUT		3
#define LURK_R_CONNECTION_LOST	4
#define LURK_R_PROTOCOL		5
#define LURK_R_BAD_REFERENCE	6
#define LURK_R_NOT_SUPPORTED	7
#define LURK_R_BAD_DIGEST	8
#define LURK_R_BAD_PADDING	9
#define LURK_R_NO_REFERENCE	10
#define LURK_R_BAD_URI		11
#define LURK_R_INTERNAL		12
#define LURK_R_BAD_PARAMETER	13
#define LURK_R_CONFIG		14
#define LURK_R_TLS		15

struct lc_conn;
struct keyref;

struct lurk_prov {
	const OSSL_CORE_HANDLE	*handle;
	OSSL_LIB_CTX		*corectx;	/* only for core BIOs */
	char			*endpoints;	/* LURK_SOCKET, cnf, or default:
						   a list, canonical */
	char			*tls_certificate;	/* cnf, or NULL */
	char			*tls_key;
	char			*tls_ca;
	int			 timeout_ms;
	int			 lenmode;	/* LC_LEN_AUTO, LURK_LEN_* */
	OSSL_FUNC_core_new_error_fn		*new_error;
	OSSL_FUNC_core_set_error_debug_fn	*set_error_debug;
	OSSL_FUNC_core_vset_error_fn		*vset_error;
};

#define LURK_KEY_MAGIC	0x4c4b4559	/* "LKEY" */

struct lurk_key {
	uint32_t		 magic;
	struct lurk_prov	*prov;
	int			 kind;		/* EDGE_KIND_* */
	EVP_PKEY		*pub;		/* public key, never ours */
	int			 has_pub;	/* pub holds a public key */
	int			 has_ref;	/* a lurkd key: key_id valid */
	uint8_t			 key_id[EDGE_KEY_ID_LEN];
	char			*name;
	struct lc_conn		*conn;		/* its key servers */
	int			 group;		/* TLS NamedGroup, EC only */
	size_t			 maxsig;	/* largest signature */
};

void	 lurk_raise(struct lurk_prov *, const char *, int, const char *, int,
	    const char *, ...) __attribute__((__format__(printf, 6, 7)));
#define LURK_ERR(p, r, ...) \
	lurk_raise((p), OPENSSL_FILE, OPENSSL_LINE, __func__, (r), __VA_ARGS__)

/* keymgmt.c */
extern const OSSL_DISPATCH lurk_rsa_keymgmt[], lurk_rsapss_keymgmt[],
    lurk_ec_keymgmt[], lurk_ed25519_keymgmt[], lurk_ed448_keymgmt[];
const char	*lurk_kind_name(int);
int		 lurk_kind_of(const EVP_PKEY *);
struct lurk_key	*lurk_key_new(struct lurk_prov *, int);
void		 lurk_key_free(struct lurk_key *);
int		 lurk_key_set_pub(struct lurk_key *, EVP_PKEY *);
struct lurk_key	*lurk_key_from_spki(struct lurk_prov *, const uint8_t *,
		    size_t, const uint8_t *, const char *, size_t,
		    struct lc_conn *);

/* signature.c, cipher.c */
extern const OSSL_DISPATCH lurk_signature[], lurk_asym_cipher[];

/* decoder.c, store.c */
extern const OSSL_DISPATCH lurk_pem2ref_decoder[], lurk_ref2rsa_decoder[],
    lurk_ref2rsapss_decoder[], lurk_ref2ec_decoder[],
    lurk_ref2ed25519_decoder[], lurk_ref2ed448_decoder[];
extern const OSSL_DISPATCH lurk_store[];
#define LURK_REF_STRUCTURE	"LURKREF"

/* provider.c: one request to lurkd for a key; raises the error */
int	 lurk_call(struct lurk_prov *, struct lc_conn *, const char *, uint8_t,
	    const uint8_t *, size_t, uint8_t **, size_t *);
struct lc_conn	*lurk_conn(struct lurk_prov *, const char *, const char *,
		    const struct keyref *);
void	 lurk_free_response(uint8_t *, size_t);
int	 lurk_check_order(struct lurk_prov *);

#endif
