/*
 * Key references and key_info (keyref.h).  Every length is checked
 * against what is left before it is used; decode accepts exactly one
 * form and nothing after it.
 */
#include <string.h>

#include <openssl/sha.h>

#include "keyref.h"

struct rd {
	const uint8_t	*p;
	size_t		 left;
};

static int
rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
rd_uint(struct rd *r, size_t n, uint32_t *v)
{
	const uint8_t	*b;
	size_t		 i;

	if (rd_bytes(r, n, &b) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/* a <n>-prefixed vector */
static int
rd_vec(struct rd *r, size_t n, const uint8_t **out, size_t *len)
{
	uint32_t	 l;

	if (rd_uint(r, n, &l) == -1 || rd_bytes(r, l, out) == -1)
		return -1;
	*len = l;
	return 0;
}

static uint8_t *
wr_vec(uint8_t *p, size_t n, const void *v, size_t len)
{
	size_t	 i;

	for (i = n; i > 0; i--)
		*p++ = len >> (8 * (i - 1));
	if (len > 0)
		memcpy(p, v, len);
	return p + len;
}

void
keyref_key_id(const uint8_t *spki, size_t spkilen,
    uint8_t key_id[EDGE_KEY_ID_LEN])
{
	SHA256(spki, spkilen, key_id);
}

size_t
keyref_len(const struct keyref *k)
{
	return KEYREF_MAGIC_LEN + 1 + EDGE_KEY_ID_LEN + 1 + k->namelen +
	    2 + k->socketlen + 2 + k->spkilen;
}

static int
socket_ok(const char *s, size_t len)
{
	if (len == 0)
		return 1;
	return len <= KEYREF_SOCKET_MAX && s[0] == '/' &&
	    memchr(s, '\0', len) == NULL;
}

/*
 * Writes the blob; returns its length, 0 if a field is out of range or
 * the buffer is too small.  key_id is written as given: the caller
 * computes it with keyref_key_id().
 */
size_t
keyref_encode(const struct keyref *k, uint8_t *out, size_t outlen)
{
	size_t	 len = keyref_len(k);
	uint8_t	*p = out;

	if (k->namelen > KEYREF_NAME_MAX ||
	    (k->namelen > 0 && memchr(k->name, '\0', k->namelen) != NULL) ||
	    !socket_ok(k->socket, k->socketlen) ||
	    k->spkilen == 0 || k->spkilen > KEYREF_SPKI_MAX || outlen < len)
		return 0;
	memcpy(p, KEYREF_MAGIC, KEYREF_MAGIC_LEN);
	p += KEYREF_MAGIC_LEN;
	*p++ = KEYREF_VERSION;
	memcpy(p, k->key_id, EDGE_KEY_ID_LEN);
	p += EDGE_KEY_ID_LEN;
	p = wr_vec(p, 1, k->name, k->namelen);
	p = wr_vec(p, 2, k->socket, k->socketlen);
	p = wr_vec(p, 2, k->spki, k->spkilen);
	return p - out;
}

enum keyref_err
keyref_decode(const uint8_t *buf, size_t len, struct keyref *k)
{
	struct rd	 r = { buf, len };
	const uint8_t	*b;
	uint8_t		 id[EDGE_KEY_ID_LEN];
	size_t		 l;

	memset(k, 0, sizeof(*k));
	if (rd_bytes(&r, KEYREF_MAGIC_LEN, &b) == -1)
		return KEYREF_ERR_SHORT;
	if (memcmp(b, KEYREF_MAGIC, KEYREF_MAGIC_LEN) != 0)
		return KEYREF_ERR_MAGIC;
	if (rd_bytes(&r, 1, &b) == -1)
		return KEYREF_ERR_SHORT;
	if (b[0] != KEYREF_VERSION)
		return KEYREF_ERR_VERSION;
	if (rd_bytes(&r, EDGE_KEY_ID_LEN, &b) == -1)
		return KEYREF_ERR_SHORT;
	memcpy(k->key_id, b, EDGE_KEY_ID_LEN);

	if (rd_vec(&r, 1, &b, &l) == -1)
		return KEYREF_ERR_SHORT;
	if (memchr(b, '\0', l) != NULL)
		return KEYREF_ERR_NAME;
	k->name = (const char *)b;
	k->namelen = l;

	if (rd_vec(&r, 2, &b, &l) == -1)
		return KEYREF_ERR_SHORT;
	if (!socket_ok((const char *)b, l))
		return KEYREF_ERR_SOCKET;
	k->socket = (const char *)b;
	k->socketlen = l;

	if (rd_vec(&r, 2, &b, &l) == -1)
		return KEYREF_ERR_SHORT;
	if (l == 0)
		return KEYREF_ERR_SPKI;
	k->spki = b;
	k->spkilen = l;

	if (r.left != 0)
		return KEYREF_ERR_TRAILING;
	keyref_key_id(k->spki, k->spkilen, id);
	if (memcmp(id, k->key_id, EDGE_KEY_ID_LEN) != 0)
		return KEYREF_ERR_KEY_ID;
	return KEYREF_OK;
}

const char *
keyref_strerror(enum keyref_err e)
{
	switch (e) {
	case KEYREF_OK:
		return "ok";
	case KEYREF_ERR_SHORT:
		return "truncated key reference";
	case KEYREF_ERR_MAGIC:
		return "not a LURK key reference";
	case KEYREF_ERR_VERSION:
		return "unknown key reference version";
	case KEYREF_ERR_NAME:
		return "key name contains a NUL byte";
	case KEYREF_ERR_SOCKET:
		return "socket path not absolute, too long, or contains NUL";
	case KEYREF_ERR_SPKI:
		return "empty public key";
	case KEYREF_ERR_TRAILING:
		return "trailing bytes after the key reference";
	case KEYREF_ERR_KEY_ID:
		return "key id does not match the public key";
	case KEYREF_ERR_SPACE:
		return "buffer too small";
	}
	return "unknown error";
}

/*
 * key_id(32) kind(1) bits(2) group(2) operations(1) name<1> spki<2>
 * chain<3>; the chain must be whole cert<3> entries.  Returns 0, or -1
 * for any malformation, including a key_id that is not SHA-256(spki).
 */
int
edge_keyinfo_decode(const uint8_t *buf, size_t len, struct edge_keyinfo *ki)
{
	struct rd	 r = { buf, len };
	const uint8_t	*b, *c, *cert;
	uint8_t		 id[EDGE_KEY_ID_LEN];
	uint32_t	 v;
	size_t		 l, cl, certlen;

	memset(ki, 0, sizeof(*ki));
	if (rd_bytes(&r, EDGE_KEY_ID_LEN, &b) == -1)
		return -1;
	memcpy(ki->key_id, b, EDGE_KEY_ID_LEN);
	if (rd_uint(&r, 1, &v) == -1 || v > EDGE_KIND_ED448)
		return -1;
	ki->kind = v;
	if (rd_uint(&r, 2, &v) == -1)
		return -1;
	ki->bits = v;
	if (rd_uint(&r, 2, &v) == -1)
		return -1;
	ki->group = v;
	if (rd_uint(&r, 1, &v) == -1)
		return -1;
	ki->operations = v;
	if (rd_vec(&r, 1, &b, &l) == -1 || memchr(b, '\0', l) != NULL)
		return -1;
	ki->name = (const char *)b;
	ki->namelen = l;
	if (rd_vec(&r, 2, &b, &l) == -1 || l == 0)
		return -1;
	ki->spki = b;
	ki->spkilen = l;
	if (rd_vec(&r, 3, &b, &l) == -1)
		return -1;
	ki->chain = b;
	ki->chainlen = l;
	if (r.left != 0)
		return -1;
	c = ki->chain;
	cl = ki->chainlen;
	while (cl > 0)
		if (edge_chain_next(&c, &cl, &cert, &certlen) != 1)
			return -1;
	keyref_key_id(ki->spki, ki->spkilen, id);
	if (memcmp(id, ki->key_id, EDGE_KEY_ID_LEN) != 0)
		return -1;
	return 0;
}

/* The next cert<3> of a chain: 1 with one, 0 at the end, -1 if bad. */
int
edge_chain_next(const uint8_t **p, size_t *left, const uint8_t **cert,
    size_t *certlen)
{
	struct rd	 r = { *p, *left };

	if (*left == 0)
		return 0;
	if (rd_vec(&r, 3, cert, certlen) == -1 || *certlen == 0)
		return -1;
	*p = r.p;
	*left = r.left;
	return 1;
}
