/*
 * Connections from edges: accept, peer credentials, LURK framing,
 * pipelined requests, batched responses, back-pressure.
 *
 * Reads go into one shared buffer; a connection keeps bytes of its own
 * only for a message that is not complete yet, for responses the peer
 * has not read yet, and for input whose parsing waits until its backlog
 * (netproc.h) is under its limits again.  An idle connection therefore
 * costs its struct.  Answers are appended to the connection's output and
 * written once per wake-up (conn_flush_dirty), however many requests it
 * carried.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "proc.h"

static const struct lurk_ext_id supported[] = {
	{ LURK_DESIG_LURK, LURK_V1 },
	{ LURK_DESIG_TLS12, LURK_V1 },
	{ LURK_DESIG_TLS13, LURK_V1 },
	{ LURK_DESIG_EDGE, LURK_V1 },
};
#define NSUPPORTED	(sizeof(supported) / sizeof(supported[0]))

time_t
monotime(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
out_free(struct conn *c)
{
	client_discharge(c->client, c->outlen - c->outoff);
	/* responses may carry a premaster: wipe what was written */
	if (c->out != NULL)
		freezero(c->out, c->outcap);
	c->out = NULL;
	c->outoff = c->outlen = c->outcap = 0;
}

size_t
conn_backlog(const struct conn *c)
{
	return c->outlen - c->outoff + c->qbytes;
}

enum hold {
	HOLD_NONE,
	HOLD_BACKLOG,		/* the connection's */
	HOLD_PENDING,		/* its key operations */
	HOLD_UID,		/* its uid's backlog, and it has some */
};

/*
 * Must c's input wait?  A connection whose answers have all been read
 * and whose operations are all answered is never held back by the
 * others of its uid: it gets one request at a time.
 */
static enum hold
conn_must_hold(const struct conn *c)
{
	size_t	 b = conn_backlog(c);

	if (b >= np->conn_out_high)
		return HOLD_BACKLOG;
	if (c->npending >= CONN_PENDING_MAX)
		return HOLD_PENDING;
	if (b > 0 && c->client != NULL &&
	    c->client->backlog >= np->client_out_high)
		return HOLD_UID;
	return HOLD_NONE;
}

/*
 * c's input waits for its backlog to go down; the connection is woken
 * by its own answers (written or arriving) or by its uid's (limit.c).
 * With data: parsing stopped with requests left, which is counted and
 * logged within the client's share of the log.
 */
static void
conn_hold(struct conn *c, enum hold why, int data)
{
	struct client	*cl = c->client;

	if (!c->held && cl != NULL) {
		c->held = 1;
		TAILQ_INSERT_TAIL(&cl->held, c, hentry);
	}
	if (!data)
		return;
	np->held_back++;
	if (cl != NULL)
		cl->held_back++;
	if (!client_log_ok(cl))
		return;
	switch (why) {
	case HOLD_BACKLOG:
		log_warnx("conn %llu %s: input held back: %zu bytes of "
		    "answers unread and requests waiting (limit %zu a "
		    "connection)", (unsigned long long)c->serial,
		    c->who, conn_backlog(c), np->conn_out_high);
		break;
	case HOLD_PENDING:
		log_warnx("conn %llu %s: input held back: %u key "
		    "operations in flight (limit %d a connection)",
		    (unsigned long long)c->serial, c->who,
		    c->npending, CONN_PENDING_MAX);
		break;
	default:
		log_warnx("conn %llu %s: input held back: %s has %zu "
		    "bytes of answers unread and requests waiting (limit %zu "
		    "a uid)", (unsigned long long)c->serial, c->who,
		    c->who, cl != NULL ? cl->backlog : 0,
		    np->client_out_high);
		break;
	}
}

static void
conn_unhold(struct conn *c)
{
	if (!c->held)
		return;
	c->held = 0;
	TAILQ_REMOVE(&c->client->held, c, hentry);
}

void
conn_close(struct conn *c)
{
	/* a handshake's signature at keyproc: not before its answer */
	if (c->ssl != NULL && tls_conn_close(c))
		return;
	log_debug("conn %llu %s: closed", (unsigned long long)c->serial,
	    c->who);
	conn_unhold(c);
	if (c->transport == TRANSPORT_UPSTREAM)
		relay_upconn_closed(c);
	relay_conn_gone(c);
	edge_conn_gone(c);
	out_free(c);
	if (c->client != NULL && !c->over_limit)
		np->stats.conns_open[c->transport]--;
	client_detach(c);
	close(c->fd);	/* also removes it from the epoll set */
	TAILQ_REMOVE(&np->conns, c, entry);
	if (c->dirty)
		TAILQ_REMOVE(&np->dirty, c, dentry);
	np->nconns--;
	if (c->ssl != NULL)
		tls_conn_free(c);
	free(c->in);
	free(c->groups);
	free(c);
}

static void
peer_groups(struct conn *c)
{
	gid_t		 g[PEER_GROUPS_MAX];
	socklen_t	 len = sizeof(g);

	/* Linux 4.13+; without it only the primary group counts */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1 ||
	    len == 0)
		return;
	if ((c->groups = malloc(len)) == NULL)
		return;
	memcpy(c->groups, g, len);
	c->ngroups = len / sizeof(gid_t);
}

/*
 * A new connection c (fd, transport and identity set): its client, the
 * counters, the event set.  -1: refused, and c is gone.
 */
int
conn_add(struct conn *c)
{
	c->tag.kind = EV_CONN;
	c->tag.fd = c->fd;
	c->serial = ++np->serial;
	TAILQ_INIT(&c->pending);
	TAILQ_INIT(&c->relays);
	TAILQ_INIT(&c->upops);
	if (client_attach(c) == -1) {
		if (c->ssl != NULL)
			tls_conn_free(c);
		close(c->fd);
		free(c);
		return -1;
	}
	if (!c->over_limit) {
		np->stats.conns_accepted[c->transport]++;
		np->stats.conns_open[c->transport]++;
	}
	c->last_in = monotime();
	c->events = EPOLLIN;
	netproc_ep_add(c->fd, c->events, c);
	TAILQ_INSERT_TAIL(&np->conns, c, entry);
	np->nconns++;
	return 0;
}

void
conn_accept(int lfd)
{
	struct ucred		 cred;
	socklen_t		 len;
	struct conn		*c;
	int			 fd, i;

	/* a bounded batch per wake-up, so a flood cannot starve the rest */
	for (i = 0; i < 64; i++) {
		if ((fd = accept4(lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				netproc_pause_accept();
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ==
		    -1 || len != sizeof(cred)) {
			log_warn("connection without peer credentials");
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("accept: calloc");
			close(fd);
			return;
		}
		c->fd = fd;
		c->transport = TRANSPORT_UNIX;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;	/* 0 across PID namespaces: log only */
		c->ident.kind = IDENT_UID;
		c->ident.uid = cred.uid;
		snprintf(c->who, sizeof(c->who), "uid %u", (unsigned)cred.uid);
		if (conn_add(c) == -1)
			continue;
		peer_groups(c);
		log_debug("conn %llu: uid %u gid %u pid %d",
		    (unsigned long long)c->serial, (unsigned)c->uid,
		    (unsigned)c->gid, (int)c->pid);
	}
}

/* Room for n more bytes of output; NULL if memory is short. */
static uint8_t *
out_reserve(struct conn *c, size_t n)
{
	uint8_t	*p;
	size_t	 cap;

	if (c->outcap - c->outlen >= n)
		return c->out + c->outlen;
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		if (c->outcap - c->outlen >= n)
			return c->out + c->outlen;
	}
	cap = c->outcap ? c->outcap : 4096;
	while (cap - c->outlen < n)
		cap *= 2;
	/* not realloc: the old buffer may hold a premaster to wipe */
	if ((p = malloc(cap)) == NULL)
		return NULL;
	if (c->out != NULL) {
		memcpy(p, c->out, c->outlen);
		freezero(c->out, c->outcap);
	}
	c->out = p;
	c->outcap = cap;
	return c->out + c->outlen;
}

void
conn_mark_dirty(struct conn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		TAILQ_INSERT_TAIL(&np->dirty, c, dentry);
	}
}

static int	 conn_put(struct conn *, const struct lurk_hdr *, uint8_t,
		    const struct iovec *, int, int);

/* Queue a response to req: its header with status, then the payload. */
int
conn_reply(struct conn *c, const struct lurk_hdr *req, uint8_t status,
    const struct iovec *iov, int iovcnt)
{
	return conn_put(c, req, status, iov, iovcnt, np->lenmode);
}

/* A request to an upstream (relay.c): lengths of the payload only. */
void
conn_forward(struct conn *c, const struct lurk_hdr *h, const uint8_t *p,
    size_t len)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	conn_put(c, h, h->status, &iov, 1, LURK_LEN_PAYLOAD);
}

static int
conn_put(struct conn *c, const struct lurk_hdr *req, uint8_t status,
    const struct iovec *iov, int iovcnt, int lenmode)
{
	struct lurk_hdr	 h = *req;
	size_t		 plen = 0;
	uint8_t		*p;
	int		 i;

	for (i = 0; i < iovcnt; i++)
		plen += iov[i].iov_len;
	if ((p = out_reserve(c, LURK_HDR_LEN + plen)) == NULL) {
		log_warnx("conn %llu: out of memory for a response",
		    (unsigned long long)c->serial);
		c->closing = 1;
		return -1;
	}
	if (c->outoff == c->outlen)
		c->out_since = monotime();	/* output starts waiting */
	client_charge(c->client, LURK_HDR_LEN + plen);
	h.status = status;
	h.length = lurk_length_field(plen, lenmode);
	lurk_hdr_encode(&h, p);
	p += LURK_HDR_LEN;
	for (i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	c->outlen += LURK_HDR_LEN + plen;
	conn_mark_dirty(c);
	return 0;
}

/*
 * An error response (payload: lurk_state) and one log line, with the
 * key and operation when the request named them.
 */
void
conn_refuse(struct conn *c, const struct lurk_hdr *h, uint8_t status,
    const char *what, const char *why, const char *key, const char *op)
{
	struct iovec	 iov;

	if (c->client != NULL)
		c->client->refusals++;
	if (client_log_ok(c->client))
		log_op(LOG_ERR, &(struct log_op){ c->serial, conn_uid(c),
		    conn_gid(c), transport_name(c->transport), key, op,
		    h->designation == LURK_DESIG_TLS12 ||
		    h->designation == LURK_DESIG_TLS13 ?
		    draft_status_name(h->designation, status) :
		    edge_status_name(status), why, conn_peer(c) },
		    "conn %llu %s: %s "
		    "(designation %u version %u type %u status %u): %s",
		    (unsigned long long)c->serial, c->who, what,
		    h->designation, h->version, h->type, h->status, why);
	iov.iov_base = np->state;
	iov.iov_len = LURK_STATE_LEN;
	conn_reply(c, h, status, &iov, 1);
}

/* reason REF_MAX: counted already (limit.c) */
static void
refuse(struct conn *c, const struct lurk_hdr *h, enum lurk_err err,
    enum refusal reason, const char *why)
{
	stats_refusal(reason);
	conn_refuse(c, h, lurk_status(h->designation, err),
	    lurk_err_name(err), why, NULL, NULL);
}

/*
 * One complete request of len bytes (header included).  The processing
 * order is the drafts': extension, type, status, payload.
 */
void
conn_request(struct conn *c, const uint8_t *msg, size_t len)
{
	struct lurk_hdr	 h;
	struct iovec	 iov;
	uint8_t		 cap[64];
	char		 why[80];
	size_t		 plen = len - LURK_HDR_LEN;

	lurk_hdr_decode(msg, &h);
	proc_trip_request(PROC_NETPROC);
	stats_request(&h);
	if (c->client != NULL)
		c->client->requests++;
	if (c->over_limit) {
		/* one answer that says why, then the connection goes */
		snprintf(why, sizeof(why), "limit user connections %u reached",
		    np->limit_user_conns);
		refuse(c, &h, LURK_ERR_TEMPORARY, REF_MAX, why);
		c->closing = 1;
		return;
	}
	if (!client_rate_ok(c->client)) {
		snprintf(why, sizeof(why), "limit user rate %u requests a "
		    "second exceeded", np->limit_user_rate);
		refuse(c, &h, LURK_ERR_TEMPORARY, REF_USER_RATE, why);
		return;
	}
	if (h.version != LURK_V1 || (h.designation != LURK_DESIG_LURK &&
	    h.designation != LURK_DESIG_EDGE &&
	    h.designation != LURK_DESIG_TLS12 &&
	    h.designation != LURK_DESIG_TLS13)) {
		refuse(c, &h, LURK_ERR_EXTENSION, REF_EXTENSION,
		    "extension not supported");
		return;
	}
	if (h.designation == LURK_DESIG_EDGE) {
		edge_request(c, &h, msg + LURK_HDR_LEN, plen);
		return;
	}
	if (h.designation != LURK_DESIG_LURK) {
		drafts_request(c, &h, msg + LURK_HDR_LEN, plen);
		return;
	}
	if (h.type != LURK_TYPE_PING && h.type != LURK_TYPE_CAPABILITIES) {
		refuse(c, &h, LURK_ERR_TYPE, REF_TYPE, "unknown type");
		return;
	}
	if (h.status != LURK_ST_REQUEST) {
		refuse(c, &h, LURK_ERR_STATUS, REF_STATUS, "not a request");
		return;
	}
	if (plen != 0) {
		refuse(c, &h, LURK_ERR_FORMAT, REF_FORMAT,
		    "payload must be empty");
		return;
	}
	iov.iov_base = cap;
	iov.iov_len = 0;
	if (h.type == LURK_TYPE_CAPABILITIES)
		iov.iov_len = lurk_capabilities_encode(cap, sizeof(cap),
		    supported, NSUPPORTED, np->state);
	conn_reply(c, &h, LURK_ST_SUCCESS, &iov, 1);
}

static int
conn_flush(struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		if (c->ssl != NULL)
			n = tls_conn_write(c, c->out + c->outoff,
			    c->outlen - c->outoff);
		else
			n = send(c->fd, c->out + c->outoff,
			    c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		c->outoff += n;
		c->out_since = monotime();	/* the peer reads */
		client_discharge(c->client, n);
	}
	/* all written: an idle connection keeps no buffer */
	out_free(c);
	return 0;
}

/*
 * Parse the complete messages in buf, as long as the backlog allows;
 * keep the rest (an incomplete tail, or what waits).  Returns -1 if the
 * connection must be closed once its output is written.  Not static:
 * regress/fuzz/fuzz_conn.c feeds it bytes as conn_read() does.
 */
int
conn_input(struct conn *c, const uint8_t *buf, size_t len)
{
	struct lurk_hdr	 h;
	enum hold	 why;
	uint32_t	 plen = 0;	/* read for the message on failure too */
	size_t		 off = 0, mlen;
	uint8_t		*p;
	int		 continued = c->inlen > 0;	/* buf starts with it */

	while (len - off >= LURK_HDR_LEN && !c->closing) {
		if ((why = conn_must_hold(c)) != HOLD_NONE) {
			/* the rest stays unparsed, the socket unread */
			conn_hold(c, why, 1);
			break;
		}
		lurk_hdr_decode(buf + off, &h);
		if (lurk_payload_len(&h, c->transport == TRANSPORT_UPSTREAM ?
		    LURK_LEN_PAYLOAD : np->lenmode, &plen) == -1 ||
		    plen > np->max_message - LURK_HDR_LEN) {
			/* the framing is lost: answer, then hang up */
			refuse(c, &h, LURK_ERR_FORMAT, REF_FORMAT,
			    plen > np->max_message - LURK_HDR_LEN ?
			    "length exceeds the maximum message size" :
			    "length shorter than the header");
			c->closing = 1;
			break;
		}
		mlen = LURK_HDR_LEN + (size_t)plen;
		if (len - off < mlen)
			break;
		if (c->transport == TRANSPORT_UPSTREAM)
			relay_response(c, buf + off, mlen);
		else
			conn_request(c, buf + off, mlen);
		off += mlen;
	}
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	if (off < len && !c->closing) {
		/* keep the rest for the next read, or until it may go on */
		if ((p = malloc(len - off)) == NULL)
			return -1;
		memcpy(p, buf + off, len - off);
		c->in = p;
		/* the clock runs from the first byte of the message */
		if (off > 0 || !continued)
			c->in_since = monotime();
		c->inlen = len - off;
	}
	return c->closing ? -1 : 0;
}

/* The backlog went down: parse what waited. */
static void
conn_resume(struct conn *c)
{
	conn_unhold(c);
	if (c->inlen == 0)
		return;
	/* as a read of nothing new: what it keeps is already in c->in */
	memcpy(np->rbuf, c->in, c->inlen);
	if (conn_input(c, np->rbuf, c->inlen) == -1)
		c->closing = 1;
}

/* -1: the peer has closed its side (or the connection broke). */
static int
conn_read(struct conn *c)
{
	uint8_t	*buf = np->rbuf;
	size_t	 have = 0;
	ssize_t	 n;

	/* only an incomplete message is kept while reading: it fits */
	if (c->held || c->inlen >= np->max_message)
		fatalx("%s: conn %llu: reading with %zu bytes kept", __func__,
		    (unsigned long long)c->serial, c->inlen);
	if (c->inlen > 0) {
		memcpy(buf, c->in, c->inlen);
		have = c->inlen;
	}
	if (c->ssl != NULL)
		n = tls_conn_read(c, buf + have, NETPROC_READ_SIZE);
	else
		n = recv(c->fd, buf + have, NETPROC_READ_SIZE, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		log_debug("conn %llu: read: %s", (unsigned long long)c->serial,
		    strerror(errno));
		return -1;
	}
	if (n == 0) {
		if (c->inlen > 0)
			log_warnx("conn %llu %s: closed in the middle of "
			    "a message (%zu bytes)",
			    (unsigned long long)c->serial, c->who,
			    c->inlen);
		return -1;
	}
	c->last_in = monotime();
	if (conn_input(c, buf, have + n) == -1)
		c->closing = 1;
	conn_mark_dirty(c);
	return 0;
}

/*
 * Write what is queued and decide what to wait for.  Returns -1 if the
 * connection was closed.
 */
static int
conn_update(struct conn *c)
{
	uint32_t	 want = 0;

	if (c->zombie) {
		/* closed while keyproc signed its handshake (tls.c) */
		if (c->sign_wait)
			return 0;
		tls_zombie_end(c);
		conn_close(c);
		return -1;
	}
	if (c->tls == TLS_CONNECTING)
		return 0;	/* its socket's EPOLLOUT says when */
	if (c->tls == TLS_HANDSHAKE) {
		if (tls_conn_step(c) == -1) {
			conn_close(c);
			return -1;
		}
		if (c->tls == TLS_HANDSHAKE)
			return 0;
	}
	for (;;) {
		if (conn_flush(c) == -1) {
			conn_close(c);
			return -1;
		}
		/* each round parses a message, or ends the wait */
		if (!c->held || c->closing || conn_must_hold(c) != HOLD_NONE)
			break;
		conn_resume(c);
	}
	if (c->closing && c->outoff == c->outlen && c->npending == 0) {
		conn_close(c);
		return -1;
	}
	/* back-pressure: a peer that does not read gets no more service */
	if (!c->closing && !c->held && conn_must_hold(c) != HOLD_NONE)
		conn_hold(c, HOLD_NONE, 0);
	if (!c->closing && !c->held)
		want |= EPOLLIN;
	if (c->outoff < c->outlen)
		want |= EPOLLOUT;
	netproc_update_events(c, want);
	return 0;
}

void
conn_event(struct conn *c, uint32_t events)
{
	if (c->tls == TLS_CONNECTING) {
		relay_connected(c);
		return;
	}
	if (c->tls == TLS_HANDSHAKE) {
		/* the handshake's own reads and writes */
		if (tls_conn_step(c) == -1)
			conn_close(c);
		return;
	}
	if ((events & EPOLLIN) && !c->closing && !c->held) {
		if (conn_read(c) == -1) {
			/* half-closed: still deliver what it asked for */
			c->closing = 1;
			conn_mark_dirty(c);
		}
	} else if ((events & (EPOLLERR | EPOLLHUP)) &&
	    !(events & EPOLLOUT)) {
		conn_close(c);
		return;
	} else
		conn_mark_dirty(c);
}

/* Once per wake-up: one write per connection that has output. */
void
conn_flush_dirty(void)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&np->dirty)) != NULL) {
		TAILQ_REMOVE(&np->dirty, c, dentry);
		c->dirty = 0;
		conn_update(c);
	}
}

/*
 * Once a second: hang up on peers that hold a connection idle for too
 * long, take too long to send a message, or stop reading their answers.
 */
void
conn_timeouts(void)
{
	struct conn	*c, *next;
	time_t		 now = monotime();
	const char	*why;

	if (now == np->now)
		return;
	np->now = now;
	client_tick();
	relay_timeouts(now);
	for (c = TAILQ_FIRST(&np->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		why = NULL;
		if (c->zombie)
			continue;
		if (c->tls == TLS_HANDSHAKE || c->tls == TLS_CONNECTING) {
			/* the peer's part; keyproc's is not its fault */
			if (!c->sign_wait &&
			    now - c->last_in >= np->timeout_message)
				why = "did not finish its TLS handshake "
				    "in time";
		} else if (c->over_limit &&
		    now - c->last_in >= np->timeout_message)
			why = "over its limit and silent";
		else if (c->inlen > 0 && !c->held &&
		    now - c->in_since >= np->timeout_message)
			why = "did not finish its message in time";
		else if (c->outoff < c->outlen &&
		    now - c->out_since >= np->timeout_message)
			why = "does not read its answers";
		else if (np->timeout_idle > 0 && c->inlen == 0 &&
		    c->npending == 0 && c->outoff == c->outlen &&
		    TAILQ_EMPTY(&c->upops) &&
		    now - c->last_in >= np->timeout_idle) {
			log_debug("conn %llu %s: idle for %u s: closed",
			    (unsigned long long)c->serial, c->who,
			    np->timeout_idle);
			conn_close(c);
			continue;
		}
		if (why != NULL) {
			log_warnx("conn %llu %s: %s: closed",
			    (unsigned long long)c->serial, c->who, why);
			conn_close(c);
		}
	}
}
