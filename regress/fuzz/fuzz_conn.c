/*
 * fuzz_conn: bytes as they arrive on edge connections, through netproc's
 * own code: conn_read() (recv from a socketpair), conn_input() (framing,
 * pipelining, the incomplete tail, input held back), conn_request()
 * (lurk ping, capabilities, errors), edge_request() (key_info,
 * sign_tls13, sign_tls12, rsa_premaster, authorisation, the rsa-kex
 * rate), the per-uid queues and edge_dispatch(), the answers of a fake
 * keyproc through edge_keyop_done(), conn_flush_dirty() and conn_close(),
 * and reloads (edge_swap_keys): now and then the keys come back in another
 * order, one of them perhaps gone, with operations queued and in flight.
 *
 * Input: flags(1) peer(1) seed(1) stream...
 *   flags  bit 0: length counts the whole message; bits 1-2: maximum
 *          message size (1024, 16384, 65536, 1 MiB); bits 3-4: 0-3
 *          more connections, which get parts of the stream and close
 *          at random moments, work in flight or not; bit 5: those are
 *          of another uid (the next in the list below); bit 6: small
 *          backlog limits (8 KiB a connection, 12 KiB a uid) and one or
 *          two operations at a keyproc, so that input is held back and
 *          operations wait their turn with small inputs; bit 7: the
 *          first connection's peer never reads its answers (and its
 *          socket buffer is small, as with peer bit 3)
 *   peer   bits 0-1: uid/gid (0/0, 33/33, 1000/1000, 65534/65534);
 *          bit 2: supplementary groups 5 and 100; bit 3: a small socket buffer,
 *          so that netproc's writes come out short; bit 4: a rate
 *          limit of 3 requests a second (burst 3); bit 5: the uid
 *          already has its one allowed connection, so this one is over
 *          its limit (limit.c); bit 6: limit rsa-kex rate 2 burst 2 on
 *          the "rsa" key; bit 7: each peer's gid is the next one of
 *          those instead (33/1000, 1000/65534, 65534/0, 0/33): uid != gid
 *   seed   drives how the stream is dealt to the connections (whole
 *          messages as their headers frame them) and cut into reads,
 *          when the connections close, and when, in what order and
 *          with what the fake keyproc answers
 *
 * What must hold, besides no ASan/UBSan report and no fatal():
 *  - what a peer reads back is a sequence of whole LURK messages in
 *    the connection's length mode, none of them with status "request";
 *  - a key operation reaches keyproc only for a peer the key allows, an
 *    operation the key's policy allows, a key index that exists in the
 *    table in use (after a reload too: the queued ones are remapped), a
 *    connection that is still there, and in a form keyproc's own parser
 *    (keyop_req_parse) accepts; no keyproc has more than its share;
 *    the clients with queued work take turns (round robin);
 *  - and the other way round: an unauthorized answer only to a request
 *    that names a key the peer may not use (a wrongful refusal is a
 *    finding too: a check against the wrong credential refuses some
 *    peers and admits others);
 *  - after every step (the state netproc's loop leaves between two
 *    epoll_wait calls): every slot and byte is accounted for (the
 *    operations of each connection and client, queued or sent, and
 *    their charge; a closed connection's sent operations stay charged
 *    to its client until answered, its queued ones are gone); a
 *    connection's backlog and kept input stay within the bound that
 *    netproc.h states; input is held back exactly while the backlog
 *    rule says so, and a connection that is not held takes input;
 *  - every connection and every pending operation is gone at the end,
 *    and so is the client's state unless its bucket is still refilling.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/obj_mac.h>

#include "drafts.h"
#include "imsg.h"
#include "keyproc.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

struct netproc	*np;

#define NKEYS	4

static struct netkey	 keys[NKEYS];	/* netproc's table copies them */
static uint32_t		 uids0[] = { 0, 1000 };
static uint32_t		 gids1[] = { 100 };
static uint32_t		 uids2[] = { 33 };
static uint32_t		 gids2[] = { 33, 65534 };

/* operations sent to the fake keyproc, not answered yet */
static struct sent {
	uint32_t	 id;
	int		 keyproc;
	uint8_t		 type;
	uint32_t	 key;		/* as sent: KEYOP_NO_KEY, a session's */
	uint32_t	 gen;		/* the generation it was sent under */
} *sent;
static size_t		 nsent;

/*
 * Round robin: the client of the last dispatch, and one that waited
 * then; a client whose queue was dropped (a connection closed) loses
 * its place, so the check holds while no connection has closed.
 */
static const struct client	*last_cl, *waiting_cl;
static uint64_t			 waiting_nconns;

static uint32_t		 rng;

static uint32_t
rnd(void)
{
	/* xorshift32: deterministic for an input */
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
setup_key(int i, const char *name, int kind, int bits, int nid,
    uint32_t ops, size_t spki_len, size_t chain_len)
{
	struct netkey	*k = &keys[i];

	strlcpy(k->name, name, sizeof(k->name));
	strlcpy(k->pub.name, name, sizeof(k->pub.name));
	k->pub.index = i;
	k->pub.kind = kind;
	k->pub.bits = bits;
	k->pub.curve_nid = nid;
	/* ids the seeds know: 32 bytes of 0xe0, 0xe1, 0xe2, 0xe3 */
	memset(k->pub.spki_sha256, 0xe0 + i, sizeof(k->pub.spki_sha256));
	k->pub.spki_len = spki_len;
	k->pub.chain_len = chain_len;
	if ((k->spki = malloc(spki_len + 1)) == NULL ||
	    (k->chain = malloc(chain_len + 1)) == NULL)
		abort();
	memset(k->spki, 0x30, spki_len);
	memset(k->chain, 0x31, chain_len);
	if (chain_len > 3) {
		/* one certificate: cert<3> of 0x31s, as keyproc sends it */
		k->chain[0] = (chain_len - 3) >> 16;
		k->chain[1] = (chain_len - 3) >> 8;
		k->chain[2] = chain_len - 3;
	}
	k->operations = ops;
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((np = calloc(1, sizeof(*np))) == NULL)
		abort();
	TAILQ_INIT(&np->conns);
	TAILQ_INIT(&np->dirty);
	np->epfd = -1;
	np->nkeyprocs = 2;
	np->conn_out_high = CONN_OUT_HIGH;
	np->client_out_high = CLIENT_OUT_HIGH;
	np->keyproc_inflight = KEYPROC_INFLIGHT;
	memcpy(np->state, "\x12\x34\x56\x78", LURK_STATE_LEN);
	edge_init();

	setup_key(0, "ec", KEY_EC, 256, NID_X9_62_prime256v1,
	    EDGE_OP_SIGN_TLS13 | EDGE_OP_SIGN_TLS12 | OP_TLS12_ECDHE |
	    OP_TLS13, 91, 3 + 400);
	keys[0].uids = uids0;
	keys[0].nuids = 2;
	setup_key(1, "rsa", KEY_RSA, 2048, 0, EDGE_OP_SIGN_TLS13 |
	    EDGE_OP_SIGN_TLS12 | EDGE_OP_RSA_PREMASTER | OP_TLS12_RSA |
	    OP_TLS12_ECDHE, 294, 2 * (3 + 700));
	keys[1].gids = gids1;
	keys[1].ngids = 1;
	/* the longest name a key may have; no operation allowed at all */
	setup_key(2, "a-key-with-the-longest-name-lurkd-allows-63-characters-"
	    "xxxxxxxx", KEY_ED25519, 253, 0, 0, 44, 0);
	keys[2].uids = uids2;
	keys[2].nuids = 1;
	keys[2].gids = gids2;
	keys[2].ngids = 2;
	setup_key(3, "p384", KEY_EC, 384, NID_secp384r1, EDGE_OP_SIGN_TLS13,
	    120, 3 + 1000);
	keys[3].gids = gids2;
	keys[3].ngids = 2;
	np->keys = NULL;	/* each input starts with a reload of all */
	np->nkeys = 0;

	if ((sent = calloc(NETPROC_PENDING_MAX, sizeof(*sent))) == NULL)
		abort();
	return 0;
}

/* netproc.c's epoll side: remember what conn.c asks for */
void
netproc_update_events(struct conn *c, uint32_t events)
{
	c->events = events;
}

void
netproc_pause_accept(void)
{
	abort();	/* only accept(2) gets here */
}

void
netproc_ep_add(int fd, uint32_t events, void *ptr)
{
	abort();	/* only accept(2) gets here */
}

/* tls.c: the target's connections are Unix socket peers */
int
tls_conn_close(struct conn *c)
{
	abort();
}

void
tls_conn_free(struct conn *c)
{
	abort();
}

int
tls_conn_read(struct conn *c, uint8_t *buf, size_t len)
{
	abort();
}

int
tls_conn_write(struct conn *c, const uint8_t *buf, size_t len)
{
	abort();
}

int
tls_conn_step(struct conn *c)
{
	abort();
}

void
tls_zombie_end(struct conn *c)
{
	abort();
}

void
tls_pending_index(struct pending *p)
{
	abort();
}

void
tls_sign_done(struct pending *p, uint8_t status, const uint8_t *sig,
    size_t len)
{
	abort();
}

/* relay.c: the target has no upstream */
int
relay_edge_request(struct conn *c, const struct lurk_hdr *h,
    const uint8_t *p, size_t len)
{
	abort();
}

void
relay_response(struct conn *c, const uint8_t *msg, size_t len)
{
	abort();
}

void
relay_connected(struct conn *c)
{
	abort();
}

void
relay_conn_gone(struct conn *c)
{
	if (!TAILQ_EMPTY(&c->relays))
		abort();
}

void
relay_upconn_closed(struct conn *c)
{
	abort();
}

void
relay_timeouts(time_t now)
{
}

static int
may_use(const struct conn *c, const struct netkey *k)
{
	size_t	 i;
	int	 j;

	for (i = 0; i < k->nuids; i++)
		if (k->uids[i] == c->uid)
			return 1;
	for (i = 0; i < k->ngids; i++) {
		if (k->gids[i] == c->gid)
			return 1;
		for (j = 0; j < c->ngroups; j++)
			if (c->groups[j] == k->gids[i])
				return 1;
	}
	return 0;
}

/* The keyproc channel: check what netproc sends, remember it. */
void
netproc_send_keyproc(int i, uint32_t id, const struct iovec *iov, int n)
{
	struct keyop_req	 req, req2;
	struct pending		*p;
	const uint8_t		*data;
	uint8_t			*msg;
	uint32_t		 op;
	size_t			 len;
	int			 nokey;

	if (i < 0 || i >= np->nkeyprocs || id >= NETPROC_PENDING_MAX ||
	    n != 2 || iov[0].iov_len != sizeof(req))
		abort();
	memcpy(&req, iov[0].iov_base, sizeof(req));
	/* a tls13 session's exchanges name no key: their keyproc knows */
	nokey = req.designation == LURK_DESIG_TLS13 &&
	    (req.type == TLS13_TYPE_S_NEW_TICKET ||
	    req.type == TLS13_TYPE_S_HAND_AND_APP);
	if ((nokey ? req.index != KEYOP_NO_KEY : req.index >= np->nkeys) ||
	    req.len != iov[1].iov_len || req.len == 0)
		abort();
	p = &np->pending[id];
	/* a session's keyproc gets it however busy; the others their share */
	if (!p->used || p->c == NULL || p->keyproc != i ||
	    p->key != req.index || p->cl != p->c->client ||
	    (p->pin == -1 && np->kpload[i] > np->keyproc_inflight) ||
	    (p->pin != -1 && p->pin != i))
		abort();
	/* the clients with work take turns: none gets two in a row */
	if (p->cl == last_cl && waiting_cl != NULL &&
	    np->nconns == waiting_nconns) {
		const struct client	*x;

		TAILQ_FOREACH(x, &np->runq, runentry)
			if (x == waiting_cl)
				abort();
	}
	last_cl = p->cl;
	TAILQ_FOREACH(waiting_cl, &np->runq, runentry)
		if (waiting_cl != p->cl)
			break;
	waiting_nconns = np->nconns;
	/* authorisation is netproc's job: it must have been done */
	if (req.uid != p->c->uid || req.transport != p->c->transport ||
	    (!nokey && !may_use(p->c, &np->keys[req.index])))
		abort();
	if (req.designation == 0)
		op = req.type == EDGE_TYPE_SIGN_TLS13 ? EDGE_OP_SIGN_TLS13 :
		    req.type == EDGE_TYPE_SIGN_TLS12 ? EDGE_OP_SIGN_TLS12 :
		    req.type == EDGE_TYPE_RSA_PREMASTER ?
		    EDGE_OP_RSA_PREMASTER : 0;
	else if (req.designation == LURK_DESIG_TLS12 ||
	    req.designation == LURK_DESIG_TLS13)
		op = draft_op(req.designation, req.type);
	else
		abort();
	if (op == 0 || (!nokey && (np->keys[req.index].operations & op) == 0))
		abort();
	/* a tls12 request: keyproc parses it again, and must succeed */
	if (req.designation == LURK_DESIG_TLS12) {
		struct tls12_req	 q;
		const char		*why;

		if (tls12_parse(req.type, iov[1].iov_base, req.len, &q,
		    &why) != 0 || memcmp(q.key_id + 1,
		    np->keys[req.index].pub.spki_sha256, TLS12_KEY_ID_LEN) != 0)
			abort();
	}
	if (req.designation == LURK_DESIG_TLS13) {
		struct tls13_req	 q;
		const char		*why;

		if (tls13_parse(req.type, iov[1].iov_base, req.len, &q,
		    &why) != 0 || (q.session_id != NULL && nokey &&
		    q.session_id[0] != i))
			abort();
	}
	/* keyproc's parser must take exactly what netproc composes */
	len = iov[0].iov_len + iov[1].iov_len;
	if ((msg = malloc(len)) == NULL)
		abort();
	memcpy(msg, iov[0].iov_base, iov[0].iov_len);
	memcpy(msg + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
	if (keyop_req_parse(msg, len, &req2, &data) == -1 ||
	    memcmp(&req, &req2, sizeof(req)) != 0 ||
	    memcmp(data, iov[1].iov_base, req.len) != 0)
		abort();
	free(msg);
	if (nsent >= NETPROC_PENDING_MAX)
		abort();
	sent[nsent].id = id;
	sent[nsent].keyproc = i;
	sent[nsent].type = req.type;
	sent[nsent].key = req.index;
	sent[nsent].gen = np->generation;
	nsent++;
}

static void *
copy(const void *p, size_t len)
{
	void	*q;

	if ((q = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(q, p, len);
	return q;
}

/*
 * A reload: netproc's key table becomes copies of keys[order[0..n)], as
 * netproc.c builds a staged table (edge_swap_keys frees the old one).
 * Refusals of queued operations may empty a client's queue: the round
 * robin check starts again.
 */
static void
reload_keys(const int *order, size_t n)
{
	struct netkey		*t;
	const struct netkey	*k;
	size_t			 i;

	if ((t = calloc(n + 1, sizeof(*t))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		k = &keys[order[i]];
		t[i] = *k;
		t[i].pub.index = i;
		memset(&t[i].stats, 0, sizeof(t[i].stats));
		t[i].spki = copy(k->spki, k->pub.spki_len);
		t[i].chain = copy(k->chain, k->pub.chain_len);
		t[i].uids = copy(k->uids, k->nuids * sizeof(*k->uids));
		t[i].gids = copy(k->gids, k->ngids * sizeof(*k->gids));
	}
	edge_swap_keys(t, n);
	np->generation++;	/* as netproc.c's commit */
	waiting_cl = NULL;
}

/* The keys in a random order, one of them gone half of the time. */
static void
reload_random(void)
{
	int	 order[NKEYS], i, j, t;

	for (i = 0; i < NKEYS; i++)
		order[i] = i;
	for (i = NKEYS - 1; i > 0; i--) {
		j = rnd() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	reload_keys(order, rnd() % 2 ? NKEYS : NKEYS - 1);
}

/* The fake keyproc answers operation number k of the sent list. */
static void
answer(size_t k)
{
	static const uint8_t	 errors[] = {
		LURK_ST_UNDEFINED_ERROR, LURK_ST_INVALID_FORMAT,
		LURK_ST_INVALID_TYPE, LURK_ST_TEMPORARY_FAILURE,
		EDGE_ST_OPERATION_REFUSED, EDGE_ST_INVALID_CONTENT,
		EDGE_ST_INVALID_SCHEME,
	};
	struct keyop_res	 res;
	struct imsg		 imsg;
	uint8_t			 out[600];
	size_t			 i;

	memset(&res, 0, sizeof(res));
	/*
	 * The key keyproc used, in the table of the generation the request
	 * was sent under: a session's exchange learns it here (any key, or
	 * none), the others name theirs.
	 */
	res.generation = sent[k].gen;
	res.key = sent[k].key;
	if (res.key == KEYOP_NO_KEY && res.generation == np->generation &&
	    rnd() % 2 && np->nkeys > 0)
		res.key = rnd() % np->nkeys;
	if (rnd() % 4 != 0) {
		res.status = LURK_ST_SUCCESS;
		if (sent[k].type == EDGE_TYPE_RSA_PREMASTER)
			res.len = EDGE_PREMASTER_LEN;
		else
			res.len = 2 + rnd() % (sizeof(out) - 2);
		for (i = 0; i < res.len; i++)
			out[i] = rnd();
	} else {
		res.status = errors[rnd() % sizeof(errors)];
		res.len = 0;
	}
	memset(&imsg, 0, sizeof(imsg));
	imsg.hdr.type = IMSG_KEYOP_RES;
	imsg.hdr.peerid = sent[k].id;
	imsg.hdr.len = IMSG_HEADER_SIZE + sizeof(res) + res.len;
	if ((imsg.buf = ibuf_open(sizeof(res) + res.len)) == NULL ||
	    ibuf_add(imsg.buf, &res, sizeof(res)) == -1 ||
	    ibuf_add(imsg.buf, out, res.len) == -1)
		abort();
	imsg.data = ibuf_data(imsg.buf);
	edge_keyop_done(sent[k].keyproc, &imsg);
	imsg_free(&imsg);
	sent[k] = sent[--nsent];
}

/* Answer some (or all) of the operations in flight, in any order. */
static void
answer_some(int all)
{
	size_t	 n;

	if (nsent == 0)
		return;
	n = all ? nsent : rnd() % (nsent + 1);
	while (n-- > 0 && nsent > 0)
		answer(rnd() % nsent);
}

/* What a peer has read so far and not yet checked. */
/*
 * A request netproc must refuse as unauthorized: a key operation naming
 * a key that exists and that the peer may not use.  An unauthorized
 * answer whose id is not on its peer's list (or more of them than the
 * list has) is a wrongful refusal.
 */
struct denied {
	uint64_t	 id;
	unsigned	 n;
};

struct peer {
	int		 fd;
	int		 lenmode;
	uint8_t		*buf;
	size_t		 len, cap;
	struct denied	*denied;
	size_t		 ndenied, denied_cap;
};

static void
denied_add(struct peer *pr, uint64_t id)
{
	size_t	 i;

	for (i = 0; i < pr->ndenied; i++)
		if (pr->denied[i].id == id) {
			pr->denied[i].n++;
			return;
		}
	if (pr->ndenied == pr->denied_cap) {
		pr->denied_cap = pr->denied_cap ? pr->denied_cap * 2 : 64;
		if ((pr->denied = reallocarray(pr->denied, pr->denied_cap,
		    sizeof(*pr->denied))) == NULL)
			abort();
	}
	pr->denied[pr->ndenied].id = id;
	pr->denied[pr->ndenied++].n = 1;
}

/* An unauthorized answer: it must use up one denied request of its id. */
static void
denied_take(struct peer *pr, uint64_t id)
{
	size_t	 i;

	for (i = 0; i < pr->ndenied; i++)
		if (pr->denied[i].id == id && pr->denied[i].n > 0) {
			pr->denied[i].n--;
			return;
		}
	abort();	/* refused a peer the key allows */
}

/* What a peer will send, as netproc frames it: its denied requests. */
static void
denied_scan(struct peer *pr, const struct conn *c, const uint8_t *p,
    size_t len)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;
	size_t		 i;

	while (len >= LURK_HDR_LEN) {
		lurk_hdr_decode(p, &h);
		if (lurk_payload_len(&h, np->lenmode, &plen) == -1 ||
		    plen > np->max_message - LURK_HDR_LEN ||
		    len - LURK_HDR_LEN < plen)
			break;
		if (h.designation == LURK_DESIG_EDGE &&
		    h.version == LURK_V1 && h.status == LURK_ST_REQUEST &&
		    (h.type == EDGE_TYPE_SIGN_TLS13 ||
		    h.type == EDGE_TYPE_SIGN_TLS12 ||
		    h.type == EDGE_TYPE_RSA_PREMASTER) &&
		    plen >= EDGE_KEY_ID_LEN)
			for (i = 0; i < NKEYS; i++)
				if (memcmp(p + LURK_HDR_LEN,
				    keys[i].pub.spki_sha256,
				    EDGE_KEY_ID_LEN) == 0 &&
				    !may_use(c, &keys[i]))
					denied_add(pr, h.id);
		p += LURK_HDR_LEN + plen;
		len -= LURK_HDR_LEN + plen;
	}
}

static void
peer_check(struct peer *pr)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;
	size_t		 off = 0;

	while (pr->len - off >= LURK_HDR_LEN) {
		lurk_hdr_decode(pr->buf + off, &h);
		if (lurk_payload_len(&h, pr->lenmode, &plen) == -1)
			abort();	/* a response netproc framed wrongly */
		if (h.status == LURK_ST_REQUEST)
			abort();
		if (h.designation == LURK_DESIG_EDGE &&
		    h.status == EDGE_ST_UNAUTHORIZED)
			denied_take(pr, h.id);
		if (plen > LURKD_MSG_MAX + 16 * 1024)
			abort();
		if (pr->len - off < LURK_HDR_LEN + (size_t)plen)
			break;
		off += LURK_HDR_LEN + (size_t)plen;
	}
	memmove(pr->buf, pr->buf + off, pr->len - off);
	pr->len -= off;
}

/* Read what netproc wrote; 0 once nothing more comes. */
static int
peer_read(struct peer *pr)
{
	ssize_t	 n;
	int	 got = 0;

	for (;;) {
		if (pr->cap - pr->len < 65536) {
			pr->cap = pr->cap ? pr->cap * 2 : 131072;
			if ((pr->buf = realloc(pr->buf, pr->cap)) == NULL)
				abort();
		}
		n = recv(pr->fd, pr->buf + pr->len, pr->cap - pr->len, 0);
		if (n <= 0)
			break;
		pr->len += n;
		got = 1;
	}
	peer_check(pr);
	return got;
}

/* A connection and the peer at its other end. */
#define NCONNS	4
static struct fconn {
	struct conn	*c;		/* NULL once netproc closed it */
	struct peer	 pr;
	int		 deaf;		/* never reads its answers */
	uint8_t		*in;		/* what its peer will send */
	size_t		 inlen, inoff;
} fc[NCONNS];
static int		 nfc;

static int
conn_alive(const struct conn *c)
{
	const struct conn	*x;

	if (c == NULL)
		return 0;
	TAILQ_FOREACH(x, &np->conns, entry)
		if (x == c)
			return 1;
	return 0;
}

static void
forget_closed(void)
{
	int	 i;

	for (i = 0; i < nfc; i++)
		if (fc[i].c != NULL && !conn_alive(fc[i].c))
			fc[i].c = NULL;
}

/*
 * The most one message can add to a backlog (netproc.h): the biggest
 * key_info answer, or a request kept for keyproc.
 */
static size_t
one_message(void)
{
	size_t	 m = sizeof(struct keyop_req) + np->max_message, ki;
	int	 i;

	for (i = 0; i < NKEYS; i++) {
		ki = LURK_HDR_LEN + 38 + 1 + strlen(keys[i].pub.name) + 2 +
		    keys[i].pub.spki_len + 3 + keys[i].pub.chain_len;
		if (ki > m)
			m = ki;
	}
	return m;
}

/*
 * Parsing may add to a backlog only while it is under its limits, one
 * message at a time: between two snapshots without keyproc answers (a
 * read, or the resumes of conn_flush_dirty), a connection stays under
 * max(before, limit + one message); its client too, except that a
 * connection that had no backlog may take one message more.  only: the
 * one connection that may have parsed, or NULL for any.
 */
static struct snap {
	const struct conn	*c;
	size_t			 b, cl;
} snaps[NCONNS];
static int		 nsnaps;

static void
snapshot(void)
{
	const struct conn	*c;

	nsnaps = 0;
	TAILQ_FOREACH(c, &np->conns, entry) {
		if (nsnaps == NCONNS)
			abort();
		snaps[nsnaps].c = c;
		snaps[nsnaps].b = conn_backlog(c);
		snaps[nsnaps].cl = c->client->backlog;
		nsnaps++;
	}
}

static size_t
max(size_t a, size_t b)
{
	return a > b ? a : b;
}

static void
check_parsing(const struct conn *only)
{
	const struct conn	*c, *d;
	size_t			 m = one_message(), empty;
	int			 i, j;

	TAILQ_FOREACH(c, &np->conns, entry) {
		for (i = 0; i < nsnaps && snaps[i].c != c; i++)
			;
		if (i == nsnaps)
			abort();	/* no connection is made meanwhile */
		if (conn_backlog(c) > max(snaps[i].b,
		    np->conn_out_high - 1 + m))
			abort();
		empty = 0;
		for (j = 0; j < nsnaps; j++) {
			TAILQ_FOREACH(d, &np->conns, entry)
				if (d == snaps[j].c)
					break;
			if (d != NULL && d->client == c->client &&
			    snaps[j].b == 0 && (only == NULL || d == only))
				empty += m;
		}
		if (c->client->backlog > max(snaps[i].cl + empty,
		    np->client_out_high - 1 + m + (only == NULL ? empty : 0)))
			abort();
	}
}

/*
 * The end of a wake-up and the next few: flush, dispatch, and keep
 * writing while the peers read.  A slow peer (all == 0) may leave
 * netproc's output where it is for now; a deaf one never reads.
 */
static void
wake(int all)
{
	int	 rounds, i, more;

	for (rounds = 0; all || rounds < 256; rounds++) {
		snapshot();
		conn_flush_dirty();
		check_parsing(NULL);
		edge_dispatch();
		forget_closed();
		if (!all && rnd() % 3 == 0)
			break;
		more = 0;
		for (i = 0; i < nfc; i++) {
			if (fc[i].deaf || fc[i].pr.fd == -1)
				continue;
			if (!peer_read(&fc[i].pr) || fc[i].c == NULL ||
			    !(fc[i].c->events & EPOLLOUT))
				continue;
			conn_event(fc[i].c, EPOLLOUT);	/* writable again */
			more = 1;
		}
		if (!more)
			break;
	}
	snapshot();
	conn_flush_dirty();
	check_parsing(NULL);
	edge_dispatch();
	forget_closed();
}

/* An answer of the fake keyproc may be bigger than its request. */
#define ANSWER_GROWTH	(LURK_HDR_LEN + 600)

/* The backlog rule, as netproc.h states it. */
static int
must_hold(const struct conn *c)
{
	size_t	 b = conn_backlog(c);

	return b >= np->conn_out_high || c->npending >= CONN_PENDING_MAX ||
	    (b > 0 && c->client->backlog >= np->client_out_high);
}

/* A whole message (or a broken header) waits in c->in. */
static int
complete_kept(const struct conn *c)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;

	if (c->inlen < LURK_HDR_LEN)
		return 0;
	lurk_hdr_decode(c->in, &h);
	if (lurk_payload_len(&h, np->lenmode, &plen) == -1)
		return 1;
	return c->inlen >= LURK_HDR_LEN + (size_t)plen;
}

/* Per client: what its connections and orphaned operations add up to. */
static struct expect {
	struct client	*cl;
	size_t		 backlog;
	unsigned	 npending, queued, nconns;
} ex[NCONNS + 2];
static int		 nex;

static struct expect *
expect_for(struct client *cl)
{
	int	 i;

	if (cl == NULL)
		abort();
	for (i = 0; i < nex; i++)
		if (ex[i].cl == cl)
			return &ex[i];
	if (nex == NCONNS + 2)
		abort();
	memset(&ex[nex], 0, sizeof(ex[nex]));
	ex[nex].cl = cl;
	return &ex[nex++];
}

static void
check_invariants(void)
{
	const struct conn	*c;
	const struct pending	*p;
	const struct client	*cl;
	struct expect		*e;
	size_t			 q, k;
	unsigned		 n, nq, load = 0;
	int			 i;

	for (i = 0; i < np->nkeyprocs; i++) {
		if (np->kpload[i] > np->keyproc_inflight)
			abort();
		load += np->kpload[i];
	}
	if (load != nsent)
		abort();
	nex = 0;
	TAILQ_FOREACH(c, &np->conns, entry) {
		n = nq = 0;
		q = 0;
		TAILQ_FOREACH(p, &c->pending, entry) {
			if (!p->used || p->c != c || p->cl != c->client ||
			    (p->keyproc == -1) != (p->msg != NULL))
				abort();
			n++;
			nq += p->keyproc == -1;
			q += p->msglen;
		}
		if (n != c->npending || q != c->qbytes ||
		    n > CONN_PENDING_MAX || c->outoff > c->outlen ||
		    c->outlen > c->outcap)
			abort();
		/* memory: the bounds netproc.h states */
		if (conn_backlog(c) > np->conn_out_high + one_message() +
		    CONN_PENDING_MAX * ANSWER_GROWTH ||
		    c->inlen > NETPROC_READ_SIZE + np->max_message ||
		    (!c->held && c->inlen >= np->max_message))
			abort();
		/* held back exactly while the rule says so; else reading */
		if (!c->closing) {
			if (c->held && !must_hold(c))
				abort();
			if (!c->held && (complete_kept(c) ||
			    !(c->events & EPOLLIN)))
				abort();
		}
		e = expect_for(c->client);
		e->backlog += conn_backlog(c);
		e->npending += n;
		e->queued += nq;
		e->nconns++;
	}
	/* operations of closed connections: still charged until answered */
	for (k = 0; k < nsent; k++) {
		p = &np->pending[sent[k].id];
		if (!p->used || p->keyproc != sent[k].keyproc ||
		    p->msg != NULL)
			abort();
		if (p->c != NULL)
			continue;
		e = expect_for(p->cl);
		e->backlog += p->msglen;
		e->npending++;
	}
	for (i = 0; i < nex; i++) {
		cl = ex[i].cl;
		n = 0;
		TAILQ_FOREACH(p, &cl->queue, qentry) {
			if (p->keyproc != -1 || p->cl != cl || p->c == NULL)
				abort();
			n++;
		}
		if (cl->backlog != ex[i].backlog ||
		    cl->npending != ex[i].npending || n != ex[i].queued ||
		    cl->onrunq != (n > 0) || cl->npending > CLIENT_PENDING_MAX ||
		    cl->backlog > np->client_out_high + ex[i].nconns *
		    (one_message() + CONN_PENDING_MAX * ANSWER_GROWTH) +
		    (size_t)(cl->npending) * one_message())
			abort();
	}
}

/* A peer closes its connection (how: 0-2), maybe with work in flight. */
static void
peer_close(struct fconn *f, int how)
{
	struct conn	*c = f->c;
	int		 rounds;

	if (f->deaf && how == 0)
		how = 2;	/* it would never read what it waits for */
	switch (how) {
	case 0:
		/* the peer is done: it still gets its answers */
		shutdown(f->pr.fd, SHUT_WR);
		for (rounds = 0; conn_alive(c) && rounds < 100000; rounds++) {
			if (c->events & EPOLLIN)
				conn_event(c, EPOLLIN);
			answer_some(rounds > 0 || rnd() % 2);
			wake(1);
		}
		break;
	case 1:
		/* the connection breaks */
		conn_event(c, EPOLLERR | EPOLLHUP);
		break;
	default:
		/* the peer goes away without reading its answers */
		close(f->pr.fd);
		f->pr.fd = -1;
		for (rounds = 0; conn_alive(c) && rounds < 100000; rounds++) {
			conn_event(c, EPOLLHUP |
			    (c->events & (EPOLLIN | EPOLLOUT)));
			conn_flush_dirty();
		}
		break;
	}
	if (conn_alive(c))
		abort();	/* nothing left to wait for */
	f->c = NULL;
	wake(0);
	check_invariants();
}

static struct conn *
conn_new(struct fconn *f, uid_t uid, gid_t gid, int groups, int smallbuf,
    int attach)
{
	struct conn	*c;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->tag.kind = EV_CONN;
	c->tag.fd = c->fd = sv[0];
	c->serial = ++np->serial;
	c->uid = uid;
	c->gid = gid;
	c->ident.kind = IDENT_UID;
	c->ident.uid = uid;
	snprintf(c->who, sizeof(c->who), "uid %u", (unsigned)uid);
	if (groups) {
		if ((c->groups = malloc(2 * sizeof(gid_t))) == NULL)
			abort();
		c->groups[0] = 5;
		c->groups[1] = 100;
		c->ngroups = 2;
	}
	TAILQ_INIT(&c->pending);
	TAILQ_INIT(&c->relays);
	TAILQ_INIT(&c->upops);
	c->events = EPOLLIN;
	if (smallbuf) {
		int	 small = 1;	/* the kernel makes it its minimum */

		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
		    sizeof(small)) == -1)
			abort();
	}
	if (client_attach(c) != attach)
		abort();
	TAILQ_INSERT_TAIL(&np->conns, c, entry);
	np->nconns++;
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->pr.fd = sv[1];
	f->pr.lenmode = np->lenmode;
	return c;
}

/*
 * Deal the stream to the peers a message at a time (as its headers
 * frame it), so that each connection gets whole requests; one peer
 * gets all of it in order.
 */
static void
deal(const uint8_t *data, size_t size)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;
	size_t		 off, mlen;
	struct fconn	*f;
	int		 k;

	for (k = 0; k < nfc; k++)
		if ((fc[k].in = malloc(size + 1)) == NULL)
			abort();
	for (off = 0; off < size; off += mlen) {
		mlen = size - off;
		if (nfc > 1 && mlen >= LURK_HDR_LEN) {
			lurk_hdr_decode(data + off, &h);
			if (lurk_payload_len(&h, np->lenmode, &plen) == 0 &&
			    LURK_HDR_LEN + (size_t)plen < mlen)
				mlen = LURK_HDR_LEN + (size_t)plen;
		}
		f = &fc[nfc > 1 ? rnd() % nfc : 0];
		memcpy(f->in + f->inlen, data + off, mlen);
		f->inlen += mlen;
	}
}

/* The id after this one in the list of test ids: a gid other than the uid */
static uint32_t
other_id(uint32_t id)
{
	static const uint32_t	 ids[] = { 0, 33, 1000, 65534 };
	size_t			 i;

	for (i = 0; i < 3; i++)
		if (ids[i] == id)
			return ids[i + 1];
	return ids[0];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 maxmsg[] = {
		LURKD_MSG_MIN, LURKD_MSG_DEFAULT, 65536, LURKD_MSG_MAX
	};
	static const uint32_t	 ids[] = { 0, 33, 1000, 65534 };
	struct conn		 holder;
	struct fconn		*f;
	size_t			 n, i, left;
	ssize_t			 w;
	uid_t			 uid, uid2;
	int			 k;

	if (size < 3)
		return 0;
	last_cl = waiting_cl = NULL;
	np->lenmode = data[0] & 1 ? LURK_LEN_MESSAGE : LURK_LEN_PAYLOAD;
	np->max_message = maxmsg[(data[0] >> 1) & 3];
	rng = 0x9e3779b9u ^ data[2] ^ (uint32_t)size << 8;
	if (data[0] & 64) {
		/* a few answers each; the uid's below two connections' */
		np->conn_out_high = 8192;
		np->client_out_high = 12288;
		np->keyproc_inflight = 1 + rnd() % 2;
	} else {
		np->conn_out_high = CONN_OUT_HIGH;
		np->client_out_high = CLIENT_OUT_HIGH;
		np->keyproc_inflight = KEYPROC_INFLIGHT;
	}
	keys[1].rate[2] = keys[1].burst[2] = data[1] & 64 ? 2 : 0;
	bucket_init(&keys[1].bucket[2], keys[1].burst[2]);
	{
		static const int	 all[NKEYS] = { 0, 1, 2, 3 };

		/* a fresh table; nothing carries over from the last input */
		reload_keys(all, 0);
		reload_keys(all, NKEYS);
	}

	np->limit_conns = 1 << 20;
	np->limit_user_conns = data[1] & 32 ? 1 : NCONNS;
	np->limit_user_rate = np->limit_user_burst = data[1] & 16 ? 3 : 0;
	uid = ids[data[1] & 3];
	uid2 = data[0] & 32 ? ids[((data[1] & 3) + 1) & 3] : uid;
	memset(&holder, 0, sizeof(holder));
	holder.uid = uid;
	holder.ident.kind = IDENT_UID;
	holder.ident.uid = uid;
	if ((data[1] & 32) && client_attach(&holder) != 0)
		abort();
	/* over the uid's limit: refused with an answer (limit.c) */
	nfc = 1 + ((data[0] >> 3) & 3);
	for (k = 0; k < nfc; k++) {
		uid_t	 u = k == 0 ? uid : uid2;
		unsigned before = (data[1] & 32) && u == uid;	/* holder */
		int	 j;

		for (j = 0; j < k; j++)
			before += fc[j].c->uid == u;
		/* a deaf peer's socket buffer fills: small, it fills soon */
		conn_new(&fc[k], u, data[1] & 128 ? other_id(u) : u,
		    data[1] & 4, (data[1] & 8) || (k == 0 && (data[0] & 128)),
		    before >= np->limit_user_conns);
	}
	fc[0].deaf = (data[0] & 128) != 0;

	data += 3;
	size -= 3;
	deal(data, size);
	for (k = 0; k < nfc; k++)
		denied_scan(&fc[k].pr, fc[k].c, fc[k].in, fc[k].inlen);
	for (;;) {
		/* a peer with something left to send, any */
		for (k = rnd() % nfc, i = 0; i < (size_t)nfc; i++)
			if (fc[(k + i) % nfc].inoff < fc[(k + i) % nfc].inlen)
				break;
		if (i == (size_t)nfc)
			break;
		f = &fc[(k + i) % nfc];
		left = f->inlen - f->inoff;
		/* reads of one byte, a few, a message or so, or all */
		switch (rnd() % 4) {
		case 0:
			n = 1;
			break;
		case 1:
			n = 1 + rnd() % 16;
			break;
		case 2:
			n = 1 + rnd() % 512;
			break;
		default:
			n = left;
			break;
		}
		if (n > left)
			n = left;
		if (n > NETPROC_READ_SIZE)
			n = NETPROC_READ_SIZE;
		f->inoff += n;
		if (f->c == NULL)
			continue;	/* its connection is gone */
		/* back-pressure: netproc reads only when it asked to */
		if (!(f->c->events & EPOLLIN) && !f->deaf) {
			answer_some(1);
			wake(1);
			if (f->c == NULL)
				continue;
		}
		if (f->c->closing)
			continue;	/* it reads no more */
		for (i = 0; i < n; i += w)
			if ((w = send(f->pr.fd, f->in + f->inoff - n + i,
			    n - i, MSG_NOSIGNAL)) <= 0)
				break;	/* full: the rest is not sent */
		if (f->c->events & EPOLLIN) {
			snapshot();
			conn_event(f->c, EPOLLIN);
			check_parsing(f->c);
		}
		answer_some(0);
		wake(0);
		check_invariants();
		/* now and then a reload, work queued and in flight */
		if (rnd() % 32 == 0) {
			reload_random();
			wake(0);
			check_invariants();
		}
		/* the other connections go at any moment */
		if (f != &fc[0] && f->c != NULL && rnd() % 8 == 0)
			peer_close(f, rnd() % 3);
	}
	for (k = 0; k < nfc; k++)
		if (fc[k].c != NULL)
			peer_close(&fc[k], rnd() % 3);
	/* answers for connections that are gone go nowhere */
	answer_some(1);
	check_invariants();
	for (k = 0; k < nfc; k++) {
		if (fc[k].pr.fd != -1)
			close(fc[k].pr.fd);
		free(fc[k].pr.buf);
		free(fc[k].pr.denied);
		free(fc[k].in);
	}

	if (!TAILQ_EMPTY(&np->conns) || !TAILQ_EMPTY(&np->dirty) ||
	    !TAILQ_EMPTY(&np->runq) || np->nconns != 0 || nsent != 0 ||
	    np->kpload[0] != 0 || np->kpload[1] != 0)
		abort();
	if (holder.client != NULL)
		client_detach(&holder);
	/* with its bucket full again, no client state is left */
	np->limit_user_rate = 0;
	client_tick();
	if (client_count() != 0)
		abort();
	return 0;
}
