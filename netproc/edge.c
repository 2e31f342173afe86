/*
 * The edge extension (designation 192) on netproc's side: parse the
 * request, find the key, check that the peer may use it, queue the
 * operation on its client (the peer uid), hand it to a keyproc in its
 * client's turn, and route its answer back to the connection that
 * asked.  netproc decides who may use a key; keyproc decides what the
 * key may be used for.
 *
 * Scheduling: each keyproc gets at most KEYPROC_INFLIGHT operations at
 * a time, and the clients with queued work take turns, one operation
 * each, so that the queueing happens here, per uid, and a uid that
 * floods waits behind itself only.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "imsg.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

void
edge_init(void)
{
	size_t	 i;

	if ((np->pending = calloc(NETPROC_PENDING_MAX,
	    sizeof(*np->pending))) == NULL ||
	    (np->kpload = calloc(np->nkeyprocs, sizeof(unsigned))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&np->freepending);
	TAILQ_INIT(&np->runq);
	for (i = 0; i < NETPROC_PENDING_MAX; i++)
		TAILQ_INSERT_TAIL(&np->freepending, &np->pending[i], entry);
}

/* A minimal reader over a payload: every get fails past the end. */
struct rd {
	const uint8_t	*p;
	size_t		 left;
	int		 bad;
};

static const uint8_t *
rd_get(struct rd *r, size_t n)
{
	const uint8_t	*p = r->p;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static unsigned
rd_num(struct rd *r, size_t n)
{
	const uint8_t	*p;
	unsigned	 v = 0;

	if ((p = rd_get(r, n)) == NULL)
		return 0;
	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

static struct netkey *
key_byid(const uint8_t *id)
{
	size_t	 i;

	for (i = 0; i < np->nkeys; i++)
		if (memcmp(np->keys[i].pub.spki_sha256, id,
		    EDGE_KEY_ID_LEN) == 0)
			return &np->keys[i];
	return NULL;
}

static struct netkey *
key_byname(const uint8_t *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < np->nkeys; i++)
		if (strlen(np->keys[i].pub.name) == len &&
		    memcmp(np->keys[i].pub.name, name, len) == 0)
			return &np->keys[i];
	return NULL;
}

/* A TLS peer's verified certificate against a rule of the key's. */
static int
cert_matches(const struct peercert *pc, const struct certrule *r)
{
	int	 i;

	switch (r->type) {
	case ALLOW_SPKI:
		return memcmp(pc->spki, r->spki, sizeof(pc->spki)) == 0;
	case ALLOW_SUBJECT:
		return strcmp(pc->subject, r->value) == 0;
	case ALLOW_SAN:
		for (i = 0; i < pc->nsans; i++)
			if (strcmp(pc->sans[i].value, r->value) == 0)
				return 1;
		return 0;
	}
	return 0;
}

/*
 * The peer against the key's allow list: a Unix socket peer's
 * credentials against the uid and gid rules, a TLS peer's verified
 * certificate against the client rules; never one for the other.
 */
static int
authorized(const struct conn *c, const struct netkey *k)
{
	size_t	 i;
	int	 j;

	if (c->transport == TRANSPORT_TLS) {
		if (c->peer == NULL)
			return 0;
		for (i = 0; i < k->ncerts; i++)
			if (cert_matches(c->peer, &k->certs[i]))
				return 1;
		return 0;
	}
	if (c->transport != TRANSPORT_UNIX)
		return 0;
	for (i = 0; i < k->nuids; i++)
		if (k->uids[i] == c->uid)
			return 1;
	for (i = 0; i < k->ngids; i++) {
		if (k->gids[i] == c->gid)
			return 1;
		for (j = 0; j < c->ngroups; j++)
			if (k->gids[i] == c->groups[j])
				return 1;
	}
	return 0;
}

/* For relay.c: the peer against an upstream's allow list. */
int
edge_authorized(const struct conn *c, const struct netkey *k)
{
	return authorized(c, k);
}

/*
 * Does this lurkd hold the key the request names?  1 for a request
 * that names none well (refused here, as malformed).
 */
static int
edge_holds(const struct lurk_hdr *h, const uint8_t *p, size_t len)
{
	if (h->type == EDGE_TYPE_KEY_INFO) {
		if (len < 2 || len != 2 + (size_t)p[1])
			return 1;
		if (p[0] == EDGE_SEL_SPKI_SHA256 && p[1] == EDGE_KEY_ID_LEN)
			return key_byid(p + 2) != NULL;
		if (p[0] == EDGE_SEL_NAME && p[1] > 0)
			return key_byname(p + 2, p[1]) != NULL;
		return 1;
	}
	return len < EDGE_KEY_ID_LEN || key_byid(p) != NULL;
}

/* Who may not use the key, for the refusal's log line. */
static void
unauthorized_why(const struct conn *c, char *why, size_t len,
    const char *more)
{
	if (c->transport == TRANSPORT_TLS)
		snprintf(why, len, "%s may not use this key%s", c->who, more);
	else
		snprintf(why, len, "uid %u gid %u may not use this key%s",
		    (unsigned)c->uid, (unsigned)c->gid, more);
}

/* A refusal: counted by key, operation and status, and by reason. */
static void
edge_refuse(struct conn *c, const struct lurk_hdr *h, struct netkey *k,
    uint8_t status, enum refusal reason, const char *why)
{
	char	 what[128];

	stats_count(k, h->type, status);
	stats_refusal(reason);
	snprintf(what, sizeof(what), "%s key \"%s\" %s",
	    edge_status_name(status), k != NULL ? k->pub.name : "-",
	    edge_type_name(h->type));
	conn_refuse(c, h, status, what, why, k != NULL ? k->pub.name : NULL,
	    edge_type_name(h->type));
}

/* unknown_key, saying which key was asked for: its id, or its name. */
static void
no_such_key(struct conn *c, const struct lurk_hdr *h, const uint8_t *id,
    const uint8_t *name, size_t namelen)
{
	char	 why[EDGE_KEY_ID_LEN * 2 + 64], hex[EDGE_KEY_ID_LEN * 2 + 1];

	if (id != NULL)
		snprintf(why, sizeof(why), "no such key: id %s",
		    lurk_hex(id, EDGE_KEY_ID_LEN, hex, sizeof(hex)));
	else
		snprintf(why, sizeof(why), "no such key: name \"%.*s\"",
		    (int)(namelen > 40 ? 40 : namelen), (const char *)name);
	edge_refuse(c, h, NULL, EDGE_ST_UNKNOWN_KEY, REF_UNKNOWN_KEY, why);
}

static uint16_t
tls_group(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		return TLS_GROUP_SECP256R1;
	case NID_secp384r1:
		return TLS_GROUP_SECP384R1;
	case NID_secp521r1:
		return TLS_GROUP_SECP521R1;
	}
	return 0;
}

/* key_info: public data only, so any peer that reaches the socket. */
static void
key_info(struct conn *c, const struct lurk_hdr *h, struct rd *r)
{
	struct netkey	*k;
	struct iovec	 iov[7];
	const uint8_t	*sel;
	uint8_t		 fixed[32 + 1 + 2 + 2 + 1], nlen[1], slen[2], clen[3];
	unsigned	 type, len;

	type = rd_num(r, 1);
	len = rd_num(r, 1);
	sel = rd_get(r, len);
	if (r->bad || r->left != 0 || (type == EDGE_SEL_SPKI_SHA256 &&
	    len != EDGE_KEY_ID_LEN) || (type == EDGE_SEL_NAME && len == 0)) {
		edge_refuse(c, h, NULL, LURK_ST_INVALID_FORMAT, REF_FORMAT,
		    "malformed key_info request");
		return;
	}
	if (type == EDGE_SEL_SPKI_SHA256)
		k = key_byid(sel);
	else if (type == EDGE_SEL_NAME)
		k = key_byname(sel, len);
	else {
		edge_refuse(c, h, NULL, LURK_ST_INVALID_FORMAT, REF_FORMAT,
		    "unknown key selector type");
		return;
	}
	if (k == NULL) {
		no_such_key(c, h, type == EDGE_SEL_SPKI_SHA256 ? sel : NULL,
		    type == EDGE_SEL_NAME ? sel : NULL, len);
		return;
	}
	memcpy(fixed, k->pub.spki_sha256, 32);
	fixed[32] = k->pub.kind;
	fixed[33] = k->pub.bits >> 8;
	fixed[34] = k->pub.bits;
	fixed[35] = tls_group(k->pub.curve_nid) >> 8;
	fixed[36] = tls_group(k->pub.curve_nid);
	fixed[37] = k->operations;
	nlen[0] = strlen(k->pub.name);
	slen[0] = k->pub.spki_len >> 8;
	slen[1] = k->pub.spki_len;
	clen[0] = k->pub.chain_len >> 16;
	clen[1] = k->pub.chain_len >> 8;
	clen[2] = k->pub.chain_len;
	iov[0] = (struct iovec){ fixed, sizeof(fixed) };
	iov[1] = (struct iovec){ nlen, 1 };
	iov[2] = (struct iovec){ k->pub.name, nlen[0] };
	iov[3] = (struct iovec){ slen, 2 };
	iov[4] = (struct iovec){ k->spki, k->pub.spki_len };
	iov[5] = (struct iovec){ clen, 3 };
	iov[6] = (struct iovec){ k->chain, k->pub.chain_len };
	if (conn_reply(c, h, LURK_ST_SUCCESS, iov, 7) == 0)
		stats_count(k, h->type, LURK_ST_SUCCESS);
}

static int
least_busy_keyproc(void)
{
	static int	 rr;
	int		 i, best = -1;

	for (i = 0; i < np->nkeyprocs; i++) {
		int	 k = (rr + i) % np->nkeyprocs;

		if (best == -1 || np->kpload[k] < np->kpload[best])
			best = k;
	}
	rr = (best + 1) % np->nkeyprocs;
	return best;
}

static uint32_t
type_op(uint8_t type)
{
	return type == EDGE_TYPE_SIGN_TLS13 ? EDGE_OP_SIGN_TLS13 :
	    type == EDGE_TYPE_SIGN_TLS12 ? EDGE_OP_SIGN_TLS12 :
	    EDGE_OP_RSA_PREMASTER;
}

/* sign_tls13, sign_tls12, rsa_premaster: checked here, done by keyproc */
static void
key_operation(struct conn *c, const struct lurk_hdr *h, struct rd *r)
{
	struct keyop_req	 req;
	struct pending		*p;
	struct netkey		*k;
	struct client		*cl = c->client;
	const uint8_t		*id, *data;
	uint8_t			*msg;
	uint32_t		 op;
	char			 why[IDENT_NAME_MAX + 96];
	int			 i;

	memset(&req, 0, sizeof(req));
	id = rd_get(r, EDGE_KEY_ID_LEN);
	if (h->type == EDGE_TYPE_RSA_PREMASTER) {
		req.client_version = rd_num(r, 2);
		req.negotiated_version = rd_num(r, 2);
	} else
		req.scheme = rd_num(r, 2);
	req.len = rd_num(r, 2);
	data = rd_get(r, req.len);
	if (r->bad || r->left != 0 || req.len == 0) {
		edge_refuse(c, h, id != NULL ? key_byid(id) : NULL,
		    LURK_ST_INVALID_FORMAT, REF_FORMAT, r->left != 0 ?
		    "trailing bytes after the request" : "malformed request");
		return;
	}
	if ((k = key_byid(id)) == NULL) {
		no_such_key(c, h, id, NULL, 0);
		return;
	}
	if (!authorized(c, k)) {
		unauthorized_why(c, why, sizeof(why), "");
		edge_refuse(c, h, k, EDGE_ST_UNAUTHORIZED, REF_UNAUTHORIZED,
		    why);
		return;
	}
	op = type_op(h->type);
	if ((k->operations & op) == 0) {
		/* keyproc would refuse too; no need to bother it */
		edge_refuse(c, h, k, EDGE_ST_OPERATION_REFUSED, REF_OPERATION,
		    "operation not allowed for this key");
		return;
	}
	if (cl == NULL)
		fatalx("%s: conn %llu without a client", __func__,
		    (unsigned long long)c->serial);
	if (cl->npending >= CLIENT_PENDING_MAX) {
		/* one uid may not take every slot from the others */
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_IN_FLIGHT,
		    "too many operations of this uid in flight");
		return;
	}
	if ((p = TAILQ_FIRST(&np->freepending)) == NULL) {
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_IN_FLIGHT,
		    "too many operations in flight");
		return;
	}
	/* the key's own rate for the operation (rsa-kex: lurk(7)) */
	i = key_op_index(op);
	if (!bucket_take(&k->bucket[i], k->rate[i], k->burst[i])) {
		k->rate_refused[i]++;
		snprintf(why, sizeof(why), "limit %s rate %u a second "
		    "exceeded", edge_type_name(h->type), k->rate[i]);
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_KEY_RATE,
		    why);
		return;
	}
	/* keyproc's request, kept until the client's turn */
	req.index = k - np->keys;
	req.type = h->type;
	req.transport = c->transport;
	req.uid = c->uid;
	if ((msg = malloc(sizeof(req) + req.len)) == NULL) {
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_FAILED,
		    "out of memory");
		return;
	}
	memcpy(msg, &req, sizeof(req));
	memcpy(msg + sizeof(req), data, req.len);

	pending_queue(p, c, h, req.index, msg, sizeof(req) + req.len);
}

/*
 * An operation taken: on its connection and on its client's queue,
 * charged to both until answered.  p is np->freepending's first.
 */
void
pending_queue(struct pending *p, struct conn *c, const struct lurk_hdr *h,
    uint32_t key, uint8_t *msg, size_t msglen)
{
	struct client	*cl = c->client;

	TAILQ_REMOVE(&np->freepending, p, entry);
	np->npending++;
	p->t0 = monotime_ns();
	p->used = 1;
	p->c = c;
	p->cl = cl;
	if (h != NULL)
		p->hdr = *h;
	p->key = key;
	p->keyproc = -1;
	p->msg = msg;
	p->msglen = msglen;
	TAILQ_INSERT_TAIL(&c->pending, p, entry);
	c->npending++;
	c->qbytes += p->msglen;
	cl->npending++;
	client_charge(cl, p->msglen);
	TAILQ_INSERT_TAIL(&cl->queue, p, qentry);
	if (!cl->onrunq) {
		cl->onrunq = 1;
		TAILQ_INSERT_TAIL(&np->runq, cl, runentry);
	}
}

/*
 * Once per wake-up, after the input is parsed: fill the keyprocs up to
 * KEYPROC_INFLIGHT each, one operation of each waiting client in turn.
 */
void
edge_dispatch(void)
{
	struct client	*cl;
	struct pending	*p;
	struct iovec	 iov[2];
	int		 k;

	while ((cl = TAILQ_FIRST(&np->runq)) != NULL) {
		if (np->kpload[k = least_busy_keyproc()] >=
		    np->keyproc_inflight)
			break;
		p = TAILQ_FIRST(&cl->queue);
		TAILQ_REMOVE(&cl->queue, p, qentry);
		TAILQ_REMOVE(&np->runq, cl, runentry);
		if (TAILQ_EMPTY(&cl->queue))
			cl->onrunq = 0;
		else
			TAILQ_INSERT_TAIL(&np->runq, cl, runentry);
		p->keyproc = k;
		np->kpload[k]++;
		if (p->tls)
			tls_pending_index(p);
		iov[0] = (struct iovec){ p->msg, sizeof(struct keyop_req) };
		iov[1] = (struct iovec){ p->msg + sizeof(struct keyop_req),
		    p->msglen - sizeof(struct keyop_req) };
		netproc_send_keyproc(k, p - np->pending, iov, 2);
		free(p->msg);
		p->msg = NULL;
	}
}

/* Off its client's queue (it was never sent to a keyproc). */
void
pending_unqueue(struct pending *p)
{
	struct client	*cl = p->cl;

	TAILQ_REMOVE(&cl->queue, p, qentry);
	if (TAILQ_EMPTY(&cl->queue) && cl->onrunq) {
		cl->onrunq = 0;
		TAILQ_REMOVE(&np->runq, cl, runentry);
	}
}

/* An operation is over: answered, or dropped before it was sent. */
void
pending_free(struct pending *p)
{
	struct client	*cl = p->cl;

	if (p->c != NULL) {
		TAILQ_REMOVE(&p->c->pending, p, entry);
		p->c->npending--;
		p->c->qbytes -= p->msglen;
	}
	cl->npending--;
	client_discharge(cl, p->msglen);
	free(p->msg);
	memset(p, 0, sizeof(*p));
	TAILQ_INSERT_TAIL(&np->freepending, p, entry);
	np->npending--;
	client_gc(cl);
}

void
edge_request(struct conn *c, const struct lurk_hdr *h, const uint8_t *payload,
    size_t len)
{
	struct rd	 r = { payload, len, 0 };

	switch (h->type) {
	case EDGE_TYPE_KEY_INFO:
	case EDGE_TYPE_SIGN_TLS13:
	case EDGE_TYPE_SIGN_TLS12:
	case EDGE_TYPE_RSA_PREMASTER:
		break;
	default:
		edge_refuse(c, h, NULL, LURK_ST_INVALID_TYPE, REF_TYPE,
		    "unknown type");
		return;
	}
	if (h->status != LURK_ST_REQUEST) {
		edge_refuse(c, h, NULL, LURK_ST_INVALID_STATUS, REF_STATUS,
		    "not a request");
		return;
	}
	/* a key this lurkd does not hold may be an upstream's */
	if (np->nupstream > 0 && !edge_holds(h, payload, len) &&
	    relay_edge_request(c, h, payload, len))
		return;
	if (h->type == EDGE_TYPE_KEY_INFO)
		key_info(c, h, &r);
	else
		key_operation(c, h, &r);
}

/* keyproc answered request number id. */
void
edge_keyop_done(int keyproc, struct imsg *imsg)
{
	struct keyop_res	 res;
	struct pending		*p;
	struct netkey		*k;
	struct conn		*c;
	struct ibuf		 ib;
	struct iovec		 iov;
	uint32_t		 id = imsg_get_id(imsg);

	if (id >= NETPROC_PENDING_MAX || !(p = &np->pending[id])->used ||
	    p->keyproc != keyproc)
		fatalx("%s: keyproc[%d] answered unknown request %u", __func__,
		    keyproc, id);
	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    ibuf_get(&ib, &res, sizeof(res)) == -1 ||
	    ibuf_size(&ib) != res.len ||
	    (res.status == LURK_ST_SUCCESS) != (res.len > 0))
		fatalx("%s: bad IMSG_KEYOP_RES from keyproc[%d]", __func__,
		    keyproc);
	np->kpload[keyproc]--;
	if (p->tls) {
		/* a handshake of netproc's own: its job resumes */
		tls_sign_done(p, res.status, ibuf_data(&ib), res.len);
		pending_free(p);
		return;
	}
	/* a key a reload removed still answers what it was sent */
	k = p->key == PENDING_NOKEY ? NULL : &np->keys[p->key];
	/* done, whether its peer is still there or not */
	stats_count(k, p->hdr.type, res.status);
	if (res.status != LURK_ST_SUCCESS) {
		/* keyproc logged the reason */
		stats_refusal(stats_status_refusal(res.status));
		p->cl->refusals++;
	}
	if ((c = p->c) != NULL) {
		log_debug("conn %llu %s: %s key \"%s\": %s",
		    (unsigned long long)c->serial, c->who,
		    edge_type_name(p->hdr.type), k != NULL ? k->pub.name : "-",
		    edge_status_name(res.status));
		if (res.status == LURK_ST_SUCCESS) {
			iov.iov_base = ibuf_data(&ib);
			iov.iov_len = res.len;
		} else {
			iov.iov_base = np->state;
			iov.iov_len = LURK_STATE_LEN;
		}
		if (conn_reply(c, &p->hdr, res.status, &iov, 1) == 0)
			stats_latency(p->hdr.type, p->t0);
	}
	pending_free(p);
}

/*
 * The connection is going away: its operations not yet sent to a
 * keyproc are dropped; those sent stay charged to its client until
 * keyproc answers, and the answers go nowhere.
 */
void
edge_conn_gone(struct conn *c)
{
	struct pending	*p, *next;
	struct client	*cl;
	unsigned	 n = 0;

	for (p = TAILQ_FIRST(&c->pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->keyproc != -1) {
			TAILQ_REMOVE(&c->pending, p, entry);
			c->npending--;
			c->qbytes -= p->msglen;
			p->c = NULL;
			continue;
		}
		cl = p->cl;
		pending_unqueue(p);
		cl->dropped++;
		np->dropped++;
		n++;
		pending_free(p);
	}
	if (n > 0)
		log_debug("conn %llu %s: %u operations not sent to a "
		    "keyproc dropped", (unsigned long long)c->serial,
		    c->who, n);
}

void
edge_log_stats(void)
{
	struct netkey	*k;
	size_t		 i;
	int		 t, st;
	char		 line[512];
	uint64_t	 ok, refused;
	size_t		 n;

	log_info("stats: %llu connections open, %llu accepted",
	    (unsigned long long)np->nconns, (unsigned long long)np->serial);
	/* the parent's view (IMSG_CTL_STATUS) and netproc's own */
	log_info("stats: generation %u (parent: %u); reloads %llu ok, %llu "
	    "failed%s%s", np->generation, np->status.generation,
	    (unsigned long long)np->status.reloads_ok,
	    (unsigned long long)np->status.reloads_failed,
	    np->status.last_reload_error[0] != '\0' ? "; last error: " : "",
	    np->status.last_reload_error);
	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		n = snprintf(line, sizeof(line), "stats: key \"%s\":",
		    k->pub.name);
		for (t = 1; t < NTYPES && n < sizeof(line); t++) {
			for (ok = refused = 0, st = 0; st < NSTATUS; st++)
				if (st == LURK_ST_SUCCESS)
					ok += k->stats.n[t][st];
				else
					refused += k->stats.n[t][st];
			n += snprintf(line + n, sizeof(line) - n,
			    " %s %llu ok %llu refused", edge_type_name(t),
			    (unsigned long long)ok,
			    (unsigned long long)refused);
		}
		/* key_op_index() t is edge type t + 2 */
		for (t = 0; t < KEY_NOPS && n < sizeof(line); t++)
			if (k->rate[t] > 0)
				n += snprintf(line + n, sizeof(line) - n,
				    "; %llu %s over the rate of %u a second",
				    (unsigned long long)k->rate_refused[t],
				    edge_type_name(t + 2), k->rate[t]);
		log_info("%s", line);
	}
}

void
netkey_free(struct netkey *k)
{
	size_t	 i;

	free(k->spki);
	free(k->chain);
	free(k->uids);
	free(k->gids);
	for (i = 0; i < k->ncerts; i++)
		free(k->certs[i].value);
	free(k->certs);
	memset(k, 0, sizeof(*k));
}

/*
 * A queued operation (not yet sent to a keyproc) when a reload commits:
 * it goes to the keyprocs of the new generation, so it must name its
 * key in the new table, and the new rules must still let its peer use
 * the key for it.  Otherwise it is answered now.  old: the key it was
 * accepted for.  Returns 0 if it stays queued.
 */
static int
pending_recheck(struct pending *p, const struct netkey *old)
{
	struct netkey	*k;
	struct keyop_req req;
	char		 why[IDENT_NAME_MAX + 96];

	if (p->key == PENDING_NOKEY) {
		no_such_key(p->c, &p->hdr, old->pub.spki_sha256, NULL, 0);
		return -1;
	}
	k = &np->keys[p->key];
	if (!authorized(p->c, k)) {
		unauthorized_why(p->c, why, sizeof(why), " (reloaded)");
		edge_refuse(p->c, &p->hdr, k, EDGE_ST_UNAUTHORIZED,
		    REF_UNAUTHORIZED, why);
		return -1;
	}
	if ((k->operations & type_op(p->hdr.type)) == 0) {
		edge_refuse(p->c, &p->hdr, k, EDGE_ST_OPERATION_REFUSED,
		    REF_OPERATION, "operation not allowed for this key "
		    "(reloaded)");
		return -1;
	}
	/* the index keyproc will read: the new table's */
	memcpy(&req, p->msg, sizeof(req));
	req.index = p->key;
	memcpy(p->msg, &req, sizeof(req));
	return 0;
}

/*
 * A reload commits: keys becomes the key table.  A key is the same key
 * in both tables if its SPKI is: its counters and rate buckets carry
 * over, and every operation of it is remapped to its new index.  Those
 * already sent to a keyproc were sent before the COMMIT on the same
 * channel, so the old generation answers them; those still queued go
 * to the new one (pending_recheck).
 */
void
edge_swap_keys(struct netkey *keys, size_t nkeys)
{
	struct netkey	*old = np->keys;
	struct pending	*p;
	size_t		 nold = np->nkeys, i, j;
	uint32_t	*map, oldkey;
	int		 t;
	unsigned	 moved = 0, refused = 0;

	if ((map = calloc(nold + 1, sizeof(*map))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < nold; i++) {
		map[i] = PENDING_NOKEY;
		for (j = 0; j < nkeys; j++) {
			if (memcmp(old[i].pub.spki_sha256,
			    keys[j].pub.spki_sha256,
			    sizeof(keys[j].pub.spki_sha256)) != 0)
				continue;
			map[i] = j;
			keys[j].stats = old[i].stats;
			for (t = 0; t < KEY_NOPS; t++) {
				keys[j].rate_refused[t] = old[i].rate_refused[t];
				bucket_carry(&keys[j].bucket[t],
				    &old[i].bucket[t], keys[j].burst[t]);
			}
			break;
		}
	}
	np->keys = keys;
	np->nkeys = nkeys;
	for (i = 0; i < NETPROC_PENDING_MAX; i++) {
		p = &np->pending[i];
		/* a handshake's names its listener (tls_pending_index) */
		if (!p->used || p->tls || p->key == PENDING_NOKEY)
			continue;
		if (p->key >= nold)
			fatalx("%s: operation of key %u of %zu", __func__,
			    p->key, nold);
		oldkey = p->key;
		p->key = map[oldkey];
		if (p->keyproc != -1)
			continue;
		if (pending_recheck(p, &old[oldkey]) == -1) {
			pending_unqueue(p);
			pending_free(p);
			refused++;
		} else
			moved++;
	}
	if (moved > 0 || refused > 0)
		log_info("reload: %u queued operations go to the new keys, %u "
		    "were refused", moved, refused);
	/* the TLS listeners' keys too, after the edges' */
	for (i = 0; i < nold + np->ntlskeys; i++)
		netkey_free(&old[i]);
	free(old);
	free(map);
}
