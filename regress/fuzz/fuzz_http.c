/*
 * fuzz_http: bytes of an HTTP request as listen on http reads them
 * (netproc/http.c): http_parse() alone, then the connection through
 * http_accept() and http_event() over a real socket, in pieces.
 *
 * Input: seed(1) request...
 *   seed   how the request is cut into reads, whether the peer stops
 *          writing half-way, and whether the parent's status comes in
 *          for /metrics or the wait times out
 *
 * What must hold, besides no ASan/UBSan report and no fatal():
 *  - http_parse() answers 0 (more bytes needed) only below HTTP_REQ_MAX
 *    bytes and 431 only at it; otherwise one of the statuses http.c
 *    knows; a decision, once made on a prefix, is the same on the
 *    whole request (more bytes never change it);
 *  - 200 only for a GET of /metrics, /livez or /readyz (with or
 *    without a query) in HTTP/1.0 or 1.1, as an independent reading of
 *    the request line says;
 *  - the peer reads one whole response: a status line of its version
 *    with the status http_parse() gave, Content-Length equal to the
 *    body's length, Connection: close; nothing after it;
 *  - every connection is closed in the end, no descriptor left.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurkd.h"
#include "netproc.h"
#include "npstubs.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct netproc		*np;
static struct listener	 lst;
static struct sockaddr_un sun;

size_t
client_count(void)
{
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((np = calloc(1, sizeof(*np))) == NULL)
		abort();
	np->ready = 1;
	np->nkeyprocs = 1;
	np->timeout_message = 10;
	np->listeners = &lst;
	np->nlisteners = 1;
	lst.tag.kind = EV_HTTP_LISTEN;
	lst.tag.fd = np_listen_abstract("http", &sun);
	strlcpy(lst.kind, "http", sizeof(lst.kind));
	return 0;
}

/* Does the request line, read the simple way, ask for one of the paths? */
static int
oracle_route(const char *buf, size_t len)
{
	static const char *const paths[] = { "/metrics", "/livez",
	    "/readyz" };
	const char	*nl = memchr(buf, '\n', len), *t;
	size_t		 ll, tl, i, n;

	if (nl == NULL)
		return 0;
	ll = nl - buf;
	if (ll > 0 && buf[ll - 1] == '\r')
		ll--;
	/* "GET " target " HTTP/1.x", the target without blanks */
	if (ll < 4 + 1 + 9 || memcmp(buf, "GET ", 4) != 0 ||
	    memcmp(buf + ll - 9, " HTTP/1.", 8) != 0 ||
	    (buf[ll - 1] != '0' && buf[ll - 1] != '1'))
		return 0;
	t = buf + 4;
	tl = ll - 4 - 9;
	for (i = 0; i < tl; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 0;
	for (i = 0; i < 3; i++) {
		n = strlen(paths[i]);
		if (tl >= n && memcmp(t, paths[i], n) == 0 &&
		    (tl == n || t[n] == '?'))
			return 1;
	}
	return 0;
}

static void
check_parse(const uint8_t *data, size_t size, uint32_t *rng)
{
	struct http_req	 r, r2;
	size_t		 len = size < HTTP_REQ_MAX ? size : HTTP_REQ_MAX, k;
	int		 st, st2, i;

	st = http_parse((const char *)data, len, &r);
	if (st == 0 && len >= HTTP_REQ_MAX)
		abort();
	if (st == 431 && len < HTTP_REQ_MAX)
		abort();
	if (st != 0 && st != 200 && st != 400 && st != 404 && st != 405 &&
	    st != 431 && st != 505)
		abort();
	if (st == 200 && (!r.get || r.route == HTTP_NONE ||
	    !oracle_route((const char *)data, len)))
		abort();
	/* a decision on a prefix stands */
	for (i = 0; i < 8 && len > 0; i++) {
		*rng = *rng * 1103515245 + 12345;
		k = *rng % (len + 1);
		st2 = http_parse((const char *)data, k, &r2);
		if (st2 != 0 && st2 != 431 && st2 != st)
			abort();
		if (st2 == 200 && (r2.route != r.route ||
		    r2.minor != r.minor))
			abort();
	}
}

/* The response the peer read: one, whole, with the status given. */
static void
check_response(const char *resp, size_t n, int st, int minor)
{
	char		 want[32];
	const char	*end, *cl;
	size_t		 blen;

	snprintf(want, sizeof(want), "HTTP/1.%d %d ", minor, st);
	if (n < strlen(want) || memcmp(resp, want, strlen(want)) != 0)
		abort();
	if ((end = memmem(resp, n, "\r\n\r\n", 4)) == NULL ||
	    (cl = memmem(resp, end - resp, "\r\nContent-Length: ", 18)) ==
	    NULL || memmem(resp, end - resp, "\r\nConnection: close\r\n",
	    21) == NULL)
		abort();
	blen = strtoul(cl + 18, NULL, 10);
	if ((size_t)(resp + n - (end + 4)) != blen)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpconn	*h;
	struct http_req	 r;
	char		 resp[1 << 16];
	size_t		 off = 0, chunk, n = 0, len;
	ssize_t		 k;
	uint32_t	 rng;
	int		 fd, st, i;

	if (size < 1)
		return 0;
	rng = data[0] | 0x100;
	data++;
	size--;
	check_parse(data, size, &rng);

	/* the same bytes through a connection */
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	np_last_ptr = NULL;
	http_accept(&lst);
	if ((h = np_last_ptr) == NULL || http_count() != 1)
		abort();
	len = size < HTTP_REQ_MAX ? size : HTTP_REQ_MAX;
	st = http_parse((const char *)data, len, &r);
	np_asked = 0;
	for (i = 0; off < size && http_count() > 0 && i < 64; i++) {
		rng = rng * 1103515245 + 12345;
		chunk = 1 + (rng >> 8) % 1500 + size / 32;
		if (chunk > size - off)
			chunk = size - off;
		if ((k = send(fd, data + off, chunk, MSG_NOSIGNAL |
		    MSG_DONTWAIT)) <= 0)
			break;
		off += k;
		http_event(h, EPOLLIN);
	}
	if (http_count() > 0 && off >= size && st == 0) {
		/* the peer stops writing: nothing more will come */
		shutdown(fd, SHUT_WR);
		http_event(h, EPOLLIN);
		st = -1;	/* closed without an answer */
	}
	if (http_count() > 0 && np_asked) {
		if (rng & 0x10000) {
			np->status_seq++;
			http_status_in();
		} else {
			np_now += 1;
			http_tick();
		}
	}
	/* read the answer; then the peer closes, and netproc does too */
	for (;;) {
		k = recv(fd, resp + n, sizeof(resp) - 1 - n, MSG_DONTWAIT);
		if (k > 0) {
			n += k;
			continue;
		}
		if (http_count() == 0 || (k == -1 && errno != EAGAIN))
			break;
		if (n > 0 && memmem(resp, n, "\r\n\r\n", 4) != NULL) {
			shutdown(fd, SHUT_WR);
			http_event(h, EPOLLIN);
			continue;
		}
		/* nothing more comes: the timeouts close it */
		np_now += 11;
		http_tick();
	}
	close(fd);
	if (http_count() != 0) {
		np_now += 11;
		http_tick();
	}
	if (http_count() != 0)
		abort();
	if (st > 0)
		check_response(resp, n, st, r.minor);
	else if (n != 0)
		abort();	/* an answer to nothing */
	return 0;
}
