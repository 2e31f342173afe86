/*
 * Key references and key_info: round trips, and every malformed form
 * refused with its own error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "keyref.h"
#include "regress/test.h"

static const uint8_t spki[] = {	/* any bytes: only their hash matters */
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03,
	0x21, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x01, 0x02,
	0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	0x0d, 0x0e, 0x0f, 0x10,
};

static uint8_t	 buf[8192], buf2[8192];

static size_t
mkref(struct keyref *r, const char *name, const char *sock)
{
	memset(r, 0, sizeof(*r));
	keyref_key_id(spki, sizeof(spki), r->key_id);
	r->name = name;
	r->namelen = strlen(name);
	r->socket = sock;
	r->socketlen = strlen(sock);
	r->spki = spki;
	r->spkilen = sizeof(spki);
	return keyref_encode(r, buf, sizeof(buf));
}

/* offsets in a reference named "www" with socket "/s" */
#define OFF_VERSION	7
#define OFF_KEY_ID	8
#define OFF_NAMELEN	40
#define OFF_NAME	41
#define OFF_SOCKLEN	44
#define OFF_SOCK	46
#define OFF_SPKILEN	48
#define OFF_SPKI	50

static enum keyref_err
mutated(size_t len, size_t off, uint8_t val)
{
	struct keyref	 r;

	memcpy(buf2, buf, len);
	buf2[off] = val;
	return keyref_decode(buf2, len, &r);
}

static void
test_keyref(void)
{
	struct keyref	 r, d;
	char		 longname[300], longsock[200];
	size_t		 len, i;
	int		 all;

	len = mkref(&r, "www", "/s");
	CHECK(len == keyref_len(&r) && len == OFF_SPKI + sizeof(spki),
	    "encode: length of magic, version, key_id and three vectors");
	CHECK(memcmp(buf, "LURKREF\001", 8) == 0, "encode: magic, version 1");
	CHECK(keyref_decode(buf, len, &d) == KEYREF_OK &&
	    memcmp(d.key_id, r.key_id, 32) == 0 && d.namelen == 3 &&
	    memcmp(d.name, "www", 3) == 0 && d.socketlen == 2 &&
	    memcmp(d.socket, "/s", 2) == 0 && d.spkilen == sizeof(spki) &&
	    memcmp(d.spki, spki, sizeof(spki)) == 0,
	    "round trip: key_id, name, socket, spki");

	len = mkref(&r, "", "");
	CHECK(len > 0 && keyref_decode(buf, len, &d) == KEYREF_OK &&
	    d.namelen == 0 && d.socketlen == 0,
	    "round trip: empty name, socket not set");

	memset(longname, 'n', sizeof(longname));
	longname[255] = '\0';
	memset(longsock, 'x', sizeof(longsock));
	longsock[0] = '/';
	longsock[KEYREF_SOCKET_MAX] = '\0';
	len = mkref(&r, longname, longsock);
	CHECK(len > 0 && keyref_decode(buf, len, &d) == KEYREF_OK &&
	    d.namelen == 255 && d.socketlen == KEYREF_SOCKET_MAX,
	    "round trip: 255-byte name, 107-byte socket");

	/* encode refuses what decode would refuse */
	longname[255] = 'n';
	longname[256] = '\0';
	CHECK(mkref(&r, longname, "") == 0, "encode: name over 255 bytes");
	longsock[KEYREF_SOCKET_MAX] = 'x';
	longsock[KEYREF_SOCKET_MAX + 1] = '\0';
	CHECK(mkref(&r, "www", longsock) == 0,
	    "encode: socket too long for sun_path");
	CHECK(mkref(&r, "www", "run/lurk.sock") == 0,
	    "encode: relative socket path");
	mkref(&r, "www", "/s");
	r.name = "w\0w";
	CHECK(keyref_encode(&r, buf, sizeof(buf)) == 0,
	    "encode: NUL in the name");
	mkref(&r, "www", "/s");
	r.spkilen = 0;
	CHECK(keyref_encode(&r, buf, sizeof(buf)) == 0, "encode: empty spki");
	mkref(&r, "www", "/s");
	CHECK(keyref_encode(&r, buf, keyref_len(&r) - 1) == 0,
	    "encode: output buffer one byte short");

	/* decode: every malformation */
	len = mkref(&r, "www", "/s");
	all = 1;
	for (i = 0; i < len; i++)
		if (keyref_decode(buf, i, &d) != KEYREF_ERR_SHORT &&
		    keyref_decode(buf, i, &d) != KEYREF_ERR_SPKI)
			all = 0;
	CHECK(all, "decode: every truncation refused");
	CHECK(keyref_decode(buf, 0, &d) == KEYREF_ERR_SHORT,
	    "decode: empty input");
	CHECK(mutated(len, 0, 'l') == KEYREF_ERR_MAGIC, "decode: bad magic");
	CHECK(mutated(len, OFF_VERSION, 3) == KEYREF_ERR_VERSION,
	    "decode: version 3");
	CHECK(mutated(len, OFF_VERSION, 2) != KEYREF_OK,
	    "decode: a version 1 body marked version 2");
	CHECK(mutated(len, OFF_VERSION, 0) == KEYREF_ERR_VERSION,
	    "decode: version 0");
	CHECK(mutated(len, OFF_KEY_ID + 5, buf[OFF_KEY_ID + 5] ^ 1) ==
	    KEYREF_ERR_KEY_ID, "decode: key_id not SHA-256(spki)");
	CHECK(mutated(len, OFF_SPKI + 20, buf[OFF_SPKI + 20] ^ 0x80) ==
	    KEYREF_ERR_KEY_ID, "decode: spki changed under its key_id");
	CHECK(mutated(len, OFF_NAME + 1, 0) == KEYREF_ERR_NAME,
	    "decode: NUL in the name");
	CHECK(mutated(len, OFF_SOCK, 's') == KEYREF_ERR_SOCKET,
	    "decode: relative socket path");
	CHECK(mutated(len, OFF_SOCK + 1, 0) == KEYREF_ERR_SOCKET,
	    "decode: NUL in the socket path");
	CHECK(mutated(len, OFF_NAMELEN, 200) == KEYREF_ERR_SHORT,
	    "decode: name length past the end");
	CHECK(mutated(len, OFF_SOCKLEN, 0xff) == KEYREF_ERR_SHORT,
	    "decode: socket length past the end");
	CHECK(mutated(len, OFF_SPKILEN + 1, sizeof(spki) + 1) ==
	    KEYREF_ERR_SHORT, "decode: spki length past the end");
	CHECK(mutated(len, OFF_SPKILEN + 1, sizeof(spki) - 1) ==
	    KEYREF_ERR_TRAILING, "decode: spki length short of the end");
	buf[len] = 0;
	CHECK(keyref_decode(buf, len + 1, &d) == KEYREF_ERR_TRAILING,
	    "decode: a trailing byte");

	/* a socket of 108 bytes, written by hand */
	memset(longsock, 'x', sizeof(longsock));
	longsock[0] = '/';
	len = 0;
	memcpy(buf2, "LURKREF\001", 8);
	keyref_key_id(spki, sizeof(spki), buf2 + 8);
	len = 40;
	buf2[len++] = 0;
	buf2[len++] = 0;
	buf2[len++] = KEYREF_SOCKET_MAX + 1;
	memcpy(buf2 + len, longsock, KEYREF_SOCKET_MAX + 1);
	len += KEYREF_SOCKET_MAX + 1;
	buf2[len++] = 0;
	buf2[len++] = sizeof(spki);
	memcpy(buf2 + len, spki, sizeof(spki));
	len += sizeof(spki);
	CHECK(keyref_decode(buf2, len, &d) == KEYREF_ERR_SOCKET,
	    "decode: socket path too long for sun_path");
	buf2[42] = KEYREF_SOCKET_MAX;
	memmove(buf2 + 43 + KEYREF_SOCKET_MAX, buf2 + 44 + KEYREF_SOCKET_MAX,
	    2 + sizeof(spki));
	CHECK(keyref_decode(buf2, len - 1, &d) == KEYREF_OK,
	    "decode: socket path of 107 bytes");

	/* an empty spki cannot match any key_id, but says so first */
	memcpy(buf2, "LURKREF\001", 8);
	memset(buf2 + 8, 0, 32);
	memcpy(buf2 + 40, "\0\0\0\0\0", 5);
	CHECK(keyref_decode(buf2, 45, &d) == KEYREF_ERR_SPKI,
	    "decode: empty spki");
	for (i = KEYREF_OK; i <= KEYREF_ERR_TLSFILE; i++)
		if (strcmp(keyref_strerror(i), "unknown error") == 0)
			break;
	CHECK(i > KEYREF_ERR_TLSFILE, "every error has a message");
}

/* endpoints: what parses, to what, and what does not */
static void
test_endpoints(void)
{
	static const struct {
		const char	*s;
		int		 kind, hosttype;
		const char	*hostpath;
		int		 port;
	} good[] = {
		{ "unix:/run/lurkd/lurk.sock", KEYREF_EP_UNIX, 0,
		    "/run/lurkd/lurk.sock", 0 },
		{ "tls://ks1.example:7443", KEYREF_EP_TLS, KEYREF_HOST_NAME,
		    "ks1.example", 7443 },
		{ "tls://localhost:1", KEYREF_EP_TLS, KEYREF_HOST_NAME,
		    "localhost", 1 },
		{ "tls://a-b.x9.example:65535", KEYREF_EP_TLS,
		    KEYREF_HOST_NAME, "a-b.x9.example", 65535 },
		{ "tls://127.0.0.1:443", KEYREF_EP_TLS, KEYREF_HOST_IPV4,
		    "127.0.0.1", 443 },
		{ "tls://[::1]:7443", KEYREF_EP_TLS, KEYREF_HOST_IPV6, "::1",
		    7443 },
		{ "tls://[2001:db8::5]:80", KEYREF_EP_TLS, KEYREF_HOST_IPV6,
		    "2001:db8::5", 80 },
	};
	static const char *const bad[] = {
		"", "/run/lurk.sock", "unix:", "unix:run/lurk.sock",
		"UNIX:/x", "tcp://h:1", "tls://", "tls://h", "tls://h:",
		"tls://:443", "tls://h:0", "tls://h:65536", "tls://h:08",
		"tls://h:123456", "tls://h:44a", "tls://h:-1", "tls://h:+1",
		"tls://-h.example:1", "tls://h-.example:1", "tls://a..b:1",
		"tls://.a:1", "tls://a.:1", "tls://h_x:1", "tls://h x:1",
		"tls://1.2.3:1", "tls://1.2.3.256:1", "tls://::1:443",
		"tls://[::1:443", "tls://[x::1]:443", "tls://[1.2.3.4]:1",
		"tls://h:1/", "tls://user@h:1",
	};
	struct keyref_endpoint	 ep;
	char			 s[400];
	size_t			 i;
	int			 all = 1;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char	*hp;
		size_t		 hl;

		if (keyref_endpoint_parse(good[i].s, strlen(good[i].s),
		    &ep) != NULL) {
			printf("# refused: %s\n", good[i].s);
			all = 0;
			continue;
		}
		hp = ep.kind == KEYREF_EP_UNIX ? ep.path : ep.host;
		hl = ep.kind == KEYREF_EP_UNIX ? ep.pathlen : ep.hostlen;
		if (ep.kind != good[i].kind ||
		    (ep.kind == KEYREF_EP_TLS &&
		    ep.hosttype != good[i].hosttype) ||
		    hl != strlen(good[i].hostpath) ||
		    memcmp(hp, good[i].hostpath, hl) != 0 ||
		    ep.port != good[i].port) {
			printf("# misparsed: %s\n", good[i].s);
			all = 0;
		}
	}
	CHECK(all, "endpoints: unix:, tls:// with names, IPv4, [IPv6]");
	all = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (keyref_endpoint_parse(bad[i], strlen(bad[i]), &ep) ==
		    NULL) {
			printf("# accepted: \"%s\"\n", bad[i]);
			all = 0;
		}
	CHECK(all, "endpoints: every malformed one refused, with a reason");

	/* lengths: the socket path's limit, a label's, a name's */
	snprintf(s, sizeof(s), "unix:/%0*d", KEYREF_SOCKET_MAX - 1, 0);
	CHECK(keyref_endpoint_parse(s, strlen(s), &ep) == NULL &&
	    ep.pathlen == KEYREF_SOCKET_MAX, "endpoints: unix path of 107 bytes");
	snprintf(s, sizeof(s), "unix:/%0*d", KEYREF_SOCKET_MAX, 0);
	CHECK(keyref_endpoint_parse(s, strlen(s), &ep) != NULL,
	    "endpoints: unix path of 108 bytes refused");
	snprintf(s, sizeof(s), "tls://%0*d.example:1", 63, 0);
	s[6] = 'a';
	CHECK(keyref_endpoint_parse(s, strlen(s), &ep) == NULL,
	    "endpoints: a 63-byte label");
	snprintf(s, sizeof(s), "tls://%0*d.example:1", 64, 0);
	s[6] = 'a';
	CHECK(keyref_endpoint_parse(s, strlen(s), &ep) != NULL,
	    "endpoints: a 64-byte label refused");
	CHECK(keyref_endpoint_parse("tls://h:1\0", 10, &ep) != NULL &&
	    keyref_endpoint_parse("unix:/a\0b", 9, &ep) != NULL,
	    "endpoints: a NUL byte refused");
	CHECK(keyref_endpoint_parse("tls://h:12", 9, &ep) == NULL &&
	    ep.port == 1, "endpoints: parsed within the length given");
}

static size_t
mkref2(struct keyref *r, const char *const *eps, size_t n, const char *cert,
    const char *key, const char *ca)
{
	size_t	 i;

	mkref(r, "www", "");
	/* n may be over the array (encode must refuse it): filled up to it */
	r->nendpoints = n;
	for (i = 0; i < n && i < KEYREF_ENDPOINTS_MAX; i++) {
		r->endpoints[i].s = eps[i];
		r->endpoints[i].len = strlen(eps[i]);
	}
	r->tls_certificate.s = cert;
	r->tls_certificate.len = strlen(cert);
	r->tls_key.s = key;
	r->tls_key.len = strlen(key);
	r->tls_ca.s = ca;
	r->tls_ca.len = strlen(ca);
	return keyref_encode(r, buf, sizeof(buf));
}

/* version 2: endpoints and TLS files */
static void
test_keyref_v2(void)
{
	static const char *const eps[] = { "unix:/run/lurkd/lurk.sock",
	    "tls://ks1.example:7443", "tls://[::1]:7443" };
	static const char *const nine[] = { "unix:/1", "unix:/2", "unix:/3",
	    "unix:/4", "unix:/5", "unix:/6", "unix:/7", "unix:/8",
	    "unix:/9" };
	static const char *const dup[] = { "unix:/1", "tls://h:1",
	    "unix:/1" };
	static const char *const badep[] = { "unix:/1", "tls://h:0" };
	static const char *const unixonly[] = { "unix:/1" };
	struct keyref	 r, d;
	size_t		 len, i, tail;
	char		 longpath[KEYREF_PATH_MAX + 2];
	int		 all, ok;

	len = mkref2(&r, eps, 3, "/etc/edge.crt", "/etc/edge.key",
	    "/etc/ca.crt");
	CHECK(len == keyref_len(&r) && len > 0 && buf[OFF_VERSION] == 2,
	    "v2: encoded as version 2 when it has endpoints");
	ok = keyref_decode(buf, len, &d) == KEYREF_OK && d.nendpoints == 3 &&
	    d.socketlen == 0 && d.tls_certificate.len == 13 &&
	    memcmp(d.tls_certificate.s, "/etc/edge.crt", 13) == 0 &&
	    d.tls_key.len == 13 && memcmp(d.tls_key.s, "/etc/edge.key", 13) ==
	    0 && d.tls_ca.len == 11 && memcmp(d.tls_ca.s, "/etc/ca.crt", 11) ==
	    0;
	for (i = 0; ok && i < 3; i++)
		ok = d.endpoints[i].len == strlen(eps[i]) &&
		    memcmp(d.endpoints[i].s, eps[i], d.endpoints[i].len) == 0;
	CHECK(ok, "v2: round trip: endpoints in order, TLS files");
	CHECK(keyref_encode(&d, buf2, sizeof(buf2)) == len &&
	    memcmp(buf, buf2, len) == 0, "v2: decoded encodes back the same");

	len = mkref2(&r, unixonly, 1, "", "", "");
	CHECK(len > 0 && keyref_decode(buf, len, &d) == KEYREF_OK &&
	    d.nendpoints == 1 && d.tls_ca.len == 0,
	    "v2: one unix: endpoint, no TLS files");
	len = mkref(&r, "www", "/s");
	CHECK(buf[OFF_VERSION] == 1 && keyref_decode(buf, len, &d) ==
	    KEYREF_OK && d.nendpoints == 0,
	    "v1: still written and read without endpoints");

	/* encode refuses what decode would refuse */
	CHECK(mkref2(&r, nine, 9, "", "", "") == 0, "v2 encode: 9 endpoints");
	CHECK(mkref2(&r, dup, 3, "", "", "") == 0,
	    "v2 encode: an endpoint twice");
	CHECK(mkref2(&r, badep, 2, "", "", "") == 0,
	    "v2 encode: a malformed endpoint");
	CHECK(mkref2(&r, unixonly, 1, "/c", "", "") == 0,
	    "v2 encode: TLS files without a tls:// endpoint");
	CHECK(mkref2(&r, eps, 3, "c.pem", "", "") == 0,
	    "v2 encode: relative TLS file");
	memset(longpath, 'p', sizeof(longpath));
	longpath[0] = '/';
	longpath[KEYREF_PATH_MAX] = '\0';
	CHECK(mkref2(&r, eps, 3, "", "", longpath) > 0,
	    "v2 encode: TLS file of 4095 bytes");
	longpath[KEYREF_PATH_MAX] = 'p';
	longpath[KEYREF_PATH_MAX + 1] = '\0';
	CHECK(mkref2(&r, eps, 3, "", "", longpath) == 0,
	    "v2 encode: TLS file of 4096 bytes");
	mkref2(&r, eps, 3, "", "", "");
	r.socket = "/s";
	r.socketlen = 2;
	CHECK(keyref_encode(&r, buf, sizeof(buf)) == 0,
	    "v2 encode: a socket beside endpoints");
	mkref(&r, "www", "");
	r.tls_ca.s = "/ca";
	r.tls_ca.len = 3;
	CHECK(keyref_encode(&r, buf, sizeof(buf)) == 0,
	    "v1 encode: TLS files without endpoints");

	/* decode: truncations, trailing bytes, each field's checks */
	len = mkref2(&r, eps, 3, "/c", "/k", "/a");
	all = 1;
	for (i = 0; i < len; i++)
		if (keyref_decode(buf, i, &d) == KEYREF_OK)
			all = 0;
	CHECK(all, "v2 decode: every truncation refused");
	buf[len] = 0;
	CHECK(keyref_decode(buf, len + 1, &d) == KEYREF_ERR_TRAILING,
	    "v2 decode: a trailing byte");
	/* the endpoints<2> vector starts after spki */
	tail = OFF_SPKI - 2 + sizeof(spki);
	CHECK(mutated(len, tail + 2 + 1 + 5, 'x') == KEYREF_ERR_ENDPOINT,
	    "v2 decode: a malformed endpoint (unix:x...)");
	CHECK(mutated(len, tail + 1, buf[tail + 1] + 1) != KEYREF_OK,
	    "v2 decode: endpoints length off by one");
	CHECK(mutated(len, tail + 2, 0) != KEYREF_OK,
	    "v2 decode: an empty endpoint");
	CHECK(mutated(len, len - 2, 'a') == KEYREF_ERR_TLSFILE,
	    "v2 decode: relative TLS file");
	CHECK(mutated(len, len - 1, 0) == KEYREF_ERR_TLSFILE,
	    "v2 decode: NUL in a TLS file");

	/* by hand: no endpoints; a socket beside them */
	len = mkref(&r, "www", "");
	buf[OFF_VERSION] = 2;
	memcpy(buf + len, "\0\0\0\0\0\0\0\0", 8);
	CHECK(keyref_decode(buf, len + 8, &d) == KEYREF_ERR_ENDPOINT,
	    "v2 decode: no endpoint");
	len = mkref2(&r, unixonly, 1, "", "", "");
	memcpy(buf2, buf, OFF_NAME + 3);
	i = OFF_NAME + 3;
	buf2[i++] = 0;
	buf2[i++] = 2;
	memcpy(buf2 + i, "/s", 2);
	i += 2;
	memcpy(buf2 + i, buf + OFF_NAME + 5, len - (OFF_NAME + 5));
	CHECK(keyref_decode(buf2, i + len - (OFF_NAME + 5), &d) ==
	    KEYREF_ERR_ENDPOINT, "v2 decode: a socket beside endpoints");
}

/* key_info: key_id kind bits group ops name<1> spki<2> chain<3> */
static size_t
mkinfo(uint8_t *b, uint8_t kind, const uint8_t *chain, size_t chainlen)
{
	size_t	 n = 0;

	keyref_key_id(spki, sizeof(spki), b);
	n = 32;
	b[n++] = kind;
	b[n++] = 0x01;
	b[n++] = 0x00;		/* 256 bits */
	b[n++] = 0;
	b[n++] = 0;		/* group */
	b[n++] = EDGE_OP_SIGN_TLS13 | EDGE_OP_SIGN_TLS12;
	b[n++] = 3;
	memcpy(b + n, "www", 3);
	n += 3;
	b[n++] = 0;
	b[n++] = sizeof(spki);
	memcpy(b + n, spki, sizeof(spki));
	n += sizeof(spki);
	b[n++] = chainlen >> 16;
	b[n++] = chainlen >> 8;
	b[n++] = chainlen;
	if (chainlen > 0)
		memcpy(b + n, chain, chainlen);
	return n + chainlen;
}

static void
test_keyinfo(void)
{
	static const uint8_t chain[] = { 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc };
	static const uint8_t badchain[] = { 0, 0, 3, 0xaa, 0xbb };
	static const uint8_t emptycert[] = { 0, 0, 0 };
	struct edge_keyinfo	 ki;
	const uint8_t		*p, *cert;
	size_t			 len, left, certlen, i;
	int			 all, n = 0;

	len = mkinfo(buf, EDGE_KIND_ED25519, chain, sizeof(chain));
	CHECK(edge_keyinfo_decode(buf, len, &ki) == 0 &&
	    ki.kind == EDGE_KIND_ED25519 && ki.bits == 256 &&
	    ki.operations == 3 && ki.namelen == 3 &&
	    ki.spkilen == sizeof(spki) && ki.chainlen == sizeof(chain),
	    "key_info: decoded");
	p = ki.chain;
	left = ki.chainlen;
	while (edge_chain_next(&p, &left, &cert, &certlen) == 1)
		n++;
	CHECK(n == 2 && left == 0, "key_info: two certificates in the chain");
	all = 1;
	for (i = 0; i < len; i++)
		if (edge_keyinfo_decode(buf, i, &ki) != -1)
			all = 0;
	CHECK(all, "key_info: every truncation refused");
	CHECK(edge_keyinfo_decode(buf, len + 1, &ki) == -1,
	    "key_info: a trailing byte refused");
	buf[32] = EDGE_KIND_ED448 + 1;
	CHECK(edge_keyinfo_decode(buf, len, &ki) == -1,
	    "key_info: unknown kind refused");
	len = mkinfo(buf, EDGE_KIND_EC, chain, sizeof(chain));
	buf[3] ^= 1;
	CHECK(edge_keyinfo_decode(buf, len, &ki) == -1,
	    "key_info: key_id not SHA-256(spki) refused");
	len = mkinfo(buf, EDGE_KIND_EC, badchain, sizeof(badchain));
	CHECK(edge_keyinfo_decode(buf, len, &ki) == -1,
	    "key_info: certificate past the chain's end refused");
	len = mkinfo(buf, EDGE_KIND_EC, emptycert, sizeof(emptycert));
	CHECK(edge_keyinfo_decode(buf, len, &ki) == -1,
	    "key_info: empty certificate refused");
	len = mkinfo(buf, EDGE_KIND_EC, NULL, 0);
	CHECK(edge_keyinfo_decode(buf, len, &ki) == 0 && ki.chainlen == 0,
	    "key_info: empty chain accepted");
}

int
main(void)
{
	test_keyref();
	test_endpoints();
	test_keyref_v2();
	test_keyinfo();
	TEST_EXIT();
}
