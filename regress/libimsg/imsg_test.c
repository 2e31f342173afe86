/*
 * Unit tests for libimsg: framing, limits, fd passing and ibuf parsing,
 * over real socketpairs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "regress/test.h"

#define MAXPAYLOAD	(MAX_IMSGSIZE - IMSG_HEADER_SIZE)

/* Two ends of a socketpair: a writes, b reads (and the other way). */
struct chan {
	int		 sv[2];
	struct imsgbuf	 a, b;
};

static void	die(const char *) __attribute__((__noreturn__));

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static void
chan_open(struct chan *c, int fdpass)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->sv) == -1)
		die("socketpair");
	if (imsgbuf_init(&c->a, c->sv[0]) == -1 ||
	    imsgbuf_init(&c->b, c->sv[1]) == -1)
		die("imsgbuf_init");
	if (fdpass) {
		imsgbuf_allow_fdpass(&c->a);
		imsgbuf_allow_fdpass(&c->b);
	}
}

static void
chan_close(struct chan *c)
{
	imsgbuf_clear(&c->a);
	imsgbuf_clear(&c->b);
	if (c->sv[0] != -1)
		close(c->sv[0]);
	if (c->sv[1] != -1)
		close(c->sv[1]);
}

/*
 * Shuttle bytes from w (may be NULL) to r until r yields a message.
 * Returns what imsgbuf_get() returned, 0 at EOF, -1 on error.
 */
static int
xfer(struct imsgbuf *w, struct imsgbuf *r, struct imsg *m)
{
	int	 i, n;

	for (i = 0; i < 100000; i++) {
		if ((n = imsgbuf_get(r, m)) != 0)
			return n;
		if (w != NULL && imsgbuf_write(w) == -1)
			return -1;
		if ((n = imsgbuf_read(r)) != 1)
			return n;
	}
	errno = ETIMEDOUT;
	return -1;
}

/* Bytes in one sendmsg(2), with nfds fds in one SCM_RIGHTS. */
static void
raw_sendv(int s, struct iovec *iov, int niov, const int *fds, int nfds)
{
	struct msghdr	 msg;
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 len = 0;
	int		 i;

	for (i = 0; i < niov; i++)
		len += iov[i].iov_len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	if (nfds > 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	if (sendmsg(s, &msg, 0) != len)
		die("sendmsg");
}

/* Header and payload in one sendmsg(2), with an fd if passfd != -1. */
static void
raw_send(int s, uint32_t type, uint32_t len, const void *payload,
    size_t plen, int passfd)
{
	struct imsg_hdr	 hdr;
	struct iovec	 iov[2];

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = plen;
	raw_sendv(s, iov, plen > 0 ? 2 : 1, &passfd, passfd != -1);
}

static int
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int
count_fds(void)
{
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		die("opendir");
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* True if a byte written to wfd comes out of the pipe's read end rfd. */
static int
pipe_works(int wfd, int rfd, char c)
{
	char	 got = 0;

	return write(wfd, &c, 1) == 1 && read(rfd, &got, 1) == 1 && got == c;
}

static unsigned char
pattern(size_t seq, size_t i)
{
	return (seq * 131 + i * 7 + 1) & 0xff;
}

static void
fill(unsigned char *p, size_t len, size_t seq)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = pattern(seq, i);
}

static int
check_fill(const void *data, size_t len, size_t seq)
{
	const unsigned char *p = data;
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(seq, i))
			return 0;
	return 1;
}

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 2, 100, 4096, MAXPAYLOAD };
	static unsigned char buf[MAXPAYLOAD + 1];
	struct chan	 c;
	struct imsg	 m;
	size_t		 i, n = sizeof(sizes) / sizeof(sizes[0]);
	int		 hdr_ok = 1, data_ok = 1, got = 0;
	pid_t		 pid;

	chan_open(&c, 0);
	for (i = 0; i < n; i++) {
		fill(buf, sizes[i], i);
		pid = i % 2 ? (pid_t)(4242 + i) : 0;
		if (imsg_compose(&c.a, 1000 + i, 3 * i + 1, pid, -1, buf,
		    sizes[i]) != 1)
			hdr_ok = 0;
	}
	CHECK(hdr_ok, "roundtrip: compose payloads of 0 to maxsize bytes");
	CHECK(imsgbuf_queuelen(&c.a) == n, "roundtrip: queuelen counts them");
	for (i = 0; i < n; i++) {
		if (xfer(&c.a, &c.b, &m) != 1)
			break;
		got++;
		pid = i % 2 ? (pid_t)(4242 + i) : getpid();
		if (imsg_get_type(&m) != 1000 + i ||
		    imsg_get_id(&m) != 3 * i + 1 || imsg_get_pid(&m) != pid ||
		    m.hdr.len != IMSG_HEADER_SIZE + sizes[i])
			hdr_ok = 0;
		if (imsg_get_len(&m) != sizes[i] ||
		    (sizes[i] == 0 && m.data != NULL) ||
		    (sizes[i] > 0 && !check_fill(m.data, sizes[i], i)) ||
		    imsg_get_fd(&m) != -1)
			data_ok = 0;
		imsg_free(&m);
	}
	CHECK(got == (int)n, "roundtrip: every message arrives");
	CHECK(hdr_ok, "roundtrip: type, id, pid (0 = ours) and length kept");
	CHECK(data_ok, "roundtrip: payloads intact, no fd");
	CHECK(imsgbuf_get(&c.b, &m) == 0, "roundtrip: nothing more to get");
	CHECK(imsgbuf_queuelen(&c.a) == 0, "roundtrip: queue drained");

	errno = 0;
	CHECK(imsg_compose(&c.a, 1, 0, 0, -1, buf, MAXPAYLOAD + 1) == -1 &&
	    errno == ERANGE, "compose: one byte over maxsize is ERANGE");
	CHECK(imsgbuf_queuelen(&c.a) == 0, "compose: failure queues nothing");

	/* the older interface reports the full length, so empty is not 0 */
	imsg_compose(&c.a, 5, 0, 0, -1, NULL, 0);
	imsgbuf_flush(&c.a);
	imsgbuf_read(&c.b);
	CHECK(imsg_get(&c.b, &m) == (ssize_t)IMSG_HEADER_SIZE,
	    "imsg_get: an empty message returns the header size");
	imsg_free(&m);
	chan_close(&c);
}

static void
test_get_data(void)
{
	struct chan	 c;
	struct imsg	 m;
	uint64_t	 v = 0x1122334455667788ULL, out = 0;
	uint32_t	 small;
	unsigned char	 big[16];

	chan_open(&c, 0);
	imsg_compose(&c.a, 1, 0, 0, -1, &v, sizeof(v));
	if (xfer(&c.a, &c.b, &m) != 1)
		die("xfer");
	errno = 0;
	CHECK(imsg_get_data(&m, &small, sizeof(small)) == -1 &&
	    errno == EBADMSG, "get_data: shorter than the payload is EBADMSG");
	errno = 0;
	CHECK(imsg_get_data(&m, big, sizeof(big)) == -1 && errno == EBADMSG,
	    "get_data: longer than the payload is EBADMSG");
	errno = 0;
	CHECK(imsg_get_data(&m, big, 0) == -1 && errno == EINVAL,
	    "get_data: length 0 is EINVAL");
	CHECK(imsg_get_data(&m, &out, sizeof(out)) == 0 && out == v,
	    "get_data: exact size copies the payload");
	CHECK(imsg_get_len(&m) == sizeof(v) &&
	    imsg_get_data(&m, &out, sizeof(out)) == 0,
	    "get_data: accessors do not consume the payload");
	imsg_free(&m);
	chan_close(&c);
}

static void
test_get_strbuf(void)
{
	struct chan	 c;
	struct imsg	 m;
	char		 s[16], tiny[4];

	chan_open(&c, 0);
	imsg_compose(&c.a, 1, 0, 0, -1, "hello", 6);
	imsg_compose(&c.a, 2, 0, 0, -1, "abc", 3);
	if (xfer(&c.a, &c.b, &m) != 1)
		die("xfer");
	CHECK(imsg_get_strbuf(&m, s, sizeof(s)) == 0 && strcmp(s, "hello") == 0,
	    "get_strbuf: a terminated string that fits is copied");
	errno = 0;
	CHECK(imsg_get_strbuf(&m, tiny, sizeof(tiny)) == -1 &&
	    errno == EOVERFLOW, "get_strbuf: too long is EOVERFLOW");
	imsg_free(&m);
	if (xfer(&c.a, &c.b, &m) != 1)
		die("xfer");
	errno = 0;
	CHECK(imsg_get_strbuf(&m, s, sizeof(s)) == -1 && errno == EBADMSG,
	    "get_strbuf: unterminated is EBADMSG");
	imsg_free(&m);
	chan_close(&c);
}

static void
test_fdpass(void)
{
	struct chan	 c;
	struct imsg	 m;
	int		 p[2], fd, ok;
	char		 buf[8] = "";

	chan_open(&c, 1);
	if (pipe(p) == -1)
		die("pipe");
	CHECK(imsg_compose(&c.a, 1, 0, 0, p[1], "x", 1) == 1,
	    "fdpass: compose with an fd");
	CHECK(imsgbuf_flush(&c.a) == 0, "fdpass: flush");
	CHECK(!fd_is_open(p[1]), "fdpass: sender's copy closed once sent");
	if (xfer(NULL, &c.b, &m) != 1)
		die("xfer");
	fd = imsg_get_fd(&m);
	CHECK(fd >= 0, "fdpass: the message carries an fd");
	CHECK(imsg_get_fd(&m) == -1, "fdpass: a second get_fd gives -1");
	CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "fdpass: received fd is close-on-exec");
	ok = fd >= 0 && write(fd, "hello", 5) == 5 &&
	    read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0;
	CHECK(ok, "fdpass: writing through the received fd reaches the pipe");
	if (fd >= 0)
		close(fd);
	close(p[0]);
	imsg_free(&m);
	chan_close(&c);
}

/* Several fds queued back to back each land on their own message. */
static void
test_fdpass_batch(void)
{
	struct chan	 c;
	struct imsg	 m;
	int		 p[3][2], i, k = 0, fd, map_ok = 1, got = 0;
	/* which pipe each of six messages carries, -1 for none */
	static const int carries[6] = { -1, 0, -1, 1, 2, -1 };

	chan_open(&c, 1);
	for (i = 0; i < 3; i++)
		if (pipe(p[i]) == -1)
			die("pipe");
	for (i = 0; i < 6; i++)
		imsg_compose(&c.a, 10 + i, i, 0,
		    carries[i] == -1 ? -1 : p[carries[i]][1], &i, sizeof(i));
	CHECK(imsgbuf_flush(&c.a) == 0, "fdpass batch: flush six messages");
	for (i = 0; i < 6; i++) {
		if (xfer(NULL, &c.b, &m) != 1)
			break;
		got++;
		fd = imsg_get_fd(&m);
		if (imsg_get_type(&m) != (uint32_t)(10 + i))
			map_ok = 0;
		else if (carries[i] == -1)
			map_ok &= fd == -1;
		else {
			map_ok &= fd >= 0 &&
			    pipe_works(fd, p[carries[i]][0], 'a' + i);
			k++;
		}
		if (fd >= 0)
			close(fd);
		imsg_free(&m);
	}
	CHECK(got == 6 && k == 3, "fdpass batch: all six arrive, three fds");
	CHECK(map_ok, "fdpass batch: each fd arrives with its own message");
	CHECK(imsgbuf_get(&c.b, &m) == 0, "fdpass batch: no stray fd left");
	for (i = 0; i < 3; i++)
		close(p[i][0]);
	chan_close(&c);
}

static void
test_fdpass_refused(void)
{
	struct chan	 c;
	struct imsg	 m;
	struct ibuf	*wb;
	int		 p[2];

	chan_open(&c, 0);
	if (pipe(p) == -1)
		die("pipe");
	errno = 0;
	CHECK(imsg_compose(&c.a, 1, 0, 0, p[0], NULL, 0) == -1 &&
	    errno == EINVAL, "no fdpass: compose with an fd is EINVAL");
	CHECK(fd_is_open(p[0]) && imsgbuf_queuelen(&c.a) == 0,
	    "no fdpass: the fd stays the caller's, nothing queued");

	/* an fd smuggled onto a message by hand is closed, mark kept */
	if ((wb = imsg_create(&c.a, 2, 0, 0, 0)) == NULL)
		die("imsg_create");
	ibuf_fd_set(wb, p[0]);
	imsg_close(&c.a, wb);
	CHECK(!fd_is_open(p[0]), "no fdpass: imsg_close drops an fd");
	CHECK(imsgbuf_flush(&c.a) == 0 && imsgbuf_read(&c.b) == 1,
	    "no fdpass: the marked message is sent");
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == EBADMSG,
	    "no fdpass: a received fd mark is EBADMSG");
	close(p[1]);
	chan_close(&c);

	chan_open(&c, 0);
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE | IMSG_FD_MARK, NULL, 0, -1);
	imsgbuf_read(&c.b);
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == EBADMSG,
	    "no fdpass: a raw fd mark is EBADMSG");
	chan_close(&c);
}

static void
test_fd_mismatch(void)
{
	struct chan	 c;
	struct imsg	 m;
	struct imsg_hdr	 hdr;
	struct iovec	 iov[2];
	int		 p[2], before, fd;
	uint32_t	 v = 7;

	chan_open(&c, 1);
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE | IMSG_FD_MARK, NULL, 0, -1);
	CHECK(imsgbuf_read(&c.b) == 1, "fd mark without fd: read");
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == EBADMSG,
	    "fd mark without fd: EBADMSG");
	chan_close(&c);

	chan_open(&c, 1);
	if (pipe(p) == -1)
		die("pipe");
	before = count_fds();
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE + sizeof(v), &v, sizeof(v),
	    p[0]);
	CHECK(imsgbuf_read(&c.b) == 1 && count_fds() == before + 1,
	    "fd without mark: read receives the fd");
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == EBADMSG,
	    "fd without mark: EBADMSG");
	CHECK(count_fds() == before, "fd without mark: the stray fd is closed");
	chan_close(&c);

	/* an fd sent with the middle of a message belongs to none */
	chan_open(&c, 1);
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = 1;
	hdr.len = IMSG_HEADER_SIZE + sizeof(v);
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = &v;
	iov[1].iov_len = sizeof(v);
	raw_sendv(c.sv[0], &iov[0], 1, NULL, 0);
	/* read in between, or one recvmsg(2) takes both sends */
	imsgbuf_read(&c.b);
	raw_sendv(c.sv[0], &iov[1], 1, p, 1);
	imsgbuf_read(&c.b);
	CHECK(imsgbuf_get(&c.b, &m) == 1 && imsg_get_fd(&m) == -1,
	    "fd mid-message: the message itself is fine");
	imsg_free(&m);
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == EBADMSG &&
	    count_fds() == before, "fd mid-message: then EBADMSG, fd closed");
	chan_close(&c);

	/* two fds under one mark: keep the first, close the other */
	chan_open(&c, 1);
	hdr.len = (IMSG_HEADER_SIZE + sizeof(v)) | IMSG_FD_MARK;
	raw_sendv(c.sv[0], iov, 2, p, 2);
	imsgbuf_read(&c.b);
	CHECK(count_fds() == before + 1,
	    "two fds in one cmsg: the extra one is closed");
	fd = -1;
	CHECK(imsgbuf_get(&c.b, &m) == 1 && (fd = imsg_get_fd(&m)) >= 0 &&
	    pipe_works(p[1], fd, 'z'),
	    "two fds in one cmsg: the first one is kept");
	if (fd >= 0)
		close(fd);
	imsg_free(&m);
	chan_close(&c);
	close(p[0]);
	close(p[1]);
}

static void
test_many(int fdpass)
{
	struct chan	 c;
	struct imsg	 m;
	uint32_t	 i, seq, got = 0;
	int		 reads = 0, order_ok = 1, n;
	char		 what[80];

	chan_open(&c, fdpass);
	for (i = 0; i < 1000; i++)
		imsg_compose(&c.a, 1, i, 0, -1, &i, sizeof(i));
	snprintf(what, sizeof(what), "many%s: queuelen 1000 before writing",
	    fdpass ? " (fdpass)" : "");
	CHECK(imsgbuf_queuelen(&c.a) == 1000, what);
	snprintf(what, sizeof(what), "many%s: one write sends all 1000",
	    fdpass ? " (fdpass)" : "");
	CHECK(imsgbuf_write(&c.a) == 0 && imsgbuf_queuelen(&c.a) == 0, what);
	while (got < 1000 && reads < 100) {
		if (imsgbuf_read(&c.b) != 1)
			break;
		reads++;
		while ((n = imsgbuf_get(&c.b, &m)) == 1) {
			if (imsg_get_data(&m, &seq, sizeof(seq)) == -1 ||
			    seq != got || imsg_get_id(&m) != got)
				order_ok = 0;
			got++;
			imsg_free(&m);
		}
		if (n == -1)
			break;
	}
	snprintf(what, sizeof(what), "many%s: 1000 arrive in order",
	    fdpass ? " (fdpass)" : "");
	CHECK(got == 1000 && order_ok, what);
	snprintf(what, sizeof(what), "many%s: in at most 2 reads (took %d)",
	    fdpass ? " (fdpass)" : "", reads);
	CHECK(reads <= 2, what);
	chan_close(&c);
}

static size_t
msglen(uint32_t i)
{
	/* fd messages are larger than the socket buffer: always split */
	return i % 60 == 30 ? MAXPAYLOAD : (i * 37) % 3000 + 1;
}

/*
 * Fill a small socket buffer until writes stop making progress, then
 * drain it bit by bit; fds ride along on some of the messages.
 */

static void
test_partial(void)
{
	static unsigned char buf[MAXPAYLOAD];
	struct chan	 c;
	struct imsg	 m;
	const uint32_t	 total = 300;
	uint32_t	 i, got = 0;
	int		 p[5][2], sz = 4096, rounds, reads = 0, n, fd;
	int		 data_ok = 1, fd_ok = 1, stuck;

	chan_open(&c, 1);
	if (setsockopt(c.sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1 ||
	    setsockopt(c.sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) == -1)
		die("setsockopt");
	for (i = 0; i < 5; i++)
		if (pipe(p[i]) == -1)
			die("pipe");
	for (i = 0; i < total; i++) {
		size_t len = msglen(i);

		fill(buf, len, i);
		imsg_compose(&c.a, 2, i, 0, i % 60 == 30 ? p[i / 60][1] : -1,
		    buf, len);
	}
	imsgbuf_write(&c.a);
	stuck = imsgbuf_write(&c.a) == 0 && imsgbuf_queuelen(&c.a) > 0;
	CHECK(stuck, "partial: a full socket leaves messages queued, no error");

	for (rounds = 0; got < total && rounds < 100000; rounds++) {
		if (imsgbuf_write(&c.a) == -1 || imsgbuf_read(&c.b) != 1)
			break;
		reads++;
		while ((n = imsgbuf_get(&c.b, &m)) == 1) {
			size_t len = msglen(got);

			if (imsg_get_id(&m) != got || imsg_get_len(&m) != len ||
			    !check_fill(m.data, len, got))
				data_ok = 0;
			fd = imsg_get_fd(&m);
			if (got % 60 == 30)
				fd_ok &= fd >= 0 &&
				    pipe_works(fd, p[got / 60][0], 'p');
			else
				fd_ok &= fd == -1;
			if (fd >= 0)
				close(fd);
			imsg_free(&m);
			got++;
		}
		if (n == -1)
			break;
	}
	CHECK(got == total, "partial: every message arrives");
	CHECK(reads > 10, "partial: it took many reads");
	CHECK(data_ok, "partial: every message intact and in order");
	CHECK(fd_ok, "partial: fds arrive with the right messages");
	CHECK(imsgbuf_queuelen(&c.a) == 0, "partial: queue drained");
	for (i = 0; i < 5; i++)
		close(p[i][0]);
	chan_close(&c);
}

/* A reader that reads without getting does not lose or spin. */
static void
test_read_full(void)
{
	static unsigned char buf[MAXPAYLOAD];
	struct chan	 c;
	struct imsg	 m;
	int		 i, got = 0, ok = 1, n;

	chan_open(&c, 0);
	for (i = 0; i < 10; i++) {
		fill(buf, sizeof(buf), i);
		imsg_compose(&c.a, 3, i, 0, -1, buf, sizeof(buf));
	}
	for (i = 0; i < 200 && got < 10; i++) {
		imsgbuf_write(&c.a);
		if (imsgbuf_read(&c.b) != 1)
			break;
		if (i % 20 != 19)
			continue;	/* let reads pile up */
		while ((n = imsgbuf_get(&c.b, &m)) == 1) {
			if (imsg_get_id(&m) != (uint32_t)got ||
			    !check_fill(m.data, sizeof(buf), got))
				ok = 0;
			got++;
			imsg_free(&m);
		}
	}
	CHECK(got == 10 && ok, "read buffer full: nothing lost or garbled");
	chan_close(&c);
}

static void
test_truncated(void)
{
	struct chan	 c;
	struct imsg	 m;
	char		 junk[10];

	chan_open(&c, 1);
	memset(junk, 0x5a, sizeof(junk));
	if (write(c.sv[0], junk, sizeof(junk)) != sizeof(junk))
		die("write");
	close(c.sv[0]);
	c.sv[0] = -1;
	CHECK(imsgbuf_read(&c.b) == 1, "truncated header: read gets 10 bytes");
	CHECK(imsgbuf_get(&c.b, &m) == 0, "truncated header: get returns 0");
	CHECK(imsgbuf_read(&c.b) == 0, "truncated header: then EOF");
	CHECK(imsgbuf_get(&c.b, &m) == 0, "truncated header: still nothing");
	chan_close(&c);
}

static void
test_bad_len(void)
{
	struct chan	 c;
	struct imsg	 m;
	char		 pay[100];

	chan_open(&c, 0);
	raw_send(c.sv[0], 1, MAX_IMSGSIZE + 1, NULL, 0, -1);
	imsgbuf_read(&c.b);
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == ERANGE,
	    "bad len: over maxsize is ERANGE");
	chan_close(&c);

	chan_open(&c, 0);
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE - 8, NULL, 0, -1);
	imsgbuf_read(&c.b);
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == ERANGE,
	    "bad len: shorter than the header is ERANGE");
	chan_close(&c);

	/* a lowered limit is exact on the receiving side */
	chan_open(&c, 0);
	imsgbuf_set_maxsize(&c.b, sizeof(pay) - 1);
	memset(pay, 0, sizeof(pay));
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE + sizeof(pay), pay, sizeof(pay),
	    -1);
	imsgbuf_read(&c.b);
	errno = 0;
	CHECK(imsgbuf_get(&c.b, &m) == -1 && errno == ERANGE,
	    "bad len: one over a lowered limit is ERANGE");
	chan_close(&c);
	chan_open(&c, 0);
	imsgbuf_set_maxsize(&c.b, sizeof(pay));
	raw_send(c.sv[0], 1, IMSG_HEADER_SIZE + sizeof(pay), pay, sizeof(pay),
	    -1);
	imsgbuf_read(&c.b);
	CHECK(imsgbuf_get(&c.b, &m) == 1 && imsg_get_len(&m) == sizeof(pay),
	    "bad len: exactly the lowered limit is fine");
	imsg_free(&m);
	chan_close(&c);
}

static void
test_maxsize(void)
{
	static unsigned char buf[100 * 1024];
	struct chan	 c;
	struct imsg	 m;

	chan_open(&c, 0);
	fill(buf, sizeof(buf), 77);
	errno = 0;
	CHECK(imsg_compose(&c.a, 1, 0, 0, -1, buf, sizeof(buf)) == -1 &&
	    errno == ERANGE, "maxsize: default refuses 100 KiB with ERANGE");
	errno = 0;
	CHECK(imsgbuf_set_maxsize(&c.a, IMSG_FD_MARK - IMSG_HEADER_SIZE) ==
	    -1 && errno == ERANGE, "maxsize: up to the fd mark bit is ERANGE");
	CHECK(imsgbuf_set_maxsize(&c.a, IMSG_FD_MARK - IMSG_HEADER_SIZE - 1) ==
	    0, "maxsize: just below the fd mark bit is fine");
	CHECK(imsgbuf_set_maxsize(&c.a, sizeof(buf)) == 0 &&
	    imsgbuf_set_maxsize(&c.b, sizeof(buf)) == 0,
	    "maxsize: raise both ends to 100 KiB");
	CHECK(imsg_compose(&c.a, 1, 0, 0, -1, buf, sizeof(buf)) == 1,
	    "maxsize: 100 KiB composes");
	CHECK(xfer(&c.a, &c.b, &m) == 1 && imsg_get_len(&m) == sizeof(buf) &&
	    check_fill(m.data, sizeof(buf), 77),
	    "maxsize: 100 KiB arrives intact (larger than IBUF_READ_SIZE)");
	imsg_free(&m);
	chan_close(&c);

	/* the receiver keeps its own limit */
	chan_open(&c, 0);
	imsgbuf_set_maxsize(&c.a, sizeof(buf));
	imsg_compose(&c.a, 1, 0, 0, -1, buf, sizeof(buf));
	errno = 0;
	CHECK(xfer(&c.a, &c.b, &m) == -1 && errno == ERANGE,
	    "maxsize: a receiver at the default refuses it");
	chan_close(&c);
}

static void
test_create(void)
{
	struct chan	 c;
	struct imsg	 m;
	struct ibuf	*wb;
	unsigned char	 part[100], want[304];
	int		 i, ok = 1;

	chan_open(&c, 0);
	if ((wb = imsg_create(&c.a, 7, 8, 9, 4)) == NULL)
		die("imsg_create");
	CHECK(imsgbuf_queuelen(&c.a) == 0, "create: not queued before close");
	ok &= imsg_add(wb, "abcd", 4) == 4;
	memcpy(want, "abcd", 4);
	for (i = 0; i < 3; i++) {
		memset(part, 'A' + i, sizeof(part));
		memcpy(want + 4 + i * sizeof(part), part, sizeof(part));
		ok &= imsg_add(wb, part, sizeof(part)) == sizeof(part);
	}
	CHECK(ok, "create: adds grow the message past its initial size");
	imsg_close(&c.a, wb);
	CHECK(imsgbuf_queuelen(&c.a) == 1, "create: close queues it");
	CHECK(xfer(&c.a, &c.b, &m) == 1 && imsg_get_type(&m) == 7 &&
	    imsg_get_id(&m) == 8 && imsg_get_pid(&m) == 9 &&
	    imsg_get_len(&m) == sizeof(want) &&
	    memcmp(m.data, want, sizeof(want)) == 0,
	    "create: the built message arrives as built");
	imsg_free(&m);

	errno = 0;
	CHECK(imsg_create(&c.a, 1, 0, 0, MAXPAYLOAD + 1) == NULL &&
	    errno == ERANGE, "create: over maxsize is ERANGE");
	imsgbuf_set_maxsize(&c.a, 64);
	if ((wb = imsg_create(&c.a, 1, 0, 0, 0)) == NULL)
		die("imsg_create");
	errno = 0;
	/* the message is freed here: ASan and valgrind see a leak if not */
	CHECK(imsg_add(wb, part, sizeof(part)) == -1 && errno == ERANGE,
	    "create: adding past maxsize fails with ERANGE");
	CHECK(imsgbuf_queuelen(&c.a) == 0, "create: nothing queued after that");
	chan_close(&c);
}

static void
test_forward(void)
{
	struct chan	 c1, c2;
	struct imsg	 m, f;
	int		 p[2], fd;

	chan_open(&c1, 1);
	chan_open(&c2, 1);
	if (pipe(p) == -1)
		die("pipe");
	imsg_compose(&c1.a, 9, 5, 777, p[1], "fwd", 4);
	if (xfer(&c1.a, &c1.b, &m) != 1)
		die("xfer");
	CHECK(imsg_forward(&c2.a, &m) == 1, "forward: queued");
	CHECK(xfer(&c2.a, &c2.b, &f) == 1 && imsg_get_type(&f) == 9 &&
	    imsg_get_id(&f) == 5 && imsg_get_pid(&f) == 777 &&
	    imsg_get_len(&f) == 4 && strcmp(f.data, "fwd") == 0,
	    "forward: type, id, pid and payload carried over");
	CHECK(imsg_get_fd(&f) == -1, "forward: the fd is not forwarded");
	fd = imsg_get_fd(&m);
	CHECK(fd >= 0 && pipe_works(fd, p[0], 'f'),
	    "forward: the original keeps its fd");
	if (fd >= 0)
		close(fd);
	close(p[0]);
	imsg_free(&f);
	imsg_free(&m);
	chan_close(&c1);
	chan_close(&c2);
}

static void
test_ibuf_get(void)
{
	unsigned char	 raw[3] = { 1, 2, 3 };
	unsigned char	 txt[4] = { 'a', 'b', 'c', 'd' };
	unsigned char	 nul[4] = { 'a', 'b', 0, 0 };
	struct ibuf	 ib, sub;
	uint32_t	 v32;
	uint16_t	 v16;
	uint8_t		 v8;
	char		 s[4];

	ibuf_from_buffer(&ib, raw, sizeof(raw));
	errno = 0;
	CHECK(ibuf_get_n32(&ib, &v32) == -1 && errno == EBADMSG,
	    "ibuf: reading past the end is EBADMSG");
	CHECK(ibuf_size(&ib) == 3, "ibuf: a failed read consumes nothing");
	CHECK(ibuf_get_n16(&ib, &v16) == 0 && v16 == 0x0102,
	    "ibuf: get_n16 reads network order");
	errno = 0;
	CHECK(ibuf_get_n16(&ib, &v16) == -1 && errno == EBADMSG,
	    "ibuf: get_n16 with one byte left is EBADMSG");
	errno = 0;
	CHECK(ibuf_skip(&ib, 2) == -1 && errno == EBADMSG,
	    "ibuf: skip past the end is EBADMSG");
	errno = 0;
	CHECK(ibuf_get_string(&ib, 2) == NULL && errno == EBADMSG,
	    "ibuf: get_string past the end is EBADMSG");
	CHECK(ibuf_get_n8(&ib, &v8) == 0 && v8 == 3 && ibuf_size(&ib) == 0,
	    "ibuf: the last byte is still there");
	errno = 0;
	CHECK(ibuf_add(&ib, "x", 1) == -1 && errno == EPERM,
	    "ibuf: a view cannot be written to");

	ibuf_from_buffer(&ib, raw, sizeof(raw));
	CHECK(ibuf_get_ibuf(&ib, 2, &sub) == 0 && ibuf_size(&sub) == 2 &&
	    ibuf_size(&ib) == 1, "ibuf: get_ibuf splits off a view");
	errno = 0;
	CHECK(ibuf_get_ibuf(&ib, 2, &sub) == -1 && errno == EBADMSG,
	    "ibuf: get_ibuf past the end is EBADMSG");

	ibuf_from_buffer(&ib, nul, sizeof(nul));
	CHECK(ibuf_get_strbuf(&ib, s, sizeof(s)) == 0 && strcmp(s, "ab") == 0 &&
	    ibuf_size(&ib) == 0, "ibuf: get_strbuf reads a fixed-width field");
	ibuf_from_buffer(&ib, txt, sizeof(txt));
	errno = 0;
	CHECK(ibuf_get_strbuf(&ib, s, sizeof(s)) == -1 && errno == EOVERFLOW &&
	    strcmp(s, "abc") == 0, "ibuf: unterminated field is EOVERFLOW");
}

static void
test_ibuf_order(void)
{
	static const unsigned char want[15] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
	};
	struct ibuf	*b;
	uint64_t	 v64;
	uint32_t	 v32, h32 = 0x01020304;
	uint16_t	 v16;
	uint8_t		 v8;
	unsigned char	*p;
	int		 i, ok;

	if ((b = ibuf_open(sizeof(want))) == NULL)
		die("ibuf_open");
	ok = ibuf_add_n8(b, 0x01) == 0 && ibuf_add_n16(b, 0x0203) == 0 &&
	    ibuf_add_n32(b, 0x04050607) == 0 &&
	    ibuf_add_n64(b, 0x08090a0b0c0d0e0fULL) == 0;
	CHECK(ok && ibuf_size(b) == sizeof(want) &&
	    memcmp(ibuf_data(b), want, sizeof(want)) == 0,
	    "ibuf: add_n8/16/32/64 write big-endian");
	errno = 0;
	CHECK(ibuf_add_n8(b, 0) == -1 && errno == ERANGE && ibuf_left(b) == 0,
	    "ibuf: a fixed buffer does not grow");
	CHECK(ibuf_get_n8(b, &v8) == 0 && v8 == 0x01 &&
	    ibuf_get_n16(b, &v16) == 0 && v16 == 0x0203 &&
	    ibuf_get_n32(b, &v32) == 0 && v32 == 0x04050607 &&
	    ibuf_get_n64(b, &v64) == 0 && v64 == 0x08090a0b0c0d0e0fULL,
	    "ibuf: get_n8/16/32/64 read them back");
	ibuf_rewind(b);
	CHECK(ibuf_set_n16(b, 1, 0xbeef) == 0 &&
	    ((unsigned char *)ibuf_data(b))[1] == 0xbe &&
	    ((unsigned char *)ibuf_data(b))[2] == 0xef,
	    "ibuf: set_n16 overwrites in network order");
	errno = 0;
	CHECK(ibuf_seek(b, 14, 2) == NULL && errno == ERANGE,
	    "ibuf: seek past the end is ERANGE");
	ibuf_free(b);

	if ((b = ibuf_dynamic(1, 64)) == NULL)
		die("ibuf_dynamic");
	errno = 0;
	CHECK(ibuf_add_n8(b, 0x100) == -1 && errno == EINVAL &&
	    ibuf_add_n16(b, 0x10000) == -1 && ibuf_add_n32(b, 1ULL << 32) == -1,
	    "ibuf: values too wide for the field are EINVAL");
	CHECK(ibuf_add_h32(b, h32) == 0 &&
	    memcmp(ibuf_data(b), &h32, sizeof(h32)) == 0 &&
	    ibuf_get_h32(b, &v32) == 0 && v32 == h32,
	    "ibuf: add_h32/get_h32 keep host order");
	for (ok = 1, i = 4; i < 64; i++)
		ok &= ibuf_add_n8(b, i) == 0;
	errno = 0;
	CHECK(ok && ibuf_add_n8(b, 0) == -1 && errno == ERANGE,
	    "ibuf: a dynamic buffer grows up to its max and no further");
	ibuf_rewind(b);
	CHECK(ibuf_truncate(b, 8) == 0 && ibuf_size(b) == 8 &&
	    ibuf_truncate(b, 10) == 0 && ibuf_size(b) == 10 &&
	    (p = ibuf_seek(b, 8, 2)) != NULL && p[0] == 0 && p[1] == 0,
	    "ibuf: truncate cuts, then pads with zeroes");
	ibuf_free(b);
}

static void
test_clear(void)
{
	struct chan	 c;
	int		 p[2], q[2], before;

	chan_open(&c, 1);
	if (pipe(p) == -1 || pipe(q) == -1)
		die("pipe");
	imsg_compose(&c.a, 1, 0, 0, p[0], NULL, 0);
	imsg_compose(&c.a, 1, 0, 0, q[0], NULL, 0);
	CHECK(imsgbuf_queuelen(&c.a) == 2, "clear: two messages with fds");
	imsgbuf_write(&c.a);	/* sends the first only: fds travel alone */
	CHECK(imsgbuf_queuelen(&c.a) == 1 && !fd_is_open(p[0]),
	    "clear: one sendmsg per fd");
	imsgbuf_read(&c.b);
	before = count_fds();
	imsgbuf_clear(&c.a);
	CHECK(!fd_is_open(q[0]) && imsgbuf_queuelen(&c.a) == 0,
	    "clear: an unsent fd is closed");
	imsgbuf_clear(&c.b);
	CHECK(count_fds() == before - 2,
	    "clear: a received, unclaimed fd is closed");
	CHECK(fd_is_open(c.sv[0]) && fd_is_open(c.sv[1]),
	    "clear: the channel's own fd stays open");
	errno = 0;
	CHECK(imsg_compose(&c.a, 1, 0, 0, -1, NULL, 0) == -1,
	    "clear: composing needs imsgbuf_init again");
	close(p[1]);
	close(q[1]);
	chan_close(&c);
}

static void
test_eof_epipe(int fdpass)
{
	struct chan	 c;
	char		 what[64];

	chan_open(&c, fdpass);
	close(c.sv[1]);
	c.sv[1] = -1;
	snprintf(what, sizeof(what), "eof%s: read returns 0",
	    fdpass ? " (fdpass)" : "");
	CHECK(imsgbuf_read(&c.a) == 0, what);
	imsg_compose(&c.a, 1, 0, 0, -1, "x", 1);
	errno = 0;
	snprintf(what, sizeof(what), "eof%s: write is -1 EPIPE",
	    fdpass ? " (fdpass)" : "");
	CHECK(imsgbuf_write(&c.a) == -1 && errno == EPIPE, what);
	chan_close(&c);
}

/* flush on a full nonblocking socket waits for the reader, not spins. */
static void
test_flush_poll(void)
{
	static unsigned char buf[2000];
	struct imsgbuf	 w, r;
	struct imsg	 m;
	int		 sv[2], sz = 4096, status, got;
	uint32_t	 i;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
	switch ((pid = fork())) {
	case -1:
		die("fork");
	case 0:
		close(sv[0]);
		alarm(30);
		usleep(100 * 1000);
		if (imsgbuf_init(&r, sv[1]) == -1)
			_exit(2);
		for (got = 0; got < 200;) {
			if (imsgbuf_read(&r) != 1)
				_exit(3);
			while (imsgbuf_get(&r, &m) == 1) {
				if (imsg_get_id(&m) != (uint32_t)got++ ||
				    !check_fill(m.data, sizeof(buf), 5))
					_exit(4);
				imsg_free(&m);
			}
		}
		imsgbuf_clear(&r);
		close(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1)
		die("socket setup");
	imsgbuf_init(&w, sv[0]);
	fill(buf, sizeof(buf), 5);
	for (i = 0; i < 200; i++)
		imsg_compose(&w, 4, i, 0, -1, buf, sizeof(buf));
	CHECK(imsgbuf_flush(&w) == 0 && imsgbuf_queuelen(&w) == 0,
	    "flush: a nonblocking socket is drained completely");
	imsgbuf_clear(&w);
	close(sv[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "flush: the reader got all 200 intact");
}

int
main(void)
{
	int	 fds;

	signal(SIGPIPE, SIG_IGN);
	fds = count_fds();

	test_roundtrip();
	test_get_data();
	test_get_strbuf();
	test_fdpass();
	test_fdpass_batch();
	test_fdpass_refused();
	test_fd_mismatch();
	test_many(0);
	test_many(1);
	test_partial();
	test_read_full();
	test_truncated();
	test_bad_len();
	test_maxsize();
	test_create();
	test_forward();
	test_ibuf_get();
	test_ibuf_order();
	test_clear();
	test_eof_epipe(0);
	test_eof_epipe(1);
	test_flush_poll();

	CHECK(count_fds() == fds, "no fd leaked");
	TEST_EXIT();
}
