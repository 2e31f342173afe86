/*
 * Readers and writers of TLS-style vectors for the drafts' payloads.
 */
#include <stdlib.h>
#include <string.h>

#include "drafts.h"
#include "lurk.h"

void
lurk_rd_init(struct lurk_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->left = len;
	r->bad = 0;
}

const uint8_t *
lurk_rd_get(struct lurk_rd *r, size_t n)
{
	const uint8_t	*p = r->p;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

/* A big-endian number of n (1 to 4) bytes; 0 past the end. */
uint32_t
lurk_rd_num(struct lurk_rd *r, size_t n)
{
	const uint8_t	*p;
	uint32_t	 v = 0;

	if ((p = lurk_rd_get(r, n)) == NULL)
		return 0;
	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* opaque<n bytes of length>: the contents, *len their length. */
const uint8_t *
lurk_rd_vec(struct lurk_rd *r, size_t n, size_t *len)
{
	*len = lurk_rd_num(r, n);
	return lurk_rd_get(r, *len);
}

static int
wr_grow(struct lurk_wr *w, size_t n)
{
	uint8_t	*p;
	size_t	 cap;

	if (w->bad)
		return -1;
	if (w->cap - w->len >= n)
		return 0;
	cap = w->cap ? w->cap : 256;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->bad = 1;
			return -1;
		}
		cap *= 2;
	}
	/* not realloc: the old buffer is wiped, it may hold a secret */
	if ((p = malloc(cap)) == NULL) {
		w->bad = 1;
		return -1;
	}
	if (w->p != NULL) {
		memcpy(p, w->p, w->len);
		explicit_bzero(w->p, w->cap);
		free(w->p);
	}
	w->p = p;
	w->cap = cap;
	return 0;
}

void
lurk_wr_num(struct lurk_wr *w, uint32_t v, size_t n)
{
	size_t	 i;

	if (wr_grow(w, n) == -1)
		return;
	for (i = 0; i < n; i++)
		w->p[w->len + i] = v >> (8 * (n - 1 - i));
	w->len += n;
}

void
lurk_wr_bytes(struct lurk_wr *w, const void *p, size_t n)
{
	if (n == 0 || wr_grow(w, n) == -1)
		return;
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

/* Room for a length of n bytes, filled in by lurk_wr_close(). */
size_t
lurk_wr_open(struct lurk_wr *w, size_t n)
{
	size_t	 off = w->len;

	lurk_wr_num(w, 0, n);
	return off;
}

/* The length of what follows the n bytes at off; too long: bad. */
void
lurk_wr_close(struct lurk_wr *w, size_t off, size_t n)
{
	size_t	 len, i;

	if (w->bad)
		return;
	len = w->len - off - n;
	if (n < sizeof(size_t) && len >> (8 * n) != 0) {
		w->bad = 1;
		return;
	}
	for (i = 0; i < n; i++)
		w->p[off + i] = len >> (8 * (n - 1 - i));
}

void
lurk_wr_free(struct lurk_wr *w)
{
	if (w->p != NULL) {
		explicit_bzero(w->p, w->cap);
		free(w->p);
	}
	memset(w, 0, sizeof(*w));
}

/* The operation (policy bit) of a draft's type; 0 for ping, capabilities. */
uint32_t
draft_op(uint8_t designation, uint8_t type)
{
	if (designation == LURK_DESIG_TLS12)
		switch (type) {
		case TLS12_TYPE_RSA_MASTER:
			return OP_TLS12_RSA_MASTER;
		case TLS12_TYPE_RSA_MASTER_POH:
			return OP_TLS12_RSA_MASTER_POH;
		case TLS12_TYPE_RSA_EXT_MASTER:
			return OP_TLS12_RSA_EXT;
		case TLS12_TYPE_RSA_EXT_MASTER_POH:
			return OP_TLS12_RSA_EXT_POH;
		case TLS12_TYPE_ECDHE:
			return OP_TLS12_ECDHE;
		}
	if (designation == LURK_DESIG_TLS13)
		switch (type) {
		case TLS13_TYPE_S_INIT_CERT_VERIFY:
			return OP_TLS13_CERT_VERIFY;
		case TLS13_TYPE_S_NEW_TICKET:
			return OP_TLS13_NEW_TICKET;
		case TLS13_TYPE_S_INIT_EARLY_SECRET:
		case TLS13_TYPE_S_HAND_AND_APP:
			return OP_TLS13_PSK;
		}
	return 0;
}

/*
 * The TLS 1.2 cipher suites with RSA key exchange, and the hash of the
 * PRF of each (RFC 5246 §5: SHA-256 unless the suite says otherwise).
 */
static const struct {
	uint16_t	 suite;
	uint8_t		 prf;
} rsa_suites[] = {
	{ 0x002f, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_128_CBC_SHA */
	{ 0x0035, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_256_CBC_SHA */
	{ 0x003c, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_128_CBC_SHA256 */
	{ 0x003d, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_256_CBC_SHA256 */
	{ 0x009c, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_128_GCM_SHA256 */
	{ 0x009d, TLS12_PRF_SHA384 },	/* TLS_RSA_WITH_AES_256_GCM_SHA384 */
	{ 0xc09c, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_128_CCM */
	{ 0xc09d, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_256_CCM */
	{ 0xc0a0, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_128_CCM_8 */
	{ 0xc0a1, TLS12_PRF_SHA256 },	/* TLS_RSA_WITH_AES_256_CCM_8 */
};
#define NRSA_SUITES	(sizeof(rsa_suites) / sizeof(rsa_suites[0]))

/* The PRF hash of an RSA key exchange suite; -1 if it is not one. */
int
tls12_rsa_suite_prf(uint16_t suite)
{
	size_t	 i;

	for (i = 0; i < NRSA_SUITES; i++)
		if (rsa_suites[i].suite == suite)
			return rsa_suites[i].prf;
	return -1;
}

/* The suites, for capabilities; how many. */
size_t
tls12_rsa_suites(const uint16_t **out)
{
	static uint16_t	 list[NRSA_SUITES];
	size_t		 i;

	for (i = 0; i < NRSA_SUITES; i++)
		list[i] = rsa_suites[i].suite;
	*out = list;
	return NRSA_SUITES;
}

/*
 * A TLS extensions list's contents (RFC 8446 §4.2): each extension
 * whole, none twice.  0, or -1.
 */
int
tls_exts_check(const uint8_t *p, size_t len)
{
	struct lurk_rd	 r, o;
	uint32_t	 type;
	size_t		 n;

	lurk_rd_init(&r, p, len);
	while (r.left > 0 && !r.bad) {
		type = lurk_rd_num(&r, 2);
		(void)lurk_rd_vec(&r, 2, &n);
		if (r.bad)
			break;
		/* the extensions before this one: none of its type */
		lurk_rd_init(&o, p, len - r.left - 4 - n);
		while (o.left > 0)
			if (lurk_rd_num(&o, 2) == type)
				return -1;
			else
				(void)lurk_rd_vec(&o, 2, &n);
	}
	return r.bad ? -1 : 0;
}

/* An extension of a list tls_exts_check() accepted; NULL if none. */
const uint8_t *
tls_ext_find(const uint8_t *p, size_t len, uint16_t type, size_t *elen)
{
	struct lurk_rd	 r;

	lurk_rd_init(&r, p, len);
	while (r.left > 0 && !r.bad) {
		if (lurk_rd_num(&r, 2) == type)
			return lurk_rd_vec(&r, 2, elen);
		(void)lurk_rd_vec(&r, 2, elen);
	}
	return NULL;
}
