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

#include "drafts.h"
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

/*
 * The key whose SPKI's SHA-256 starts with the len bytes of id: the
 * whole hash for the edge extension, 4 bytes for the drafts' sha256_32.
 */
struct netkey *
netkey_by_spki(const uint8_t *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < np->nkeys; i++)
		if (memcmp(np->keys[i].pub.spki_sha256, id, len) == 0)
			return &np->keys[i];
	return NULL;
}

static struct netkey *
key_byid(const uint8_t *id)
{
	return netkey_by_spki(id, EDGE_KEY_ID_LEN);
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
int
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
void
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

	stats_count(k, kop_index(h->designation, h->type), status);
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

uint16_t
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
key_info(struct conn *c, const struct lurk_hdr *h, struct lurk_rd *r)
{
	struct netkey	*k;
	struct iovec	 iov[7];
	const uint8_t	*sel;
	uint8_t		 fixed[32 + 1 + 2 + 2 + 1], nlen[1], slen[2], clen[3];
	unsigned	 type, len;

	type = lurk_rd_num(r, 1);
	len = lurk_rd_num(r, 1);
	sel = lurk_rd_get(r, len);
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
	fixed[37] = k->operations & EDGE_OPS;
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
		stats_count(k, KOP_KEY_INFO, LURK_ST_SUCCESS);
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

/*
 * The key's limit (limit OP rate) that operation kop counts under, if
 * any, takes a token: NULL, or why not (in buf), counted for kop.  The
 * drafts' operations count under the limit of the edge operation that
 * does the same with the key (lurkd.h: key_op_index()).
 */
const char *
key_rate_take(struct netkey *k, int kop, char *buf, size_t len)
{
	int	 i = key_op_index(kop_policy(kop));

	if (i == -1 || bucket_take(&k->bucket[i], k->rate[i], k->burst[i]))
		return NULL;
	k->rate_refused[kop]++;
	snprintf(buf, len, "limit %s rate %u a second exceeded",
	    kop_name(KOP_SIGN_TLS13 + i), k->rate[i]);
	return buf;
}

/* sign_tls13, sign_tls12, rsa_premaster: checked here, done by keyproc */
static void
key_operation(struct conn *c, const struct lurk_hdr *h, struct lurk_rd *r)
{
	struct keyop_req	 req;
	struct netkey		*k;
	const uint8_t		*id, *data;
	const char		*full;
	uint32_t		 op;
	char			 why[IDENT_NAME_MAX + 96];

	memset(&req, 0, sizeof(req));
	id = lurk_rd_get(r, EDGE_KEY_ID_LEN);
	if (h->type == EDGE_TYPE_RSA_PREMASTER) {
		req.client_version = lurk_rd_num(r, 2);
		req.negotiated_version = lurk_rd_num(r, 2);
	} else
		req.scheme = lurk_rd_num(r, 2);
	req.len = lurk_rd_num(r, 2);
	data = lurk_rd_get(r, req.len);
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
	if ((full = edge_room(c)) != NULL) {
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_IN_FLIGHT,
		    full);
		return;
	}
	/* the key's own rate for the operation (rsa-kex: lurk(7)) */
	if ((full = key_rate_take(k, kop_index(h->designation, h->type), why,
	    sizeof(why))) != NULL) {
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_KEY_RATE,
		    full);
		return;
	}
	req.index = k - np->keys;
	req.type = h->type;
	if ((full = edge_enqueue(c, h, &req, data, -1)) != NULL)
		edge_refuse(c, h, k, LURK_ST_TEMPORARY_FAILURE, REF_FAILED,
		    full);
}

/*
 * Whether c's client may queue one more key operation: NULL, or why
 * not (the caller refuses with temporary_failure).
 */
const char *
edge_room(struct conn *c)
{
	struct client	*cl = c->client;

	if (cl == NULL)
		fatalx("%s: conn %llu without a client", __func__,
		    (unsigned long long)c->serial);
	if (cl->npending >= CLIENT_PENDING_MAX)
		/* one uid may not take every slot from the others */
		return "too many operations of this uid in flight";
	if (TAILQ_EMPTY(&np->freepending))
		return "too many operations in flight";
	return NULL;
}

/*
 * Queue keyproc's request (req, then req->len bytes of data) on c's
 * client until its turn, after edge_room() said there is room; for
 * keyproc pin only if pin is not -1 (a tls13 session lives in one).
 * NULL, or why it could not be queued.
 */
const char *
edge_enqueue(struct conn *c, const struct lurk_hdr *h, struct keyop_req *req,
    const uint8_t *data, int pin)
{
	struct pending	*p;
	uint8_t		*msg;

	req->uid = c->uid;
	req->transport = c->transport;
	if ((msg = malloc(sizeof(*req) + req->len)) == NULL)
		return "out of memory";
	memcpy(msg, req, sizeof(*req));
	memcpy(msg + sizeof(*req), data, req->len);
#ifdef LURKD_TEST_HOOKS
	/* a netproc that names keyproc another key for the drafts */
	if (h->designation != LURK_DESIG_EDGE &&
	    getenv("LURKD_TEST_DRAFTS_INDEX") != NULL) {
		struct keyop_req	 forged = *req;

		forged.index = strtonum(getenv("LURKD_TEST_DRAFTS_INDEX"), 0,
		    UINT32_MAX, NULL);
		memcpy(msg, &forged, sizeof(forged));
	}
#endif

	p = TAILQ_FIRST(&np->freepending);
	pending_queue(p, c, h, req->index, msg, sizeof(*req) + req->len);
	p->pin = pin;
	return NULL;
}

/*
 * An operation taken: on its connection and on its client's queue,
 * charged to both until answered.  p is np->freepending's first; h is
 * NULL for a handshake of netproc's own (tls.c).
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
	if (h != NULL) {
		p->hdr = *h;
		p->kop = kop_index(h->designation, h->type);
	} else
		p->kop = KOP_SIGN_TLS13;	/* never counted: tls_sign_done */
	p->key = key;
	p->tls = 0;
	p->keyproc = -1;
	p->pin = -1;
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
		p = TAILQ_FIRST(&cl->queue);
		/* a tls13 session's keyproc, however busy: few such */
		if (p->pin != -1)
			k = p->pin;
		else if (np->kpload[k = least_busy_keyproc()] >=
		    np->keyproc_inflight)
			break;
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
	struct lurk_rd	 r;

	lurk_rd_init(&r, payload, len);

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

/*
 * The key of an answer: the operation's own; for a tls13 session's
 * exchange, which names none, the one keyproc says it used, if of the
 * table in use (not of one a reload has replaced since it was sent).
 */
static struct netkey *
answer_key(const struct pending *p, const struct keyop_res *res, int keyproc)
{
	if (res->generation > np->generation)
		fatalx("%s: keyproc[%d] answers for generation %u, netproc "
		    "is at %u", __func__, keyproc, res->generation,
		    np->generation);
	if (p->key != PENDING_NOKEY)
		return &np->keys[p->key];
	if (p->hdr.designation != LURK_DESIG_TLS13 ||
	    res->key == KEYOP_NO_KEY || res->generation != np->generation)
		return NULL;
	if (res->key >= np->nkeys)
		fatalx("%s: keyproc[%d] used key %u of %zu", __func__,
		    keyproc, res->key, np->nkeys);
	return &np->keys[res->key];
}

/*
 * A session's exchange whose key its peer may no longer use (a reload
 * changed the rules since the session began): netproc decides who may
 * use a key, at every exchange; the answer is dropped, the session
 * refused as if it were no more.
 */
static void
session_refuse(struct pending *p, struct netkey *k)
{
	char	 why[IDENT_NAME_MAX + 96];

	if (p->c->transport == TRANSPORT_TLS)
		snprintf(why, sizeof(why), "%s may no longer use this "
		    "session's key (reloaded)", p->c->who);
	else
		snprintf(why, sizeof(why), "uid %u gid %u may no longer use "
		    "this session's key (reloaded)", (unsigned)p->c->uid,
		    (unsigned)p->c->gid);
	drafts_refuse(p->c, &p->hdr, k, TLS13_ST_INVALID_SESSION_ID,
	    REF_UNAUTHORIZED, why);
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
	k = answer_key(p, &res, keyproc);
	if (res.status == LURK_ST_SUCCESS && p->key == PENDING_NOKEY &&
	    k != NULL && p->c != NULL && !authorized(p->c, k)) {
		session_refuse(p, k);
		pending_free(p);
		return;
	}
	/* done, whether its peer is still there or not */
	stats_count(k, p->kop, res.status);
	if (res.status != LURK_ST_SUCCESS) {
		/* keyproc logged the reason */
		stats_refusal(stats_status_refusal(p->kop, res.status));
		p->cl->refusals++;
	}
	if ((c = p->c) != NULL) {
		log_debug("conn %llu %s: %s key \"%s\": %s",
		    (unsigned long long)c->serial, c->who,
		    p->hdr.designation == LURK_DESIG_EDGE ?
		    edge_type_name(p->hdr.type) :
		    draft_type_name(p->hdr.designation, p->hdr.type),
		    k != NULL ? k->pub.name : "-",
		    kop_status_name(p->kop, res.status));
		if (res.status == LURK_ST_SUCCESS) {
			iov.iov_base = ibuf_data(&ib);
			iov.iov_len = res.len;
		} else {
			iov.iov_base = np->state;
			iov.iov_len = LURK_STATE_LEN;
		}
		if (conn_reply(c, &p->hdr, res.status, &iov, 1) == 0)
			stats_latency(p->kop, p->t0);
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
	int		 t, st, op;
	char		 line[1024];
	uint64_t	 ok, refused, over;
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
		/* the edge's operations, and the drafts' the key has */
		for (op = 0; op < KOP_MAX && n < sizeof(line); op++) {
			for (ok = refused = 0, st = 0; st < NSTATUS; st++)
				if (st == LURK_ST_SUCCESS)
					ok += k->stats.n[op][st];
				else
					refused += k->stats.n[op][st];
			if (op >= KOP_TLS12 && ok == 0 && refused == 0 &&
			    (k->operations & kop_policy(op)) == 0)
				continue;
			n += snprintf(line + n, sizeof(line) - n,
			    " %s %llu ok %llu refused", kop_name(op),
			    (unsigned long long)ok,
			    (unsigned long long)refused);
		}
		/* each limit: the operations that count under it */
		for (t = 0; t < KEY_NOPS && n < sizeof(line); t++) {
			if (k->rate[t] == 0)
				continue;
			for (over = 0, op = 0; op < KOP_MAX; op++)
				if (key_op_index(kop_policy(op)) == t)
					over += k->rate_refused[op];
			n += snprintf(line + n, sizeof(line) - n,
			    "; %llu %s over the rate of %u a second",
			    (unsigned long long)over,
			    kop_name(KOP_SIGN_TLS13 + t), k->rate[t]);
		}
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
	char		 why[IDENT_NAME_MAX + 96], hex[2 * TLS12_KEY_ID_LEN + 1];

	if (p->key == PENDING_NOKEY) {
		if (p->hdr.designation == LURK_DESIG_EDGE) {
			no_such_key(p->c, &p->hdr, old->pub.spki_sha256, NULL,
			    0);
			return -1;
		}
		/* the drafts' own status for a key that is not here */
		snprintf(why, sizeof(why), "no such key (reloaded): id %s",
		    lurk_hex(old->pub.spki_sha256, TLS12_KEY_ID_LEN, hex,
		    sizeof(hex)));
		drafts_refuse(p->c, &p->hdr, NULL, drafts_denied(&p->hdr),
		    REF_UNKNOWN_KEY, why);
		return -1;
	}
	k = &np->keys[p->key];
	if (!authorized(p->c, k)) {
		unauthorized_why(p->c, why, sizeof(why), " (reloaded)");
		if (p->hdr.designation == LURK_DESIG_EDGE)
			edge_refuse(p->c, &p->hdr, k, EDGE_ST_UNAUTHORIZED,
			    REF_UNAUTHORIZED, why);
		else
			drafts_refuse(p->c, &p->hdr, k,
			    drafts_denied(&p->hdr), REF_UNAUTHORIZED, why);
		return -1;
	}
	/* the drafts' operations too: their bits of the key's policy */
	if ((k->operations & kop_policy(p->kop)) == 0) {
		if (p->hdr.designation == LURK_DESIG_EDGE)
			edge_refuse(p->c, &p->hdr, k,
			    EDGE_ST_OPERATION_REFUSED, REF_OPERATION,
			    "operation not allowed for this key (reloaded)");
		else
			drafts_refuse(p->c, &p->hdr, k,
			    drafts_denied(&p->hdr), REF_OPERATION,
			    "operation not allowed for this key (reloaded)");
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
			memcpy(keys[j].rate_refused, old[i].rate_refused,
			    sizeof(keys[j].rate_refused));
			for (t = 0; t < KEY_NOPS; t++)
				bucket_carry(&keys[j].bucket[t],
				    &old[i].bucket[t], keys[j].burst[t]);
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
