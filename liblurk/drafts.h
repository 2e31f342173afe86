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

#endif
