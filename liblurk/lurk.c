/*
 * LURK header and `lurk' extension encoding.  Pure functions over byte
 * buffers: no allocation, no I/O, easy to fuzz.
 */
#include <string.h>

#include "lurk.h"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
lurk_hdr_decode(const uint8_t *b, struct lurk_hdr *h)
{
	h->designation = b[0];
	h->version = b[1];
	h->type = b[2];
	h->status = b[3];
	h->id = (uint64_t)get32(b + 4) << 32 | get32(b + 8);
	h->length = get32(b + 12);
}

void
lurk_hdr_encode(const struct lurk_hdr *h, uint8_t *b)
{
	b[0] = h->designation;
	b[1] = h->version;
	b[2] = h->type;
	b[3] = h->status;
	put32(b + 4, h->id >> 32);
	put32(b + 8, (uint32_t)h->id);
	put32(b + 12, h->length);
}

/*
 * The payload length a header announces under the given length mode.
 * -1 if the field cannot be valid (whole-message mode below 16).
 */
int
lurk_payload_len(const struct lurk_hdr *h, int mode, uint32_t *plen)
{
	if (mode == LURK_LEN_MESSAGE) {
		if (h->length < LURK_HDR_LEN)
			return -1;
		*plen = h->length - LURK_HDR_LEN;
	} else
		*plen = h->length;
	return 0;
}

/* The length field for a payload of plen bytes. */
uint32_t
lurk_length_field(uint32_t plen, int mode)
{
	return mode == LURK_LEN_MESSAGE ? plen + LURK_HDR_LEN : plen;
}

/*
 * Each extension numbers the generic errors its own way (drafts §1.3,
 * §2.2, §3.2); unknown designations use the lurk numbers.
 */
uint8_t
lurk_status(uint8_t designation, enum lurk_err err)
{
	switch (designation) {
	case LURK_DESIG_TLS12:
		switch (err) {
		case LURK_ERR_FORMAT:
			return TLS12_ST_INVALID_PAYLOAD_FORMAT;
		case LURK_ERR_EXTENSION:
			return LURK_ST_INVALID_EXTENSION;
		default:
			/* tls12 has no invalid_type/status: undefined_error */
			return TLS12_ST_UNDEFINED_ERROR;
		}
	case LURK_DESIG_TLS13:
		switch (err) {
		case LURK_ERR_FORMAT:
			return TLS13_ST_INVALID_FORMAT;
		case LURK_ERR_TYPE:
			return TLS13_ST_INVALID_TYPE;
		case LURK_ERR_STATUS:
			return TLS13_ST_INVALID_STATUS;
		case LURK_ERR_EXTENSION:
			return LURK_ST_INVALID_EXTENSION;
		default:
			return TLS13_ST_UNDEFINED_ERROR;
		}
	default:
		switch (err) {
		case LURK_ERR_FORMAT:
			return LURK_ST_INVALID_FORMAT;
		case LURK_ERR_EXTENSION:
			return LURK_ST_INVALID_EXTENSION;
		case LURK_ERR_TYPE:
			return LURK_ST_INVALID_TYPE;
		case LURK_ERR_STATUS:
			return LURK_ST_INVALID_STATUS;
		case LURK_ERR_TEMPORARY:
			return LURK_ST_TEMPORARY_FAILURE;
		default:
			return LURK_ST_UNDEFINED_ERROR;
		}
	}
}

const char *
lurk_err_name(enum lurk_err err)
{
	switch (err) {
	case LURK_ERR_FORMAT:
		return "invalid_format";
	case LURK_ERR_EXTENSION:
		return "invalid_extension";
	case LURK_ERR_TYPE:
		return "invalid_type";
	case LURK_ERR_STATUS:
		return "invalid_status";
	case LURK_ERR_TEMPORARY:
		return "temporary_failure";
	default:
		return "undefined_error";
	}
}

/* supported_extensions<2> of N entries, then lurk_state */
size_t
lurk_capabilities_len(size_t next)
{
	return 2 + 2 * next + LURK_STATE_LEN;
}

size_t
lurk_capabilities_encode(uint8_t *out, size_t outlen,
    const struct lurk_ext_id *ext, size_t next, const uint8_t *state)
{
	size_t	 len = lurk_capabilities_len(next), i;
	uint8_t	*p = out;

	if (outlen < len || next > 0x7fff)
		return 0;
	*p++ = (2 * next) >> 8;
	*p++ = (2 * next) & 0xff;
	for (i = 0; i < next; i++) {
		*p++ = ext[i].designation;
		*p++ = ext[i].version;
	}
	memcpy(p, state, LURK_STATE_LEN);
	return len;
}

/* Names for logs: the edge operations, as in the key policy. */
const char *
edge_type_name(uint8_t type)
{
	switch (type) {
	case EDGE_TYPE_KEY_INFO:
		return "key-info";
	case EDGE_TYPE_SIGN_TLS13:
		return "sign-tls13";
	case EDGE_TYPE_SIGN_TLS12:
		return "sign-tls12";
	case EDGE_TYPE_RSA_PREMASTER:
		return "rsa-kex";
	}
	return "unknown";
}

/* Key kinds, as key_info sends them (EDGE_KIND_*, enum key_kind). */
const char *
edge_kind_name(uint8_t kind)
{
	switch (kind) {
	case EDGE_KIND_RSA:
		return "rsa";
	case EDGE_KIND_RSA_PSS:
		return "rsa-pss";
	case EDGE_KIND_EC:
		return "ec";
	case EDGE_KIND_ED25519:
		return "ed25519";
	case EDGE_KIND_ED448:
		return "ed448";
	}
	return "unknown";
}

const char *
edge_status_name(uint8_t st)
{
	static const char *names[] = {
		"request", "success", "undefined_error", "invalid_format",
		"invalid_extension", "invalid_type", "invalid_status",
		"temporary_failure", "unknown_key", "unauthorized",
		"operation_refused", "invalid_content", "invalid_scheme",
	};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* Bytes as lower-case hex in buf, cut to what fits; returns buf. */
const char *
lurk_hex(const uint8_t *p, size_t len, char *buf, size_t size)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	if (size == 0)
		return buf;
	for (i = 0; i < len && 2 * i + 2 < size; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 0xf];
	}
	buf[2 * i] = '\0';
	return buf;
}
