/*
 * fuzz_control: bytes on a control socket as netproc reads them
 * (netproc/control.c): ctl_accept() on a real listening socket, then
 * ctl_event() as the bytes arrive in pieces, the parent's status coming
 * in (ctl_status_in()) or not (ctl_tick(), time moving on), reloads
 * that take or fail; every answer through stats.c's records over a
 * fake netproc with two keys and three clients (limit.c).
 *
 * Input: flags(1) seed(1) stream...
 *   flags  bit 0: a restricted socket; bit 1: the parent answers the
 *          requests for its status; bit 2: a reload takes (else fails);
 *          bit 3: the parent never says how a reload went
 *   seed   how the stream is cut into writes, when the peer reads, and
 *          when time moves on
 *
 * What must hold, besides no ASan/UBSan report and no fatal():
 *  - the peer reads only whole imsg messages of the answer types, each
 *    of its exact size, with the protocol version as peerid, and every
 *    string in them ends within its field;
 *  - each request the stream frames (up to a header imsg refuses) gets
 *    exactly one answer, ending with CTL_END or CTL_RESULT, in order;
 *    a connection closes only at a frame imsg refuses, or at the end;
 *  - a restricted socket never asks the parent for a reload or a log
 *    level; a log level asked for is 0 or 1;
 *  - the connection is gone at the end, and with it every byte.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/obj_mac.h>

#include "ctl.h"
#include "imsg.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "npstubs.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct netproc		*np;
static struct listener	 lst[2];
static struct sockaddr_un sun[2];
static struct netkey	 keys[2];
static uint32_t		 uids[20];
static int		 reload_asked, restricted;

/* What netproc tells the parent: never a reload from a restricted one. */
void
netproc_send_parent(uint32_t type, const void *data, size_t len)
{
	int	 level;

	switch (type) {
	case IMSG_CTL_RELOAD:
		if (restricted || len != 0)
			abort();
		reload_asked = 1;
		break;
	case IMSG_CTL_VERBOSE:
		if (restricted || len != sizeof(level))
			abort();
		memcpy(&level, data, sizeof(level));
		if (level != 0 && level != 1)
			abort();
		break;
	default:
		abort();
	}
}

/* limit.c wakes a client's connections: none here */
void
conn_mark_dirty(struct conn *c)
{
}

static void
setup_key(int i, const char *name, int kind, int nid, uint32_t ops)
{
	struct netkey	*k = &keys[i];
	int		 t, st;

	strlcpy(k->name, name, sizeof(k->name));
	strlcpy(k->pub.name, name, sizeof(k->pub.name));
	k->pub.kind = kind;
	k->pub.bits = 256;
	k->pub.curve_nid = nid;
	memset(k->pub.spki_sha256, 0xe0 + i, sizeof(k->pub.spki_sha256));
	k->operations = ops;
	/* a chain that is no certificate: show keys says so */
	if ((k->chain = malloc(8)) == NULL)
		abort();
	memcpy(k->chain, "\0\0\5junk", 8);
	k->pub.chain_len = 8;
	for (t = 0; t < KOP_MAX; t++)
		for (st = 0; st < NSTATUS; st += 3)
			k->stats.n[t][st] = t * 100 + st;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conn	 c;
	int		 i;

	if ((np = calloc(1, sizeof(*np))) == NULL)
		abort();
	TAILQ_INIT(&np->conns);
	np->ready = 1;
	np->nkeyprocs = 2;
	/* slow readers are not what this target is about: a long time */
	np->timeout_message = 100000;
	np->timeout_idle = 300000;
	np->limit_conns = 100;
	np->limit_user_conns = 10;
	np->listeners = lst;
	np->nlisteners = 2;
	np->status.started = 1;
	np->status.generation = 1;
	strlcpy(np->status.conffile, "/etc/lurkd/lurkd.conf",
	    sizeof(np->status.conffile));
	for (i = 0; i < 2; i++) {
		lst[i].tag.kind = EV_CTL_LISTEN;
		lst[i].tag.fd = np_listen_abstract(i ? "control-ro" : "control",
		    &sun[i]);
		lst[i].restricted = i;
		lst[i].uid = getuid();
		lst[i].gid = getgid();
		strlcpy(lst[i].kind, i ? "control-ro" : "control",
		    sizeof(lst[i].kind));
		strlcpy(lst[i].address, i ? "ro.sock" : "ctl.sock",
		    sizeof(lst[i].address));
	}
	/* the drafts' operations too, and their counters */
	setup_key(0, "ec", KEY_EC, NID_X9_62_prime256v1, EDGE_OP_SIGN_TLS13 |
	    EDGE_OP_SIGN_TLS12 | OP_TLS12_ECDHE | OP_TLS13);
	keys[0].rate[0] = keys[0].burst[0] = 5;
	keys[0].tls13_secrets = 0x1f80;
	keys[0].tls13_tickets = 3;
	/* more peers allowed than a record shows */
	for (i = 0; i < 20; i++)
		uids[i] = 1000 + i;
	keys[0].uids = uids;
	keys[0].nuids = 20;
	setup_key(1, "rsa", KEY_RSA, NID_undef, EDGE_OP_RSA_PREMASTER);
	np->keys = keys;
	np->nkeys = 2;
	/* three clients */
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.uid = 33 + i;
		c.gid = 33;
		if (client_attach(&c) != 0)
			abort();
	}
	return 0;
}

/* The string field f of the record at p ends within it. */
#define ENDS(type, f)	do {						\
	if (memchr(p + offsetof(type, f), '\0',				\
	    sizeof(((type *)NULL)->f)) == NULL)				\
		abort();						\
} while (0)

/* What the peer read: whole answers; returns how many ended. */
static size_t
check_answers(const uint8_t *buf, size_t len, size_t *used)
{
	struct imsg_hdr	 h;
	const uint8_t	*p;
	size_t		 off = 0, ended = 0, plen;
	long		 want;

	while (len - off >= IMSG_HEADER_SIZE) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < IMSG_HEADER_SIZE || h.len > CTL_MSG_MAX)
			abort();
		if (len - off < h.len)
			break;
		plen = h.len - IMSG_HEADER_SIZE;
		p = buf + off + IMSG_HEADER_SIZE;
		want = ctl_answer_size(h.type);
		if (want == -1 || (want >= 0 && (size_t)want != plen) ||
		    (want == -2 && (plen == 0 || plen > CTL_TEXT_MAX)) ||
		    h.peerid != CTL_PROTO_VERSION)
			abort();
		switch (h.type) {
		case CTL_STATUS:
			ENDS(struct ctl_show_status, version);
			ENDS(struct ctl_show_status, conffile);
			ENDS(struct ctl_show_status, last_reload_error);
			break;
		case CTL_KEY:
			ENDS(struct ctl_key, name);
			ENDS(struct ctl_key, type);
			ENDS(struct ctl_key, curve);
			ENDS(struct ctl_key, subject);
			ENDS(struct ctl_key, issuer);
			break;
		case CTL_CLIENT:
			ENDS(struct ctl_client, transport);
			ENDS(struct ctl_client, identity);
			break;
		case CTL_STAT_OP:
			ENDS(struct ctl_stat_op, key);
			ENDS(struct ctl_stat_op, operation);
			ENDS(struct ctl_stat_op, result);
			break;
		case CTL_STAT:
			ENDS(struct ctl_stat, name);
			ENDS(struct ctl_stat, label);
			break;
		case CTL_LISTENER:
			ENDS(struct ctl_listener, kind);
			ENDS(struct ctl_listener, address);
			ENDS(struct ctl_listener, state);
			break;
		case CTL_RESULT:
			ENDS(struct ctl_result, message);
			/* FALLTHROUGH */
		case CTL_END:
			ended++;
			break;
		}
		off += h.len;
	}
	*used = off;
	return ended;
}

/* The requests the stream frames before a header imsg refuses; *bad. */
static size_t
count_requests(const uint8_t *buf, size_t len, int *bad)
{
	struct imsg_hdr	 h;
	size_t		 off = 0, n = 0;

	*bad = 0;
	while (len - off >= IMSG_HEADER_SIZE) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.len < IMSG_HEADER_SIZE || h.len > CTL_MSG_MAX) {
			*bad = 1;
			break;
		}
		if (len - off < h.len)
			break;
		off += h.len;
		n++;
	}
	return n;
}

static struct {
	uint8_t	*buf;
	size_t	 len, cap, used, ended;
} peer;

/* Read what netproc wrote; check the whole answers in it. */
static void
peer_read(int fd)
{
	size_t	 used;
	ssize_t	 n;

	for (;;) {
		if (peer.cap - peer.len < 65536) {
			peer.cap = peer.cap ? peer.cap * 2 : 131072;
			if ((peer.buf = realloc(peer.buf, peer.cap)) == NULL)
				abort();
		}
		n = recv(fd, peer.buf + peer.len, peer.cap - peer.len,
		    MSG_DONTWAIT);
		if (n <= 0)
			break;
		peer.len += n;
	}
	peer.ended += check_answers(peer.buf, peer.len, &used);
	memmove(peer.buf, peer.buf + used, peer.len - used);
	peer.len -= used;
}

/* The parent: its status, and a reload's outcome, or nothing. */
static void
parent(uint8_t flags)
{
	if (reload_asked && !(flags & 8)) {
		reload_asked = 0;
		if (flags & 4) {
			np->status.reloads_ok++;
			np->status.last_reload_ok = 1;
		} else {
			np->status.reloads_failed++;
			np->status.last_reload_ok = 0;
		}
		np_asked = 1;
	}
	if (np_asked && (flags & 2)) {
		np_asked = 0;
		np->status_seq++;
		ctl_status_in();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlconn	*c;
	uint8_t		 flags;
	uint32_t	 rng;
	size_t		 off = 0, chunk, want;
	ssize_t		 k;
	int		 fd, i, bad;

	if (size < 2)
		return 0;
	flags = data[0];
	rng = data[1] | 0x100;
	data += 2;
	size -= 2;
	restricted = flags & 1;
	np_asked = reload_asked = 0;
	memset(&peer, 0, sizeof(peer));
	want = count_requests(data, size, &bad);

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun[restricted],
	    sizeof(sun[0])) == -1)
		abort();
	np_last_ptr = NULL;
	ctl_accept(&lst[restricted]);
	if ((c = np_last_ptr) == NULL || ctl_count() != 1)
		abort();
	for (i = 0; i < 256 && ctl_count() > 0; i++) {
		rng = rng * 1103515245 + 12345;
		if (off < size) {
			chunk = 1 + (rng >> 8) % 2048 + size / 64;
			if (chunk > size - off)
				chunk = size - off;
			if ((k = send(fd, data + off, chunk, MSG_NOSIGNAL |
			    MSG_DONTWAIT)) > 0)
				off += k;
		}
		ctl_event(c, EPOLLIN | EPOLLOUT);
		if (ctl_count() == 0)
			break;
		if (rng & 0x20000)
			peer_read(fd);
		parent(flags);
		if ((rng & 0x1c0000) == 0) {
			/* time moves on: waits end, slow readers go */
			np_now += 2;
			ctl_tick();
		}
		if (off >= size && peer.ended >= want && !np_asked &&
		    !reload_asked)
			break;
	}
	/* the rest: read everything, let every wait end */
	for (i = 0; i < 1024 && ctl_count() > 0 && peer.ended < want; i++) {
		peer_read(fd);
		parent(flags);
		np_now += 20;
		ctl_tick();
		if (ctl_count() > 0)
			ctl_event(c, EPOLLIN | EPOLLOUT);
	}
	peer_read(fd);
	/* one answer each, up to a frame imsg refuses (then it closed) */
	if (peer.ended > want || (off >= size && peer.ended != want) ||
	    (bad && off >= size && ctl_count() != 0))
		abort();
	close(fd);
	for (i = 0; i < 8 && ctl_count() > 0; i++) {
		ctl_event(c, EPOLLIN | EPOLLHUP);
		if (ctl_count() > 0) {
			np_now += 400000;
			ctl_tick();
		}
	}
	if (ctl_count() != 0)
		abort();
	free(peer.buf);
	return 0;
}
