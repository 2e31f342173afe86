/*
 * Key references and key_info (keyref.h).  Every length is checked
 * against what is left before it is used; decode accepts exactly one
 * form and nothing after it.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

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
	size_t	 len, i;

	len = KEYREF_MAGIC_LEN + 1 + EDGE_KEY_ID_LEN + 1 + k->namelen +
	    2 + k->socketlen + 2 + k->spkilen;
	if (k->nendpoints == 0)
		return len;
	len += 2 + 2 + k->tls_certificate.len + 2 + k->tls_key.len +
	    2 + k->tls_ca.len;
	for (i = 0; i < k->nendpoints && i < KEYREF_ENDPOINTS_MAX; i++)
		len += 1 + k->endpoints[i].len;
	return len;
}

static int
socket_ok(const char *s, size_t len)
{
	if (len == 0)
		return 1;
	return len <= KEYREF_SOCKET_MAX && s[0] == '/' &&
	    memchr(s, '\0', len) == NULL;
}

/* One DNS label: letters, digits, inner hyphens, 1 to 63 bytes. */
static int
label_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* The host of tls://: its type, or 0. */
static int
host_type(const char *s, size_t len)
{
	char	 a[64];
	uint8_t	 bin[16];
	size_t	 i, start;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(a) || memchr(s, '\0', len) != NULL)
			return 0;
		memcpy(a, s + 1, len - 2);
		a[len - 2] = '\0';
		return inet_pton(AF_INET6, a, bin) == 1 ? KEYREF_HOST_IPV6 : 0;
	}
	/* digits and dots only: an IPv4 address, nothing else */
	if (len > 0 && strspn(s, "0123456789.") >= len) {
		if (len >= sizeof(a))
			return 0;
		memcpy(a, s, len);
		a[len] = '\0';
		return inet_pton(AF_INET, a, bin) == 1 ? KEYREF_HOST_IPV4 : 0;
	}
	if (len == 0 || len > 253)
		return 0;
	for (start = 0, i = 0; i <= len; i++)
		if (i == len || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return 0;
			start = i + 1;
		}
	return KEYREF_HOST_NAME;
}

/*
 * An endpoint, unix:/path or tls://host:port (keyref.h); NULL if it is
 * one, else why not.
 */
const char *
keyref_endpoint_parse(const char *s, size_t len, struct keyref_endpoint *ep)
{
	const char	*colon;
	size_t		 hl, i;
	uint32_t	 port = 0;

	memset(ep, 0, sizeof(*ep));
	if (len > KEYREF_ENDPOINT_MAX)
		return "endpoint too long";
	if (memchr(s, '\0', len) != NULL)
		return "NUL in the endpoint";
	if (len >= 5 && memcmp(s, "unix:", 5) == 0) {
		if (len == 5 || !socket_ok(s + 5, len - 5))
			return "unix: wants an absolute socket path of at most "
			    "107 bytes";
		ep->kind = KEYREF_EP_UNIX;
		ep->path = s + 5;
		ep->pathlen = len - 5;
		return NULL;
	}
	if (len < 6 || memcmp(s, "tls://", 6) != 0)
		return "not unix:/path or tls://host:port";
	s += 6;
	len -= 6;
	/* the port follows the last colon: an IPv6 host is in brackets */
	for (colon = NULL, i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL)
		return "tls:// wants host:port";
	hl = colon - s;
	if (hl > 0 && s[0] == '[' && s[hl - 1] != ']')
		return "tls://: an IPv6 address goes in brackets";
	if ((ep->hosttype = host_type(s, hl)) == 0)
		return "tls://: not a host name or an IP address";
	if (colon + 1 == s + len || colon[1] == '0' || s + len - colon > 6)
		return "tls://: port must be 1 to 65535";
	for (i = hl + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "tls://: port must be 1 to 65535";
		port = port * 10 + (s[i] - '0');
	}
	if (port > 65535)
		return "tls://: port must be 1 to 65535";
	ep->kind = KEYREF_EP_TLS;
	ep->host = ep->hosttype == KEYREF_HOST_IPV6 ? s + 1 : s;
	ep->hostlen = ep->hosttype == KEYREF_HOST_IPV6 ? hl - 2 : hl;
	ep->port = port;
	return NULL;
}

static int
tlsfile_ok(const struct keyref_str *f)
{
	return f->len == 0 || (f->len <= KEYREF_PATH_MAX && f->s[0] == '/' &&
	    memchr(f->s, '\0', f->len) == NULL);
}

/*
 * Version 2's fields: endpoints valid and distinct, no socket beside
 * them, TLS files only with a tls:// endpoint.
 */
static enum keyref_err
v2_check(const struct keyref *k)
{
	struct keyref_endpoint	 ep;
	size_t			 i, j;
	int			 tls = 0;

	if (k->nendpoints == 0 || k->nendpoints > KEYREF_ENDPOINTS_MAX ||
	    k->socketlen != 0)
		return KEYREF_ERR_ENDPOINT;
	for (i = 0; i < k->nendpoints; i++) {
		if (keyref_endpoint_parse(k->endpoints[i].s,
		    k->endpoints[i].len, &ep) != NULL)
			return KEYREF_ERR_ENDPOINT;
		if (ep.kind == KEYREF_EP_TLS)
			tls = 1;
		for (j = 0; j < i; j++)
			if (k->endpoints[j].len == k->endpoints[i].len &&
			    memcmp(k->endpoints[j].s, k->endpoints[i].s,
			    k->endpoints[i].len) == 0)
				return KEYREF_ERR_ENDPOINT;
	}
	if (!tlsfile_ok(&k->tls_certificate) || !tlsfile_ok(&k->tls_key) ||
	    !tlsfile_ok(&k->tls_ca))
		return KEYREF_ERR_TLSFILE;
	if (!tls && (k->tls_certificate.len > 0 || k->tls_key.len > 0 ||
	    k->tls_ca.len > 0))
		return KEYREF_ERR_TLSFILE;
	return KEYREF_OK;
}

/*
 * Writes the blob; returns its length, 0 if a field is out of range or
 * the buffer is too small.  key_id is written as given: the caller
 * computes it with keyref_key_id().
 */
size_t
keyref_encode(const struct keyref *k, uint8_t *out, size_t outlen)
{
	size_t	 len = keyref_len(k), i;
	uint8_t	*p = out, *eps;

	if (k->namelen > KEYREF_NAME_MAX ||
	    (k->namelen > 0 && memchr(k->name, '\0', k->namelen) != NULL) ||
	    !socket_ok(k->socket, k->socketlen) ||
	    k->spkilen == 0 || k->spkilen > KEYREF_SPKI_MAX || outlen < len)
		return 0;
	if (k->nendpoints == 0 && (k->tls_certificate.len > 0 ||
	    k->tls_key.len > 0 || k->tls_ca.len > 0))
		return 0;
	if (k->nendpoints > 0 && v2_check(k) != KEYREF_OK)
		return 0;
	memcpy(p, KEYREF_MAGIC, KEYREF_MAGIC_LEN);
	p += KEYREF_MAGIC_LEN;
	*p++ = k->nendpoints > 0 ? KEYREF_VERSION_EP : KEYREF_VERSION;
	memcpy(p, k->key_id, EDGE_KEY_ID_LEN);
	p += EDGE_KEY_ID_LEN;
	p = wr_vec(p, 1, k->name, k->namelen);
	p = wr_vec(p, 2, k->socket, k->socketlen);
	p = wr_vec(p, 2, k->spki, k->spkilen);
	if (k->nendpoints == 0)
		return p - out;
	/* endpoints<2>: a length, then the endpoint<1> entries */
	eps = p;
	p += 2;
	for (i = 0; i < k->nendpoints; i++)
		p = wr_vec(p, 1, k->endpoints[i].s, k->endpoints[i].len);
	eps[0] = (p - eps - 2) >> 8;
	eps[1] = p - eps - 2;
	p = wr_vec(p, 2, k->tls_certificate.s, k->tls_certificate.len);
	p = wr_vec(p, 2, k->tls_key.s, k->tls_key.len);
	p = wr_vec(p, 2, k->tls_ca.s, k->tls_ca.len);
	return p - out;
}

static int
rd_str(struct rd *r, size_t n, struct keyref_str *str)
{
	const uint8_t	*b;

	if (rd_vec(r, n, &b, &str->len) == -1)
		return -1;
	str->s = (const char *)b;
	return 0;
}

/* Version 2's fields after spki. */
static enum keyref_err
v2_decode(struct rd *r, struct keyref *k)
{
	struct rd	 eps;
	const uint8_t	*b;
	size_t		 l;

	if (rd_vec(r, 2, &b, &l) == -1)
		return KEYREF_ERR_SHORT;
	eps.p = b;
	eps.left = l;
	while (eps.left > 0) {
		if (k->nendpoints == KEYREF_ENDPOINTS_MAX)
			return KEYREF_ERR_ENDPOINT;
		if (rd_str(&eps, 1, &k->endpoints[k->nendpoints]) == -1)
			return KEYREF_ERR_SHORT;
		k->nendpoints++;
	}
	if (rd_str(r, 2, &k->tls_certificate) == -1 ||
	    rd_str(r, 2, &k->tls_key) == -1 || rd_str(r, 2, &k->tls_ca) == -1)
		return KEYREF_ERR_SHORT;
	return v2_check(k);
}

enum keyref_err
keyref_decode(const uint8_t *buf, size_t len, struct keyref *k)
{
	struct rd	 r = { buf, len };
	const uint8_t	*b;
	uint8_t		 id[EDGE_KEY_ID_LEN];
	size_t		 l;
	enum keyref_err	 e;
	int		 version;

	memset(k, 0, sizeof(*k));
	if (rd_bytes(&r, KEYREF_MAGIC_LEN, &b) == -1)
		return KEYREF_ERR_SHORT;
	if (memcmp(b, KEYREF_MAGIC, KEYREF_MAGIC_LEN) != 0)
		return KEYREF_ERR_MAGIC;
	if (rd_bytes(&r, 1, &b) == -1)
		return KEYREF_ERR_SHORT;
	if (b[0] != KEYREF_VERSION && b[0] != KEYREF_VERSION_EP)
		return KEYREF_ERR_VERSION;
	version = b[0];
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

	if (version == KEYREF_VERSION_EP && (e = v2_decode(&r, k)) != KEYREF_OK)
		return e;
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
	case KEYREF_ERR_ENDPOINT:
		return "endpoints: none, more than 8, one malformed or "
		    "repeated, or a socket beside them";
	case KEYREF_ERR_TLSFILE:
		return "TLS file path not absolute, too long, contains NUL, "
		    "or without a tls:// endpoint";
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
