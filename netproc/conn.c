/*
 * Connections from edges: accept, peer credentials, LURK framing,
 * pipelined requests, batched responses, back-pressure.
 *
 * Reads go into one shared buffer; a connection keeps bytes of its own
 * only for a message that is not complete yet, and for responses the
 * peer has not read yet.  An idle connection therefore costs its struct.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

static const struct lurk_ext_id supported[] = {
	{ LURK_DESIG_LURK, LURK_V1 },
};
#define NSUPPORTED	(sizeof(supported) / sizeof(supported[0]))

static void
conn_close(struct conn *c)
{
	log_debug("conn %llu uid %u: closed", (unsigned long long)c->serial,
	    (unsigned)c->uid);
	close(c->fd);	/* also removes it from the epoll set */
	TAILQ_REMOVE(&np->conns, c, entry);
	np->nconns--;
	free(c->in);
	free(c->out);
	free(c);
}

void
conn_accept(int lfd)
{
	struct ucred	 cred;
	socklen_t	 len;
	struct conn	*c;
	int		 fd, i;

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
		c->tag.kind = EV_CONN;
		c->tag.fd = fd;
		c->fd = fd;
		c->serial = ++np->serial;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;	/* 0 across PID namespaces: log only */
		c->events = EPOLLIN;
		TAILQ_INSERT_TAIL(&np->conns, c, entry);
		np->nconns++;
		{
			struct epoll_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.events = c->events;
			ev.data.ptr = c;
			if (epoll_ctl(np->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
				fatal("%s: epoll_ctl", __func__);
		}
		log_debug("conn %llu: uid %u gid %u pid %d",
		    (unsigned long long)c->serial, (unsigned)c->uid,
		    (unsigned)c->gid, (int)c->pid);
	}
}

static size_t
error_response(const struct lurk_hdr *req, enum lurk_err err, uint8_t *out,
    size_t outlen)
{
	struct lurk_hdr	 h = *req;

	if (outlen < LURK_HDR_LEN + LURK_STATE_LEN)
		return 0;
	h.status = lurk_status(req->designation, err);
	h.length = lurk_length_field(LURK_STATE_LEN, np->lenmode);
	lurk_hdr_encode(&h, out);
	memcpy(out + LURK_HDR_LEN, np->state, LURK_STATE_LEN);
	return LURK_HDR_LEN + LURK_STATE_LEN;
}

static size_t
refuse(const struct conn *c, const struct lurk_hdr *h, enum lurk_err err,
    const char *why, uint8_t *out, size_t outlen)
{
	log_warnx("conn %llu uid %u: %s (designation %u version %u type %u "
	    "status %u): %s", (unsigned long long)c->serial, (unsigned)c->uid,
	    lurk_err_name(err), h->designation, h->version, h->type,
	    h->status, why);
	return error_response(h, err, out, outlen);
}

/*
 * Answer one complete request of len bytes (header included); return the
 * length of the response written to out, 0 if nothing is sent.  The
 * processing order is the drafts': extension, type, status, payload.
 */
size_t
lurk_respond(const uint8_t *msg, size_t len, uint8_t *out, size_t outlen,
    const struct conn *c)
{
	struct lurk_hdr	 h;
	size_t		 plen = len - LURK_HDR_LEN, rlen;

	lurk_hdr_decode(msg, &h);
	if (h.designation != LURK_DESIG_LURK || h.version != LURK_V1)
		return refuse(c, &h, LURK_ERR_EXTENSION,
		    "extension not supported", out, outlen);
	if (h.type != LURK_TYPE_PING && h.type != LURK_TYPE_CAPABILITIES)
		return refuse(c, &h, LURK_ERR_TYPE, "unknown type", out,
		    outlen);
	if (h.status != LURK_ST_REQUEST)
		return refuse(c, &h, LURK_ERR_STATUS, "not a request", out,
		    outlen);
	if (plen != 0)
		return refuse(c, &h, LURK_ERR_FORMAT,
		    "payload must be empty", out, outlen);

	if (h.type == LURK_TYPE_PING)
		rlen = 0;
	else
		rlen = lurk_capabilities_len(NSUPPORTED);
	if (outlen < LURK_HDR_LEN + rlen)
		return 0;
	if (h.type == LURK_TYPE_CAPABILITIES)
		lurk_capabilities_encode(out + LURK_HDR_LEN, rlen, supported,
		    NSUPPORTED, np->state);
	h.status = LURK_ST_SUCCESS;
	h.length = lurk_length_field(rlen, np->lenmode);
	lurk_hdr_encode(&h, out);
	return LURK_HDR_LEN + rlen;
}

/* Room for n more bytes of output. */
static uint8_t *
out_reserve(struct conn *c, size_t n)
{
	uint8_t	*p;
	size_t	 cap;

	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
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
	if ((p = realloc(c->out, cap)) == NULL)
		return NULL;
	c->out = p;
	c->outcap = cap;
	return c->out + c->outlen;
}

static int
conn_flush(struct conn *c)
{
	ssize_t	 n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		c->outoff += n;
	}
	/* all written: an idle connection keeps no buffer */
	free(c->out);
	c->out = NULL;
	c->outoff = c->outlen = c->outcap = 0;
	return 0;
}

/*
 * Parse every complete message in buf; keep an incomplete tail.  Returns
 * -1 if the connection must be closed once its output is written.
 */
static int
conn_parse(struct conn *c, const uint8_t *buf, size_t len)
{
	struct lurk_hdr	 h;
	uint32_t	 plen;
	size_t		 off = 0, mlen, rlen;
	uint8_t		*out;

	while (len - off >= LURK_HDR_LEN) {
		lurk_hdr_decode(buf + off, &h);
		if (lurk_payload_len(&h, np->lenmode, &plen) == -1 ||
		    plen > np->max_message - LURK_HDR_LEN) {
			/* the framing is lost: answer, then hang up */
			if ((out = out_reserve(c, 64)) == NULL)
				return -1;
			rlen = refuse(c, &h, LURK_ERR_FORMAT, plen >
			    np->max_message - LURK_HDR_LEN ?
			    "length exceeds the maximum message size" :
			    "length shorter than the header", out, 64);
			c->outlen += rlen;
			return -1;
		}
		mlen = LURK_HDR_LEN + (size_t)plen;
		if (len - off < mlen)
			break;
		if ((out = out_reserve(c, LURK_HDR_LEN + 512)) == NULL)
			return -1;
		rlen = lurk_respond(buf + off, mlen, out, LURK_HDR_LEN + 512,
		    c);
		c->outlen += rlen;
		off += mlen;
	}
	if (off < len) {
		/* keep the incomplete message for the next read */
		uint8_t	*p;

		if ((p = malloc(len - off)) == NULL)
			return -1;
		memcpy(p, buf + off, len - off);
		free(c->in);
		c->in = p;
		c->inlen = len - off;
	} else {
		free(c->in);
		c->in = NULL;
		c->inlen = 0;
	}
	return 0;
}

static int
conn_read(struct conn *c)
{
	uint8_t	*buf = np->rbuf;
	size_t	 have = 0;
	ssize_t	 n;

	if (c->inlen > 0) {
		memcpy(buf, c->in, c->inlen);
		have = c->inlen;
	}
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
			log_warnx("conn %llu uid %u: closed in the middle of "
			    "a message (%zu bytes)",
			    (unsigned long long)c->serial, (unsigned)c->uid,
			    c->inlen);
		return -1;
	}
	if (conn_parse(c, buf, have + n) == -1)
		c->closing = 1;
	return 0;
}

void
conn_event(struct conn *c, uint32_t events)
{
	uint32_t	 want;

	if ((events & EPOLLIN) && !c->closing) {
		if (conn_read(c) == -1) {
			/* peer closed: still deliver what it asked for */
			(void)conn_flush(c);
			conn_close(c);
			return;
		}
	} else if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT)) {
		conn_close(c);
		return;
	}
	if (conn_flush(c) == -1) {
		conn_close(c);
		return;
	}
	if (c->closing && c->outoff == c->outlen) {
		conn_close(c);
		return;
	}
	/* back-pressure: a peer that does not read gets no more service */
	want = 0;
	if (!c->closing && c->outlen - c->outoff < CONN_OUT_HIGH)
		want |= EPOLLIN;
	if (c->outoff < c->outlen)
		want |= EPOLLOUT;
	netproc_update_events(c, want);
}
