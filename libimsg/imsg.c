/*
 * imsg channels: framing, reading, fd passing (see imsg.h).
 *
 * Received bytes collect in rbuf until imsgbuf_get() copies a whole
 * message out into an ibuf of its own; the bytes left behind are wiped
 * at once, since they may be key material.
 *
 * Received fds are matched to messages by stream position.  The sender
 * passes a message's fd with that message's first byte, and on Linux a
 * recvmsg(2) that picks up an fd stops at the end of the data sent
 * along with it.  So the message an fd belongs to starts inside the
 * bytes of the read that delivered the fd.  We note that range for each
 * fd and refuse a marked message with no fd in range, and an fd whose
 * range went by without a marked message to claim it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

struct imsg_rfd {
	int		 fd;
	uint64_t	 lo;	/* stream offsets of the bytes */
	uint64_t	 hi;	/* read together with the fd */
};

static int	 imsgbuf_rbuf_room(struct imsgbuf *);
static int	 imsgbuf_rfd_room(struct imsgbuf *);
static int	 imsgbuf_rfd_pop(struct imsgbuf *);
static int	 imsgbuf_stray_fd(struct imsgbuf *);
static int	 imsg_cmsg_fd(struct msghdr *);

int
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof(*ib));
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((ib->w = msgbuf_new()) == NULL)
		return -1;
	ib->fd = fd;
	ib->pid = getpid();
	ib->maxsize = MAX_IMSGSIZE;
	return 0;
}

/* Both directions: send fds given to compose, accept fds from the peer. */
void
imsgbuf_allow_fdpass(struct imsgbuf *ib)
{
	ib->flags |= IMSGF_FDPASS;
}

/*
 * Set the largest payload either way.  The header is added here, and
 * the total must stay clear of the IMSG_FD_MARK bit.
 */
int
imsgbuf_set_maxsize(struct imsgbuf *ib, uint32_t max)
{
	if (max >= IMSG_FD_MARK - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return -1;
	}
	ib->maxsize = max + IMSG_HEADER_SIZE;
	return 0;
}

/*
 * Move the unparsed bytes to the front of rbuf, and make sure there is
 * room for all of the message they begin, however large maxsize is.
 */
static int
imsgbuf_rbuf_room(struct imsgbuf *ib)
{
	struct imsg_hdr	 hdr;
	unsigned char	*p;
	size_t		 pending, want = IBUF_READ_SIZE;
	uint32_t	 len;

	pending = ib->rlen - ib->roff;
	if (pending >= IMSG_HEADER_SIZE) {
		memcpy(&hdr, ib->rbuf + ib->roff, sizeof(hdr));
		len = hdr.len & ~IMSG_FD_MARK;
		/* a bad length is for imsgbuf_get() to report */
		if (len <= ib->maxsize && len > want)
			want = len;
	}
	if (want > ib->rsize) {
		if ((p = calloc(1, want)) == NULL)
			return -1;
		if (pending > 0)
			memcpy(p, ib->rbuf + ib->roff, pending);
		freezero(ib->rbuf, ib->rsize);
		ib->rbuf = p;
		ib->rsize = want;
	} else if (ib->roff > 0) {
		memmove(ib->rbuf, ib->rbuf + ib->roff, pending);
		explicit_bzero(ib->rbuf + pending, ib->roff);
	}
	ib->roff = 0;
	ib->rlen = pending;
	return 0;
}

/* Room for one more received fd, made before reading so none is lost. */
static int
imsgbuf_rfd_room(struct imsgbuf *ib)
{
	struct imsg_rfd	*p;
	size_t		 n;

	if (ib->nrfds < ib->rfdsize)
		return 0;
	n = ib->rfdsize == 0 ? 4 : ib->rfdsize * 2;
	if ((p = reallocarray(ib->rfds, n, sizeof(*p))) == NULL)
		return -1;
	ib->rfds = p;
	ib->rfdsize = n;
	return 0;
}

static int
imsgbuf_rfd_pop(struct imsgbuf *ib)
{
	int	 fd;

	if (ib->nrfds == 0)
		return -1;
	fd = ib->rfds[0].fd;
	ib->nrfds--;
	memmove(&ib->rfds[0], &ib->rfds[1], ib->nrfds * sizeof(ib->rfds[0]));
	return fd;
}

/* The oldest fd came without a message to claim it. */
static int
imsgbuf_stray_fd(struct imsgbuf *ib)
{
	close(imsgbuf_rfd_pop(ib));
	errno = EBADMSG;
	return -1;
}

/*
 * The fd from SCM_RIGHTS, or -1.  Our control buffer has room for one,
 * but its padding may let the kernel squeeze in a second: close extras.
 */
static int
imsg_cmsg_fd(struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 fd = -1, f;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(f));
			if (fd == -1)
				fd = f;
			else
				close(f);
		}
	}
	return fd;
}

/*
 * Read what is there.  Returns 1 (also when nothing was there yet, or
 * when rbuf is full of whole messages that imsgbuf_get() must take
 * first), 0 at end of file, -1 on error.
 */
int
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct imsg_rfd	*rfd;
	ssize_t		 n;
	int		 fd = -1;

	if (imsgbuf_rbuf_room(ib) == -1)
		return -1;
	if (ib->rlen == ib->rsize)
		return 1;
	if ((ib->flags & IMSGF_FDPASS) && imsgbuf_rfd_room(ib) == -1)
		return -1;

	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = ib->rsize - ib->rlen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
again:
	if (ib->flags & IMSGF_FDPASS) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		/* a stray fd must not leak into programs we exec */
		n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC);
	} else
		n = read(ib->fd, iov.iov_base, iov.iov_len);
	if (n == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		return -1;
	}
	if (ib->flags & IMSGF_FDPASS)
		fd = imsg_cmsg_fd(&msg);
	if (n == 0) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	if (fd != -1) {
		rfd = &ib->rfds[ib->nrfds++];
		rfd->fd = fd;
		rfd->lo = ib->rstream + (ib->rlen - ib->roff);
		rfd->hi = rfd->lo + n;
	}
	ib->rlen += n;
	return 1;
}

/*
 * Take the next whole message out of the read buffer.  Returns 1 and
 * fills imsg, which the caller must imsg_free(); 0 if no whole message
 * is there yet; -1 on a message we refuse: ERANGE for a bad length,
 * EBADMSG for an fd mark where fds are not allowed, a mark without an
 * fd, or an fd without a mark.  After -1 the channel is unusable.
 */
int
imsgbuf_get(struct imsgbuf *ib, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*payload;
	size_t		 avail = ib->rlen - ib->roff;
	uint64_t	 at = ib->rstream;
	uint32_t	 len;
	int		 marked;

	if (ib->nrfds > 0 && ib->rfds[0].hi <= at)
		return imsgbuf_stray_fd(ib);
	if (avail < IMSG_HEADER_SIZE)
		return 0;
	memcpy(&hdr, ib->rbuf + ib->roff, sizeof(hdr));
	marked = (hdr.len & IMSG_FD_MARK) != 0;
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE || len > ib->maxsize) {
		errno = ERANGE;
		return -1;
	}
	if (marked && !(ib->flags & IMSGF_FDPASS)) {
		errno = EBADMSG;
		return -1;
	}
	if (avail < len)
		return 0;
	if (marked) {
		if (ib->nrfds == 0 || ib->rfds[0].lo > at) {
			errno = EBADMSG;
			return -1;
		}
	} else if (ib->nrfds > 0 && ib->rfds[0].lo <= at &&
	    at + len >= ib->rfds[0].hi) {
		/* no later message can start where this fd arrived */
		return imsgbuf_stray_fd(ib);
	}

	if ((payload = ibuf_open(len - IMSG_HEADER_SIZE)) == NULL)
		return -1;
	if (ibuf_add(payload, ib->rbuf + ib->roff + IMSG_HEADER_SIZE,
	    len - IMSG_HEADER_SIZE) == -1) {
		ibuf_free(payload);
		return -1;
	}
	if (marked)
		ibuf_fd_set(payload, imsgbuf_rfd_pop(ib));
	explicit_bzero(ib->rbuf + ib->roff, len);
	ib->roff += len;
	ib->rstream += len;
	if (ib->roff == ib->rlen)
		ib->roff = ib->rlen = 0;

	imsg->hdr = hdr;
	imsg->hdr.len = len;
	imsg->buf = payload;
	imsg->data = ibuf_size(payload) > 0 ? ibuf_data(payload) : NULL;
	return 1;
}

/* The older interface: the message's whole length, 0 for none, or -1. */
ssize_t
imsg_get(struct imsgbuf *ib, struct imsg *imsg)
{
	int	 rv;

	if ((rv = imsgbuf_get(ib, imsg)) <= 0)
		return rv;
	return imsg->hdr.len;
}

/* Returns 0, also when the socket is full for now, or -1. */
int
imsgbuf_write(struct imsgbuf *ib)
{
	if (ib->flags & IMSGF_FDPASS)
		return msgbuf_write(ib->fd, ib->w);
	return ibuf_write(ib->fd, ib->w);
}

/* Write until the queue is empty, sleeping in poll(2) while it is full. */
int
imsgbuf_flush(struct imsgbuf *ib)
{
	struct pollfd	 pfd;

	while (imsgbuf_queuelen(ib) > 0) {
		if (imsgbuf_write(ib) == -1)
			return -1;
		if (imsgbuf_queuelen(ib) == 0)
			break;
		pfd.fd = ib->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

/*
 * Free everything imsgbuf_init() and traffic allocated; unsent and
 * unclaimed fds are closed, ib->fd is not.  Composing needs a fresh
 * imsgbuf_init() afterwards.
 */
void
imsgbuf_clear(struct imsgbuf *ib)
{
	msgbuf_free(ib->w);
	ib->w = NULL;
	while (ib->nrfds > 0)
		close(imsgbuf_rfd_pop(ib));
	free(ib->rfds);
	ib->rfds = NULL;
	ib->rfdsize = 0;
	freezero(ib->rbuf, ib->rsize);
	ib->rbuf = NULL;
	ib->rsize = ib->roff = ib->rlen = 0;
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *ib)
{
	return msgbuf_queuelen(ib->w);
}

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return imsg->hdr.type;
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return imsg->hdr.peerid;
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return imsg->hdr.pid;
}

/* Payload length. */
size_t
imsg_get_len(struct imsg *imsg)
{
	return ibuf_size(imsg->buf);
}

/* Copy a payload of exactly len bytes: anything else is a bad message. */
int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (imsg_get_len(imsg) != len) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(data, ibuf_data(imsg->buf), len);
	return 0;
}

/*
 * A read-only view on the payload, for parsing it piece by piece.  The
 * message itself is not consumed; an empty payload is EBADMSG.
 */
int
imsg_get_ibuf(struct imsg *imsg, struct ibuf *ibuf)
{
	if (imsg_get_len(imsg) == 0) {
		errno = EBADMSG;
		return -1;
	}
	ibuf_from_buffer(ibuf, ibuf_data(imsg->buf), imsg_get_len(imsg));
	return 0;
}

/* The fd that came with the message, now the caller's; -1 if none. */
int
imsg_get_fd(struct imsg *imsg)
{
	return ibuf_fd_get(imsg->buf);
}

/*
 * Copy a payload that is one NUL-terminated string, NUL included, into
 * str of size len: EBADMSG if it is not terminated, EOVERFLOW if it
 * does not fit.
 */
int
imsg_get_strbuf(struct imsg *imsg, char *str, size_t len)
{
	size_t		 n = imsg_get_len(imsg);
	const char	*p = ibuf_data(imsg->buf);

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (n == 0 || p[n - 1] != '\0') {
		errno = EBADMSG;
		return -1;
	}
	if (n > len) {
		errno = EOVERFLOW;
		return -1;
	}
	memcpy(str, p, n);
	return 0;
}

/* Queue a copy of a received message for ib; its fd stays behind. */
int
imsg_forward(struct imsgbuf *ib, struct imsg *imsg)
{
	struct ibuf	*m;
	size_t		 len = imsg->buf->wpos;

	if ((m = imsg_create(ib, imsg->hdr.type, imsg->hdr.peerid,
	    imsg->hdr.pid, len)) == NULL)
		return -1;
	if (imsg_add(m, imsg->buf->buf, len) == -1)
		return -1;
	imsg_close(ib, m);
	return 1;
}

/* Free a received message, closing its fd unless it was taken. */
void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
}

/*
 * Queue one message.  Returns 1 or -1; on success the queue owns fd and
 * closes it once sent, on failure it is still the caller's.  An fd on a
 * channel without imsgbuf_allow_fdpass() is EINVAL.
 */
int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = datalen;
	return imsg_composev(ib, type, id, pid, fd, &iov, 1);
}

int
imsg_composev(struct imsgbuf *ib, uint32_t type, uint32_t id, pid_t pid,
    int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*m;
	size_t		 len = 0;
	int		 i;

	if (iovcnt < 0 ||
	    (fd != -1 && (fd < 0 || !(ib->flags & IMSGF_FDPASS)))) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - len) {
			errno = ERANGE;
			return -1;
		}
		len += iov[i].iov_len;
	}
	if ((m = imsg_create(ib, type, id, pid, len)) == NULL)
		return -1;
	for (i = 0; i < iovcnt; i++)
		if (imsg_add(m, iov[i].iov_base, iov[i].iov_len) == -1)
			return -1;
	ibuf_fd_set(m, fd);
	imsg_close(ib, m);
	return 1;
}

/*
 * Start a message with room for datalen bytes of payload; imsg_add()
 * may grow it up to the channel's maxsize.  pid 0 means our own.
 */
struct ibuf *
imsg_create(struct imsgbuf *ib, uint32_t type, uint32_t id, pid_t pid,
    size_t datalen)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*m;

	if (ib->w == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (datalen > ib->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return NULL;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.peerid = id;
	hdr.pid = pid == 0 ? ib->pid : pid;
	/* hdr.len is known only once imsg_close() is called */
	if ((m = ibuf_dynamic(IMSG_HEADER_SIZE + datalen, ib->maxsize)) ==
	    NULL)
		return NULL;
	if (ibuf_add(m, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(m);
		return NULL;
	}
	return m;
}

/* Append to a message; on failure the message is freed.  len or -1. */
int
imsg_add(struct ibuf *m, const void *data, size_t len)
{
	if (m == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (len > 0 && ibuf_add(m, data, len) == -1) {
		ibuf_free(m);
		return -1;
	}
	return len;
}

/*
 * Seal the header and queue the message.  An fd set on it without
 * imsgbuf_allow_fdpass() is closed, but the mark stays so that the
 * peer refuses the message instead of missing the fd silently.
 */
void
imsg_close(struct imsgbuf *ib, struct ibuf *m)
{
	uint32_t	 len;

	if (m == NULL)
		return;
	len = ibuf_size(m);
	if (ibuf_fd_avail(m)) {
		len |= IMSG_FD_MARK;
		if (!(ib->flags & IMSGF_FDPASS))
			close(ibuf_fd_get(m));
	}
	if (ib->w == NULL ||
	    ibuf_set_h32(m, offsetof(struct imsg_hdr, len), len) == -1) {
		/* not a message from imsg_create(), or a cleared channel */
		ibuf_free(m);
		return;
	}
	ibuf_close(ib->w, m);
}
