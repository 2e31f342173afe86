/*
 * LURK wire format: every number of the drafts in one place
 * (../shared/docs/lurk-drafts.md; draft-mglt-lurk-lurk, -tls12, -tls13).
 */
#ifndef LURK_H
#define LURK_H

#include <stddef.h>
#include <stdint.h>

#define LURK_HDR_LEN		16

/* designations (Extension.designation) and their version */
#define LURK_DESIG_LURK		0
#define LURK_DESIG_TLS12	1
#define LURK_DESIG_TLS13	2
#define LURK_V1			1

/* lurk (0) v1 types */
#define LURK_TYPE_CAPABILITIES	0
#define LURK_TYPE_PING		1

/* lurk (0) v1 status; also used for unknown designations */
#define LURK_ST_REQUEST			0
#define LURK_ST_SUCCESS			1
#define LURK_ST_UNDEFINED_ERROR		2
#define LURK_ST_INVALID_FORMAT		3
#define LURK_ST_INVALID_EXTENSION	4
#define LURK_ST_INVALID_TYPE		5
#define LURK_ST_INVALID_STATUS		6
#define LURK_ST_TEMPORARY_FAILURE	7

/* tls12 (1) v1 types (draft-mglt-lurk-tls12-05; -00/-01 differed) */
#define TLS12_TYPE_CAPABILITIES		0
#define TLS12_TYPE_PING			1
#define TLS12_TYPE_RSA_MASTER		2
#define TLS12_TYPE_RSA_MASTER_POH	3
#define TLS12_TYPE_RSA_EXT_MASTER	4
#define TLS12_TYPE_RSA_EXT_MASTER_POH	5
#define TLS12_TYPE_ECDHE		6
#define TLS12_NTYPES			7

/* tls12 (1) v1 status */
#define TLS12_ST_UNDEFINED_ERROR	2
#define TLS12_ST_INVALID_PAYLOAD_FORMAT	3
#define TLS12_ST_INVALID_KEY_ID_TYPE	4
#define TLS12_ST_INVALID_KEY_ID		5
#define TLS12_ST_INVALID_TLS_RANDOM	6
#define TLS12_ST_INVALID_FRESHNESS	7	/* invalid_freshness_funct */
#define TLS12_ST_INVALID_PREMASTER	8	/* invalid_encrypted_premaster */
#define TLS12_ST_INVALID_FINISHED	9
#define TLS12_ST_INVALID_EC_TYPE	10
#define TLS12_ST_INVALID_EC_CURVE	11
#define TLS12_ST_INVALID_POO_PRF	12
#define TLS12_ST_INVALID_POO		13
#define TLS12_ST_INVALID_CIPHER_PRF	14	/* IANA table and pylurk */

/* tls12 fields */
#define TLS12_KEY_ID_SHA256_32		0	/* KeyPairID.type */
#define TLS12_KEY_ID_LEN		4
#define TLS12_FRESH_SHA256		0	/* FreshnessFunct */
#define TLS12_FRESH_NULL		255	/* pylurk-M; lurkd: opt-in */
#define TLS12_PRF_SHA256		0	/* PRFHash */
#define TLS12_PRF_SHA384		1
#define TLS12_PRF_SHA512		2
#define TLS12_POO_NULL			0	/* poo_prf */
#define TLS12_POO_SHA256_128		1
#define TLS12_POO_SHA256_256		2
#define TLS12_RANDOM_LEN		32
#define TLS12_MASTER_LEN		48
#define TLS12_FINISHED_LEN		12	/* verify_data */
#define TLS12_PFS_LABEL			"tls12 pfs"
#define TLS12_POO_LABEL			"tls12 poo"
#define TLS12_CURVE_NAMED		3	/* ECCurveType named_curve */

/* tls13 (2) v1 types (pylurk-T numbering; the drafts' enum is stale) */
#define TLS13_TYPE_CAPABILITIES		0
#define TLS13_TYPE_PING			1
#define TLS13_TYPE_S_INIT_CERT_VERIFY	2
#define TLS13_TYPE_S_NEW_TICKET		3
#define TLS13_TYPE_S_INIT_EARLY_SECRET	4
#define TLS13_TYPE_S_HAND_AND_APP	5	/* s_hand_and_app_secret */
#define TLS13_NTYPES			6	/* c_* (6-12): a client's */

/* tls13 (2) v1 status (pylurk-T numbering) */
#define TLS13_ST_UNDEFINED_ERROR	2
#define TLS13_ST_INVALID_FORMAT		3
#define TLS13_ST_INVALID_SECRET_REQUEST	4
#define TLS13_ST_INVALID_SESSION_ID	5
#define TLS13_ST_INVALID_HANDSHAKE	6
#define TLS13_ST_INVALID_FRESHNESS	7
#define TLS13_ST_INVALID_EPHEMERAL	8
#define TLS13_ST_INVALID_PSK		9
#define TLS13_ST_INVALID_CERTIFICATE	10
#define TLS13_ST_INVALID_TYPE		11
#define TLS13_ST_INVALID_CERT_TYPE	12
/* the drafts name invalid_signature_scheme without a number: lurkd's */
#define TLS13_ST_INVALID_SIG_SCHEME	13
#define TLS13_ST_INVALID_STATUS		15

/* tls13 fields */
#define TLS13_TAG_LAST_EXCHANGE		0x80	/* the tag's MSB */
#define TLS13_SESSION_ID_LEN		4
#define TLS13_FRESH_SHA256		0
#define TLS13_FRESH_NULL		255
#define TLS13_PFS_LABEL			"tls13 pfs srv"
#define TLS13_EPH_NO_SECRET		0	/* Ephemeral.method */
#define TLS13_EPH_E_GENERATED		1
#define TLS13_EPH_CS_GENERATED		2
#define TLS13_CERT_ZLIB			1	/* Cert.cert_type, 2 bytes */
#define TLS13_CERT_BROTLI		2
#define TLS13_CERT_ZSTD			3
#define TLS13_CERT_NONE			128	/* no_certificate */
#define TLS13_CERT_FINGER_PRINT		129
#define TLS13_CERT_UNCOMPRESSED		130
#define TLS13_FINGER_PRINT_LEN		4

/* secret_request bits (MSB first) and Secret.secret_type */
#define TLS13_SECRET_B		0	/* binder_key */
#define TLS13_SECRET_E_S	1	/* client_early_traffic_secret */
#define TLS13_SECRET_E_X	2	/* early_exporter_master_secret */
#define TLS13_SECRET_H_C	3	/* client_handshake_traffic_secret */
#define TLS13_SECRET_H_S	4
#define TLS13_SECRET_A_C	5	/* client_application_traffic_secret_0 */
#define TLS13_SECRET_A_S	6
#define TLS13_SECRET_X		7	/* exporter_master_secret */
#define TLS13_SECRET_R		8	/* resumption_master_secret */
#define TLS13_NSECRETS		9
#define TLS13_SECRET_BIT(t)	(0x8000 >> (t))
#define TLS13_SECRET_RESERVED	0x007f

/* TLS 1.2 and 1.3 handshake (RFC 5246, RFC 8446) */
#define TLS_HS_CLIENT_HELLO		1
#define TLS_HS_SERVER_HELLO		2
#define TLS_HS_NEW_SESSION_TICKET	4
#define TLS_HS_END_OF_EARLY_DATA	5
#define TLS_HS_ENCRYPTED_EXTENSIONS	8
#define TLS_HS_CERTIFICATE		11
#define TLS_HS_SERVER_KEY_EXCHANGE	12
#define TLS_HS_CERTIFICATE_REQUEST	13
#define TLS_HS_SERVER_HELLO_DONE	14
#define TLS_HS_CERTIFICATE_VERIFY	15
#define TLS_HS_CLIENT_KEY_EXCHANGE	16
#define TLS_HS_FINISHED			20

#define TLS_EXT_SUPPORTED_GROUPS	10
#define TLS_EXT_SIGNATURE_ALGORITHMS	13
#define TLS_EXT_EXTENDED_MASTER_SECRET	23
#define TLS_EXT_PRE_SHARED_KEY		41
#define TLS_EXT_EARLY_DATA		42
#define TLS_EXT_SUPPORTED_VERSIONS	43
#define TLS_EXT_PSK_KEY_EXCHANGE_MODES	45
#define TLS_EXT_KEY_SHARE		51

#define TLS_VERSION_12			0x0303
#define TLS_VERSION_13			0x0304

/* TLS 1.3 cipher suites: the hash of each */
#define TLS13_AES_128_GCM_SHA256	0x1301
#define TLS13_AES_256_GCM_SHA384	0x1302
#define TLS13_CHACHA20_POLY1305_SHA256	0x1303
#define TLS13_AES_128_CCM_SHA256	0x1304
#define TLS13_AES_128_CCM_8_SHA256	0x1305

#define LURK_STATE_LEN		4	/* lurk_state: 32-bit config fingerprint */

/*
 * lurkd's own extension for stock TLS servers (man/lurk.7, "The edge
 * extension"): designation 192, from the range 192-255 that lurkd treats
 * as private.  The provider can only hand over the bytes libssl wants
 * signed or decrypted, so these operations take those bytes whole.
 */
#define LURK_DESIG_EDGE		192

#define EDGE_TYPE_KEY_INFO	1
#define EDGE_TYPE_SIGN_TLS13	2
#define EDGE_TYPE_SIGN_TLS12	3
#define EDGE_TYPE_RSA_PREMASTER	4

/* edge status: 0-7 as lurk, then its own */
#define EDGE_ST_UNKNOWN_KEY		8
#define EDGE_ST_UNAUTHORIZED		9
#define EDGE_ST_OPERATION_REFUSED	10	/* not in the key's policy */
#define EDGE_ST_INVALID_CONTENT		11	/* not a TLS structure */
#define EDGE_ST_INVALID_SCHEME		12	/* scheme unfit for key/op */

#define EDGE_SEL_SPKI_SHA256	0
#define EDGE_SEL_NAME		1

#define EDGE_KEY_ID_LEN		32	/* SHA-256 of the SubjectPublicKeyInfo */
#define EDGE_PREMASTER_LEN	48

/* key kinds in key_info */
#define EDGE_KIND_RSA		0
#define EDGE_KIND_RSA_PSS	1
#define EDGE_KIND_EC		2
#define EDGE_KIND_ED25519	3
#define EDGE_KIND_ED448		4

/* operations bitmask in key_info; also the key policy */
#define EDGE_OP_SIGN_TLS13	0x01
#define EDGE_OP_SIGN_TLS12	0x02
#define EDGE_OP_RSA_PREMASTER	0x04
#define EDGE_OPS		0x07	/* the edge's; key_info's byte */
/* the drafts' operations in the key policy (not in key_info) */
#define OP_TLS12_RSA_MASTER	0x0008	/* rsa_master */
#define OP_TLS12_RSA_MASTER_POH	0x0010	/* rsa_master_with_poh */
#define OP_TLS12_RSA_EXT	0x0020	/* rsa_extended_master */
#define OP_TLS12_RSA_EXT_POH	0x0040	/* rsa_extended_master_with_poh */
#define OP_TLS12_ECDHE		0x0080
#define OP_TLS13_CERT_VERIFY	0x0100	/* s_init_cert_verify */
#define OP_TLS13_NEW_TICKET	0x0200	/* s_new_ticket */
#define OP_TLS13_PSK		0x0400	/* s_init_early_secret, s_hand_... */
#define OP_TLS12_RSA		(OP_TLS12_RSA_MASTER | OP_TLS12_RSA_MASTER_POH | \
				    OP_TLS12_RSA_EXT | OP_TLS12_RSA_EXT_POH)
#define OP_TLS13		(OP_TLS13_CERT_VERIFY | OP_TLS13_NEW_TICKET | \
				    OP_TLS13_PSK)

/*
 * The key operations of every extension by one index, as netproc counts
 * them and the log, lurkctl and /metrics name them (kop_name(): the key
 * policy's names): the edge extension's types 1-4, then tls12's types
 * 2-6, then tls13's types 2-5.  liblurk/ctl.h's CTL_OP_* are these.
 */
#define KOP_KEY_INFO		0
#define KOP_SIGN_TLS13		1
#define KOP_SIGN_TLS12		2
#define KOP_RSA_KEX		3
#define KOP_TLS12		4	/* tls12 type t: KOP_TLS12 + t - 2 */
#define KOP_TLS13		9	/* tls13 type t: KOP_TLS13 + t - 2 */
#define KOP_MAX			13

/* TLS SignatureScheme (RFC 8446 §4.2.3) */
#define TLS_SS_RSA_PKCS1_SHA1		0x0201
#define TLS_SS_ECDSA_SHA1		0x0203
#define TLS_SS_RSA_PKCS1_SHA224		0x0301	/* TLS 1.2 only */
#define TLS_SS_ECDSA_SHA224		0x0303	/* TLS 1.2 only */
#define TLS_SS_RSA_PKCS1_SHA256		0x0401
#define TLS_SS_RSA_PKCS1_SHA384		0x0501
#define TLS_SS_RSA_PKCS1_SHA512		0x0601
#define TLS_SS_ECDSA_SECP256R1_SHA256	0x0403
#define TLS_SS_ECDSA_SECP384R1_SHA384	0x0503
#define TLS_SS_ECDSA_SECP521R1_SHA512	0x0603
#define TLS_SS_RSA_PSS_RSAE_SHA256	0x0804
#define TLS_SS_RSA_PSS_RSAE_SHA384	0x0805
#define TLS_SS_RSA_PSS_RSAE_SHA512	0x0806
#define TLS_SS_ED25519			0x0807
#define TLS_SS_ED448			0x0808
#define TLS_SS_RSA_PSS_PSS_SHA256	0x0809
#define TLS_SS_RSA_PSS_PSS_SHA384	0x080a
#define TLS_SS_RSA_PSS_PSS_SHA512	0x080b

/* TLS NamedGroup (RFC 8446 §4.2.7) */
#define TLS_GROUP_SECP256R1	23
#define TLS_GROUP_SECP384R1	24
#define TLS_GROUP_SECP521R1	25
#define TLS_GROUP_X25519	29
#define TLS_GROUP_X448		30

/* TLS 1.3 CertificateVerify content (RFC 8446 §4.4.3) */
#define TLS13_CV_PAD_LEN	64
#define TLS13_CV_SERVER_CTX	"TLS 1.3, server CertificateVerify"
#define TLS13_CV_CLIENT_CTX	"TLS 1.3, client CertificateVerify"
#define TLS13_CV_PREFIX_LEN	(TLS13_CV_PAD_LEN + 33 + 1)

/* The generic errors, numbered per designation by lurk_status(). */
enum lurk_err {
	LURK_ERR_UNDEFINED,
	LURK_ERR_FORMAT,
	LURK_ERR_EXTENSION,
	LURK_ERR_TYPE,
	LURK_ERR_STATUS,
	LURK_ERR_TEMPORARY,
};

/* What the length field counts. */
#define LURK_LEN_PAYLOAD	0	/* payload only (pylurk-T, default) */
#define LURK_LEN_MESSAGE	1	/* header + payload (pylurk-M, 2018 C) */

struct lurk_hdr {
	uint8_t		designation;
	uint8_t		version;
	uint8_t		type;
	uint8_t		status;
	uint64_t	id;
	uint32_t	length;		/* as on the wire */
};

struct lurk_ext_id {
	uint8_t		designation;
	uint8_t		version;
};

void	lurk_hdr_decode(const uint8_t *, struct lurk_hdr *);
void	lurk_hdr_encode(const struct lurk_hdr *, uint8_t *);
int	lurk_payload_len(const struct lurk_hdr *, int, uint32_t *);
uint32_t lurk_length_field(uint32_t, int);
uint8_t	lurk_status(uint8_t, enum lurk_err);
size_t	lurk_capabilities_len(size_t);
size_t	lurk_capabilities_encode(uint8_t *, size_t,
	    const struct lurk_ext_id *, size_t, const uint8_t *);
const char *lurk_err_name(enum lurk_err);
const char *edge_type_name(uint8_t);
const char *edge_kind_name(uint8_t);
const char *edge_status_name(uint8_t);
const char *draft_type_name(uint8_t, uint8_t);
const char *draft_status_name(uint8_t, uint8_t);
uint32_t operation_byname(const char *);
const char *operation_name(uint32_t);
const char *tls13_secret_name(int);
int	 kop_index(uint8_t, uint8_t);
const char *kop_name(int);
uint32_t kop_policy(int);
const char *kop_status_name(int, uint8_t);
const char *lurk_hex(const uint8_t *, size_t, char *, size_t);

#endif
