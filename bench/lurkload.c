/*
 * lurkload: a load generator for lurkd's edge sign_tls13 operation.
 *
 *	lurkload -s socket -n keyname -S scheme [-c connections]
 *	    [-d depth] [-t seconds] [-w warm-up seconds] [-V verify]
 *	lurkload -s socket -r request [-c connections] [-d depth] ...
 *
 * With -r, the request is a whole LURK message from a file (the drafts'
 * tls12 and tls13 operations, bench/run writes them), sent again and
 * again under new ids; an answer must be success with a payload.
 *	lurkload -T host:port -C cert -K key -A ca ... (either form)
 *
 * With -T, over TLS 1.3 to a listen on tls listener, with the client
 * certificate cert and its key, the listener verified against ca; the
 * handshakes are made before the measurement.
 *
 * Looks the key up by name (key_info), opens c connections and keeps d
 * requests outstanding on each (pipelined: every answer is replaced by a
 * new request, all the new requests of a wake-up go out in one write per
 * connection).  Requests carry a TLS 1.3 server CertificateVerify
 * content with a 32-byte hash.  Counts the answers that arrive in the
 * measurement window, and the latency of each (send to receipt).  Every
 * answer must be status success with a non-empty signature<2>; the
 * first V signatures are verified with the key's public key.
 *
 * Prints one line:
 *	ok ops=... secs=... ops_per_s=... mean_us=... p50_us=... p99_us=...
 *	    errors=... verified=... verify_failed=...
 * or "fail reason=..." and exit 1 if it could not run at all.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netdb.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common.h"

#define HDR_LEN		16
#define DESIG_EDGE	192
#define T_KEY_INFO	1
#define T_SIGN_TLS13	2
#define ST_SUCCESS	1
#define MAX_SAMPLES	(4 * 1024 * 1024)
#define INBUF		(256 * 1024)

struct conn {
	int		 fd;
	SSL		*ssl;		/* -T */
	int		 idx;
	uint8_t		*in;
	size_t		 inlen;
	uint8_t		*out;
	size_t		 outlen, outoff, outcap;
	uint64_t	*sent;		/* per slot: send time, 0 = free */
	int		 outstanding;
	int		 wantout;
};

static const char *sockpath, *tlsaddr, *tlscert, *tlskey, *tlsca;
static SSL_CTX	*tlsctx;
static uint8_t	 signreq[HDR_LEN + 32 + 2 + 2 + CV_LEN];
static uint8_t	*req = signreq;
static size_t	 reqlen = sizeof(signreq);
static int	 rawmode;
static uint8_t	 tbs[CV_LEN];
static EVP_PKEY	*pub;
static unsigned	 scheme;
static int	 depth = 1, nverify = 8, verified, verify_failed;
static uint64_t	 errors;
static int	 ep;

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list	 ap;

	printf("fail reason=");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static int
unix_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof(sun.sun_path))
		fail("socket path too long: %s", sockpath);
	strcpy(sun.sun_path, sockpath);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail("cannot connect to lurkd: %s", strerror(errno));
	return fd;
}

/* -T: a TCP connection and a finished TLS 1.3 handshake (blocking) */
static int
tls_connect(SSL **sslp)
{
	struct addrinfo	 hints, *res;
	char		 host[256], *port;
	int		 fd, rc;

	if (strlcpy(host, tlsaddr, sizeof(host)) >= sizeof(host) ||
	    (port = strrchr(host, ':')) == NULL)
		fail("-T host:port: %s", tlsaddr);
	*port++ = '\0';
	if (tlsctx == NULL) {
		if ((tlsctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_set_min_proto_version(tlsctx, TLS1_3_VERSION) != 1 ||
		    SSL_CTX_use_certificate_chain_file(tlsctx, tlscert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tlsctx, tlskey,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_load_verify_locations(tlsctx, tlsca, NULL) != 1)
			fail("TLS client context: %s",
			    ERR_error_string(ERR_get_error(), NULL));
		SSL_CTX_set_verify(tlsctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_mode(tlsctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		fail("%s: %s", tlsaddr, gai_strerror(rc));
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || connect(fd, res->ai_addr, res->ai_addrlen) == -1)
		fail("cannot connect to %s: %s", tlsaddr, strerror(errno));
	freeaddrinfo(res);
	if ((*sslp = SSL_new(tlsctx)) == NULL || SSL_set_fd(*sslp, fd) != 1 ||
	    SSL_connect(*sslp) != 1)
		fail("TLS handshake with %s: %s", tlsaddr,
		    ERR_error_string(ERR_get_error(), NULL));
	return fd;
}

static int
xconnect(SSL **sslp)
{
	*sslp = NULL;
	return tlsaddr != NULL ? tls_connect(sslp) : unix_connect();
}

/* read or write on fd, or its TLS: as read(2), write(2); EAGAIN too */
static ssize_t
xio(int fd, SSL *ssl, void *p, size_t len, int wr)
{
	size_t	 n;
	int	 e;

	if (ssl == NULL)
		return wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
	if ((wr ? SSL_write_ex(ssl, p, len, &n) :
	    SSL_read_ex(ssl, p, len, &n)) == 1)
		return n;
	e = SSL_get_error(ssl, 0);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = EPROTO;
	return -1;
}

static int
read_full(int fd, SSL *ssl, uint8_t *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = xio(fd, ssl, p, len, 0)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* key_info by name: the key id and the public key */
static void
key_info(const char *name, uint8_t key_id[32])
{
	uint8_t		 q[HDR_LEN + 2 + 255], h[HDR_LEN], *p;
	const uint8_t	*s;
	size_t		 nlen = strlen(name), plen, off;
	SSL		*ssl;
	int		 fd;

	if (nlen == 0 || nlen > 255)
		fail("bad key name %s", name);
	fd = xconnect(&ssl);
	q[0] = DESIG_EDGE;
	q[1] = 1;
	q[2] = T_KEY_INFO;
	q[3] = 0;
	put_be(q + 4, 1, 8);
	put_be(q + 12, 2 + nlen, 4);
	q[16] = 1;			/* selector: name */
	q[17] = nlen;
	memcpy(q + 18, name, nlen);
	if (xio(fd, ssl, q, HDR_LEN + 2 + nlen, 1) !=
	    (ssize_t)(HDR_LEN + 2 + nlen))
		fail("key_info: write: %s", strerror(errno));
	if (read_full(fd, ssl, h, HDR_LEN) == -1)
		fail("key_info: no answer");
	plen = get_be(h + 12, 4);
	if (h[3] != ST_SUCCESS) {
		fail("key_info: status %u (is the key configured?)", h[3]);
	}
	if (plen < 38 || plen > 1 << 20 || (p = malloc(plen)) == NULL ||
	    read_full(fd, ssl, p, plen) == -1)
		fail("key_info: bad answer");
	SSL_free(ssl);
	close(fd);
	memcpy(key_id, p, 32);
	off = 38;
	if (off + 1 > plen || (off += 1 + p[off]) + 2 > plen)
		fail("key_info: short answer");
	nlen = get_be(p + off, 2);
	off += 2;
	if (off + nlen > plen)
		fail("key_info: short spki");
	s = p + off;
	if ((pub = d2i_PUBKEY(NULL, &s, nlen)) == NULL)
		fail("key_info: cannot decode the spki");
	free(p);
}

static int
verify(const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	const EVP_MD	*md = scheme == 0x0807 ? NULL : EVP_sha256();
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) == 1;
	if (ok && scheme == 0x0804)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	if (ok)
		ok = EVP_DigestVerify(ctx, sig, siglen, tbs, sizeof(tbs)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
queue(struct conn *c, int slot, uint64_t t)
{
	if (c->outcap - c->outlen < reqlen) {
		if (c->outoff > 0) {
			memmove(c->out, c->out + c->outoff,
			    c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outcap - c->outlen < reqlen) {
			c->outcap = c->outcap * 2 + reqlen;
			if ((c->out = realloc(c->out, c->outcap)) == NULL)
				err(1, "realloc");
		}
	}
	put_be(req + 4, (uint64_t)c->idx << 32 | (uint32_t)slot, 8);
	memcpy(c->out + c->outlen, req, reqlen);
	c->outlen += reqlen;
	c->sent[slot] = t;
	c->outstanding++;
}

static int
flush(struct conn *c)
{
	struct epoll_event	 ev;
	ssize_t			 n;
	int			 want;

	while (c->outoff < c->outlen) {
		n = xio(c->fd, c->ssl, c->out + c->outoff,
		    c->outlen - c->outoff, 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		c->outoff += n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	want = c->outlen > 0;
	if (want != c->wantout) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
			err(1, "epoll_ctl");
		c->wantout = want;
	}
	return 0;
}

/* -r: a whole LURK message from a file, sent as it is but for its id */
static void
raw_request(const char *path)
{
	FILE	*f;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (n = ftell(f)) < HDR_LEN || fseek(f, 0, SEEK_SET) == -1 ||
	    (req = malloc(n)) == NULL || fread(req, 1, n, f) != (size_t)n)
		fail("%s: not a LURK message", path);
	fclose(f);
	reqlen = n;
	rawmode = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: lurkload -s socket -n keyname -S scheme | "
	    "-r request [-c connections] [-d depth] [-t seconds] "
	    "[-w warm-up] [-V verify]\n"
	    "       lurkload -T host:port -C cert -K key -A ca ...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev, evs[256];
	struct conn		*conns, *c;
	const char		*keyname = NULL;
	uint8_t			 key_id[32];
	uint32_t		*lat;
	size_t			 nlat = 0;
	uint64_t		 t, tstart, mstart, mend, hard_end, ops = 0;
	uint64_t		 lost = 0;
	double			 secs = 3, warm = 0.5, sum = 0;
	int			 nconns = 1, ch, i, n, stopping = 0;
	long			 outstanding = 0;

	while ((ch = getopt(argc, argv, "A:c:C:d:K:n:r:s:S:t:T:V:w:")) != -1) {
		switch (ch) {
		case 'A':
			tlsca = optarg;
			break;
		case 'C':
			tlscert = optarg;
			break;
		case 'K':
			tlskey = optarg;
			break;
		case 'T':
			tlsaddr = optarg;
			break;
		case 'r':
			raw_request(optarg);
			break;
		case 'c':
			nconns = atoi(optarg);
			break;
		case 'd':
			depth = atoi(optarg);
			break;
		case 'n':
			keyname = optarg;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 'S':
			scheme = strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'V':
			nverify = atoi(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if ((sockpath == NULL) == (tlsaddr == NULL) || (tlsaddr != NULL &&
	    (tlscert == NULL || tlskey == NULL || tlsca == NULL)) ||
	    (!rawmode && (keyname == NULL || scheme == 0)) ||
	    nconns < 1 || nconns > 4096 || depth < 1 || depth > 4096 ||
	    secs <= 0 || warm < 0)
		usage();
	if ((lat = calloc(MAX_SAMPLES, sizeof(*lat))) == NULL)
		err(1, "calloc");

	if (!rawmode) {
		key_info(keyname, key_id);
		cv_content(tbs, 1);
		req[0] = DESIG_EDGE;
		req[1] = 1;
		req[2] = T_SIGN_TLS13;
		req[3] = 0;
		put_be(req + 12, reqlen - HDR_LEN, 4);
		memcpy(req + 16, key_id, 32);
		put_be(req + 48, scheme, 2);
		put_be(req + 50, CV_LEN, 2);
		memcpy(req + 52, tbs, CV_LEN);
	}

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if ((conns = calloc(nconns, sizeof(*conns))) == NULL)
		err(1, "calloc");
	for (i = 0; i < nconns; i++) {
		c = &conns[i];
		c->idx = i;
		c->fd = xconnect(&c->ssl);
		if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1)
			err(1, "fcntl");
		if ((c->in = malloc(INBUF)) == NULL ||
		    (c->sent = calloc(depth, sizeof(*c->sent))) == NULL)
			err(1, "malloc");
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			err(1, "epoll_ctl");
	}

	tstart = now_ns();
	mstart = tstart + (uint64_t)(warm * 1e9);
	mend = mstart + (uint64_t)(secs * 1e9);
	hard_end = mend + 5000000000ULL;
	for (i = 0; i < nconns; i++) {
		int	 s;

		for (s = 0; s < depth; s++)
			queue(&conns[i], s, now_ns());
		outstanding += depth;
		if (flush(&conns[i]) == -1)
			fail("send: %s", strerror(errno));
	}

	for (;;) {
		t = now_ns();
		if (t >= mend)
			stopping = 1;
		if (stopping && outstanding == 0)
			break;
		if (t >= hard_end) {
			lost = outstanding;
			break;
		}
		if ((n = epoll_wait(ep, evs, 256, 100)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			ssize_t	 r;
			size_t	 off = 0;

			c = evs[i].data.ptr;
			if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				goto out;
 again:
			off = 0;
			r = xio(c->fd, c->ssl, c->in + c->inlen,
			    INBUF - c->inlen, 0);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				goto out;
			if (r <= 0)
				fail("lurkd closed a connection: %s",
				    r == 0 ? "EOF" : strerror(errno));
			c->inlen += r;
			t = now_ns();
			if (t >= mend)
				stopping = 1;
			while (c->inlen - off >= HDR_LEN) {
				const uint8_t	*h = c->in + off;
				uint64_t	 id = get_be(h + 4, 8);
				size_t		 plen = get_be(h + 12, 4);
				int		 slot = (uint32_t)id;

				if (plen > INBUF - HDR_LEN)
					fail("absurd response length");
				if (c->inlen - off < HDR_LEN + plen)
					break;
				if ((id >> 32) != (uint64_t)c->idx ||
				    slot < 0 || slot >= depth ||
				    c->sent[slot] == 0)
					fail("response with an unknown id");
				if (rawmode ? h[0] != req[0] ||
				    h[3] != ST_SUCCESS || plen == 0 :
				    h[0] != DESIG_EDGE || h[3] != ST_SUCCESS ||
				    plen < 3 || get_be(h + 16, 2) !=
				    plen - 2) {
					if (errors++ < 5)
						fprintf(stderr, "lurkload: "
						    "answer status %u, "
						    "payload %zu bytes\n",
						    h[3], plen);
				} else if (!rawmode && verified +
				    verify_failed < nverify) {
					if (verify(h + 18, plen - 2))
						verified++;
					else
						verify_failed++;
				}
				if (t >= mstart && t < mend) {
					uint64_t	 l = t - c->sent[slot];

					if (nlat < MAX_SAMPLES)
						lat[nlat++] = l;
					sum += l;
					ops++;
				}
				c->sent[slot] = 0;
				c->outstanding--;
				outstanding--;
				off += HDR_LEN + plen;
				if (!stopping) {
					queue(c, slot, t);
					outstanding++;
				}
			}
			if (off > 0) {
				memmove(c->in, c->in + off, c->inlen - off);
				c->inlen -= off;
			}
 out:
			if (flush(c) == -1)
				fail("send: %s", strerror(errno));
			/* what TLS decrypted already, epoll does not see */
			if (c->ssl != NULL && SSL_pending(c->ssl) > 0 &&
			    c->inlen < INBUF)
				goto again;
		}
	}

	sort_u32(lat, nlat);
	printf("ok conns=%d depth=%d ops=%llu secs=%.3f ops_per_s=%.1f "
	    "mean_us=%.2f p50_us=%.2f p99_us=%.2f errors=%llu lost=%llu "
	    "verified=%d verify_failed=%d\n", nconns, depth,
	    (unsigned long long)ops, secs, ops / secs,
	    ops ? sum / ops / 1e3 : 0, pct_sorted(lat, nlat, 0.50) / 1e3,
	    pct_sorted(lat, nlat, 0.99) / 1e3, (unsigned long long)errors,
	    (unsigned long long)lost, verified, verify_failed);
	return 0;
}
