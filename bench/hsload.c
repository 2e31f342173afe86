/*
 * hsload: full TLS 1.3 handshakes per second against a server on
 * 127.0.0.1.  K connections at once, each a new TCP connection and a new
 * SSL object (no session resumption, no tickets kept); a connection is
 * closed (RST, so no TIME_WAIT piles up) as soon as its handshake is
 * complete, and another one is started.  TLS 1.3 only, X25519, AES-128-GCM,
 * and the server's signature pinned by the client's signature_algorithms.
 *
 *	hsload -p port [-c concurrency] [-j threads] [-t seconds]
 *	    [-w warm-up] [-s sigalgs]
 *
 * Prints one line:
 *	ok hs=... secs=... hs_per_s=... p50_ms=... p99_ms=... errors=...
 *	    resumed=... hs_total=... sigalg=...
 * hs counts the handshakes completed in the measurement window, hs_total
 * all of them (warm-up and tail included), resumed ones are not counted
 * (there should be none).
 * A completed handshake means the server's CertificateVerify arrived and
 * verified against its certificate's key (libssl always checks it).
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common.h"

#define MAX_SAMPLES	(1024 * 1024)

struct hconn {
	int		 fd;
	SSL		*ssl;
	int		 active;	/* a handshake under way */
	uint64_t	 t0;
	uint32_t	 events;
};

struct worker {
	pthread_t	 tid;
	int		 nconns;
	SSL_CTX		*ctx;
	int		 ep;
	struct hconn	*conns;
	uint64_t	 hs, hs_total, errors, resumed;
	uint32_t	*lat;
	size_t		 nlat, latcap;
	char		 sigalg[64];
	char		 lasterr[256];
};

static struct sockaddr_in addr;
static const char *sigalgs;
static uint64_t	 mstart, mend;

static int
set_events(struct worker *w, struct hconn *h, uint32_t events, int add)
{
	struct epoll_event	 ev;

	if (!add && h->events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = h;
	h->events = events;
	return epoll_ctl(w->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, h->fd,
	    &ev);
}

/*
 * Close the connection.  After a good handshake the SSL object is kept
 * for the next one (SSL_clear: a new connection, no session kept), which
 * spares the client OpenSSL 3.0's costly SSL_new.
 */
static void
hs_close(struct hconn *h, int keep)
{
	struct linger	 lg = { 1, 0 };

	if (h->ssl != NULL && (!keep || SSL_clear(h->ssl) != 1)) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	h->active = 0;
	if (h->fd != -1) {
		setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(h->fd);
	}
	h->fd = -1;
}

static void	hs_step(struct worker *, struct hconn *);

static void
hs_error(struct worker *w, struct hconn *h, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();

	w->errors++;
	snprintf(w->lasterr, sizeof(w->lasterr), "%s: %s", what,
	    e ? ERR_error_string(e, NULL) : strerror(errno));
	ERR_clear_error();
	hs_close(h, 0);
	/* do not spin against a server that is not there */
	usleep(2000);
}

static void
hs_start(struct worker *w, struct hconn *h)
{
	int	 one = 1;

	h->t0 = now_ns();
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		hs_error(w, h, "socket");
		return;
	}
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(h->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
	    errno != EINPROGRESS) {
		hs_error(w, h, "connect");
		return;
	}
	if ((h->ssl == NULL && (h->ssl = SSL_new(w->ctx)) == NULL) ||
	    SSL_set_fd(h->ssl, h->fd) != 1) {
		hs_error(w, h, "SSL_new");
		return;
	}
	SSL_set_connect_state(h->ssl);
	h->active = 1;
	if (set_events(w, h, EPOLLOUT, 1) == -1) {
		hs_error(w, h, "epoll_ctl");
		return;
	}
	hs_step(w, h);
}

static void
hs_step(struct worker *w, struct hconn *h)
{
	uint64_t	 t;
	int		 r, nid;

	for (;;) {
		if ((r = SSL_do_handshake(h->ssl)) == 1)
			break;
		switch (SSL_get_error(h->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			if (set_events(w, h, EPOLLIN, 0) == -1)
				hs_error(w, h, "epoll_ctl");
			return;
		case SSL_ERROR_WANT_WRITE:
			if (set_events(w, h, EPOLLOUT, 0) == -1)
				hs_error(w, h, "epoll_ctl");
			return;
		default:
			/* the loop in worker_main starts it again */
			hs_error(w, h, "handshake");
			return;
		}
	}
	t = now_ns();
	if (w->sigalg[0] == '\0' &&
	    SSL_get_peer_signature_type_nid(h->ssl, &nid) == 1) {
		int	 mdnid = 0;

		SSL_get_peer_signature_nid(h->ssl, &mdnid);
		snprintf(w->sigalg, sizeof(w->sigalg), "%s+%s", OBJ_nid2sn(nid),
		    mdnid ? OBJ_nid2sn(mdnid) : "none");
	}
	w->hs_total++;
	if (SSL_session_reused(h->ssl))
		w->resumed++;
	else if (t >= mstart && t < mend) {
		w->hs++;
		if (w->nlat < w->latcap)
			w->lat[w->nlat++] = (uint32_t)((t - h->t0) / 1000);
	}
	hs_close(h, 1);
	if (t < mend)
		hs_start(w, h);
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct epoll_event	 evs[256];
	int			 i, n;

	for (i = 0; i < w->nconns; i++) {
		w->conns[i].fd = -1;
		hs_start(w, &w->conns[i]);
	}
	while (now_ns() < mend) {
		if ((n = epoll_wait(w->ep, evs, 256, 50)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			struct hconn	*h = evs[i].data.ptr;

			if (h->active)
				hs_step(w, h);
		}
		/* connections lost to errors start again */
		for (i = 0; i < w->nconns; i++)
			if (w->conns[i].fd == -1 && now_ns() < mend)
				hs_start(w, &w->conns[i]);
	}
	for (i = 0; i < w->nconns; i++)
		hs_close(&w->conns[i], 0);
	return NULL;
}

static SSL_CTX *
client_ctx(void)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519") != 1 ||
	    (sigalgs != NULL && SSL_CTX_set1_sigalgs_list(ctx, sigalgs) != 1))
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;
}

int
main(int argc, char *argv[])
{
	struct worker	*ws;
	uint32_t	*all;
	uint64_t	 hs = 0, hs_total = 0, errors = 0, resumed = 0, t0;
	double		 secs = 3, warm = 0.5;
	size_t		 nall = 0;
	const char	*sa = "";
	int		 port = 0, conc = 16, nthreads = 1, ch, i;

	while ((ch = getopt(argc, argv, "c:j:p:s:t:w:")) != -1) {
		switch (ch) {
		case 'c':
			conc = atoi(optarg);
			break;
		case 'j':
			nthreads = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 's':
			sigalgs = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: hsload -p port [-c concurrency] "
			    "[-j threads] [-t seconds] [-w warm-up] "
			    "[-s sigalgs]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || conc < 1 || nthreads < 1 ||
	    nthreads > 64 || conc < nthreads || secs <= 0 || warm < 0)
		errx(2, "bad arguments");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if ((ws = calloc(nthreads, sizeof(*ws))) == NULL ||
	    (all = calloc(MAX_SAMPLES, sizeof(*all))) == NULL)
		err(1, "calloc");
	t0 = now_ns();
	mstart = t0 + (uint64_t)(warm * 1e9);
	mend = mstart + (uint64_t)(secs * 1e9);
	for (i = 0; i < nthreads; i++) {
		struct worker	*w = &ws[i];

		w->nconns = conc / nthreads + (i < conc % nthreads);
		if ((w->ctx = client_ctx()) == NULL) {
			ERR_print_errors_fp(stderr);
			printf("fail reason=client SSL_CTX (sigalgs %s?)\n",
			    sigalgs ? sigalgs : "-");
			return 1;
		}
		w->latcap = MAX_SAMPLES / nthreads;
		if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (w->conns = calloc(w->nconns, sizeof(*w->conns))) ==
		    NULL || (w->lat = calloc(MAX_SAMPLES / nthreads,
		    sizeof(*w->lat))) == NULL)
			err(1, "setup");
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
			errx(1, "pthread_create");
	}
	for (i = 0; i < nthreads; i++) {
		struct worker	*w = &ws[i];
		size_t		 k;

		pthread_join(w->tid, NULL);
		hs += w->hs;
		errors += w->errors;
		resumed += w->resumed;
		hs_total += w->hs_total;
		for (k = 0; k < w->nlat; k++)
			all[nall++] = w->lat[k];
		if (w->sigalg[0] != '\0')
			sa = w->sigalg;
		if (w->errors > 0)
			fprintf(stderr, "hsload: %llu errors, last: %s\n",
			    (unsigned long long)w->errors, w->lasterr);
	}
	sort_u32(all, nall);
	printf("ok hs=%llu secs=%.3f hs_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
	    "errors=%llu resumed=%llu hs_total=%llu sigalg=%s\n",
	    (unsigned long long)hs, secs, hs / secs, pct_sorted(all, nall, 0.5) / 1e3,
	    pct_sorted(all, nall, 0.99) / 1e3, (unsigned long long)errors,
	    (unsigned long long)resumed, (unsigned long long)hs_total,
	    sa[0] ? sa : "-");
	fflush(stdout);
	/* all freed: a sanitizer build reports no leak, and loses no output */
	for (i = 0; i < nthreads; i++) {
		close(ws[i].ep);
		free(ws[i].conns);
		free(ws[i].lat);
		SSL_CTX_free(ws[i].ctx);
	}
	free(ws);
	free(all);
	return hs > 0 ? 0 : 1;
}
