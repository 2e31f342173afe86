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

/* Names for logs: the drafts' types and statuses, per designation. */
const char *
draft_type_name(uint8_t designation, uint8_t type)
{
	static const char *t12[] = {
		"capabilities", "ping", "rsa_master", "rsa_master_with_poh",
		"rsa_extended_master", "rsa_extended_master_with_poh", "ecdhe",
	};
	static const char *t13[] = {
		"capabilities", "ping", "s_init_cert_verify", "s_new_ticket",
		"s_init_early_secret", "s_hand_and_app_secret",
	};

	if (designation == LURK_DESIG_TLS12 &&
	    type < sizeof(t12) / sizeof(t12[0]))
		return t12[type];
	if (designation == LURK_DESIG_TLS13 &&
	    type < sizeof(t13) / sizeof(t13[0]))
		return t13[type];
	return "unknown";
}

const char *
draft_status_name(uint8_t designation, uint8_t st)
{
	static const char *s12[] = {
		"request", "success", "undefined_error",
		"invalid_payload_format", "invalid_key_id_type",
		"invalid_key_id", "invalid_tls_random",
		"invalid_freshness_funct", "invalid_encrypted_premaster",
		"invalid_finished", "invalid_ec_type", "invalid_ec_curve",
		"invalid_poo_prf", "invalid_poo", "invalid_cipher_or_prf_hash",
	};
	static const char *s13[] = {
		"request", "success", "undefined_error", "invalid_format",
		"invalid_secret_request", "invalid_session_id",
		"invalid_handshake", "invalid_freshness", "invalid_ephemeral",
		"invalid_psk", "invalid_certificate", "invalid_type",
		"invalid_cert_type", "invalid_signature_scheme", "unknown",
		"invalid_status",
	};

	if (designation == LURK_DESIG_TLS12 &&
	    st < sizeof(s12) / sizeof(s12[0]))
		return s12[st];
	if (designation == LURK_DESIG_TLS13 &&
	    st < sizeof(s13) / sizeof(s13[0]))
		return s13[st];
	if (st == LURK_ST_INVALID_EXTENSION)
		return "invalid_extension";
	return "unknown";
}

/* The key policy's operations (lurkd.conf: operations { }), by bit. */
static const struct {
	const char	*name;
	uint32_t	 op;
} operations[] = {
	{ "sign-tls13",	EDGE_OP_SIGN_TLS13 },
	{ "sign-tls12",	EDGE_OP_SIGN_TLS12 },
	{ "rsa-kex",	EDGE_OP_RSA_PREMASTER },
	{ "tls12-rsa-master", OP_TLS12_RSA_MASTER },
	{ "tls12-rsa-master-poh", OP_TLS12_RSA_MASTER_POH },
	{ "tls12-rsa-extended-master", OP_TLS12_RSA_EXT },
	{ "tls12-rsa-extended-master-poh", OP_TLS12_RSA_EXT_POH },
	{ "tls12-ecdhe", OP_TLS12_ECDHE },
	{ "tls13-cert-verify", OP_TLS13_CERT_VERIFY },
	{ "tls13-new-ticket", OP_TLS13_NEW_TICKET },
	{ "tls13-psk",	OP_TLS13_PSK },
};

/* The policy bit of an operation's name; 0 if none. */
uint32_t
operation_byname(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(operations) / sizeof(operations[0]); i++)
		if (strcmp(name, operations[i].name) == 0)
			return operations[i].op;
	return 0;
}

const char *
operation_name(uint32_t op)
{
	size_t	 i;

	for (i = 0; i < sizeof(operations) / sizeof(operations[0]); i++)
		if (op == operations[i].op)
			return operations[i].name;
	return "unknown";
}

/* A tls13 secret type's name in the drafts (TLS13_SECRET_*). */
const char *
tls13_secret_name(int type)
{
	static const char *const names[TLS13_NSECRETS] = {
		"b", "e_s", "e_x", "h_c", "h_s", "a_c", "a_s", "x", "r",
	};

	return type >= 0 && type < TLS13_NSECRETS ? names[type] : "unknown";
}

/* The KOP_* of a designation's key operation type; -1 if none. */
int
kop_index(uint8_t designation, uint8_t type)
{
	switch (designation) {
	case LURK_DESIG_EDGE:
		if (type >= EDGE_TYPE_KEY_INFO &&
		    type <= EDGE_TYPE_RSA_PREMASTER)
			return KOP_KEY_INFO + type - EDGE_TYPE_KEY_INFO;
		break;
	case LURK_DESIG_TLS12:
		if (type >= TLS12_TYPE_RSA_MASTER && type < TLS12_NTYPES)
			return KOP_TLS12 + type - TLS12_TYPE_RSA_MASTER;
		break;
	case LURK_DESIG_TLS13:
		if (type >= TLS13_TYPE_S_INIT_CERT_VERIFY &&
		    type < TLS13_NTYPES)
			return KOP_TLS13 + type - TLS13_TYPE_S_INIT_CERT_VERIFY;
		break;
	}
	return -1;
}

/* Each its policy bit; named as that, unless one bit allows two. */
static const struct {
	uint32_t	 policy;	/* the operations { } bit */
	const char	*name;
} kops[KOP_MAX] = {
	{ 0,			"key-info" },
	{ EDGE_OP_SIGN_TLS13,	NULL },
	{ EDGE_OP_SIGN_TLS12,	NULL },
	{ EDGE_OP_RSA_PREMASTER, NULL },
	{ OP_TLS12_RSA_MASTER,	NULL },
	{ OP_TLS12_RSA_MASTER_POH, NULL },
	{ OP_TLS12_RSA_EXT,	NULL },
	{ OP_TLS12_RSA_EXT_POH,	NULL },
	{ OP_TLS12_ECDHE,	NULL },
	{ OP_TLS13_CERT_VERIFY,	NULL },
	{ OP_TLS13_NEW_TICKET,	NULL },
	{ OP_TLS13_PSK,		"tls13-early-secret" },
	{ OP_TLS13_PSK,		"tls13-hand-and-app" },
};

const char *
kop_name(int op)
{
	if (op < 0 || op >= KOP_MAX)
		return "unknown";
	return kops[op].name != NULL ? kops[op].name :
	    operation_name(kops[op].policy);
}

/* The bit of the key policy that allows op; 0 for key-info (any key). */
uint32_t
kop_policy(int op)
{
	return op >= 0 && op < KOP_MAX ? kops[op].policy : 0;
}

/* A status of op's answer, in its extension's numbering. */
const char *
kop_status_name(int op, uint8_t st)
{
	if (op >= KOP_TLS13)
		return draft_status_name(LURK_DESIG_TLS13, st);
	if (op >= KOP_TLS12)
		return draft_status_name(LURK_DESIG_TLS12, st);
	return edge_status_name(st);
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
