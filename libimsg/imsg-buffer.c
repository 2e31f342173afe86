/*
 * ibuf byte buffers and msgbuf write queues (see imsg.h).
 *
 * Everything that passes through here may be key material, so memory
 * is wiped before it is given back: freezero() on free, explicit_bzero()
 * wherever bytes are left behind.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

/*
 * Marks a view on borrowed memory.  Freeing one would hand the stack or
 * someone's payload to free(3), so ibuf_free() aborts instead.
 */
#define IBUF_FD_VIEW	(-2)

struct msgbuf {
	TAILQ_HEAD(, ibuf)	 bufs;
	uint32_t		 queued;
};

static int	 ibuf_grow(struct ibuf *, size_t);
static void	*ibuf_wseek(struct ibuf *, size_t, size_t);
static void	 msgbuf_dequeue(struct msgbuf *, struct ibuf *);
static void	 msgbuf_drain(struct msgbuf *, size_t, int);
static int	 msgbuf_send(int, struct msgbuf *, int);

struct ibuf *
ibuf_open(size_t len)
{
	return ibuf_dynamic(len, len);
}

/* A buffer of len bytes that ibuf_reserve() may grow up to max. */
struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max < len) {
		errno = EINVAL;
		return NULL;
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return NULL;
	/* never NULL, even when empty: ibuf_data() always points somewhere */
	if ((buf->buf = calloc(1, len > 0 ? len : 1)) == NULL) {
		free(buf);
		return NULL;
	}
	buf->size = len;
	buf->max = max;
	buf->fd = -1;
	return buf;
}

/* Reallocate to hold at least need bytes; the old copy is wiped. */
static int
ibuf_grow(struct ibuf *buf, size_t need)
{
	unsigned char	*p;
	size_t		 size;

	if (need > buf->max) {
		errno = ERANGE;
		return -1;
	}
	/* doubling keeps a message built by many small adds linear */
	size = buf->size > buf->max / 2 ? buf->max : buf->size * 2;
	if (size < need)
		size = need;
	if ((p = calloc(1, size)) == NULL)
		return -1;
	if (buf->wpos > 0)
		memcpy(p, buf->buf, buf->wpos);
	freezero(buf->buf, buf->size);
	buf->buf = p;
	buf->size = size;
	return 0;
}

/* Append len zeroed bytes and return where they start. */
void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	void	*p;

	if (buf->fd == IBUF_FD_VIEW) {
		errno = EPERM;
		return NULL;
	}
	if (len > SIZE_MAX - buf->wpos) {
		errno = ERANGE;
		return NULL;
	}
	if (buf->wpos + len > buf->size &&
	    ibuf_grow(buf, buf->wpos + len) == -1)
		return NULL;
	p = buf->buf + buf->wpos;
	/* truncation may have left old bytes behind wpos */
	memset(p, 0, len);
	buf->wpos += len;
	return p;
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if ((p = ibuf_reserve(buf, len)) == NULL)
		return -1;
	if (len > 0)
		memcpy(p, data, len);
	return 0;
}

int
ibuf_add_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	return ibuf_add(buf, ibuf_data(from), ibuf_size(from));
}

int
ibuf_add_zero(struct ibuf *buf, size_t len)
{
	return ibuf_reserve(buf, len) == NULL ? -1 : 0;
}

int
ibuf_add_n8(struct ibuf *buf, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_add(buf, &v, sizeof(v));
}

int
ibuf_add_n16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = htobe16(value);
	return ibuf_add(buf, &v, sizeof(v));
}

int
ibuf_add_n32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = htobe32(value);
	return ibuf_add(buf, &v, sizeof(v));
}

int
ibuf_add_n64(struct ibuf *buf, uint64_t value)
{
	value = htobe64(value);
	return ibuf_add(buf, &value, sizeof(value));
}

int
ibuf_add_h16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_add(buf, &v, sizeof(v));
}

int
ibuf_add_h32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_add(buf, &v, sizeof(v));
}

int
ibuf_add_h64(struct ibuf *buf, uint64_t value)
{
	return ibuf_add(buf, &value, sizeof(value));
}

/* The len bytes at offset pos of the unread data, or NULL (ERANGE). */
void *
ibuf_seek(struct ibuf *buf, size_t pos, size_t len)
{
	if (pos > ibuf_size(buf) || len > ibuf_size(buf) - pos ||
	    buf->buf == NULL) {
		errno = ERANGE;
		return NULL;
	}
	return buf->buf + buf->rpos + pos;
}

/* ibuf_seek() for writing: views are read-only. */
static void *
ibuf_wseek(struct ibuf *buf, size_t pos, size_t len)
{
	if (buf->fd == IBUF_FD_VIEW) {
		errno = EPERM;
		return NULL;
	}
	return ibuf_seek(buf, pos, len);
}

int
ibuf_set(struct ibuf *buf, size_t pos, const void *data, size_t len)
{
	void	*p;

	if ((p = ibuf_wseek(buf, pos, len)) == NULL)
		return -1;
	if (len > 0)
		memcpy(p, data, len);
	return 0;
}

int
ibuf_set_n8(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_set(buf, pos, &v, sizeof(v));
}

int
ibuf_set_n16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = htobe16(value);
	return ibuf_set(buf, pos, &v, sizeof(v));
}

int
ibuf_set_n32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = htobe32(value);
	return ibuf_set(buf, pos, &v, sizeof(v));
}

int
ibuf_set_n64(struct ibuf *buf, size_t pos, uint64_t value)
{
	value = htobe64(value);
	return ibuf_set(buf, pos, &value, sizeof(value));
}

int
ibuf_set_h16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_set(buf, pos, &v, sizeof(v));
}

int
ibuf_set_h32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	v = value;
	return ibuf_set(buf, pos, &v, sizeof(v));
}

int
ibuf_set_h64(struct ibuf *buf, size_t pos, uint64_t value)
{
	return ibuf_set(buf, pos, &value, sizeof(value));
}

/* Where reading continues; NULL for a buffer that never held data. */
void *
ibuf_data(const struct ibuf *buf)
{
	if (buf->buf == NULL)
		return NULL;
	return buf->buf + buf->rpos;
}

/* Bytes left to read. */
size_t
ibuf_size(const struct ibuf *buf)
{
	return buf->wpos - buf->rpos;
}

/* Bytes that may still be appended. */
size_t
ibuf_left(const struct ibuf *buf)
{
	if (buf->fd == IBUF_FD_VIEW)
		return 0;
	return buf->max - buf->wpos;
}

/*
 * Make the unread data exactly len bytes long: cut it short, or pad it
 * with zeroes (not for views, they cannot grow).
 */
int
ibuf_truncate(struct ibuf *buf, size_t len)
{
	if (len <= ibuf_size(buf)) {
		if (buf->fd != IBUF_FD_VIEW && buf->buf != NULL)
			explicit_bzero(buf->buf + buf->rpos + len,
			    ibuf_size(buf) - len);
		buf->wpos = buf->rpos + len;
		return 0;
	}
	if (buf->fd == IBUF_FD_VIEW) {
		errno = ERANGE;
		return -1;
	}
	return ibuf_add_zero(buf, len - ibuf_size(buf));
}

void
ibuf_rewind(struct ibuf *buf)
{
	buf->rpos = 0;
}

/* A read-only view on len bytes of someone else's memory. */
void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->wpos = len;
	buf->fd = IBUF_FD_VIEW;
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return -1;
	}
	if (len > 0)
		memcpy(data, ibuf_data(buf), len);
	buf->rpos += len;
	return 0;
}

/* Consume len bytes and make new a view on them. */
int
ibuf_get_ibuf(struct ibuf *buf, size_t len, struct ibuf *new)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return -1;
	}
	ibuf_from_buffer(new, ibuf_data(buf), len);
	buf->rpos += len;
	return 0;
}

int
ibuf_get_n8(struct ibuf *buf, uint8_t *value)
{
	return ibuf_get(buf, value, sizeof(*value));
}

int
ibuf_get_n16(struct ibuf *buf, uint16_t *value)
{
	uint16_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return -1;
	*value = be16toh(v);
	return 0;
}

int
ibuf_get_n32(struct ibuf *buf, uint32_t *value)
{
	uint32_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return -1;
	*value = be32toh(v);
	return 0;
}

int
ibuf_get_n64(struct ibuf *buf, uint64_t *value)
{
	uint64_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return -1;
	*value = be64toh(v);
	return 0;
}

int
ibuf_get_h16(struct ibuf *buf, uint16_t *value)
{
	return ibuf_get(buf, value, sizeof(*value));
}

int
ibuf_get_h32(struct ibuf *buf, uint32_t *value)
{
	return ibuf_get(buf, value, sizeof(*value));
}

int
ibuf_get_h64(struct ibuf *buf, uint64_t *value)
{
	return ibuf_get(buf, value, sizeof(*value));
}

/*
 * Consume a fixed-width field of len bytes and return its text, up to
 * the first NUL, as a new string.
 */
char *
ibuf_get_string(struct ibuf *buf, size_t len)
{
	char	*s;

	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return NULL;
	}
	if ((s = strndup(len > 0 ? ibuf_data(buf) : "", len)) == NULL)
		return NULL;
	buf->rpos += len;
	return s;
}

/*
 * Consume a fixed-width field of exactly len bytes into str.  It must
 * end in NUL; otherwise str is still terminated, but we fail with
 * EOVERFLOW so that a cut-off name is never taken for the real one.
 */
int
ibuf_get_strbuf(struct ibuf *buf, char *str, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (ibuf_get(buf, str, len) == -1)
		return -1;
	if (str[len - 1] != '\0') {
		str[len - 1] = '\0';
		errno = EOVERFLOW;
		return -1;
	}
	return 0;
}

int
ibuf_skip(struct ibuf *buf, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return -1;
	}
	buf->rpos += len;
	return 0;
}

void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno = errno;

	if (buf == NULL)
		return;
	if (buf->fd == IBUF_FD_VIEW)
		abort();
	if (buf->fd >= 0)
		close(buf->fd);
	freezero(buf->buf, buf->size);
	free(buf);
	/* callers free on their error paths; keep the errno they report */
	errno = saved_errno;
}

int
ibuf_fd_avail(const struct ibuf *buf)
{
	return buf->fd >= 0;
}

/* Take the fd out of the buffer; the caller now owns it. */
int
ibuf_fd_get(struct ibuf *buf)
{
	int	 fd;

	if (buf->fd < 0)
		return -1;
	fd = buf->fd;
	buf->fd = -1;
	return fd;
}

/* Hand fd to the buffer, which closes it when freed unless taken back. */
void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd == IBUF_FD_VIEW)
		abort();
	if (buf->fd >= 0)
		close(buf->fd);
	buf->fd = fd < 0 ? -1 : fd;
}

struct msgbuf *
msgbuf_new(void)
{
	struct msgbuf	*mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return NULL;
	TAILQ_INIT(&mb->bufs);
	return mb;
}

void
msgbuf_free(struct msgbuf *mb)
{
	if (mb == NULL)
		return;
	msgbuf_clear(mb);
	free(mb);
}

/* Drop everything queued, closing fds that were never sent. */
void
msgbuf_clear(struct msgbuf *mb)
{
	struct ibuf	*buf;

	if (mb == NULL)
		return;
	while ((buf = TAILQ_FIRST(&mb->bufs)) != NULL)
		msgbuf_dequeue(mb, buf);
}

uint32_t
msgbuf_queuelen(const struct msgbuf *mb)
{
	return mb == NULL ? 0 : mb->queued;
}

/* Queue buf for writing; the queue owns it from now on. */
void
ibuf_close(struct msgbuf *mb, struct ibuf *buf)
{
	if (buf == NULL)
		return;
	if (buf->fd == IBUF_FD_VIEW)
		abort();
	TAILQ_INSERT_TAIL(&mb->bufs, buf, entry);
	mb->queued++;
}

static void
msgbuf_dequeue(struct msgbuf *mb, struct ibuf *buf)
{
	TAILQ_REMOVE(&mb->bufs, buf, entry);
	mb->queued--;
	ibuf_free(buf);
}

/* Account for n bytes written from the first niov buffers. */
static void
msgbuf_drain(struct msgbuf *mb, size_t n, int niov)
{
	struct ibuf	*buf;

	for (; niov > 0 && (buf = TAILQ_FIRST(&mb->bufs)) != NULL; niov--) {
		if (n < ibuf_size(buf)) {
			buf->rpos += n;
			return;
		}
		n -= ibuf_size(buf);
		msgbuf_dequeue(mb, buf);
	}
}

/*
 * One writev(2) or sendmsg(2) worth of the queue.  With fdpass, a
 * buffer's fd is sent as SCM_RIGHTS with the buffer's first byte, and
 * such a buffer always starts a call of its own: the receiver gets the
 * fd with the bytes of that call, so it can tell which message the fd
 * belongs to.  Returns 0 (also when the socket is full) or -1.
 */
static int
msgbuf_send(int fd, struct msgbuf *mb, int fdpass)
{
	struct iovec	 iov[IOV_MAX];
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf;
	ssize_t		 n;
	int		 niov = 0, sendfd = -1;

	if (mb == NULL)
		return 0;
	TAILQ_FOREACH(buf, &mb->bufs, entry) {
		if (niov == IOV_MAX)
			break;
		if (fdpass && buf->fd >= 0) {
			if (niov > 0)
				break;
			sendfd = buf->fd;
		}
		iov[niov].iov_base = ibuf_data(buf);
		iov[niov].iov_len = ibuf_size(buf);
		niov++;
	}
	if (niov == 0)
		return 0;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	if (sendfd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &sendfd, sizeof(int));
	}
again:
	/* MSG_NOSIGNAL: a dead peer is reported as EPIPE, not SIGPIPE */
	if (fdpass)
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	else
		n = writev(fd, iov, niov);
	if (n == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)
			return 0;
		return -1;
	}
	if (sendfd != -1) {
		/* the peer has its copy now; any rest goes without it */
		buf = TAILQ_FIRST(&mb->bufs);
		close(ibuf_fd_get(buf));
	}
	msgbuf_drain(mb, n, niov);
	return 0;
}

/* Write what the socket takes, ignoring fds. */
int
ibuf_write(int fd, struct msgbuf *mb)
{
	return msgbuf_send(fd, mb, 0);
}

/* Write what the socket takes, passing fds along. */
int
msgbuf_write(int fd, struct msgbuf *mb)
{
	return msgbuf_send(fd, mb, 1);
}
