/*
 * imsg: framed messages between the privilege-separated processes of
 * lurkd, with optional file descriptor passing, plus the ibuf byte
 * buffers they are built from.  This is our own implementation of the
 * interface OpenBSD ships in libutil; the function names and their
 * contracts follow it so that code written against imsg_init(3) and
 * ibuf_add(3) reads the same here.  Where lurkd is stricter or simply
 * different, on purpose:
 *
 *  - imsgbuf_get() refuses (EBADMSG) a message marked as carrying an fd
 *    when none came with it, and an fd that no marked message claims.
 *  - Composing with an fd on a channel without imsgbuf_allow_fdpass()
 *    is EINVAL; imsg_close() there closes the fd but keeps the mark, so
 *    the peer refuses the message rather than missing the fd unawares.
 *  - imsg_get_data(), imsg_get_ibuf() and imsg_get_strbuf() do not
 *    consume the payload; imsg_get_len() is always its full length.
 *  - imsg_get_strbuf() takes a payload that is one NUL-terminated
 *    string; ibuf_get_strbuf() reads a fixed-width field, as upstream.
 *  - imsgbuf_flush() sleeps in poll(2) while a nonblocking socket is
 *    full.  Received fds are close-on-exec.  With fd passing, sends use
 *    MSG_NOSIGNAL: a dead peer is EPIPE, never SIGPIPE.
 *  - Views (ibuf_from_buffer(), ibuf_get_ibuf()) are read-only: EPERM.
 *
 * The wire format is host byte order and meant for a socketpair(2) or
 * pipe(2) between processes of the same build, never for the network.
 */
#ifndef LURKD_IMSG_H
#define LURKD_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define IBUF_READ_SIZE		65535
#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
/* default limit on a message, header included */
#define MAX_IMSGSIZE		16384

/*
 * A byte buffer: data lives in buf[rpos..wpos).  Writers append at wpos
 * (growing the allocation up to max), readers consume from rpos.  Views
 * made by ibuf_from_buffer() and ibuf_get_ibuf() borrow someone else's
 * memory: they cannot grow, be written to or be freed.
 */
struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	unsigned char		*buf;
	size_t			 size;		/* bytes allocated */
	size_t			 max;		/* size may grow to this */
	size_t			 wpos;
	size_t			 rpos;
	int			 fd;		/* travels along */
};

struct msgbuf;		/* a write queue of ibufs; opaque */
struct imsg_rfd;	/* a received fd waiting for its message */

/* host byte order; len counts the header and may carry IMSG_FD_MARK */
struct imsg_hdr {
	uint32_t		 type;
	uint32_t		 len;
	uint32_t		 peerid;
	uint32_t		 pid;
};
#define IMSG_FD_MARK		0x80000000U	/* an fd rides along */

#define IMSGF_FDPASS		0x01		/* fd passing allowed */

struct imsgbuf {
	struct msgbuf		*w;		/* composed, unwritten */
	unsigned char		*rbuf;		/* received bytes */
	size_t			 rsize;		/* allocated */
	size_t			 roff;		/* [roff, rlen) unparsed */
	size_t			 rlen;
	uint64_t		 rstream;	/* offset of rbuf[roff] */
	struct imsg_rfd		*rfds;		/* received fds, in order */
	size_t			 nrfds;
	size_t			 rfdsize;
	uint32_t		 maxsize;	/* header included */
	pid_t			 pid;		/* ours, cached */
	int			 fd;
	int			 flags;
};

struct imsg {
	struct imsg_hdr		 hdr;		/* len without the mark */
	void			*data;		/* payload, NULL if empty */
	struct ibuf		*buf;		/* owns payload and fd */
};

/* imsg-buffer.c: byte buffers */
struct ibuf	*ibuf_open(size_t);
struct ibuf	*ibuf_dynamic(size_t, size_t);
int		 ibuf_add(struct ibuf *, const void *, size_t);
int		 ibuf_add_ibuf(struct ibuf *, const struct ibuf *);
int		 ibuf_add_zero(struct ibuf *, size_t);
int		 ibuf_add_n8(struct ibuf *, uint64_t);
int		 ibuf_add_n16(struct ibuf *, uint64_t);
int		 ibuf_add_n32(struct ibuf *, uint64_t);
int		 ibuf_add_n64(struct ibuf *, uint64_t);
int		 ibuf_add_h16(struct ibuf *, uint64_t);
int		 ibuf_add_h32(struct ibuf *, uint64_t);
int		 ibuf_add_h64(struct ibuf *, uint64_t);
void		*ibuf_reserve(struct ibuf *, size_t);
void		*ibuf_seek(struct ibuf *, size_t, size_t);
int		 ibuf_set(struct ibuf *, size_t, const void *, size_t);
int		 ibuf_set_n8(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_n16(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_n32(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_n64(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_h16(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_h32(struct ibuf *, size_t, uint64_t);
int		 ibuf_set_h64(struct ibuf *, size_t, uint64_t);
void		*ibuf_data(const struct ibuf *);
size_t		 ibuf_size(const struct ibuf *);
size_t		 ibuf_left(const struct ibuf *);
int		 ibuf_truncate(struct ibuf *, size_t);
void		 ibuf_rewind(struct ibuf *);
void		 ibuf_from_buffer(struct ibuf *, void *, size_t);
int		 ibuf_get(struct ibuf *, void *, size_t);
int		 ibuf_get_ibuf(struct ibuf *, size_t, struct ibuf *);
int		 ibuf_get_n8(struct ibuf *, uint8_t *);
int		 ibuf_get_n16(struct ibuf *, uint16_t *);
int		 ibuf_get_n32(struct ibuf *, uint32_t *);
int		 ibuf_get_n64(struct ibuf *, uint64_t *);
int		 ibuf_get_h16(struct ibuf *, uint16_t *);
int		 ibuf_get_h32(struct ibuf *, uint32_t *);
int		 ibuf_get_h64(struct ibuf *, uint64_t *);
char		*ibuf_get_string(struct ibuf *, size_t);
int		 ibuf_get_strbuf(struct ibuf *, char *, size_t);
int		 ibuf_skip(struct ibuf *, size_t);
void		 ibuf_free(struct ibuf *);
int		 ibuf_fd_avail(const struct ibuf *);
int		 ibuf_fd_get(struct ibuf *);
void		 ibuf_fd_set(struct ibuf *, int);

/* imsg-buffer.c: write queues */
struct msgbuf	*msgbuf_new(void);
void		 msgbuf_free(struct msgbuf *);
void		 msgbuf_clear(struct msgbuf *);
uint32_t	 msgbuf_queuelen(const struct msgbuf *);
void		 ibuf_close(struct msgbuf *, struct ibuf *);
int		 ibuf_write(int, struct msgbuf *);
int		 msgbuf_write(int, struct msgbuf *);

/* imsg.c: channels */
int		 imsgbuf_init(struct imsgbuf *, int);
void		 imsgbuf_allow_fdpass(struct imsgbuf *);
int		 imsgbuf_set_maxsize(struct imsgbuf *, uint32_t);
int		 imsgbuf_read(struct imsgbuf *);
int		 imsgbuf_write(struct imsgbuf *);
int		 imsgbuf_flush(struct imsgbuf *);
void		 imsgbuf_clear(struct imsgbuf *);
uint32_t	 imsgbuf_queuelen(struct imsgbuf *);
int		 imsgbuf_get(struct imsgbuf *, struct imsg *);
ssize_t		 imsg_get(struct imsgbuf *, struct imsg *);

/* imsg.c: received messages */
uint32_t	 imsg_get_type(struct imsg *);
uint32_t	 imsg_get_id(struct imsg *);
pid_t		 imsg_get_pid(struct imsg *);
size_t		 imsg_get_len(struct imsg *);
int		 imsg_get_data(struct imsg *, void *, size_t);
int		 imsg_get_ibuf(struct imsg *, struct ibuf *);
int		 imsg_get_fd(struct imsg *);
int		 imsg_get_strbuf(struct imsg *, char *, size_t);
int		 imsg_forward(struct imsgbuf *, struct imsg *);
void		 imsg_free(struct imsg *);

/* imsg.c: composing */
int		 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    int, const void *, size_t);
int		 imsg_composev(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    int, const struct iovec *, int);
struct ibuf	*imsg_create(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    size_t);
int		 imsg_add(struct ibuf *, const void *, size_t);
void		 imsg_close(struct imsgbuf *, struct ibuf *);

#endif /* LURKD_IMSG_H */
