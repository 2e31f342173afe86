/*
 * fuzz_keyref: the key reference an edge reads from its key file, and the
 * key_info response it reads from lurkd (liblurk/keyref.c): both decode
 * bytes that come from outside the provider.
 *
 * Input: mode(1) bytes...
 *   mode bit 0: the bytes are a key_info response, else a reference
 *   mode bit 1: first put the SHA-256 of the spki the bytes carry into
 *               their key_id, as a genuine one would have it; a fuzzer
 *               cannot forge the hash, so without this it would never
 *               get past the key_id check
 *
 *   mode 'L' (a whole byte): the bytes are an operator's list of
 *               endpoints (openssl.cnf endpoints, LURK_SOCKET) for
 *               lc_endpoints_split (provider/client.c)
 *
 * What must hold: a reference that decodes encodes back to exactly the
 * same bytes (one form only, nothing trailing) and not into a smaller
 * buffer; one of version 2 has 1 to 8 endpoints that each parse, no
 * socket, and TLS files that are absolute paths; a key_info that decodes has its fields where the format puts
 * them and a chain of whole cert<3> entries; a list that splits gives 1
 * to 8 distinct endpoints that each parse, its tls:// ones counted, and
 * one that does not says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyref.h"
#include "provider/client.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
num(const uint8_t *p, size_t n)
{
	size_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* Where a vector of n-byte length at off lies; 0 if out of bounds. */
static int
vec(const uint8_t *p, size_t len, size_t off, size_t n, size_t *start,
    size_t *vlen)
{
	if (off > len || len - off < n)
		return 0;
	*vlen = num(p + off, n);
	*start = off + n;
	return len - *start >= *vlen;
}

/* version 2's fields, as the format says they must be */
static void
reference_v2(const struct keyref *k)
{
	struct keyref_endpoint	 ep;
	const struct keyref_str	*f[3];
	size_t			 i;
	int			 tls = 0;

	if (k->nendpoints == 0 || k->nendpoints > KEYREF_ENDPOINTS_MAX ||
	    k->socketlen != 0)
		abort();
	for (i = 0; i < k->nendpoints; i++) {
		if (keyref_endpoint_parse(k->endpoints[i].s,
		    k->endpoints[i].len, &ep) != NULL)
			abort();
		if (ep.kind == KEYREF_EP_TLS) {
			tls = 1;
			if (ep.port == 0 || ep.hostlen == 0)
				abort();
		} else if (ep.pathlen == 0 || ep.path[0] != '/' ||
		    ep.pathlen > KEYREF_SOCKET_MAX)
			abort();
	}
	f[0] = &k->tls_certificate;
	f[1] = &k->tls_key;
	f[2] = &k->tls_ca;
	for (i = 0; i < 3; i++)
		if (f[i]->len > 0 && (!tls || f[i]->s[0] != '/' ||
		    memchr(f[i]->s, '\0', f[i]->len) != NULL))
			abort();
}

static void
reference(uint8_t *buf, size_t len, int fix)
{
	struct keyref	 k;
	enum keyref_err	 e;
	uint8_t		*out;
	size_t		 off, l, so, sl;

	/* magic(7) version(1) key_id(32) name<1> socket<2> spki<2> ... */
	if (fix && vec(buf, len, 40, 1, &off, &l) &&
	    vec(buf, len, off + l, 2, &off, &l) &&
	    vec(buf, len, off + l, 2, &so, &sl))
		keyref_key_id(buf + so, sl, buf + 8);
	e = keyref_decode(buf, len, &k);
	if (keyref_strerror(e) == NULL)
		abort();
	if (e != KEYREF_OK)
		return;
	if (keyref_len(&k) != len || k.spkilen == 0 ||
	    (k.socketlen > 0 && k.socket[0] != '/'))
		abort();
	if (buf[7] == KEYREF_VERSION_EP)
		reference_v2(&k);
	else if (k.nendpoints != 0)
		abort();
	if ((out = malloc(len)) == NULL)
		abort();
	if (keyref_encode(&k, out, len) != len || memcmp(out, buf, len) != 0 ||
	    keyref_encode(&k, out, len - 1) != 0)
		abort();
	free(out);
}

static void
keyinfo(uint8_t *buf, size_t len, int fix)
{
	struct edge_keyinfo	 ki;
	const uint8_t		*c, *cert;
	size_t			 cl, certlen, total, off, l, so, sl;

	/* key_id(32) kind(1) bits(2) group(2) ops(1) name<1> spki<2> ... */
	if (fix && vec(buf, len, 38, 1, &off, &l) &&
	    vec(buf, len, off + l, 2, &so, &sl))
		keyref_key_id(buf + so, sl, buf);
	if (edge_keyinfo_decode(buf, len, &ki) == -1)
		return;
	if (memcmp(ki.key_id, buf, 32) != 0 || ki.kind != buf[32] ||
	    ki.bits != num(buf + 33, 2) || ki.group != num(buf + 35, 2) ||
	    ki.operations != buf[37] || ki.namelen != buf[38] ||
	    (const uint8_t *)ki.name != buf + 39 || ki.spkilen == 0 ||
	    ki.spki != buf + 39 + ki.namelen + 2 ||
	    ki.chain + ki.chainlen != buf + len)
		abort();
	c = ki.chain;
	cl = ki.chainlen;
	total = 0;
	while (edge_chain_next(&c, &cl, &cert, &certlen) == 1) {
		if (certlen == 0 || cert != c - certlen)
			abort();
		total += 3 + certlen;
	}
	if (cl != 0 || total != ki.chainlen)
		abort();
}

static void
oplist(const uint8_t *data, size_t len)
{
	struct keyref_endpoint	 ep;
	struct lc_error		 e;
	char			*s, *buf, *d, *d2;
	size_t			 n, i, j;
	int			 ntls, tls = 0;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	if (lc_endpoints_split(s, &buf, &n, &ntls, &e) == -1) {
		if (buf != NULL || e.msg[0] == '\0' || e.result == LC_OK)
			abort();
		free(s);
		return;
	}
	if (n == 0 || n > LC_MAX_ENDPOINTS)
		abort();
	for (d = buf, i = 0; i < n; i++, d += strlen(d) + 1) {
		if (keyref_endpoint_parse(d, strlen(d), &ep) != NULL)
			abort();
		tls += ep.kind == KEYREF_EP_TLS;
		for (d2 = buf, j = 0; j < i; j++, d2 += strlen(d2) + 1)
			if (strcmp(d, d2) == 0)
				abort();
	}
	if (tls != ntls)
		abort();
	free(buf);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*buf;

	if (size < 1)
		return 0;
	/* a copy of its own, so that reading past it is caught */
	if ((buf = malloc(size - 1 + 1)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	if (data[0] == 'L')
		oplist(buf, size - 1);
	else if (data[0] & 1)
		keyinfo(buf, size - 1, data[0] & 2);
	else
		reference(buf, size - 1, data[0] & 2);
	free(buf);
	return 0;
}
