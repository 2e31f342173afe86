/*
 * The edge client (client.h).
 *
 * Pipelining across threads: a thread registers a waiter for its request
 * id, writes its request, and waits.  Whoever finds nobody reading
 * becomes the reader, reads what arrives and hands every complete
 * response to the waiter of its id, then steps down; the others sleep on
 * the condition variable.  Responses may therefore come in any order.
 *
 * A socket (struct lc_sock) is reference-counted by the requests using
 * it; one that broke is shut down at once (so everybody using it learns
 * quickly) and closed when its last user lets go.  The next request
 * makes a new one: one thread connects, without the lock, while the
 * others wait for it.
 *
 * Restarts: a lurkd restart removes the socket (ENOENT), leaves a socket
 * nobody listens on (ECONNREFUSED) or closes connections with requests in
 * flight.  Connecting is retried, with a short backoff, until the
 * request's deadline, and a request whose connection broke is sent again
 * on a new one (every edge operation is idempotent: lurkd keeps no state
 * between requests), at most LC_MAX_RESENDS times.  Once lurkd has been
 * unreachable for longer than a whole timeout it is down, not restarting:
 * each request then tries once and fails at once, until a connection
 * works again, so that a server does not stall a whole timeout on every
 * handshake of a long outage.
 *
 * Endpoints (struct lc_ep) are shared by every list that names them:
 * one connection per endpoint and process, and one idea of whether it
 * is up.  tls:// connections serialise their calls into the SSL object
 * (lc_sock.smu): a reader waits in poll() without it, so writers are
 * never held up by a reader.
 *
 * Failover, for a list of endpoints (lc_conn with more than one):
 *  - A request goes to the first endpoint not known to be down.  Each
 *    endpoint tried gets a share of the time left: all of it divided by
 *    the number of endpoints still worth trying, itself included; the
 *    last one left may wait for a restarting key server as a lone one
 *    would, the others try to connect once.
 *  - Every new connection to an endpoint of a list starts with a ping,
 *    so a key server that accepts but does not answer is caught before
 *    a request is lost to it.
 *  - An endpoint is down when connecting or the ping fails, when a
 *    request on it times out (its connection is then closed, so the
 *    other requests waiting on it move on at once), when an answer is
 *    malformed, or when a connection made for the request breaks under
 *    it.  A connection that was already open and breaks may just have
 *    been closed as idle: the request is sent once more on a new one to
 *    the same endpoint, which finds out.
 *  - A request lost on an endpoint (sent, then no answer) is sent again
 *    on the next one, once: after it is lost on two endpoints it fails.
 *    Requests whose endpoint was down before they were sent move on
 *    without counting.
 *  - Failback: a down endpoint is tried again, by one request at a time,
 *    LC_FAILBACK_MIN_MS after it failed, then after twice as long each
 *    time it fails again, up to LC_FAILBACK_MAX_MS; the other requests
 *    meanwhile go to the next endpoint.  The request that tries gets at
 *    most a quarter of the timeout there before it moves on.  The first
 *    request answered by a down endpoint makes it up again, and the
 *    requests go back to the list's order.  No thread of our own pings
 *    in the background: the TLS server's workers are all there is.
 *  - When every endpoint is down the request tries each, in order.
 *  - Answers with an error status are answers: a key server that says
 *    unauthorized or unknown_key is up, and another is not asked.
 * All within the request's one deadline: a handshake never waits longer
 * than the timeout, whatever the number of endpoints.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lurk.h"
#include "keyref.h"
#include "client.h"
#include "tlsclient.h"

struct lc_waiter {
	TAILQ_ENTRY(lc_waiter)	 entry;
	uint64_t		 id;
	uint8_t			 type;
	int			 done;	/* W_* */
	int			 err;	/* W_BROKEN: errno, 0 for EOF */
	uint8_t			 status;
	uint8_t			*resp;
	size_t			 resplen;
};
/* a whole response fits, and a read's worth more */
#define RBUF_MAX	(LURK_HDR_LEN + LC_MAX_RESPONSE + 4096)

#define W_WAITING	0
#define W_ANSWERED	1
#define W_BROKEN	2	/* the connection broke: worth a retry */
#define W_PROTO		3	/* a response that breaks the protocol */

#define LC_MAX_RESENDS	3	/* sends of one request after the first */
#define BACKOFF_MIN_MS	5	/* between connection attempts */
#define BACKOFF_MAX_MS	50
#define LIST_MAX_LOST	2	/* endpoints a request may be lost on */

struct lc_sock {
	TAILQ_ENTRY(lc_sock)	 entry;
	int			 fd;
	SSL			*ssl;		/* tls:// */
	pthread_mutex_t		 smu;		/* calls into ssl */
	uint64_t		 gen;		/* which connection of its ep */
	int64_t			 born;		/* when it was made (ms) */
	int			 refs;
	int			 dead;
	int			 dead_err;
	int			 reading;
	int			 lenmode;	/* LURK_LEN_*, found or set */
	uint8_t			*rbuf;		/* owned by the reader */
	size_t			 rlen, rcap;
	TAILQ_HEAD(, lc_waiter)	 waiters;
};

/* one endpoint, shared by every list that names it */
struct lc_ep {
	TAILQ_ENTRY(lc_ep)	 entry;
	char			*name;	/* unix:/path, tls://host:port */
	int			 kind;	/* KEYREF_EP_* */
	char			*path;	/* unix */
	char			*host;	/* tls, without brackets */
	char			 port[6];
	int			 hosttype;
	struct lc_tls		*tls;
	int			 lenmode;	/* LURK_LEN_*, LC_LEN_AUTO */
	pid_t			 pid;
	pthread_mutex_t		 mu;	/* everything below */
	pthread_mutex_t		 wmu;	/* one writer at a time */
	pthread_cond_t		 cv;
	struct lc_sock		*cur;
	int			 connecting;	/* a thread is, without mu */
	int64_t			 unreachable;	/* since (ms), 0: reachable */
	TAILQ_HEAD(, lc_sock)	 socks;
	uint64_t		 nextid;
	uint64_t		 gens;
	/* failover (lists only) */
	int64_t			 down;		/* since (ms), 0: up */
	int64_t			 retry_at;	/* when to try it again */
	int			 backoff;	/* ms until then */
	int			 probing;	/* a request is trying it */
};

/* a list of endpoints, in order of preference; never freed */
struct lc_conn {
	TAILQ_ENTRY(lc_conn)	 entry;
	size_t			 nep;
	struct lc_ep		*ep[LC_MAX_ENDPOINTS];
};

static pthread_mutex_t		 conns_mu = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, lc_conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
static TAILQ_HEAD(, lc_ep)	 eps = TAILQ_HEAD_INITIALIZER(eps);
static pthread_once_t		 atfork_once = PTHREAD_ONCE_INIT;

static void
seterr(struct lc_error *e, enum lc_result r, const char *fmt, ...)
    __attribute__((__format__(printf, 3, 4)));

static void
seterr(struct lc_error *e, enum lc_result r, const char *fmt, ...)
{
	va_list	 ap;

	e->result = r;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int64_t
lc_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
lc_left_ms(int64_t deadline)
{
	int64_t	 d = deadline - lc_now_ms();

	return d < 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
}
#define now_ms		lc_now_ms
#define left_ms		lc_left_ms

/* a CLOCK_MONOTONIC deadline (ms) as a timespec for cv */
static void
deadline_ts(int64_t deadline, struct timespec *ts)
{
	ts->tv_sec = deadline / 1000;
	ts->tv_nsec = (deadline % 1000) * 1000000;
}

static void
cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t	 ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

/*
 * forked: in a child, where the SSL object is the parent's copy and a
 * lock in OpenSSL that a thread of the parent held at the fork stays
 * held: its memory is left as it is, only the descriptor closed.
 */
static void
sock_free(struct lc_ep *c, struct lc_sock *s, int forked)
{
	TAILQ_REMOVE(&c->socks, s, entry);
	if (s->ssl != NULL && !forked)
		SSL_free(s->ssl);
	if (s->fd != -1)
		close(s->fd);
	if (s->rbuf != NULL) {
		explicit_bzero(s->rbuf, s->rcap);
		free(s->rbuf);
	}
	if (!forked)
		pthread_mutex_destroy(&s->smu);
	free(s);
}

/*
 * In a new process: the sockets are the parent's (the child holds copies
 * of their descriptors, closed here; the parent's stay open) and so are
 * any waiters, whose threads do not exist here.
 */
static void
conn_forget(struct lc_ep *c)
{
	struct lc_sock	*s;

	while ((s = TAILQ_FIRST(&c->socks)) != NULL)
		sock_free(c, s, 1);
	c->cur = NULL;
	c->connecting = 0;	/* the parent's connecting thread */
	c->unreachable = 0;
	c->probing = 0;		/* the parent's probing request */
	c->pid = getpid();
}

static void
atfork_prepare(void)
{
	struct lc_ep	*c;

	lc_tls_atfork_prepare();
	pthread_mutex_lock(&conns_mu);
	TAILQ_FOREACH(c, &eps, entry)
		pthread_mutex_lock(&c->mu);
}

static void
atfork_parent(void)
{
	struct lc_ep	*c;

	TAILQ_FOREACH(c, &eps, entry)
		pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&conns_mu);
	lc_tls_atfork_parent();
}

static void
atfork_child(void)
{
	struct lc_ep	*c;

	TAILQ_FOREACH(c, &eps, entry) {
		conn_forget(c);
		/* a writer of the parent may have held it */
		pthread_mutex_init(&c->wmu, NULL);
		cond_init(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&conns_mu);
	lc_tls_atfork_child();
}

static void
atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/*
 * An operator's list of endpoints (client.h) split into canonical
 * endpoints, NUL-terminated one after the other in a buffer of their
 * own (*out, free it), *n of them, *ntls tls:// ones.  A value that
 * starts with '/' is one socket path, whole, as a socket always was: it
 * may hold spaces and commas.  -1 and e if an endpoint is malformed,
 * if there are none, too many, or one twice.
 */
int
lc_endpoints_split(const char *spec, char **out, size_t *n, int *ntls,
    struct lc_error *e)
{
	struct keyref_endpoint	 ep;
	const char		*p = spec, *s, *d, *why;
	char			*o, one[KEYREF_ENDPOINT_MAX + 1];
	size_t			 len, i, olen;

	memset(e, 0, sizeof(*e));
	*n = 0;
	*ntls = 0;
	olen = strlen(spec) + 6 * LC_MAX_ENDPOINTS + 1;
	if ((*out = o = calloc(1, olen)) == NULL) {
		seterr(e, LC_ENOMEM, "out of memory");
		return -1;
	}
	for (;;) {
		if (spec[0] == '/') {
			if (*n == 1)
				break;
			s = spec;
			len = strlen(spec);
		} else {
			p += strspn(p, " \t,");
			if (*p == '\0')
				break;
			s = p;
			len = strcspn(p, " \t,");
			p += len;
		}
		if (*n == LC_MAX_ENDPOINTS) {
			seterr(e, LC_EINVAL, "more than %d endpoints",
			    LC_MAX_ENDPOINTS);
			goto fail;
		}
		if (s[0] == '/' && len + 5 < sizeof(one))
			snprintf(one, sizeof(one), "unix:%.*s", (int)len, s);
		else if (s[0] != '/' && len < sizeof(one))
			snprintf(one, sizeof(one), "%.*s", (int)len, s);
		else
			one[0] = '\0';
		if (one[0] == '\0' || (why = keyref_endpoint_parse(one,
		    strlen(one), &ep)) != NULL) {
			seterr(e, LC_EINVAL, "endpoint \"%.*s\": %s",
			    len > 120 ? 120 : (int)len, s, one[0] == '\0' ?
			    "too long" : why);
			goto fail;
		}
		for (d = *out, i = 0; i < *n; i++, d += strlen(d) + 1)
			if (strcmp(d, one) == 0) {
				seterr(e, LC_EINVAL, "endpoint %s given twice",
				    one);
				goto fail;
			}
		if (ep.kind == KEYREF_EP_TLS)
			(*ntls)++;
		o = stpcpy(o, one) + 1;
		(*n)++;
	}
	if (*n == 0) {
		seterr(e, LC_EINVAL, "no endpoint");
		goto fail;
	}
	return 0;
 fail:
	free(*out);
	*out = NULL;
	return -1;
}

/* with conns_mu held: the endpoint (valid, canonical), made if new */
static struct lc_ep *
ep_get(const char *name, size_t len, int lenmode, struct lc_tls *tls)
{
	struct keyref_endpoint	 kep;
	struct lc_ep		*c;

	if (keyref_endpoint_parse(name, len, &kep) != NULL)
		return NULL;
	if (kep.kind != KEYREF_EP_TLS)
		tls = NULL;
	TAILQ_FOREACH(c, &eps, entry)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0 &&
		    c->lenmode == lenmode && c->tls == tls)
			return c;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->name = strndup(name, len)) == NULL)
		goto fail;
	c->kind = kep.kind;
	if (kep.kind == KEYREF_EP_UNIX) {
		if ((c->path = strndup(kep.path, kep.pathlen)) == NULL)
			goto fail;
	} else {
		if ((c->host = strndup(kep.host, kep.hostlen)) == NULL)
			goto fail;
		snprintf(c->port, sizeof(c->port), "%u", kep.port);
		c->hosttype = kep.hosttype;
	}
	c->tls = tls;
	c->lenmode = lenmode;
	c->pid = getpid();
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->wmu, NULL);
	cond_init(&c->cv);
	TAILQ_INIT(&c->socks);
	c->nextid = 1;
	TAILQ_INSERT_TAIL(&eps, c, entry);
	return c;
 fail:
	if (c != NULL) {
		free(c->name);
		free(c->path);
		free(c);
	}
	return NULL;
}

/* how an endpoint is named in messages: a socket by its path */
static const char *
ep_disp(const struct lc_ep *c)
{
	return c->kind == KEYREF_EP_UNIX ? c->path : c->name;
}

/*
 * The list of these endpoints (canonical, valid), *ntls of them tls://,
 * with a framing (LURK_LEN_PAYLOAD, LURK_LEN_MESSAGE, or LC_LEN_AUTO to
 * ask lurkd) and, for tls:// endpoints, the edge's TLS files, loaded
 * now: all three are then needed.  Made on first use, never freed;
 * nothing connects yet.  NULL and e if the files are wrong.
 */
static struct lc_conn *
conn_open(const struct keyref_str *names, size_t n, int ntls, int lenmode,
    const struct lc_tls_files *tf, struct lc_error *e)
{
	struct lc_conn	*c = NULL;
	struct lc_tls	*tls = NULL;
	struct lc_ep	*ep[LC_MAX_ENDPOINTS];
	char		 why[256];
	size_t		 i;

	memset(e, 0, sizeof(*e));
	if (lenmode != LC_LEN_AUTO && lenmode != LURK_LEN_PAYLOAD &&
	    lenmode != LURK_LEN_MESSAGE) {
		seterr(e, LC_EINVAL, "unknown length framing %d", lenmode);
		return NULL;
	}
	if (n == 0 || n > LC_MAX_ENDPOINTS) {
		seterr(e, LC_EINVAL, "%zu endpoints: 1 to %d wanted", n,
		    LC_MAX_ENDPOINTS);
		return NULL;
	}
	if (ntls > 0 && (tls = lc_tls_get(tf ? tf->certificate : NULL,
	    tf ? tf->key : NULL, tf ? tf->ca : NULL, why,
	    sizeof(why))) == NULL) {
		seterr(e, LC_ETLS, "%s", why);
		return NULL;
	}
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&conns_mu);
	for (i = 0; i < n; i++)
		if ((ep[i] = ep_get(names[i].s, names[i].len, lenmode,
		    tls)) == NULL) {
			pthread_mutex_unlock(&conns_mu);
			seterr(e, LC_ENOMEM, "out of memory");
			return NULL;
		}
	/* the same endpoints in the same order: the same list */
	TAILQ_FOREACH(c, &conns, entry)
		if (c->nep == n && memcmp(c->ep, ep, n * sizeof(ep[0])) == 0)
			goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&conns_mu);
		seterr(e, LC_ENOMEM, "out of memory");
		return NULL;
	}
	c->nep = n;
	memcpy(c->ep, ep, n * sizeof(ep[0]));
	TAILQ_INSERT_TAIL(&conns, c, entry);
 out:
	pthread_mutex_unlock(&conns_mu);
	return c;
}

/* The list an operator wrote (lc_endpoints_split): see conn_open. */
struct lc_conn *
lc_conn_open(const char *spec, int lenmode, const struct lc_tls_files *tf,
    struct lc_error *e)
{
	struct keyref_str	 names[LC_MAX_ENDPOINTS];
	struct lc_conn		*c;
	char			*buf, *d;
	size_t			 n, i;
	int			 ntls;

	if (lc_endpoints_split(spec, &buf, &n, &ntls, e) == -1)
		return NULL;
	for (d = buf, i = 0; i < n; i++, d += strlen(d) + 1) {
		names[i].s = d;
		names[i].len = strlen(d);
	}
	c = conn_open(names, n, ntls, lenmode, tf, e);
	free(buf);
	return c;
}

/*
 * The list of a key reference: endpoints as written there, each one
 * checked again here.  See conn_open.
 */
struct lc_conn *
lc_conn_open_list(const struct keyref_str *names, size_t n, int lenmode,
    const struct lc_tls_files *tf, struct lc_error *e)
{
	struct keyref_endpoint	 ep;
	const char		*why;
	size_t			 i;
	int			 ntls = 0;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < n && i < LC_MAX_ENDPOINTS; i++) {
		if ((why = keyref_endpoint_parse(names[i].s, names[i].len,
		    &ep)) != NULL) {
			seterr(e, LC_EINVAL, "endpoint %zu: %s", i + 1, why);
			return NULL;
		}
		if (ep.kind == KEYREF_EP_TLS)
			ntls++;
	}
	return conn_open(names, n, ntls, lenmode, tf, e);
}

struct lc_conn *
lc_conn_get_len(const char *spec, int lenmode)
{
	struct lc_error	 e;

	return lc_conn_open(spec, lenmode, NULL, &e);
}

struct lc_conn *
lc_conn_get(const char *spec)
{
	return lc_conn_get_len(spec, LC_LEN_AUTO);
}

/* the i-th endpoint of the list, canonical; NULL past its end */
const char *
lc_conn_endpoint(const struct lc_conn *c, size_t i)
{
	return i < c->nep ? c->ep[i]->name : NULL;
}

static void
sock_kill(struct lc_ep *c, struct lc_sock *s, int err, int how)
{
	struct lc_waiter	*w;

	if (!s->dead) {
		s->dead = 1;
		s->dead_err = err;
		shutdown(s->fd, SHUT_RDWR);
	}
	TAILQ_FOREACH(w, &s->waiters, entry)
		if (w->done == W_WAITING) {
			w->done = how;
			w->err = err;
		}
	if (c->cur == s)
		c->cur = NULL;
	pthread_cond_broadcast(&c->cv);
}

static void
sock_unref(struct lc_ep *c, struct lc_sock *s)
{
	if (--s->refs == 0 && s->dead)
		sock_free(c, s, 0);
}

static int
wait_fd(int fd, short events, int64_t deadline, int cap)
{
	struct pollfd	 pfd;
	int		 ms = left_ms(deadline);

	if (cap > 0 && ms > cap)
		ms = cap;
	pfd.fd = fd;
	pfd.events = events;
	return poll(&pfd, 1, ms);
}

/* All of buf by the deadline: 0, or -1 and errno. */
static int
sock_send(struct lc_sock *s, const uint8_t *buf, size_t len, int64_t deadline)
{
	ssize_t	 n;
	size_t	 off = 0;
	int	 err;

	while (off < len) {
		if (s->ssl == NULL) {
			n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno != EAGAIN)
				return -1;
			if (n == -1)
				n = LC_TLS_WANT_WRITE;
		} else {
			pthread_mutex_lock(&s->smu);
			n = lc_tls_io(s->ssl, 1, (void *)(uintptr_t)(buf + off),
			    len - off, &err);
			pthread_mutex_unlock(&s->smu);
			if (n == -1) {
				errno = err ? err : EPIPE;
				return -1;
			}
		}
		if (n > 0) {
			off += n;
			continue;
		}
		/* a read a writer waits for is the reader's: look again soon */
		if (wait_fd(s->fd, n == LC_TLS_WANT_READ ? POLLIN : POLLOUT,
		    deadline, n == LC_TLS_WANT_READ ? 10 : 0) == 0 &&
		    left_ms(deadline) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/*
 * What has come, up to len bytes, waiting for it until the deadline:
 * the number of bytes, 0 if none came in time, -1 and errno (0: EOF).
 */
static ssize_t
sock_recv(struct lc_sock *s, uint8_t *buf, size_t len, int64_t deadline)
{
	ssize_t	 n;
	int	 r, err, pending = 0;

	for (;;) {
		if (s->ssl != NULL) {
			pthread_mutex_lock(&s->smu);
			pending = lc_tls_pending(s->ssl);
			pthread_mutex_unlock(&s->smu);
		}
		if (!pending) {
			if ((r = wait_fd(s->fd, POLLIN, deadline, 0)) == 0)
				return 0;
			if (r == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
		}
		if (s->ssl == NULL) {
			n = recv(s->fd, buf, len, 0);
			if (n == 0) {
				errno = 0;	/* EOF */
				return -1;
			}
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			return n;
		}
		pthread_mutex_lock(&s->smu);
		n = lc_tls_io(s->ssl, 0, buf, len, &err);
		pthread_mutex_unlock(&s->smu);
		if (n > 0)
			return n;
		if (n == -1) {
			errno = err;
			return -1;
		}
		/* a record not whole yet, or TLS wants to write first */
		if (n == LC_TLS_WANT_WRITE &&
		    wait_fd(s->fd, POLLOUT, deadline, 0) == 0)
			return 0;
		if (left_ms(deadline) == 0)
			return 0;
	}
}

/* Exactly len bytes by the deadline: 0, or -1 and errno (0: EOF). */
static int
recv_all(struct lc_sock *s, uint8_t *buf, size_t len, int64_t deadline)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		if ((n = sock_recv(s, buf + off, len - off, deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (n == -1)
			return -1;
		off += n;
	}
	return 0;
}

/*
 * The errors of a connection attempt after which lurkd may answer a
 * moment later: what a restart looks like from here.
 */
static int
transient(int err)
{
	switch (err) {
	case ENOENT:		/* socket removed, not yet bound again */
	case ECONNREFUSED:	/* a socket file nobody listens on */
	case EAGAIN:		/* listen backlog full */
	case EACCES:		/* just bound, mode and group not yet set */
	case ECONNRESET:	/* accepted by a lurkd on its way out */
	case EPIPE:
	case 0:			/* the same, seen as EOF */
		return 1;
	}
	return 0;
}

/* a connected, non-blocking socket by the deadline, or -1 and *errp */
static int
connect_fd(int fd, const struct sockaddr *sa, socklen_t salen,
    int64_t deadline, int *errp)
{
	socklen_t	 sl;
	int		 err;

	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return fd;
		if ((err = errno) != EINTR)
			break;
	}
	if (err == EINPROGRESS) {
		if (wait_fd(fd, POLLOUT, deadline, 0) == 1) {
			sl = sizeof(err);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) ==
			    0 && err == 0)
				return fd;
		} else
			err = ETIMEDOUT;
	}
	close(fd);
	*errp = err;
	return -1;
}

/* One attempt: a connected socket, or -1 and *errp. */
static int
connect_unix(const char *path, int64_t deadline, int *errp)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));	/* length checked */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		*errp = errno;
		return -1;
	}
	return connect_fd(fd, (struct sockaddr *)&sun, sizeof(sun), deadline,
	    errp);
}

/*
 * The addresses of host:port by the deadline.  Names are looked up with
 * getaddrinfo_a, which a deadline can cut short: one still running then
 * is left to finish on its own (its memory with it).
 */
static int
resolve(const struct lc_ep *c, int64_t deadline, struct addrinfo **res)
{
	struct {
		struct gaicb	 cb;
		struct addrinfo	 hints;
		char		*host;
		char		 port[6];
	}			*q;
	struct gaicb		*list[1];
	struct addrinfo		 hints;
	struct timespec		 ts;
	int			 r, ms;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (c->hosttype != KEYREF_HOST_NAME) {
		hints.ai_flags |= AI_NUMERICHOST;
		return getaddrinfo(c->host, c->port, &hints, res);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->host = strdup(c->host)) == NULL) {
		free(q);
		return EAI_MEMORY;
	}
	memcpy(q->port, c->port, sizeof(q->port));
	q->hints = hints;
	q->cb.ar_name = q->host;
	q->cb.ar_service = q->port;
	q->cb.ar_request = &q->hints;
	list[0] = &q->cb;
	if ((r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		free(q->host);
		free(q);
		return r;
	}
	while ((r = gai_error(&q->cb)) == EAI_INPROGRESS &&
	    (ms = left_ms(deadline)) > 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (r == EAI_INPROGRESS) {
		switch (gai_cancel(&q->cb)) {
		case EAI_NOTCANCELED:
			return EAI_AGAIN;	/* q is still the resolver's */
		case EAI_ALLDONE:
			r = gai_error(&q->cb);
			break;
		default:
			r = EAI_AGAIN;
			break;
		}
	}
	if (r == 0)
		*res = q->cb.ar_result;
	free(q->host);
	free(q);
	return r;
}

/*
 * A TCP connection to a tls:// endpoint, one address after the other;
 * -1 and *errp, why set if the name did not resolve.
 */
static int
connect_tcp(const struct lc_ep *c, int64_t deadline, int *errp, char *why,
    size_t whylen)
{
	struct addrinfo	*res = NULL, *ai;
	int		 fd = -1, r, one = 1;

	if ((r = resolve(c, deadline, &res)) != 0) {
		*errp = r == EAI_AGAIN ? (left_ms(deadline) ? EAGAIN :
		    ETIMEDOUT) : EHOSTUNREACH;
		snprintf(why, whylen, "%s: %s", c->host, r == EAI_AGAIN &&
		    left_ms(deadline) == 0 ? "no address in time" :
		    gai_strerror(r));
		return -1;
	}
	*errp = EHOSTUNREACH;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if (left_ms(deadline) == 0) {
			*errp = ETIMEDOUT;
			break;
		}
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) == -1) {
			*errp = errno;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fd = connect_fd(fd, ai->ai_addr, ai->ai_addrlen, deadline,
		    errp);
	}
	freeaddrinfo(res);
	return fd;
}

#define PROBE_ERR	(-1)	/* *errp: the connection failed */
#define PROBE_STATUS	(-2)	/* *status: lurkd refused the ping */
#define PROBE_PROTO	(-3)	/* not a LURK server */

/*
 * A ping on a new connection.  In LC_LEN_AUTO it finds the length
 * framing: its length field is 0, as a payload-only count.  A lurkd
 * counting the payload answers with a length of 0 (success) or 4 (an
 * error and its lurk_state).  One counting the whole message must refuse
 * a length below the header's with an invalid_format whose length counts
 * the header too (20), and hangs up.  No other answer is possible: a
 * length of 16 or more means whole messages.  With a framing set, the
 * ping is framed so and must be answered so.  The ping is the lurk
 * extension's, answered for any peer.  Returns the framing or PROBE_*.
 */
static int
probe(struct lc_sock *s, int mode, int64_t deadline, uint8_t *status,
    int *errp)
{
	struct lurk_hdr	 h;
	uint8_t		 buf[LURK_HDR_LEN + LURK_STATE_LEN];
	uint32_t	 plen;

	memset(&h, 0, sizeof(h));
	h.designation = LURK_DESIG_LURK;
	h.version = LURK_V1;
	h.type = LURK_TYPE_PING;
	h.status = LURK_ST_REQUEST;
	h.length = lurk_length_field(0, mode == LC_LEN_AUTO ?
	    LURK_LEN_PAYLOAD : mode);
	lurk_hdr_encode(&h, buf);
	if (sock_send(s, buf, LURK_HDR_LEN, deadline) == -1 ||
	    recv_all(s, buf, LURK_HDR_LEN, deadline) == -1) {
		*errp = errno;
		return PROBE_ERR;
	}
	lurk_hdr_decode(buf, &h);
	if (h.designation != LURK_DESIG_LURK || h.version != LURK_V1 ||
	    h.type != LURK_TYPE_PING || h.id != 0 ||
	    h.status == LURK_ST_REQUEST)
		return PROBE_PROTO;
	if (mode == LC_LEN_AUTO && h.length >= LURK_HDR_LEN)
		return LURK_LEN_MESSAGE;
	if (mode == LC_LEN_AUTO)
		mode = LURK_LEN_PAYLOAD;
	/* what is left of the answer: nothing, or an error's lurk_state */
	if (lurk_payload_len(&h, mode, &plen) == -1 ||
	    plen > LURK_STATE_LEN)
		return PROBE_PROTO;
	if (plen > 0 && recv_all(s, buf, plen, deadline) == -1) {
		*errp = errno;
		return PROBE_ERR;
	}
	if (h.status != LURK_ST_SUCCESS) {
		*status = h.status;
		return PROBE_STATUS;
	}
	return mode;
}

/* back to no connection: the descriptor and its TLS closed */
static void
sock_reset(struct lc_sock *s)
{
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	s->ssl = NULL;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/*
 * Connects (and in LC_LEN_AUTO finds the framing, with ping pings in
 * any case), retrying transient failures until the deadline, or only
 * once.  Called without c->mu by the one thread connecting; nothing in
 * c that it reads changes.  *first_fail: when the first transient
 * failure happened, 0 if none.
 */
static struct lc_sock *
sock_open(struct lc_ep *c, int64_t deadline, int once, int ping,
    int64_t *first_fail, struct lc_error *e)
{
	struct lc_sock	*s;
	uint8_t		 status = 0;
	char		 why[256];
	int		 err = 0, mode = c->lenmode, found, wait = 0;
	int		 prev = 0;

	*first_fail = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(e, LC_ENOMEM, "out of memory");
		return NULL;
	}
	s->fd = -1;
	pthread_mutex_init(&s->smu, NULL);
	TAILQ_INIT(&s->waiters);
	for (;;) {
		why[0] = '\0';
		if (wait > 0) {
			poll(NULL, 0, wait < left_ms(deadline) ? wait :
			    left_ms(deadline));
			wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    wait * 2;
		}
		s->fd = c->kind == KEYREF_EP_UNIX ?
		    connect_unix(c->path, deadline, &err) :
		    connect_tcp(c, deadline, &err, why, sizeof(why));
		if (s->fd != -1 && c->tls != NULL &&
		    (s->ssl = lc_tls_connect(c->tls, s->fd, c->host,
		    c->hosttype, deadline, &err, why, sizeof(why))) == NULL) {
			sock_reset(s);
			if (err == 0) {
				seterr(e, LC_ETLS, "%s: %s", c->name, why);
				goto fail;
			}
		}
		if (s->fd != -1 && (mode == LC_LEN_AUTO || ping)) {
			found = probe(s, mode, deadline, &status, &err);
			if (found == LURK_LEN_MESSAGE && mode == LC_LEN_AUTO) {
				/* it hung up after refusing the ping */
				sock_reset(s);
				mode = LURK_LEN_MESSAGE;
				continue;
			}
			if (found == PROBE_STATUS || found == PROBE_PROTO) {
				e->status = status;
				if (found == PROBE_STATUS)
					seterr(e, LC_ESTATUS, "%s: lurkd "
					    "answered %s (%u)", ep_disp(c),
					    edge_status_name(status), status);
				else
					seterr(e, LC_EPROTO, "%s: not a lurkd "
					    "(unexpected answer to a ping)",
					    ep_disp(c));
				goto fail;
			}
			if (found == PROBE_ERR)
				sock_reset(s);
			else
				mode = found;
		}
		if (s->fd != -1)
			break;
		if (!transient(err) || once || left_ms(deadline) == 0)
			break;
		prev = err;
		if (*first_fail == 0)
			*first_fail = now_ms();
		if (wait == 0)
			wait = BACKOFF_MIN_MS;
	}
	if (s->fd == -1) {
		/* the deadline cut a retry short: what the tries met */
		if (err == ETIMEDOUT && prev != 0) {
			err = prev;
			why[0] = '\0';
		}
		if (transient(err) && *first_fail == 0)
			*first_fail = now_ms();
		e->sys_errno = err;
		if (err == ETIMEDOUT)
			seterr(e, LC_ETIMEOUT, "lurkd at %s: no answer in time",
			    ep_disp(c));
		else if (why[0] != '\0')
			seterr(e, LC_ECONNECT, "connect %s: %s", ep_disp(c),
			    why);
		else
			seterr(e, LC_ECONNECT, "connect %s: %s", ep_disp(c),
			    err ? strerror(err) : "closed by lurkd");
		goto fail;
	}
	s->lenmode = mode;
	s->born = now_ms();
	return s;
 fail:
	sock_reset(s);
	pthread_mutex_destroy(&s->smu);
	free(s);
	return NULL;
}

/*
 * The socket to send on, with c->mu held (dropped while connecting): the
 * current one, the one another thread is making, or a new one.  once:
 * try to connect only once (another endpoint of a list can serve); ping
 * every new connection.
 */
static struct lc_sock *
conn_sock(struct lc_ep *c, int timeout_ms, int64_t deadline, int once,
    int ping, struct lc_error *e)
{
	struct lc_sock	*s;
	struct timespec	 ts;
	int64_t		 first_fail;

	for (;;) {
		if (c->pid != getpid())
			conn_forget(c);	/* no atfork handler ran */
		if (c->cur != NULL)
			return c->cur;
		if (!c->connecting)
			break;
		if (left_ms(deadline) == 0) {
			seterr(e, c->unreachable ? LC_ECONNECT : LC_ETIMEOUT,
			    "lurkd at %s: no connection in time", ep_disp(c));
			return NULL;
		}
		deadline_ts(deadline, &ts);
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	/* unreachable for longer than a whole timeout: down, not restarting */
	if (c->unreachable != 0 && now_ms() - c->unreachable >= timeout_ms)
		once = 2;
	c->connecting = 1;
	pthread_mutex_unlock(&c->mu);
	s = sock_open(c, deadline, once, ping, &first_fail, e);
	pthread_mutex_lock(&c->mu);
	c->connecting = 0;
	pthread_cond_broadcast(&c->cv);
	if (s == NULL) {
		if (once == 2 && e->result == LC_ECONNECT) {
			size_t	 l = strlen(e->msg);

			snprintf(e->msg + l, sizeof(e->msg) - l, " (down for "
			    "longer than the timeout: not retried)");
		}
		if (first_fail == 0)
			c->unreachable = 0;	/* it answered, somehow */
		else if (c->unreachable == 0)
			c->unreachable = first_fail;
		return NULL;
	}
	c->unreachable = 0;
	s->gen = ++c->gens;
	TAILQ_INSERT_TAIL(&c->socks, s, entry);
	c->cur = s;
	return s;
}

/*
 * Hands every complete response in the read buffer to its waiter.
 * Returns -1 if the stream breaks the protocol (the socket must go).
 */
static int
dispatch(struct lc_sock *s)
{
	struct lurk_hdr		 h;
	struct lc_waiter	*w;
	size_t			 off = 0, mlen;
	uint32_t		 plen;

	while (s->rlen - off >= LURK_HDR_LEN) {
		lurk_hdr_decode(s->rbuf + off, &h);
		if (h.designation != LURK_DESIG_EDGE || h.version != LURK_V1 ||
		    lurk_payload_len(&h, s->lenmode, &plen) == -1 ||
		    plen > LC_MAX_RESPONSE)
			return -1;
		mlen = LURK_HDR_LEN + (size_t)plen;
		if (s->rlen - off < mlen)
			break;
		TAILQ_FOREACH(w, &s->waiters, entry)
			if (w->id == h.id && w->done == W_WAITING)
				break;
		/* no waiter: the answer to a request that timed out */
		if (w != NULL) {
			if (h.type != w->type || h.status == LURK_ST_REQUEST)
				w->done = W_PROTO;
			else if ((w->resp = malloc(plen ? plen : 1)) == NULL) {
				w->done = W_PROTO;
				w->err = ENOMEM;
			} else {
				memcpy(w->resp, s->rbuf + off + LURK_HDR_LEN,
				    plen);
				w->resplen = plen;
				w->status = h.status;
				w->done = W_ANSWERED;
			}
		}
		off += mlen;
	}
	if (off > 0) {
		memmove(s->rbuf, s->rbuf + off, s->rlen - off);
		s->rlen -= off;
		explicit_bzero(s->rbuf + s->rlen, off);
	}
	return 0;
}

/* Reads what is there; 1 read something, 0 timeout, -1 error/EOF. */
static int
read_some(struct lc_sock *s, int64_t deadline)
{
	uint8_t		*nb;
	size_t		 ncap;
	ssize_t		 n;

	if (s->rcap - s->rlen < 4096 && s->rcap < RBUF_MAX) {
		ncap = s->rcap == 0 ? 16384 : s->rcap * 2;
		if (ncap > RBUF_MAX)
			ncap = RBUF_MAX;
		/* not realloc: the old buffer may hold a premaster */
		if ((nb = malloc(ncap)) == NULL)
			return -1;
		if (s->rbuf != NULL) {
			memcpy(nb, s->rbuf, s->rlen);
			explicit_bzero(s->rbuf, s->rcap);
			free(s->rbuf);
		}
		s->rbuf = nb;
		s->rcap = ncap;
	}
	if (s->rlen == s->rcap) {
		errno = EMSGSIZE;	/* cannot happen: dispatch() drains */
		return -1;
	}
	if ((n = sock_recv(s, s->rbuf + s->rlen, s->rcap - s->rlen,
	    deadline)) <= 0)
		return n;
	s->rlen += n;
	return 1;
}

/* what a try on one endpoint tells the caller besides its result */
struct try {
	int		 once;		/* connect only once */
	int		 ping;		/* ping every new connection */
	int		 retry;		/* the connection broke: worth it */
	int		 sent;		/* the request went out */
	uint64_t	 gen;		/* on this connection */
	int64_t		 born;		/* made then */
};

/* One try: LC_OK or an error; t->retry set if the connection broke. */
static enum lc_result
request_once(struct lc_ep *c, int timeout_ms, int64_t deadline,
    uint8_t type, uint8_t *msg, size_t msglen, struct lc_waiter *w,
    struct try *t, struct lc_error *e)
{
	struct lurk_hdr	 h;
	struct lc_sock	*s;
	struct timespec	 ts;
	int		 r, err;

	t->retry = t->sent = 0;
	pthread_mutex_lock(&c->mu);
	if ((s = conn_sock(c, timeout_ms, deadline, t->once, t->ping, e)) ==
	    NULL) {
		pthread_mutex_unlock(&c->mu);
		return e->result;
	}
	s->refs++;
	t->gen = s->gen;
	t->born = s->born;
	memset(w, 0, sizeof(*w));
	w->id = c->nextid++;
	w->type = type;
	TAILQ_INSERT_TAIL(&s->waiters, w, entry);
	pthread_mutex_unlock(&c->mu);

	/* the id goes into the header the caller left room for */
	h.designation = LURK_DESIG_EDGE;
	h.version = LURK_V1;
	h.type = type;
	h.status = LURK_ST_REQUEST;
	h.id = w->id;
	h.length = lurk_length_field(msglen - LURK_HDR_LEN, s->lenmode);
	lurk_hdr_encode(&h, msg);
	/*
	 * Another writer may hold the socket up to its deadline, not ours.
	 * (timedlock counts in CLOCK_REALTIME: the time left, from now.)
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	r = left_ms(deadline);
	ts.tv_sec += r / 1000;
	ts.tv_nsec += (long)(r % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_mutex_timedlock(&c->wmu, &ts) != 0) {
		pthread_mutex_lock(&c->mu);
		goto done;	/* nothing sent: times out below */
	}
	t->sent = 1;
	r = sock_send(s, msg, msglen, deadline);
	err = errno;
	pthread_mutex_unlock(&c->wmu);

	pthread_mutex_lock(&c->mu);
	if (r == -1)
		/* a partial message breaks the framing for everybody */
		sock_kill(c, s, err, err == ETIMEDOUT ? W_PROTO : W_BROKEN);
	deadline_ts(deadline, &ts);
	while (w->done == W_WAITING) {
		if (left_ms(deadline) == 0)
			break;
		if (!s->reading) {
			s->reading = 1;
			pthread_mutex_unlock(&c->mu);
			r = read_some(s, deadline);
			err = errno;
			pthread_mutex_lock(&c->mu);
			s->reading = 0;
			if (r == -1)
				sock_kill(c, s, err, W_BROKEN);
			else if (r == 1 && dispatch(s) == -1)
				sock_kill(c, s, EPROTO, W_PROTO);
			pthread_cond_broadcast(&c->cv);
			continue;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
 done:
	TAILQ_REMOVE(&s->waiters, w, entry);
	switch (w->done) {
	case W_ANSWERED:
		r = LC_OK;
		break;
	case W_BROKEN:
		t->retry = 1;
		e->sys_errno = w->err;
		seterr(e, LC_EIO, "connection to lurkd at %s lost: %s",
		    ep_disp(c), w->err ? strerror(w->err) : "closed by lurkd");
		r = LC_EIO;
		break;
	case W_PROTO:
		if (w->err == ETIMEDOUT) {
			seterr(e, LC_ETIMEOUT, "lurkd at %s: request not "
			    "sent in time", ep_disp(c));
			r = LC_ETIMEOUT;
		} else {
			seterr(e, LC_EPROTO, "lurkd at %s: malformed response",
			    ep_disp(c));
			r = LC_EPROTO;
		}
		break;
	default:
		seterr(e, LC_ETIMEOUT, "lurkd at %s: no answer in time",
		    ep_disp(c));
		r = LC_ETIMEOUT;
		break;
	}
	sock_unref(c, s);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/*
 * A lone endpoint: connecting retried until the deadline, and a request
 * whose connection broke sent again on a new one, LC_MAX_RESENDS times.
 */
static enum lc_result
one_request(struct lc_ep *c, int timeout_ms, int64_t deadline, uint8_t type,
    uint8_t *msg, size_t msglen, struct lc_waiter *w, struct lc_error *e)
{
	struct try	 t;
	int		 r, sends;

	memset(&t, 0, sizeof(t));
	/* lost with its connection: send again, on a new one */
	for (sends = 0;; sends++) {
		memset(e, 0, sizeof(*e));
		r = request_once(c, timeout_ms, deadline, type, msg, msglen, w,
		    &t, e);
		if (r != LC_EIO || !t.retry || sends == LC_MAX_RESENDS ||
		    left_ms(deadline) == 0)
			break;
	}
	return r;
}

/* ---- failover ---------------------------------------------------------- */

/* with c->mu held */
static void
ep_check_pid(struct lc_ep *c)
{
	if (c->pid != getpid())
		conn_forget(c);
}

/*
 * The endpoint of the list to try next, not one of tried: the first one
 * up, or the first one down that is due to be tried again (*probe set:
 * this request tries it, no other meanwhile), or, when all are down and
 * none is due, the first one left.  *others: how many of the endpoints
 * left after it are worth a share of the time.  -1 when none is left.
 */
static int
pick(struct lc_conn *g, uint32_t tried, int *probe, int *others)
{
	struct lc_ep	*c;
	int64_t		 now = now_ms();
	size_t		 i;
	int		 chosen = -1, first = -1, usable;

	*probe = 0;
	*others = 0;
	for (i = 0; i < g->nep; i++) {
		if (tried & (1u << i))
			continue;
		c = g->ep[i];
		pthread_mutex_lock(&c->mu);
		ep_check_pid(c);
		usable = c->down == 0 || (now >= c->retry_at && !c->probing);
		if (chosen == -1 && usable) {
			chosen = i;
			if (c->down != 0) {
				c->probing = 1;
				*probe = 1;
			}
		} else if (usable)
			(*others)++;
		pthread_mutex_unlock(&c->mu);
		if (first == -1)
			first = i;
	}
	return chosen != -1 ? chosen : first;
}

/* the endpoint answered (up again, if it was down), or nothing known */
static void
ep_up(struct lc_ep *c, int probe, int answered)
{
	pthread_mutex_lock(&c->mu);
	if (answered) {
		c->down = 0;
		c->backoff = 0;
	}
	if (probe)
		c->probing = 0;
	pthread_mutex_unlock(&c->mu);
}

/*
 * The endpoint failed: down, to be tried again after its backoff, twice
 * as long as before if trying it again was what failed.  gen: the
 * connection a request timed out on, closed so that the requests
 * waiting there move on now (0: none).
 */
static void
ep_down(struct lc_ep *c, int probe, uint64_t gen)
{
	int64_t	 now = now_ms();

	pthread_mutex_lock(&c->mu);
	ep_check_pid(c);
	if (c->down == 0) {
		c->down = now;
		c->backoff = LC_FAILBACK_MIN_MS;
		c->retry_at = now + c->backoff;
	} else if (probe) {
		c->backoff = c->backoff * 2 > LC_FAILBACK_MAX_MS ?
		    LC_FAILBACK_MAX_MS : c->backoff * 2;
		c->retry_at = now + c->backoff;
	}
	if (probe)
		c->probing = 0;
	if (gen != 0 && c->cur != NULL && c->cur->gen == gen)
		sock_kill(c, c->cur, ETIMEDOUT, W_BROKEN);
	pthread_mutex_unlock(&c->mu);
}

static int
ep_is_down(struct lc_ep *c)
{
	int	 down;

	pthread_mutex_lock(&c->mu);
	down = c->down != 0;
	pthread_mutex_unlock(&c->mu);
	return down;
}

/* e's message after what the endpoints tried before said */
static void
add_msg(char *all, size_t len, const struct lc_error *e)
{
	size_t	 l = strlen(all), n = strlen(e->msg);

	if (l > 0 && len - l > 2) {
		memcpy(all + l, "; ", 2);
		l += 2;
	}
	if (n > len - l - 1)
		n = len - l - 1;
	memcpy(all + l, e->msg, n);
	all[l + n] = '\0';
}

/* A list of endpoints: client.c's first comment says how. */
static enum lc_result
list_request(struct lc_conn *g, int timeout_ms, int64_t deadline,
    uint8_t type, uint8_t *msg, size_t msglen, struct lc_waiter *w,
    struct lc_error *e)
{
	struct lc_ep	*c;
	struct try	 t;
	char		 all[sizeof(e->msg)];
	int64_t		 start = now_ms(), sub, cap;
	uint32_t	 tried = 0;
	int		 i, probe, others, lost = 0, again, sent;
	enum lc_result	 r = LC_ECONNECT;

	all[0] = '\0';
	while (left_ms(deadline) > 0 &&
	    (i = pick(g, tried, &probe, &others)) != -1) {
		tried |= 1u << i;
		c = g->ep[i];
		/* its share of the time left */
		sub = now_ms() + left_ms(deadline) / (1 + others);
		cap = now_ms() + timeout_ms / 4;
		if (probe && cap < sub)
			sub = cap;
		memset(&t, 0, sizeof(t));
		t.once = others > 0;
		t.ping = 1;
		for (sent = 0, again = 0;; again++) {
			memset(e, 0, sizeof(*e));
			r = request_once(c, timeout_ms, sub, type, msg, msglen,
			    w, &t, e);
			sent |= t.sent;
			/* an old connection closed under it: idle? */
			if (r == LC_EIO && t.retry && t.born < start &&
			    again == 0 && !ep_is_down(c) && left_ms(sub) > 0)
				continue;
			break;
		}
		if (r == LC_OK || r == LC_EINVAL || r == LC_ENOMEM) {
			ep_up(c, probe, r == LC_OK);
			return r;
		}
		ep_down(c, probe, r == LC_ETIMEOUT && t.sent ? t.gen : 0);
		add_msg(all, sizeof(all), e);
		if (sent && ++lost == LIST_MAX_LOST)
			break;
	}
	if (all[0] == '\0')
		seterr(e, LC_ETIMEOUT, "no endpoint tried in time");
	else
		memcpy(e->msg, all, sizeof(e->msg));
	e->result = r;
	return r;
}

/*
 * Sends one request of the edge extension and waits for its answer, at
 * most timeout_ms in all (reconnections, resends and other endpoints
 * included).  On LC_OK, *resp (free with lc_free_response) holds the
 * success payload; an error status from lurkd is LC_ESTATUS with
 * e->status set.
 */
int
lc_request(struct lc_conn *g, int timeout_ms, uint8_t type,
    const uint8_t *req, size_t reqlen, uint8_t **resp, size_t *resplen,
    struct lc_error *e)
{
	struct lc_waiter	 w;
	uint8_t			*msg;
	int64_t			 deadline = now_ms() + timeout_ms;
	int			 r;

	memset(e, 0, sizeof(*e));
	*resp = NULL;
	*resplen = 0;
	/* what lc_conn_get gives for endpoints it refused */
	if (g == NULL) {
		seterr(e, LC_EINVAL, "no key server: endpoints refused");
		return LC_EINVAL;
	}
	if (reqlen > 0xffff) {
		seterr(e, LC_EINVAL, "request too large");
		return LC_EINVAL;
	}
	if ((msg = malloc(LURK_HDR_LEN + reqlen)) == NULL) {
		seterr(e, LC_ENOMEM, "out of memory");
		return LC_ENOMEM;
	}
	if (reqlen > 0)
		memcpy(msg + LURK_HDR_LEN, req, reqlen);
	if (g->nep == 1)
		r = one_request(g->ep[0], timeout_ms, deadline, type, msg,
		    LURK_HDR_LEN + reqlen, &w, e);
	else
		r = list_request(g, timeout_ms, deadline, type, msg,
		    LURK_HDR_LEN + reqlen, &w, e);
	free(msg);
	if (r != LC_OK)
		return r;
	if (w.status != LURK_ST_SUCCESS) {
		e->status = w.status;
		seterr(e, LC_ESTATUS, "lurkd answered %s (%u)",
		    edge_status_name(w.status), w.status);
		lc_free_response(w.resp, w.resplen);
		return LC_ESTATUS;
	}
	*resp = w.resp;
	*resplen = w.resplen;
	return LC_OK;
}

void
lc_free_response(uint8_t *p, size_t len)
{
	if (p != NULL) {
		explicit_bzero(p, len);
		free(p);
	}
}

const char *
lc_result_name(enum lc_result r)
{
	switch (r) {
	case LC_OK:
		return "ok";
	case LC_ESTATUS:
		return "error status";
	case LC_ECONNECT:
		return "lurkd not reachable";
	case LC_ETIMEOUT:
		return "timeout";
	case LC_EIO:
		return "connection lost";
	case LC_EPROTO:
		return "protocol error";
	case LC_ENOMEM:
		return "out of memory";
	case LC_EINVAL:
		return "invalid argument";
	case LC_ETLS:
		return "TLS refused";
	}
	return "unknown";
}
