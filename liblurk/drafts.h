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

/* TLS 1.2 */
int		 tls12_rsa_suite_prf(uint16_t);
size_t		 tls12_rsa_suites(const uint16_t **);

#endif
