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

/* tls12 (1) v1 status */
#define TLS12_ST_UNDEFINED_ERROR	2
#define TLS12_ST_INVALID_PAYLOAD_FORMAT	3
#define TLS12_ST_INVALID_KEY_ID_TYPE	4
#define TLS12_ST_INVALID_KEY_ID		5

/* tls13 (2) v1 status (pylurk-T numbering) */
#define TLS13_ST_UNDEFINED_ERROR	2
#define TLS13_ST_INVALID_FORMAT		3
#define TLS13_ST_INVALID_TYPE		11
#define TLS13_ST_INVALID_STATUS		15

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
const char *lurk_hex(const uint8_t *, size_t, char *, size_t);

#endif
