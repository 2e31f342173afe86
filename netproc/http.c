/*
 * listen on http: metrics and health for Prometheus and Kubernetes,
 * served by netproc (control.c says why there).  GET /metrics (the
 * Prometheus text format 0.0.4), GET /livez (netproc answers), GET
 * /readyz (ready: every process is, so the keys are loaded, and every
 * listener accepts); any other path is 404, any other method 405.
 *
 * A responder this small needs no HTTP library, but it reads bytes from
 * the network like the rest of netproc: the request (line and headers,
 * no body) must fit in HTTP_REQ_MAX bytes and arrive within
 * HTTP_TIMEOUT seconds, or the connection gets an error or is closed;
 * HTTP/1.0 and 1.1, one request a connection (Connection: close); at
 * most HTTP_CONNS_MAX connections.  http_parse() is a pure function
 * over the bytes read so far (regress/fuzz/fuzz_http.c).
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "netproc.h"

#define HTTP_CONNS_MAX		16
#define HTTP_TIMEOUT		10	/* s for the whole exchange */
#define HTTP_LINGER		2	/* s to drain after the answer */
#define HTTP_METRICS_MAX	(64 * 1024 * 1024)

enum http_state {
	HTTP_READING,
	HTTP_WAIT_STATUS,	/* /metrics: for the parent's status */
	HTTP_WRITING,
	HTTP_LINGERING,		/* answered: read what is left, then close */
};

struct httpconn {
	struct evtag		 tag;		/* first: epoll data.ptr */
	int			 fd;
	enum http_state		 state;
	char			 in[HTTP_REQ_MAX];
	size_t			 inlen;
	struct http_req		 req;
	struct textbuf		 out;
	size_t			 outoff;
	uint64_t		 want_seq;
	time_t			 since;		/* accepted */
	time_t			 waiting;	/* for the status, since */
	time_t			 lingering;	/* since */
	uint32_t		 events;
	TAILQ_ENTRY(httpconn)	 entry;
};

static TAILQ_HEAD(, httpconn)	 httpconns =
				    TAILQ_HEAD_INITIALIZER(httpconns);
static size_t			 nhttp;

static const char *
reason_phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

/* Visible ASCII, and for header values blanks too. */
static int
visible(const char *p, size_t len, int blanks)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((p[i] <= 0x20 || p[i] >= 0x7f) &&
		    !(blanks && (p[i] == ' ' || p[i] == '\t')))
			return 0;
	return 1;
}

/* Does a header line name this field (case-insensitive)? */
static int
header_is(const char *line, size_t len, const char *name)
{
	size_t	 n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/*
 * Parse the request in buf[0..len): 0 while it is not complete yet,
 * else the HTTP status to answer with, req filled for 200.  Every line
 * ends with CRLF or LF; the request line is METHOD SP TARGET SP
 * HTTP/1.0 or HTTP/1.1; header lines are "name: value" of visible
 * ASCII, no continuation lines, no body (Content-Length 0 at most, no
 * Transfer-Encoding).  What does not fit in HTTP_REQ_MAX bytes is 431.
 */
int
http_parse(const char *buf, size_t len, struct http_req *req)
{
	const char	*p = buf, *end = buf + len, *nl, *sp1, *sp2, *q;
	size_t		 ll, plen, vlen;
	int		 first = 1;

	memset(req, 0, sizeof(*req));
	req->minor = 1;
	for (;;) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return len >= HTTP_REQ_MAX ? 431 : 0;
		ll = nl - p;
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (memchr(p, '\r', ll) != NULL)
			return 400;	/* a CR only before the LF */
		if (first) {
			/* METHOD SP TARGET SP HTTP/1.x */
			if ((sp1 = memchr(p, ' ', ll)) == NULL ||
			    (sp2 = memchr(sp1 + 1, ' ', p + ll - sp1 - 1)) ==
			    NULL || sp1 == p || sp2 == sp1 + 1 ||
			    !visible(p, sp1 - p, 0) ||
			    !visible(sp1 + 1, sp2 - sp1 - 1, 0))
				return 400;
			vlen = p + ll - sp2 - 1;
			if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
			    (sp2[8] != '0' && sp2[8] != '1'))
				return vlen > 5 &&
				    memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 :
				    400;
			req->minor = sp2[8] - '0';
			req->get = sp1 - p == 3 && memcmp(p, "GET", 3) == 0;
			/* the path, without a query */
			plen = sp2 - sp1 - 1;
			if ((q = memchr(sp1 + 1, '?', plen)) != NULL)
				plen = q - sp1 - 1;
			if (sp1[1] != '/')
				req->route = HTTP_NONE;
			else if (plen == 8 && memcmp(sp1 + 1, "/metrics", 8) ==
			    0)
				req->route = HTTP_METRICS;
			else if (plen == 6 && memcmp(sp1 + 1, "/livez", 6) ==
			    0)
				req->route = HTTP_LIVEZ;
			else if (plen == 7 && memcmp(sp1 + 1, "/readyz", 7) ==
			    0)
				req->route = HTTP_READYZ;
			first = 0;
		} else if (ll == 0) {
			/* the end of the headers */
			if (!req->get)
				return 405;
			return req->route == HTTP_NONE ? 404 : 200;
		} else {
			if (p[0] == ' ' || p[0] == '\t' ||
			    (q = memchr(p, ':', ll)) == NULL || q == p ||
			    !visible(p, q - p, 0) ||
			    !visible(q + 1, p + ll - q - 1, 1))
				return 400;
			if (header_is(p, ll, "transfer-encoding"))
				return 400;
			if (header_is(p, ll, "content-length")) {
				for (q++; q < p + ll && (*q == ' ' ||
				    *q == '\t'); q++)
					;
				if (q == p + ll || !(*q == '0' && (q + 1 ==
				    p + ll || q[1] == ' ' || q[1] == '\t')))
					return 400;
			}
		}
		p = nl + 1;
	}
}

size_t
http_count(void)
{
	return nhttp;
}

static void
http_close(struct httpconn *h)
{
	TAILQ_REMOVE(&httpconns, h, entry);
	nhttp--;
	close(h->fd);
	tb_free(&h->out);
	free(h);
}

static void
http_events(struct httpconn *h, uint32_t want)
{
	if (want != h->events) {
		h->events = want;
		netproc_ep_mod(h->fd, want, h);
	}
}

/* The answer, whole, in h->out; then write it. */
static void
respond(struct httpconn *h, int code, const char *type, const char *body,
    size_t blen)
{
	np->stats.http_requests++;
	stats_http(code);
	tb_free(&h->out);
	tb_init(&h->out, HTTP_METRICS_MAX + 1024);
	tb_printf(&h->out, "HTTP/1.%d %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", h->req.minor, code,
	    reason_phrase(code), type, blen,
	    code == 405 ? "Allow: GET\r\n" : "");
	tb_printf(&h->out, "%.*s", (int)blen, body);
	h->state = HTTP_WRITING;
	h->outoff = 0;
}

static void
respond_text(struct httpconn *h, int code, const char *text)
{
	respond(h, code, "text/plain; charset=utf-8", text, strlen(text));
}

static void
respond_metrics(struct httpconn *h)
{
	struct textbuf	 tb;

	tb_init(&tb, HTTP_METRICS_MAX);
	stats_metrics(&tb);
	if (tb.full)
		respond_text(h, 503, "out of memory for the metrics\n");
	else
		respond(h, 200, "text/plain; version=0.0.4; charset=utf-8",
		    tb.p, tb.len);
	tb_free(&tb);
}

/* What the request asked for, now that it is whole. */
static void
answer(struct httpconn *h, int code)
{
	char	 msg[256];
	int	 ok;

	if (code != 200) {
		snprintf(msg, sizeof(msg), "%d %s\n", code,
		    reason_phrase(code));
		respond_text(h, code, msg);
		return;
	}
	switch (h->req.route) {
	case HTTP_METRICS:
		/* with the parent's latest: its log, its reloads */
		h->state = HTTP_WAIT_STATUS;
		h->want_seq = np->status_seq + 1;
		h->waiting = monotime();
		netproc_ask_status();
		break;
	case HTTP_LIVEZ:
		respond_text(h, 200, "ok\n");
		break;
	case HTTP_READYZ:
		ok = netproc_healthy(msg, sizeof(msg) - 1);
		strlcat(msg, "\n", sizeof(msg));
		respond_text(h, ok ? 200 : 503, msg);
		break;
	default:
		respond_text(h, 404, "404 Not Found\n");
		break;
	}
}

void
http_accept(struct listener *l)
{
	struct httpconn	*h;
	int		 fd, i;

	for (i = 0; i < 16; i++) {
		if ((fd = accept4(l->tag.fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				netproc_pause_accept();
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("http: accept");
			return;
		}
		if (nhttp >= HTTP_CONNS_MAX ||
		    (h = calloc(1, sizeof(*h))) == NULL) {
			close(fd);
			continue;
		}
		h->tag.kind = EV_HTTP;
		h->tag.fd = fd;
		h->fd = fd;
		h->since = monotime();
		h->events = EPOLLIN;
		TAILQ_INSERT_TAIL(&httpconns, h, entry);
		nhttp++;
		netproc_ep_add(fd, h->events, h);
	}
}

/* Write what the peer takes; once all is written, linger. */
static void
http_write(struct httpconn *h)
{
	ssize_t	 n;

	while (h->outoff < h->out.len) {
		n = send(h->fd, h->out.p + h->outoff, h->out.len - h->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				http_events(h, EPOLLOUT);
				return;
			}
			http_close(h);
			return;
		}
		h->outoff += n;
	}
	/*
	 * Closing with unread input would reset the connection and might
	 * cost the peer the end of the answer: say we are done, and read
	 * until the peer is done too (or HTTP_LINGER seconds).
	 */
	tb_free(&h->out);
	shutdown(h->fd, SHUT_WR);
	h->state = HTTP_LINGERING;
	h->lingering = monotime();
	http_events(h, EPOLLIN);
}

void
http_event(struct httpconn *h, uint32_t events)
{
	char	 junk[512];
	ssize_t	 n;
	int	 code;

	switch (h->state) {
	case HTTP_READING:
		if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			return;
		n = recv(h->fd, h->in + h->inlen, sizeof(h->in) - h->inlen,
		    0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			http_close(h);
			return;
		}
		h->inlen += n;
		if ((code = http_parse(h->in, h->inlen, &h->req)) == 0)
			return;
		answer(h, code);
		if (h->state == HTTP_WRITING)
			http_write(h);
		else
			http_events(h, 0);
		break;
	case HTTP_WAIT_STATUS:
		if (events & (EPOLLHUP | EPOLLERR))
			http_close(h);
		break;
	case HTTP_WRITING:
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			http_write(h);
		break;
	case HTTP_LINGERING:
		n = recv(h->fd, junk, sizeof(junk), 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			http_close(h);
		break;
	}
}

/* The parent's status came in: the metrics that waited for it. */
void
http_status_in(void)
{
	struct httpconn	*h, *next;

	for (h = TAILQ_FIRST(&httpconns); h != NULL; h = next) {
		next = TAILQ_NEXT(h, entry);
		if (h->state != HTTP_WAIT_STATUS ||
		    np->status_seq < h->want_seq)
			continue;
		respond_metrics(h);
		http_write(h);
	}
}

/* Once a second: requests too slow, waits too long, lingering done. */
void
http_tick(void)
{
	struct httpconn	*h, *next;
	time_t		 now = monotime();

	for (h = TAILQ_FIRST(&httpconns); h != NULL; h = next) {
		next = TAILQ_NEXT(h, entry);
		if (h->state == HTTP_WAIT_STATUS && now - h->waiting >= 1) {
			/* the parent is busy: what it said last */
			respond_metrics(h);
			http_write(h);
		} else if ((h->state == HTTP_LINGERING &&
		    now - h->lingering >= HTTP_LINGER) ||
		    (h->state != HTTP_LINGERING &&
		    now - h->since >= HTTP_TIMEOUT))
			http_close(h);
	}
}
