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

#endif
