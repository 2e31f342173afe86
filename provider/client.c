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
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
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

struct lc_sock {
	TAILQ_ENTRY(lc_sock)	 entry;
	int			 fd;
	int			 refs;
	int			 dead;
	int			 dead_err;
	int			 reading;
	int			 lenmode;	/* LURK_LEN_*, found or set */
	uint8_t			*rbuf;		/* owned by the reader */
	size_t			 rlen, rcap;
	TAILQ_HEAD(, lc_waiter)	 waiters;
};

struct lc_conn {
	TAILQ_ENTRY(lc_conn)	 entry;
	char			*path;
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
};

static pthread_mutex_t		 conns_mu = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, lc_conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
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

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t deadline)
{
	int64_t	 d = deadline - now_ms();

	return d < 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
}

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

static void
sock_free(struct lc_conn *c, struct lc_sock *s)
{
	TAILQ_REMOVE(&c->socks, s, entry);
	if (s->fd != -1)
		close(s->fd);
	if (s->rbuf != NULL) {
		explicit_bzero(s->rbuf, s->rcap);
		free(s->rbuf);
	}
	free(s);
}

/*
 * In a new process: the sockets are the parent's (the child holds copies
 * of their descriptors, closed here; the parent's stay open) and so are
 * any waiters, whose threads do not exist here.
 */
static void
conn_forget(struct lc_conn *c)
{
	struct lc_sock	*s;

	while ((s = TAILQ_FIRST(&c->socks)) != NULL)
		sock_free(c, s);
	c->cur = NULL;
	c->connecting = 0;	/* the parent's connecting thread */
	c->unreachable = 0;
	c->pid = getpid();
}

static void
atfork_prepare(void)
{
	struct lc_conn	*c;

	pthread_mutex_lock(&conns_mu);
	TAILQ_FOREACH(c, &conns, entry)
		pthread_mutex_lock(&c->mu);
}

static void
atfork_parent(void)
{
	struct lc_conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&conns_mu);
}

static void
atfork_child(void)
{
	struct lc_conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		conn_forget(c);
		/* a writer of the parent may have held it */
		pthread_mutex_init(&c->wmu, NULL);
		cond_init(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&conns_mu);
}

static void
atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/*
 * The connection for a socket path and framing (LURK_LEN_PAYLOAD,
 * LURK_LEN_MESSAGE, or LC_LEN_AUTO to ask lurkd); made on first use,
 * never freed.
 */
struct lc_conn *
lc_conn_get_len(const char *path, int lenmode)
{
	struct lc_conn	*c;

	if (lenmode != LC_LEN_AUTO && lenmode != LURK_LEN_PAYLOAD &&
	    lenmode != LURK_LEN_MESSAGE)
		return NULL;
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&conns_mu);
	TAILQ_FOREACH(c, &conns, entry)
		if (strcmp(c->path, path) == 0 && c->lenmode == lenmode)
			goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		c = NULL;
		goto out;
	}
	c->lenmode = lenmode;
	c->pid = getpid();
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->wmu, NULL);
	cond_init(&c->cv);
	TAILQ_INIT(&c->socks);
	c->nextid = 1;
	TAILQ_INSERT_TAIL(&conns, c, entry);
 out:
	pthread_mutex_unlock(&conns_mu);
	return c;
}

struct lc_conn *
lc_conn_get(const char *path)
{
	return lc_conn_get_len(path, LC_LEN_AUTO);
}

static void
sock_kill(struct lc_conn *c, struct lc_sock *s, int err, int how)
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
sock_unref(struct lc_conn *c, struct lc_sock *s)
{
	if (--s->refs == 0 && s->dead)
		sock_free(c, s);
}

static int
send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	size_t		 off = 0;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left_ms(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
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

/* One attempt: a connected socket, or -1 and *errp. */
static int
connect_one(const char *path, int64_t deadline, int *errp)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	socklen_t		 sl;
	int			 fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));	/* length checked */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		*errp = errno;
		return -1;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if ((err = errno) != EINTR)
			break;
	}
	if (err == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left_ms(deadline)) == 1) {
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

/* Exactly len bytes by the deadline: 0, or -1 and errno (0: EOF). */
static int
recv_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	size_t		 off = 0;
	int		 r;

	while (off < len) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, left_ms(deadline))) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = recv(fd, buf + off, len - off, 0);
		if (n == 0) {
			errno = 0;
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		off += n;
	}
	return 0;
}

#define PROBE_ERR	(-1)	/* *errp: the connection failed */
#define PROBE_STATUS	(-2)	/* *status: lurkd refused the ping */
#define PROBE_PROTO	(-3)	/* not a LURK server */

/*
 * Which length framing lurkd uses (LC_LEN_AUTO): a ping with a
 * payload-only length of 0.  A lurkd counting the payload answers with a
 * length of 0 (success) or 4 (an error and its lurk_state).  One counting
 * the whole message must refuse a length below the header's with an
 * invalid_format whose length counts the header too (20), and hangs up.
 * No other answer is possible: a length of 16 or more means whole
 * messages.  The ping is the lurk extension's, answered for any peer.
 */
static int
probe(int fd, int64_t deadline, uint8_t *status, int *errp)
{
	struct lurk_hdr	 h;
	uint8_t		 buf[LURK_HDR_LEN];

	memset(&h, 0, sizeof(h));
	h.designation = LURK_DESIG_LURK;
	h.version = LURK_V1;
	h.type = LURK_TYPE_PING;
	h.status = LURK_ST_REQUEST;
	lurk_hdr_encode(&h, buf);
	if (send_all(fd, buf, sizeof(buf), deadline) == -1 ||
	    recv_all(fd, buf, sizeof(buf), deadline) == -1) {
		*errp = errno;
		return PROBE_ERR;
	}
	lurk_hdr_decode(buf, &h);
	if (h.designation != LURK_DESIG_LURK || h.version != LURK_V1 ||
	    h.type != LURK_TYPE_PING || h.id != 0 ||
	    h.status == LURK_ST_REQUEST)
		return PROBE_PROTO;
	if (h.length >= LURK_HDR_LEN)
		return LURK_LEN_MESSAGE;
	/* payload-only: read what is left of the answer */
	if (h.length > 0 && recv_all(fd, buf, h.length, deadline) == -1) {
		*errp = errno;
		return PROBE_ERR;
	}
	if (h.status != LURK_ST_SUCCESS) {
		*status = h.status;
		return PROBE_STATUS;
	}
	return LURK_LEN_PAYLOAD;
}

/*
 * Connects (and in LC_LEN_AUTO finds the framing), retrying transient
 * failures until the deadline, or only once.  Called without c->mu by
 * the one thread connecting; c->path and c->lenmode never change.
 * *first_fail: when the first transient failure happened, 0 if none.
 */
static struct lc_sock *
sock_open(struct lc_conn *c, int64_t deadline, int once, int64_t *first_fail,
    struct lc_error *e)
{
	struct lc_sock	*s;
	uint8_t		 status = 0;
	int		 fd, err = 0, mode = c->lenmode, found, wait = 0;

	*first_fail = 0;
	if (strlen(c->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		seterr(e, LC_EINVAL, "socket path too long: %s", c->path);
		return NULL;
	}
	for (;;) {
		if (wait > 0) {
			poll(NULL, 0, wait < left_ms(deadline) ? wait :
			    left_ms(deadline));
			wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    wait * 2;
		}
		if ((fd = connect_one(c->path, deadline, &err)) != -1 &&
		    mode == LC_LEN_AUTO) {
			found = probe(fd, deadline, &status, &err);
			if (found == LURK_LEN_MESSAGE) {
				/* it hung up after refusing the ping */
				close(fd);
				mode = LURK_LEN_MESSAGE;
				continue;
			}
			if (found == PROBE_STATUS || found == PROBE_PROTO) {
				close(fd);
				e->status = status;
				if (found == PROBE_STATUS)
					seterr(e, LC_ESTATUS, "lurkd answered "
					    "%s (%u)", edge_status_name(status),
					    status);
				else
					seterr(e, LC_EPROTO, "%s: not a lurkd "
					    "socket (unexpected answer to a "
					    "ping)", c->path);
				return NULL;
			}
			if (found == PROBE_ERR) {
				close(fd);
				fd = -1;
			} else
				mode = found;
		}
		if (fd != -1)
			break;
		if (!transient(err) || once || left_ms(deadline) == 0)
			break;
		if (*first_fail == 0)
			*first_fail = now_ms();
		if (wait == 0)
			wait = BACKOFF_MIN_MS;
	}
	if (fd == -1) {
		if (transient(err) && *first_fail == 0)
			*first_fail = now_ms();
		e->sys_errno = err;
		if (err == ETIMEDOUT)
			seterr(e, LC_ETIMEOUT, "lurkd at %s: no answer in time",
			    c->path);
		else
			seterr(e, LC_ECONNECT, "connect %s: %s%s", c->path,
			    err ? strerror(err) : "closed by lurkd",
			    once ? " (down for longer than the timeout: "
			    "not retried)" : "");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		seterr(e, LC_ENOMEM, "out of memory");
		return NULL;
	}
	s->fd = fd;
	s->lenmode = mode;
	TAILQ_INIT(&s->waiters);
	return s;
}

/*
 * The socket to send on, with c->mu held (dropped while connecting): the
 * current one, the one another thread is making, or a new one.
 */
static struct lc_sock *
conn_sock(struct lc_conn *c, int timeout_ms, int64_t deadline,
    struct lc_error *e)
{
	struct lc_sock	*s;
	struct timespec	 ts;
	int64_t		 first_fail;
	int		 once;

	for (;;) {
		if (c->pid != getpid())
			conn_forget(c);	/* no atfork handler ran */
		if (c->cur != NULL)
			return c->cur;
		if (!c->connecting)
			break;
		if (left_ms(deadline) == 0) {
			seterr(e, c->unreachable ? LC_ECONNECT : LC_ETIMEOUT,
			    "lurkd at %s: no connection in time", c->path);
			return NULL;
		}
		deadline_ts(deadline, &ts);
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	once = c->unreachable != 0 && now_ms() - c->unreachable >= timeout_ms;
	c->connecting = 1;
	pthread_mutex_unlock(&c->mu);
	s = sock_open(c, deadline, once, &first_fail, e);
	pthread_mutex_lock(&c->mu);
	c->connecting = 0;
	pthread_cond_broadcast(&c->cv);
	if (s == NULL) {
		if (first_fail == 0)
			c->unreachable = 0;	/* it answered, somehow */
		else if (c->unreachable == 0)
			c->unreachable = first_fail;
		return NULL;
	}
	c->unreachable = 0;
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
	struct pollfd	 pfd;
	uint8_t		*nb;
	size_t		 ncap;
	ssize_t		 n;
	int		 r;

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
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	if ((r = poll(&pfd, 1, left_ms(deadline))) == 0)
		return 0;
	if (r == -1)
		return errno == EINTR ? 1 : -1;
	n = recv(s->fd, s->rbuf + s->rlen, s->rcap - s->rlen, 0);
	if (n == 0) {
		errno = 0;	/* EOF */
		return -1;
	}
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	s->rlen += n;
	return 1;
}

/* One try: LC_OK or an error; *retry set if the connection broke. */
static enum lc_result
request_once(struct lc_conn *c, int timeout_ms, int64_t deadline,
    uint8_t type, uint8_t *msg, size_t msglen, struct lc_waiter *w,
    int *retry, struct lc_error *e)
{
	struct lurk_hdr	 h;
	struct lc_sock	*s;
	struct timespec	 ts;
	int		 r, err;

	*retry = 0;
	pthread_mutex_lock(&c->mu);
	if ((s = conn_sock(c, timeout_ms, deadline, e)) == NULL) {
		pthread_mutex_unlock(&c->mu);
		return e->result;
	}
	s->refs++;
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
	r = send_all(s->fd, msg, msglen, deadline);
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
		*retry = 1;
		e->sys_errno = w->err;
		seterr(e, LC_EIO, "connection to lurkd at %s lost: %s",
		    c->path, w->err ? strerror(w->err) : "closed by lurkd");
		r = LC_EIO;
		break;
	case W_PROTO:
		if (w->err == ETIMEDOUT) {
			seterr(e, LC_ETIMEOUT, "lurkd at %s: request not "
			    "sent in time", c->path);
			r = LC_ETIMEOUT;
		} else {
			seterr(e, LC_EPROTO, "lurkd at %s: malformed response",
			    c->path);
			r = LC_EPROTO;
		}
		break;
	default:
		seterr(e, LC_ETIMEOUT, "lurkd at %s: no answer in time",
		    c->path);
		r = LC_ETIMEOUT;
		break;
	}
	sock_unref(c, s);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/*
 * Sends one request of the edge extension and waits for its answer, at
 * most timeout_ms in all (reconnections and resends included).  On
 * LC_OK, *resp (free with lc_free_response) holds the success payload;
 * an error status from lurkd is LC_ESTATUS with e->status set.
 */
int
lc_request(struct lc_conn *c, int timeout_ms, uint8_t type,
    const uint8_t *req, size_t reqlen, uint8_t **resp, size_t *resplen,
    struct lc_error *e)
{
	struct lc_waiter	 w;
	uint8_t			*msg;
	int64_t			 deadline = now_ms() + timeout_ms;
	int			 r, retry, sends;

	memset(e, 0, sizeof(*e));
	*resp = NULL;
	*resplen = 0;
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
	/* lost with its connection: send again, on a new one */
	for (sends = 0;; sends++) {
		memset(e, 0, sizeof(*e));
		r = request_once(c, timeout_ms, deadline, type, msg,
		    LURK_HDR_LEN + reqlen, &w, &retry, e);
		if (r != LC_EIO || !retry || sends == LC_MAX_RESENDS ||
		    left_ms(deadline) == 0)
			break;
	}
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
	}
	return "unknown";
}
