/*
 * The control sockets (lurkctl(8)), served by netproc.
 *
 * Why here and not in the parent: the parent parses no byte from
 * outside, so its attack surface stays the operator's configuration;
 * netproc already parses every byte from outside and holds the
 * connections, clients and counters that lurkctl shows, and the parent
 * and keyprocs report to it what else it shows.  A compromised netproc
 * could lie to lurkctl, or ask for a reload or a change of log level:
 * harmless, as a reload re-reads the operator's files.
 *
 * The protocol is liblurk/ctl.h's: imsg framing, never a descriptor
 * (imsgbuf_allow_fdpass is not called: a descriptor sent along is
 * discarded by the kernel unread), one request at a time.  A connection
 * holds at most one answer: its input is not read while an answer is
 * queued or being made, a peer that does not read its answer for
 * "timeout message" seconds is closed, and there are at most
 * CTL_CONNS_MAX connections; so netproc's memory stays bounded whatever
 * a peer does.  Who may connect (SO_PEERCRED): root, lurkd's own uid,
 * and members of the socket's group; a restricted socket is for "show"
 * and health only, and anyone its file mode lets in.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "imsg.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "proc.h"

#define CTL_CONNS_MAX		16
#define CTL_STATUS_WAIT		1	/* s for the parent's status */
#define CTL_RELOAD_WAIT		60	/* s for the parent's reload */

enum ctl_state {
	CTL_IDLE,		/* reading a request */
	CTL_WAIT_STATUS,	/* for the parent's status, then answer */
	CTL_WAIT_RELOAD,	/* for the parent to have reloaded */
	CTL_CLOSING,		/* close once the answer is written */
};

struct ctlconn {
	struct evtag		 tag;		/* first: epoll data.ptr */
	struct imsgbuf		 ibuf;
	const struct listener	*l;
	uid_t			 uid;
	enum ctl_state		 state;
	uint32_t		 cmd;		/* waiting: what for */
	uint64_t		 want_seq;	/* the status after asking */
	uint64_t		 reload_mark;	/* reloads before asking */
	time_t			 since;		/* waiting since */
	time_t			 last_in;	/* last request */
	time_t			 out_since;	/* answer queued, not read */
	uint32_t		 events;
	TAILQ_ENTRY(ctlconn)	 entry;
};

static TAILQ_HEAD(, ctlconn)	 ctlconns = TAILQ_HEAD_INITIALIZER(ctlconns);
static size_t			 nctl;
static time_t			 denied_logsec;

static void	 ctl_update(struct ctlconn *);

size_t
ctl_count(void)
{
	return nctl;
}

static void
ctl_close(struct ctlconn *c)
{
	TAILQ_REMOVE(&ctlconns, c, entry);
	nctl--;
	close(c->ibuf.fd);	/* also out of the epoll set */
	imsgbuf_clear(&c->ibuf);
	free(c);
}

static void
compose(struct ctlconn *c, uint32_t type, const void *data, size_t len)
{
	if (imsg_compose(&c->ibuf, type, CTL_PROTO_VERSION, 0, -1, data,
	    len) == -1) {
		/* out of memory: the peer gets what was queued, no more */
		log_warn("control: compose");
		c->state = CTL_CLOSING;
	}
}

static void
result(struct ctlconn *c, int code, const char *fmt, ...)
    __attribute__((__format__(printf, 3, 4)));

static void
result(struct ctlconn *c, int code, const char *fmt, ...)
{
	struct ctl_result	 r;
	va_list			 ap;

	memset(&r, 0, sizeof(r));
	r.code = code;
	va_start(ap, fmt);
	vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	compose(c, CTL_RESULT, &r, sizeof(r));
}

/* May this peer use a full (not restricted) control socket? */
static int
peer_allowed(int fd, const struct listener *l, const struct ucred *cred)
{
	gid_t		 g[PEER_GROUPS_MAX];
	socklen_t	 len = sizeof(g);
	size_t		 i;

	if (cred->uid == 0 || cred->uid == l->uid || cred->gid == l->gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1)
		return 0;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (g[i] == l->gid)
			return 1;
	return 0;
}

void
ctl_accept(struct listener *l)
{
	struct ucred	 cred;
	struct ctlconn	*c;
	socklen_t	 len;
	time_t		 now;
	int		 fd, i, ok;

	for (i = 0; i < 16; i++) {
		if ((fd = accept4(l->tag.fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				netproc_pause_accept();
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control: accept");
			return;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ==
		    -1 || len != sizeof(cred) || nctl >= CTL_CONNS_MAX ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			log_warnx("control %s: connection refused: %s",
			    l->address, nctl >= CTL_CONNS_MAX ?
			    "too many control connections" :
			    "no peer credentials, or out of memory");
			close(fd);
			continue;
		}
		if (imsgbuf_init(&c->ibuf, fd) == -1 ||
		    imsgbuf_set_maxsize(&c->ibuf, CTL_MSG_MAX -
		    IMSG_HEADER_SIZE) == -1) {
			log_warn("control: imsgbuf_init");
			close(fd);
			free(c);
			continue;
		}
		c->tag.kind = EV_CTL;
		c->tag.fd = fd;
		c->l = l;
		c->uid = cred.uid;
		c->last_in = monotime();
		TAILQ_INSERT_TAIL(&ctlconns, c, entry);
		nctl++;
		np->stats.ctl_conns++;
		ok = l->restricted || peer_allowed(fd, l, &cred);
		c->events = ok ? EPOLLIN : EPOLLOUT;
		netproc_ep_add(fd, c->events, c);
		if (ok) {
			log_debug("control %s: uid %u", l->address,
			    (unsigned)cred.uid);
			continue;
		}
		/* one answer that says why, then the connection goes */
		np->stats.ctl_denied++;
		if ((now = monotime()) != denied_logsec) {
			denied_logsec = now;
			log_op(LOG_ERR, &(struct log_op){ -1, cred.uid,
			    cred.gid, "control", NULL, NULL, "denied",
			    "not root, lurkd's uid or the socket's group",
			    NULL },
			    "control %s: uid %u gid %u refused: not root, "
			    "lurkd's uid or the socket's group (gid %u)",
			    l->address, (unsigned)cred.uid,
			    (unsigned)cred.gid, (unsigned)l->gid);
		}
		result(c, CTL_DENIED, "uid %u may not use this control "
		    "socket", (unsigned)cred.uid);
		c->state = CTL_CLOSING;
		ctl_update(c);
	}
}

/* ---- answers ------------------------------------------------------- */

static void
answer_status(struct ctlconn *c)
{
	struct ctl_show_status	 s;
	struct ctl_keyproc	 kp;
	struct ctl_listener	 li;
	const struct ctl_status	*ps = &np->status;
	int			 i;

	memset(&s, 0, sizeof(s));
	strlcpy(s.version, LURKD_VERSION, sizeof(s.version));
	s.started = ps->started;
	s.now = time(NULL);
	s.root = ps->root;
	s.ready = np->ready;
	s.nkeyprocs = np->nkeyprocs;
	s.nkeys = np->nkeys;
	s.generation = ps->generation;
	s.last_reload_ok = ps->last_reload_ok;
	s.last_reload = ps->last_reload;
	s.reloads_ok = ps->reloads_ok;
	s.reloads_failed = ps->reloads_failed;
	memcpy(s.confhash, ps->confhash, sizeof(s.confhash));
	strlcpy(s.conffile, ps->conffile, sizeof(s.conffile));
	strlcpy(s.last_reload_error, ps->last_reload_error,
	    sizeof(s.last_reload_error));
	s.parent_pid = ps->parent_pid;
	s.netproc_pid = ps->netproc_pid;
	s.log_verbose = log_getverbose();
	s.log_json = ps->log_format == LOG_FORMAT_JSON;
	compose(c, CTL_STATUS, &s, sizeof(s));
	for (i = 0; i < np->nkeyprocs && i < LURKD_KEYPROCS_MAX; i++) {
		memset(&kp, 0, sizeof(kp));
		kp.instance = i;
		kp.pid = ps->keyproc_pid[i];
		/* lurkd exits when a child dies: those it has are running */
		strlcpy(kp.state, "running", sizeof(kp.state));
		compose(c, CTL_KEYPROC, &kp, sizeof(kp));
	}
	for (i = 0; i < np->nlisteners; i++) {
		memset(&li, 0, sizeof(li));
		strlcpy(li.kind, np->listeners[i].kind, sizeof(li.kind));
		strlcpy(li.address, np->listeners[i].address,
		    sizeof(li.address));
		strlcpy(li.state, np->accept_paused ? "paused" : "listening",
		    sizeof(li.state));
		compose(c, CTL_LISTENER, &li, sizeof(li));
	}
	compose(c, CTL_END, NULL, 0);
}

static void
answer_keys(struct ctlconn *c)
{
	struct ctl_key	 r;
	struct netkey	*k;
	size_t		 i, j;
	int		 t, i32;

	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		netkey_cert(k);
		memset(&r, 0, sizeof(r));
		strlcpy(r.name, k->pub.name, sizeof(r.name));
		strlcpy(r.type, edge_kind_name(k->pub.kind), sizeof(r.type));
		r.bits = k->pub.bits;
		strlcpy(r.curve, key_curve_name(k), sizeof(r.curve));
		memcpy(r.spki_sha256, k->pub.spki_sha256,
		    sizeof(r.spki_sha256));
		if ((r.cert_ok = k->cert_ok)) {
			strlcpy(r.subject, k->subject, sizeof(r.subject));
			strlcpy(r.issuer, k->issuer, sizeof(r.issuer));
			r.not_before = k->not_before;
			r.not_after = k->not_after;
		}
		r.operations = k->operations;
		r.tls13_secrets = k->tls13_secrets;
		r.tls13_tickets = k->tls13_tickets;
		/* each operation with the limit it counts under, if any */
		for (t = 0; t < CTL_NOPS; t++) {
			if ((i32 = key_op_index(kop_policy(t))) != -1) {
				r.rate[t] = k->rate[i32];
				r.burst[t] = k->burst[i32];
			}
			r.rate_refusals[t] = k->rate_refused[t];
		}
		r.nuids = k->nuids;
		r.ngids = k->ngids;
		for (j = 0; j < k->nuids && j < CTL_ALLOW_MAX; j++)
			r.uids[j] = k->uids[j];
		for (j = 0; j < k->ngids && j < CTL_ALLOW_MAX; j++)
			r.gids[j] = k->gids[j];
		/* CTL_OP_* are KOP_* */
		for (t = 0; t < CTL_NOPS; t++)
			for (j = 0; j < NSTATUS; j++) {
				if (j == LURK_ST_SUCCESS)
					r.uses[t] += k->stats.n[t][j];
				else
					r.refusals[t] += k->stats.n[t][j];
			}
		compose(c, CTL_KEY, &r, sizeof(r));
	}
	compose(c, CTL_END, NULL, 0);
}

static void
answer_clients(struct ctlconn *c)
{
	struct ctl_client	 r;
	struct client		*cl = NULL;

	while ((cl = client_next(cl)) != NULL) {
		memset(&r, 0, sizeof(r));
		strlcpy(r.transport, transport_name(cl->transport),
		    sizeof(r.transport));
		/* a TLS peer's: truncated here, whole in the logs */
		strlcpy(r.identity, cl->name, sizeof(r.identity));
		r.uid = cl->id.kind == IDENT_UID ? cl->id.uid : (uint32_t)-1;
		r.gid = cl->gid;
		r.connections = cl->nconns;
		r.in_flight = cl->npending;
		r.requests = cl->requests;
		r.refusals = cl->refusals;
		r.backlog = cl->backlog;
		r.held_back = cl->held_back;
		r.dropped = cl->dropped;
		compose(c, CTL_CLIENT, &r, sizeof(r));
	}
	compose(c, CTL_END, NULL, 0);
}

static void
put_stat(struct ctlconn *c, const char *name, const char *label, uint64_t v)
{
	struct ctl_stat	 r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.name, name, sizeof(r.name));
	strlcpy(r.label, label, sizeof(r.label));
	r.value = v;
	compose(c, CTL_STAT, &r, sizeof(r));
}

static void
answer_stats(struct ctlconn *c)
{
	struct ctl_stat_op	 r;
	struct netkey		*k;
	struct stats		*s = &np->stats;
	size_t			 i;
	int			 t, st;

	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		for (t = 0; t < KOP_MAX; t++)
			for (st = 0; st < NSTATUS; st++) {
				if (k->stats.n[t][st] == 0)
					continue;
				memset(&r, 0, sizeof(r));
				strlcpy(r.key, k->pub.name, sizeof(r.key));
				strlcpy(r.operation, kop_name(t),
				    sizeof(r.operation));
				strlcpy(r.result, kop_status_name(t, st),
				    sizeof(r.result));
				r.count = k->stats.n[t][st];
				compose(c, CTL_STAT_OP, &r, sizeof(r));
			}
	}
	for (t = 0; t < REQ_MAX; t++)
		if (reqkind_shown(t))
			put_stat(c, "requests", reqkind_name(t),
			    s->requests[t]);
	for (t = 0; t < REF_MAX; t++)
		put_stat(c, "refusals", refusal_name(t), s->refusals[t]);
	/* a name's labels together: lurkctl -j makes one object of them */
	for (t = 0; t < TRANSPORT_MAX; t++)
		put_stat(c, "connections_open", transport_name(t),
		    s->conns_open[t]);
	for (t = 0; t < TRANSPORT_MAX; t++)
		put_stat(c, "connections_accepted", transport_name(t),
		    s->conns_accepted[t]);
	put_stat(c, "limit_connections", "", np->limit_conns);
	put_stat(c, "limit_user_connections", "", np->limit_user_conns);
	put_stat(c, "limit_user_rate", "", np->limit_user_rate);
	put_stat(c, "clients", "", client_count());
	put_stat(c, "operations_in_flight", "", np->npending);
	put_stat(c, "input_held_back", "", np->held_back);
	put_stat(c, "operations_dropped", "", np->dropped);
	put_stat(c, "control_connections", "", s->ctl_conns);
	put_stat(c, "control_denied", "", s->ctl_denied);
	put_stat(c, "http_requests", "", s->http_requests);
	put_stat(c, "log_lines_dropped", "", np->status.log_dropped +
	    proc_log_dropped_total());
	compose(c, CTL_END, NULL, 0);
}

static void
answer_metrics(struct ctlconn *c)
{
	struct textbuf	 tb;
	size_t		 off, n;

	tb_init(&tb, 64 * 1024 * 1024);
	stats_metrics(&tb);
	if (tb.full) {
		result(c, CTL_FAILED, "out of memory for the metrics");
		tb_free(&tb);
		return;
	}
	for (off = 0; off < tb.len; off += n) {
		n = tb.len - off < CTL_TEXT_MAX ? tb.len - off : CTL_TEXT_MAX;
		compose(c, CTL_TEXT, tb.p + off, n);
	}
	tb_free(&tb);
	compose(c, CTL_END, NULL, 0);
}

static void
answer_health(struct ctlconn *c)
{
	struct ctl_health	 h;
	char			 msg[CTL_STR_MAX];
	int			 ok;

	memset(&h, 0, sizeof(h));
	ok = netproc_healthy(msg, sizeof(msg));
	h.ready = np->ready;
	h.keys = np->nkeys;
	h.listeners = np->nlisteners;
	h.listening = np->accept_paused ? 0 : np->nlisteners;
	compose(c, CTL_HEALTH, &h, sizeof(h));
	result(c, ok ? CTL_OK : CTL_NOTREADY, "%s", msg);
}

/* What the parent's status says of reloads since c asked for one. */
static int
reload_done(struct ctlconn *c)
{
	const struct ctl_status	*ps = &np->status;

	if (ps->reloads_ok + ps->reloads_failed <= c->reload_mark)
		return 0;
	if (ps->last_reload_ok)
		result(c, CTL_OK, "reloaded: configuration generation %u",
		    ps->generation);
	else
		result(c, CTL_FAILED, "reload failed: %s",
		    ps->last_reload_error);
	return 1;
}

/* Answer what waited for the parent's status (or gave up waiting). */
static void
answer_waiting(struct ctlconn *c)
{
	switch (c->cmd) {
	case CTL_REQ_STATUS:
		answer_status(c);
		break;
	case CTL_REQ_STATS:
		answer_stats(c);
		break;
	case CTL_REQ_METRICS:
		answer_metrics(c);
		break;
	}
	c->state = CTL_IDLE;
}

/* ---- requests ------------------------------------------------------ */

static void
request(struct ctlconn *c, struct imsg *imsg)
{
	struct ctl_log	 lg;
	uint32_t	 type = imsg_get_type(imsg);
	size_t		 len = imsg_get_len(imsg);
	int		 level;

	np->stats.ctl_requests++;
	c->last_in = monotime();
	if (imsg_get_id(imsg) != CTL_PROTO_VERSION) {
		result(c, CTL_BADREQ, "control protocol version %u; lurkd "
		    "speaks %u", imsg_get_id(imsg), CTL_PROTO_VERSION);
		return;
	}
	if (type < CTL_REQ_STATUS || type > CTL_REQ_LOG) {
		result(c, CTL_BADREQ, "unknown request %u", type);
		return;
	}
	if (len != (type == CTL_REQ_LOG ? sizeof(lg) : 0)) {
		result(c, CTL_BADREQ, "request %u: %zu bytes", type, len);
		return;
	}
	if (c->l->restricted && (type == CTL_REQ_RELOAD ||
	    type == CTL_REQ_LOG)) {
		result(c, CTL_DENIED, "%s is read-only: show and health only",
		    c->l->address);
		return;
	}
	switch (type) {
	case CTL_REQ_STATUS:
	case CTL_REQ_STATS:
	case CTL_REQ_METRICS:
		/* with the parent's latest: its log, its reloads */
		c->state = CTL_WAIT_STATUS;
		c->cmd = type;
		c->want_seq = np->status_seq + 1;
		c->since = monotime();
		netproc_ask_status();
		break;
	case CTL_REQ_KEYS:
		answer_keys(c);
		break;
	case CTL_REQ_CLIENTS:
		answer_clients(c);
		break;
	case CTL_REQ_HEALTH:
		answer_health(c);
		break;
	case CTL_REQ_RELOAD:
		c->state = CTL_WAIT_RELOAD;
		c->reload_mark = np->status.reloads_ok +
		    np->status.reloads_failed;
		c->since = monotime();
		netproc_send_parent(IMSG_CTL_RELOAD, NULL, 0);
		log_info("control %s: uid %u asks for a reload",
		    c->l->address, (unsigned)c->uid);
		break;
	case CTL_REQ_LOG:
		if (imsg_get_data(imsg, &lg, sizeof(lg)) == -1 ||
		    (lg.verbose != 0 && lg.verbose != 1)) {
			result(c, CTL_BADREQ, "log: verbose must be 0 or 1");
			break;
		}
		level = lg.verbose;
		netproc_send_parent(IMSG_CTL_VERBOSE, &level, sizeof(level));
		result(c, CTL_OK, "logging %s", level ? "verbose" : "brief");
		break;
	}
}

/*
 * Take the next request, if c may: none while an answer is queued or
 * being made.  -1: close c (a message imsg cannot frame, too large).
 */
static int
ctl_next(struct ctlconn *c)
{
	struct imsg	 imsg;
	int		 n;

	if (c->state != CTL_IDLE || imsgbuf_queuelen(&c->ibuf) > 0)
		return 0;
	if ((n = imsgbuf_get(&c->ibuf, &imsg)) == -1)
		return -1;
	if (n == 0)
		return 0;
	request(c, &imsg);
	imsg_free(&imsg);
	return 0;
}

/*
 * Write, take the next request, and wait for what comes next.  A peer
 * that reads nothing of its answer for "timeout message" seconds is
 * closed (ctl_tick).
 */
static void
ctl_update(struct ctlconn *c)
{
	uint32_t	 want = 0, before;

	for (;;) {
		if ((before = imsgbuf_queuelen(&c->ibuf)) > 0) {
			if (imsgbuf_write(&c->ibuf) == -1) {
				ctl_close(c);
				return;
			}
			if (imsgbuf_queuelen(&c->ibuf) < before)
				c->out_since = monotime();
		}
		if (imsgbuf_queuelen(&c->ibuf) > 0)
			break;
		c->out_since = 0;
		if (c->state == CTL_CLOSING) {
			ctl_close(c);
			return;
		}
		if (c->state != CTL_IDLE)
			break;
		/* a request already read: answer it now */
		if (ctl_next(c) == -1) {
			ctl_close(c);
			return;
		}
		if (imsgbuf_queuelen(&c->ibuf) == 0)
			break;
	}
	if (imsgbuf_queuelen(&c->ibuf) > 0) {
		want |= EPOLLOUT;
		if (c->out_since == 0)
			c->out_since = monotime();
	} else if (c->state == CTL_IDLE)
		want |= EPOLLIN;
	if (want != c->events) {
		c->events = want;
		netproc_ep_mod(c->ibuf.fd, want, c);
	}
}

void
ctl_event(struct ctlconn *c, uint32_t events)
{
	int	 n;

	if (events & EPOLLIN && c->state == CTL_IDLE) {
		if ((n = imsgbuf_read(&c->ibuf)) == -1 || n == 0) {
			/* gone, or broken: nobody to answer */
			ctl_close(c);
			return;
		}
		if (ctl_next(c) == -1) {
			ctl_close(c);
			return;
		}
	} else if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT)) {
		ctl_close(c);
		return;
	}
	ctl_update(c);
}

/* The parent's status came in: answer who waited for it. */
void
ctl_status_in(void)
{
	struct ctlconn	*c, *next;

	for (c = TAILQ_FIRST(&ctlconns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CTL_WAIT_STATUS &&
		    np->status_seq >= c->want_seq)
			answer_waiting(c);
		else if (c->state == CTL_WAIT_RELOAD && reload_done(c))
			c->state = CTL_IDLE;
		else
			continue;
		ctl_update(c);
	}
}

/* Once a second: waits that last too long, peers that do not read. */
void
ctl_tick(void)
{
	struct ctlconn	*c, *next;
	time_t		 now = monotime();

	for (c = TAILQ_FIRST(&ctlconns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->out_since != 0 &&
		    now - c->out_since >= np->timeout_message) {
			log_warnx("control %s: uid %u does not read its "
			    "answer: closed", c->l->address,
			    (unsigned)c->uid);
			ctl_close(c);
			continue;
		}
		if (c->state == CTL_WAIT_STATUS &&
		    now - c->since >= CTL_STATUS_WAIT) {
			/* the parent is busy: what it said last */
			answer_waiting(c);
			ctl_update(c);
		} else if (c->state == CTL_WAIT_RELOAD &&
		    now - c->since >= CTL_RELOAD_WAIT) {
			result(c, CTL_FAILED, "no word of the reload from the "
			    "parent in %d s: see the log", CTL_RELOAD_WAIT);
			c->state = CTL_IDLE;
			ctl_update(c);
		} else if (c->state == CTL_IDLE && c->out_since == 0 &&
		    np->timeout_idle > 0 &&
		    now - c->last_in >= np->timeout_idle)
			ctl_close(c);
	}
}
