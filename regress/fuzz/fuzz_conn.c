/*
 * fuzz_conn: bytes as they arrive on an edge connection, through netproc's
 * own code: conn_read() (recv from a socketpair), conn_input() (framing,
 * pipelining, the incomplete tail), conn_request() (lurk ping,
 * capabilities, errors), edge_request() (key_info, sign_tls13,
 * sign_tls12, rsa_premaster, authorisation), the answers of a fake
 * keyproc through edge_keyop_done(), conn_flush_dirty() and conn_close().
 *
 * Input: flags(1) peer(1) seed(1) stream...
 *   flags  bit 0: length counts the whole message; bits 1-2: maximum
 *          message size (1024, 16384, 65536, 1 MiB)
 *   peer   bits 0-1: uid/gid (0/0, 33/33, 1000/1000, 65534/65534);
 *          bit 6: the gid is the next one of those instead (33/1000,
 *          1000/65534, 65534/0, 0/33): uid != gid;
 *          bit 2: supplementary groups 5 and 100; bit 3: a small socket buffer,
 *          so that netproc's writes come out short; bit 4: a rate
 *          limit of 3 requests a second (burst 3); bit 5: the uid
 *          already has its one allowed connection, so this one is over
 *          its limit (limit.c)
 *   seed   drives how the stream is cut into reads and when, in what
 *          order and with what the fake keyproc answers
 *
 * What must hold, besides no ASan/UBSan report and no fatal():
 *  - what the peer reads back is a sequence of whole LURK messages in
 *    the connection's length mode, none of them with status "request";
 *  - a key operation reaches keyproc only for a peer the key allows, an
 *    operation the key's policy allows, a key index that exists, and in
 *    a form keyproc's own parser (keyop_req_parse) accepts;
 *  - and the other way round: an unauthorized answer only to a request
 *    that names a key the peer may not use (a wrongful refusal is a
 *    finding too: a check against the wrong credential refuses some
 *    peers and admits others);
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

#include "imsg.h"
#include "keyproc.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

struct netproc	*np;

#define NKEYS	4

static struct netkey	 keys[NKEYS];
static uint32_t		 uids0[] = { 0, 1000 };
static uint32_t		 gids1[] = { 100 };
static uint32_t		 uids2[] = { 33 };
static uint32_t		 gids2[] = { 33, 65534 };

/* operations sent to the fake keyproc, not answered yet */
static struct sent {
	uint32_t	 id;
	int		 keyproc;
	uint8_t		 type;
} *sent;
static size_t		 nsent;

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
	memcpy(np->state, "\x12\x34\x56\x78", LURK_STATE_LEN);
	edge_init();

	setup_key(0, "ec", KEY_EC, 256, NID_X9_62_prime256v1,
	    EDGE_OP_SIGN_TLS13 | EDGE_OP_SIGN_TLS12, 91, 3 + 400);
	keys[0].uids = uids0;
	keys[0].nuids = 2;
	setup_key(1, "rsa", KEY_RSA, 2048, 0, EDGE_OP_SIGN_TLS13 |
	    EDGE_OP_SIGN_TLS12 | EDGE_OP_RSA_PREMASTER, 294, 2 * (3 + 700));
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
	np->keys = keys;
	np->nkeys = NKEYS;

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

/*
 * Requests in the input stream that netproc must refuse as unauthorized:
 * a key operation naming a key that exists and that the peer may not
 * use.  An unauthorized answer with an id not on this list (or more of
 * them than the list has) is a wrongful refusal.
 */
static struct denied {
	uint64_t	 id;
	unsigned	 n;
} *denied;
static size_t		 ndenied, denied_cap;

static void
denied_add(uint64_t id)
{
	size_t	 i;

	for (i = 0; i < ndenied; i++)
		if (denied[i].id == id) {
			denied[i].n++;
			return;
		}
	if (ndenied == denied_cap) {
		denied_cap = denied_cap ? denied_cap * 2 : 64;
		if ((denied = reallocarray(denied, denied_cap,
		    sizeof(*denied))) == NULL)
			abort();
	}
	denied[ndenied].id = id;
	denied[ndenied++].n = 1;
}

/* An unauthorized answer: it must use up one denied request of its id. */
static void
denied_take(uint64_t id)
{
	size_t	 i;

	for (i = 0; i < ndenied; i++)
		if (denied[i].id == id && denied[i].n > 0) {
			denied[i].n--;
			return;
		}
	abort();	/* refused a peer the key allows */
}

/* The stream as netproc frames it: note every request to be refused. */
static void
denied_scan(const struct conn *c, const uint8_t *p, size_t len)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;
	size_t		 i;

	ndenied = 0;
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
					denied_add(h.id);
		p += LURK_HDR_LEN + plen;
		len -= LURK_HDR_LEN + plen;
	}
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

	if (i < 0 || i >= np->nkeyprocs || id >= NETPROC_PENDING_MAX ||
	    n != 2 || iov[0].iov_len != sizeof(req))
		abort();
	memcpy(&req, iov[0].iov_base, sizeof(req));
	if (req.index >= NKEYS || req.len != iov[1].iov_len || req.len == 0)
		abort();
	p = &np->pending[id];
	if (!p->used || p->c == NULL || p->keyproc != i ||
	    p->key != req.index)
		abort();
	/* authorisation is netproc's job: it must have been done */
	if (!may_use(p->c, &keys[req.index]) || req.uid != p->c->uid)
		abort();
	op = req.type == EDGE_TYPE_SIGN_TLS13 ? EDGE_OP_SIGN_TLS13 :
	    req.type == EDGE_TYPE_SIGN_TLS12 ? EDGE_OP_SIGN_TLS12 :
	    req.type == EDGE_TYPE_RSA_PREMASTER ? EDGE_OP_RSA_PREMASTER : 0;
	if (op == 0 || (keys[req.index].operations & op) == 0)
		abort();
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
	nsent++;
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

/* What the peer has read so far and not yet checked. */
struct peer {
	int		 fd;
	int		 lenmode;
	uint8_t		*buf;
	size_t		 len, cap;
};

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
			denied_take(h.id);
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

static int
conn_alive(const struct conn *c)
{
	const struct conn	*x;

	TAILQ_FOREACH(x, &np->conns, entry)
		if (x == c)
			return 1;
	return 0;
}

/*
 * One wake-up's end: flush, and keep writing while the peer reads.  A
 * slow peer (all == 0) may leave netproc's output where it is for now.
 */
static void
flush(struct peer *pr, struct conn *c, int all)
{
	int	 rounds;

	for (rounds = 0; all || rounds < 256; rounds++) {
		conn_flush_dirty();
		if (!conn_alive(c)) {
			peer_read(pr);
			break;
		}
		if (!all && rnd() % 3 == 0)
			break;
		if (!peer_read(pr) || !(c->events & EPOLLOUT))
			break;
		conn_event(c, EPOLLOUT);	/* writable again */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 maxmsg[] = {
		LURKD_MSG_MIN, LURKD_MSG_DEFAULT, 65536, LURKD_MSG_MAX
	};
	static const uint32_t	 ids[] = { 0, 33, 1000, 65534 };
	struct peer		 pr;
	struct conn		*c, holder;
	size_t			 off, n, i;
	ssize_t			 w;
	int			 sv[2], closed;

	if (size < 3)
		return 0;
	np->lenmode = data[0] & 1 ? LURK_LEN_MESSAGE : LURK_LEN_PAYLOAD;
	np->max_message = maxmsg[(data[0] >> 1) & 3];
	rng = 0x9e3779b9u ^ data[2] ^ (uint32_t)size << 8;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->tag.kind = EV_CONN;
	c->tag.fd = c->fd = sv[0];
	c->serial = ++np->serial;
	c->uid = c->gid = ids[data[1] & 3];
	if (data[1] & 64)
		c->gid = ids[(data[1] + 1) & 3];
	if (data[1] & 4) {
		if ((c->groups = malloc(2 * sizeof(gid_t))) == NULL)
			abort();
		c->groups[0] = 5;
		c->groups[1] = 100;
		c->ngroups = 2;
	}
	TAILQ_INIT(&c->pending);
	c->events = EPOLLIN;
	if (data[1] & 8) {
		int	 small = 1;	/* the kernel makes it its minimum */

		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
		    sizeof(small)) == -1)
			abort();
	}
	np->limit_conns = 1 << 20;
	np->limit_user_conns = 1;
	np->limit_user_rate = np->limit_user_burst = data[1] & 16 ? 3 : 0;
	memset(&holder, 0, sizeof(holder));
	holder.uid = c->uid;
	if ((data[1] & 32) && client_attach(&holder) != 0)
		abort();
	if (client_attach(c) != ((data[1] & 32) ? 1 : 0))
		abort();
	TAILQ_INSERT_TAIL(&np->conns, c, entry);
	np->nconns++;

	memset(&pr, 0, sizeof(pr));
	pr.fd = sv[1];
	pr.lenmode = np->lenmode;

	data += 3;
	size -= 3;
	denied_scan(c, data, size);
	closed = 0;
	for (off = 0; off < size && !closed; off += n) {
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
			n = size - off;
			break;
		}
		if (n > size - off)
			n = size - off;
		if (n > NETPROC_READ_SIZE)
			n = NETPROC_READ_SIZE;
		/* back-pressure: netproc reads only when it asked to */
		if (!(c->events & EPOLLIN) || c->closing) {
			answer_some(1);
			flush(&pr, c, 1);
			if (!conn_alive(c)) {
				closed = 1;
				break;
			}
			if (c->closing)
				break;
		}
		for (i = 0; i < n; i += w)
			if ((w = send(sv[1], data + off + i, n - i,
			    MSG_NOSIGNAL)) <= 0)
				abort();
		conn_event(c, EPOLLIN);
		answer_some(0);
		flush(&pr, c, 0);
		closed = !conn_alive(c);
	}

	if (!closed) {
		switch (rnd() % 3) {
		case 0:
			/* the peer is done: it still gets its answers */
			shutdown(sv[1], SHUT_WR);
			conn_event(c, EPOLLIN);
			answer_some(rnd() % 2);
			flush(&pr, c, 1);
			answer_some(1);
			flush(&pr, c, 1);
			if (conn_alive(c))
				abort();	/* nothing left to wait for */
			break;
		case 1:
			/* the connection breaks, answers still in flight */
			conn_event(c, EPOLLERR | EPOLLHUP);
			if (conn_alive(c))
				abort();
			break;
		default:
			/* the peer goes away without reading its answers */
			close(sv[1]);
			sv[1] = -1;
			conn_event(c, EPOLLIN);
			answer_some(1);
			conn_flush_dirty();
			if (conn_alive(c))
				abort();
			break;
		}
	}
	/* answers for a connection that is gone go nowhere */
	answer_some(1);
	if (sv[1] != -1)
		close(sv[1]);
	free(pr.buf);

	if (!TAILQ_EMPTY(&np->conns) || !TAILQ_EMPTY(&np->dirty) ||
	    np->nconns != 0 || nsent != 0 ||
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
