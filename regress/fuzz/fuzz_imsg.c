/*
 * fuzz_imsg: bytes (and file descriptors) arriving on an imsg channel,
 * through libimsg: imsgbuf_read(), imsgbuf_get() / imsg_get(), the imsg
 * accessors, the ibuf readers over a payload, imsg_forward(), imsg_free(),
 * imsgbuf_clear().  The bytes go through a real socketpair in pieces,
 * some with an fd (SCM_RIGHTS) attached.
 *
 * Input: flags(1) seed(1) stream...
 *   flags  bit 0: imsgbuf_allow_fdpass(); bits 1-2: largest message
 *          (default, 64, 8192, 256 KiB payload); bit 3: imsg_get()
 *          instead of imsgbuf_get()
 *   seed   how the stream is cut, which pieces carry an fd
 *
 * What must hold: the messages come out whole, in order, exactly as a
 * plain reading of the stream frames them (type, peerid, pid, payload),
 * until the first one imsgbuf_get() refuses, and it refuses one with a
 * bad length (ERANGE) or, without fd passing, an fd mark (EBADMSG) where
 * the stream has one; no fd is left open once the channel is cleared.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXMARKS	1024

static int	 nullfd;
static uint32_t	 rng;
static size_t	 marks[MAXMARKS];

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		abort();
	return 0;
}

static int
open_fds(void)
{
	int	 fd, n = 0;

	for (fd = 0; fd < 512; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* Send one piece, with an fd or not; 0 if the socket is full. */
static int
send_piece(int s, const uint8_t *p, size_t len, int withfd)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (withfd) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &nullfd, sizeof(int));
	}
	if ((n = sendmsg(s, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1) {
		if (errno == EAGAIN)
			return 0;
		abort();
	}
	if ((size_t)n != len)
		abort();	/* a unix stream socket takes all or none */
	return 1;
}

/* Read a payload piece by piece with every ibuf reader. */
static void
walk(struct ibuf *ib)
{
	struct ibuf	 sub;
	uint64_t	 v64;
	uint32_t	 v32;
	uint16_t	 v16;
	uint8_t		 v8;
	char		 str[8], *s;
	size_t		 left;

	for (;;) {
		left = ibuf_size(ib);
		if (ibuf_get_n8(ib, &v8) == -1)
			break;
		switch (v8 % 8) {
		case 0:
			if (ibuf_get_n16(ib, &v16) == -1)
				return;
			break;
		case 1:
			if (ibuf_get_n32(ib, &v32) == -1 ||
			    ibuf_get_h32(ib, &v32) == -1)
				return;
			break;
		case 2:
			if (ibuf_get_n64(ib, &v64) == -1 ||
			    ibuf_get_h64(ib, &v64) == -1 ||
			    ibuf_get_h16(ib, &v16) == -1)
				return;
			break;
		case 3:
			if ((s = ibuf_get_string(ib, v8 % 5)) == NULL)
				return;
			free(s);
			break;
		case 4:
			if (ibuf_get_strbuf(ib, str, sizeof(str)) == -1)
				return;
			if (memchr(str, '\0', sizeof(str)) == NULL)
				abort();
			break;
		case 5:
			if (ibuf_get_ibuf(ib, v8 % 7, &sub) == -1)
				return;
			/* a view: read-only */
			if (ibuf_add(&sub, "x", 1) != -1)
				abort();
			walk(&sub);
			break;
		case 6:
			if (ibuf_skip(ib, v8 % 3) == -1)
				return;
			break;
		default:
			if (ibuf_get(ib, str, v8 % 4) == -1)
				return;
			break;
		}
		if (ibuf_size(ib) >= left)
			abort();	/* every successful get consumes */
	}
}

/* The plain reading of the stream: where the next message starts. */
struct model {
	const uint8_t	*p;
	size_t		 left;
	uint32_t	 maxsize;
	int		 fdpass;
};

/* One received message against the model. */
static void
check_msg(struct model *m, struct imsg *imsg, struct imsgbuf *out)
{
	struct imsg_hdr	 hdr;
	struct ibuf	 ib;
	uint8_t		 copy[512];
	char		 str[32];
	size_t		 len;
	int		 fd;

	if (m->left < sizeof(hdr))
		abort();
	memcpy(&hdr, m->p, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE || len > m->maxsize || len > m->left ||
	    ((hdr.len & IMSG_FD_MARK) && !m->fdpass))
		abort();	/* should have been refused */
	if (imsg_get_type(imsg) != hdr.type || imsg_get_id(imsg) !=
	    hdr.peerid || imsg_get_pid(imsg) != (pid_t)hdr.pid ||
	    imsg->hdr.len != len ||
	    imsg_get_len(imsg) != len - IMSG_HEADER_SIZE)
		abort();
	len -= IMSG_HEADER_SIZE;
	if (len > 0 && memcmp(imsg->data, m->p + sizeof(hdr), len) != 0)
		abort();
	if ((len == 0) != (imsg->data == NULL))
		abort();
	m->p += sizeof(hdr) + len;
	m->left -= sizeof(hdr) + len;

	if (len > 0 && len <= sizeof(copy)) {
		if (imsg_get_data(imsg, copy, len) == -1 ||
		    memcmp(copy, imsg->data, len) != 0)
			abort();
	}
	if (imsg_get_data(imsg, copy, len + 1) != -1)
		abort();
	if (imsg_get_ibuf(imsg, &ib) == -1) {
		if (len != 0)
			abort();
	} else {
		walk(&ib);
		/* the message itself is not consumed */
		if (imsg_get_len(imsg) != len)
			abort();
	}
	if (imsg_get_strbuf(imsg, str, sizeof(str)) == 0 &&
	    (len == 0 || len > sizeof(str) || str[len - 1] != '\0'))
		abort();
	fd = imsg_get_fd(imsg);
	if (fd != -1) {
		if (!(hdr.len & IMSG_FD_MARK))
			abort();
		close(fd);
	} else if (hdr.len & IMSG_FD_MARK)
		abort();	/* a marked message always has its fd */
	if (imsg_forward(out, imsg) == -1 && len + IMSG_HEADER_SIZE <=
	    MAX_IMSGSIZE)
		abort();
}

/* Take every whole message; 0 once the channel refused one. */
static int
drain(struct imsgbuf *ib, struct model *m, int old, struct imsgbuf *out)
{
	struct imsg_hdr	 hdr;
	struct imsg	 imsg;
	ssize_t		 n;

	for (;;) {
		n = old ? imsg_get(ib, &imsg) : imsgbuf_get(ib, &imsg);
		if (n == 0)
			return 1;
		if (n == -1) {
			if (errno == ERANGE) {
				/* the model must see the bad length */
				if (m->left < sizeof(hdr))
					abort();
				memcpy(&hdr, m->p, sizeof(hdr));
				if ((hdr.len & ~IMSG_FD_MARK) >=
				    IMSG_HEADER_SIZE &&
				    (hdr.len & ~IMSG_FD_MARK) <= m->maxsize)
					abort();
			} else if (errno != EBADMSG)
				abort();
			return 0;
		}
		if (old && (size_t)n != imsg.hdr.len)
			abort();
		check_msg(m, &imsg, out);
		imsg_free(&imsg);
		if (imsgbuf_queuelen(out) > 16)
			msgbuf_clear(out->w);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 maxes[] = { 0, 64, 8192, 256 * 1024 };
	struct imsgbuf		 ib, out;
	struct imsg_hdr		 hdr;
	struct model		 m;
	size_t			 off, n, hlen, k, nmarks;
	int			 sv[2], fds, old, alive, r, i, withfd;

	if (size < 2)
		return 0;
	fds = open_fds();
	rng = 0x6b8b4567u ^ data[1] ^ (uint32_t)size << 8;
	old = (data[0] & 8) != 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		abort();
	if (imsgbuf_init(&ib, sv[0]) == -1 || imsgbuf_init(&out, nullfd) == -1)
		abort();
	memset(&m, 0, sizeof(m));
	m.maxsize = MAX_IMSGSIZE;
	if (data[0] & 1) {
		imsgbuf_allow_fdpass(&ib);
		m.fdpass = 1;
	}
	if (maxes[(data[0] >> 1) & 3] != 0) {
		if (imsgbuf_set_maxsize(&ib, maxes[(data[0] >> 1) & 3]) == -1)
			abort();
		m.maxsize = maxes[(data[0] >> 1) & 3] + IMSG_HEADER_SIZE;
	}
	data += 2;
	size -= 2;
	m.p = data;
	m.left = size;

	/* where the marked messages start, as the stream frames them */
	nmarks = 0;
	for (off = 0; size - off >= IMSG_HEADER_SIZE && nmarks < MAXMARKS;
	    off += hlen) {
		memcpy(&hdr, data + off, sizeof(hdr));
		hlen = hdr.len & ~IMSG_FD_MARK;
		if (hlen < IMSG_HEADER_SIZE || hlen > size - off)
			break;
		if (hdr.len & IMSG_FD_MARK)
			marks[nmarks++] = off;
	}

	alive = 1;
	k = 0;
	for (off = 0; off < size && alive; off += n) {
		n = rnd() % 4 == 0 ? 1 + rnd() % 8 : 1 + rnd() % 1024;
		if (n > size - off)
			n = size - off;
		/*
		 * A marked message's fd goes with its first byte, as
		 * imsg_close() sends it; now and then it is missing, or an
		 * fd comes along that no message claims.
		 */
		while (k < nmarks && marks[k] < off)
			k++;
		withfd = rnd() % 16 == 0;
		if (k < nmarks && marks[k] == off)
			withfd = rnd() % 8 != 0;
		else if (k < nmarks && marks[k] < off + n && rnd() % 8 != 0)
			n = marks[k] - off;
		for (i = 0; !send_piece(sv[1], data + off, n, withfd); i++) {
			/* full: let the reader take some first */
			if (i > 64 || (r = imsgbuf_read(&ib)) == -1)
				abort();
			if (!drain(&ib, &m, old, &out)) {
				alive = 0;
				break;
			}
		}
		if (!alive)
			break;
		if (imsgbuf_read(&ib) == -1)
			abort();
		alive = drain(&ib, &m, old, &out);
	}
	shutdown(sv[1], SHUT_WR);
	for (i = 0; alive && i < 1024; i++) {
		if ((r = imsgbuf_read(&ib)) == -1)
			abort();
		alive = drain(&ib, &m, old, &out);
		if (r == 0)
			break;
	}
	imsgbuf_clear(&ib);
	imsgbuf_clear(&out);
	close(sv[0]);
	close(sv[1]);
	if (open_fds() != fds)
		abort();	/* an fd that came along was not closed */
	return 0;
}
