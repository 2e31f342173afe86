/*
 * The drafts' tls12 and tls13 payloads (lurk-drafts.md, lurk(7)): a
 * reader and a writer of TLS-style vectors, and the parsers that netproc
 * and keyproc both run on a request.  netproc parses to refuse what is
 * malformed; keyproc parses the same bytes again with the same code, and
 * a request netproc let through that does not parse is fatal there.
 * Pure functions over byte buffers, fuzzed by regress/fuzz/fuzz_drafts.
 */
#ifndef LURK_DRAFTS_H
#define LURK_DRAFTS_H

#include <stddef.h>
#include <stdint.h>

/* A reader over untrusted bytes: a get past the end fails, and stays so. */
struct lurk_rd {
	const uint8_t	*p;
	size_t		 left;
	int		 bad;
};

void		 lurk_rd_init(struct lurk_rd *, const uint8_t *, size_t);
const uint8_t	*lurk_rd_get(struct lurk_rd *, size_t);
uint32_t	 lurk_rd_num(struct lurk_rd *, size_t);
const uint8_t	*lurk_rd_vec(struct lurk_rd *, size_t, size_t *);

/* A growing buffer; wiped when freed (it may hold secrets). */
struct lurk_wr {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
	int		 bad;		/* out of memory, or a length overflowed */
};

void		 lurk_wr_num(struct lurk_wr *, uint32_t, size_t);
void		 lurk_wr_bytes(struct lurk_wr *, const void *, size_t);
size_t		 lurk_wr_open(struct lurk_wr *, size_t);
void		 lurk_wr_close(struct lurk_wr *, size_t, size_t);
void		 lurk_wr_free(struct lurk_wr *);

uint32_t	 draft_op(uint8_t, uint8_t);

/* TLS extensions lists */
int		 tls_exts_check(const uint8_t *, size_t);
const uint8_t	*tls_ext_find(const uint8_t *, size_t, uint16_t, size_t *);

/* TLS 1.2 */
int		 tls12_rsa_suite_prf(uint16_t);
size_t		 tls12_rsa_suites(const uint16_t **);

/*
 * TLS 1.2 handshake messages as the with_poh and extended master
 * operations carry them (RFC 5246 framing): ClientHello, ServerHello,
 * Certificate, [CertificateRequest], ServerHelloDone, [Certificate],
 * ClientKeyExchange, [CertificateVerify].
 */
struct tls12_hs {
	uint16_t	 client_version;
	const uint8_t	*client_random;
	int		 ch_ems;	/* extended_master_secret offered */
	size_t		 sh_random;	/* offset of ServerHello.random */
	uint16_t	 cipher_suite;
	int		 sh_ems;	/* ... and agreed */
	const uint8_t	*epms;		/* ClientKeyExchange */
	size_t		 epms_len;
	size_t		 cke_end;	/* bytes up to ClientKeyExchange's end */
};

/* A tls12 request (draft -05 field order); pointers into the payload. */
struct tls12_req {
	uint8_t		 type;
	const uint8_t	*key_id;	/* KeyPairID: type(1), sha256_32(4) */
	uint8_t		 freshness;
	uint8_t		 prf_hash;	/* rsa_master */
	const uint8_t	*client_random;	/* rsa_master, ecdhe */
	const uint8_t	*server_random;	/* S */
	const uint8_t	*epms;		/* rsa_master: the rest */
	size_t		 epms_len;
	const uint8_t	*hs;		/* handshake_messages<2> */
	size_t		 hs_len;
	struct tls12_hs	 h;
	const uint8_t	*finished;	/* _with_poh: verify_data(12) */
	uint16_t	 sig_and_hash;	/* ecdhe */
	const uint8_t	*params;	/* ServerECDHParams */
	size_t		 params_len;
	uint16_t	 group;
	const uint8_t	*point;
	size_t		 point_len;
	uint8_t		 poo_prf;
	const uint8_t	*poo_v;		/* vG */
	size_t		 poo_v_len;
	const uint8_t	*poo_r;		/* r */
	size_t		 poo_r_len;
};

int		 tls12_hs_parse(const uint8_t *, size_t, struct tls12_hs *,
		    const char **);
int		 tls12_parse(uint8_t, const uint8_t *, size_t,
		    struct tls12_req *, const char **);

/*
 * TLS 1.3 handshake messages as LURK carries them: msg_type(1) and the
 * body, with no uint24 length (pylurk-T), each body's end found by
 * parsing it.  The transcript hashes type, the length put back, body.
 */
#define TLS13_HS_MAX	8
struct tls13_msg {
	uint8_t		 type;
	const uint8_t	*body;
	size_t		 len;
};

struct tls13_hs {
	size_t		 n;
	struct tls13_msg m[TLS13_HS_MAX];
};

/* Ephemeral, request form */
struct tls13_eph {
	uint8_t		 method;	/* TLS13_EPH_* */
	uint16_t	 group;		/* e_generated */
	const uint8_t	*secret;
	size_t		 secret_len;
};

/* Cert: cert_type(2), then the body of that type */
struct tls13_cert {
	uint16_t	 type;		/* TLS13_CERT_* */
	const uint8_t	*body;		/* from the context on; NULL: none */
	size_t		 len;
	const uint8_t	*list;		/* certificate_list's contents */
	size_t		 list_len;
};

/* A tls13 request (pylurk-T field order); pointers into the payload. */
struct tls13_req {
	uint8_t		 type;
	uint8_t		 tag;
	const uint8_t	*session_id;	/* NULL if absent */
	uint8_t		 freshness;
	uint16_t	 selected_identity;	/* s_init_early_secret */
	struct tls13_eph eph;
	const uint8_t	*hs;
	size_t		 hs_len;
	struct tls13_hs	 h;
	struct tls13_cert cert;
	uint8_t		 ticket_nbr;	/* s_new_ticket */
	uint16_t	 secret_request;
	uint16_t	 sig_algo;	/* s_init_cert_verify */
};

/*
 * lurkd's session tickets: version(1), the keyproc that sealed it (1),
 * the key's sha256_32 (4), then what only that keyproc opens (lurk13.c).
 * netproc reads the first bytes to send s_init_early_secret there.
 */
#define LURKD_TICKET_VERSION	1
#define LURKD_TICKET_ROUTE_LEN	6

size_t		 tls13_group_secret_len(uint16_t);
int		 tls13_hs_parse(const uint8_t *, size_t, struct tls13_hs *,
		    const char **);
int		 tls13_parse(uint8_t, const uint8_t *, size_t,
		    struct tls13_req *, const char **);
int		 tls13_cert_entry(const struct tls13_cert *, size_t,
		    const uint8_t **, size_t *, const uint8_t **, size_t *);

/* A ClientHello's or ServerHello's fields. */
struct tls13_hello {
	uint16_t	 version;
	const uint8_t	*random;
	const uint8_t	*sid;
	size_t		 sid_len;
	const uint8_t	*suites;	/* ClientHello */
	size_t		 suites_len;
	uint16_t	 suite;		/* ServerHello */
	const uint8_t	*ext;		/* the extensions' contents */
	size_t		 ext_len;
};

int		 tls13_hello_parse(const struct tls13_msg *,
		    struct tls13_hello *);
int		 tls13_psk(const struct tls13_hello *, uint16_t,
		    const uint8_t **, size_t *, const uint8_t **, size_t *,
		    size_t *, uint16_t *);

#endif
