/*
 * The edge client against a fake lurkd in a thread: answers matched by id
 * when they come in reverse order, a connection closed under a request
 * (lurkd restarted) retried once, a silent server timing out on time,
 * error statuses, an absent server, and a forked child making its own
 * connection.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lurk.h"
#include "provider/client.h"
#include "regress/test.h"

enum mode { ECHO, REVERSE, DROP_FIRST, SILENT, STATUS };

#define MAXCONN	8
#define NREV	4

static struct {
	int		 lfd;
	volatile int	 mode;
	volatile int	 stop;
	volatile int	 accepts;
	volatile int	 requests;
	int		 conns[MAXCONN];
	int		 nconns;
	uint8_t		 held[NREV][LURK_HDR_LEN + 64];
	size_t		 heldlen[NREV];
	int		 heldfd[NREV];
	int		 nheld;
} srv;

static int
readn(int fd, uint8_t *b, size_t n)
{
	ssize_t	 r;
	size_t	 off = 0;

	while (off < n) {
		if ((r = read(fd, b + off, n - off)) <= 0)
			return -1;
		off += r;
	}
	return 0;
}

static void
answer(int fd, uint8_t *msg, size_t len, uint8_t status)
{
	struct lurk_hdr	 h;
	static const uint8_t state[4] = { 1, 2, 3, 4 };

	lurk_hdr_decode(msg, &h);
	h.status = status;
	if (status != LURK_ST_SUCCESS) {
		memcpy(msg + LURK_HDR_LEN, state, 4);
		len = LURK_HDR_LEN + 4;
	}
	h.length = len - LURK_HDR_LEN;
	lurk_hdr_encode(&h, msg);
	if (write(fd, msg, len) != (ssize_t)len)
		perror("fake lurkd: write");
}

static void
drop(int i)
{
	close(srv.conns[i]);
	srv.conns[i] = srv.conns[--srv.nconns];
}

static void *
server(void *arg)
{
	struct pollfd	 pfd[MAXCONN + 1];
	struct lurk_hdr	 h;
	uint8_t		 msg[LURK_HDR_LEN + 64];
	size_t		 len;
	int		 i, fd, n;

	while (!srv.stop) {
		pfd[0].fd = srv.lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < srv.nconns; i++) {
			pfd[i + 1].fd = srv.conns[i];
			pfd[i + 1].events = POLLIN;
		}
		n = srv.nconns;
		if (poll(pfd, n + 1, 20) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && srv.nconns < MAXCONN &&
		    (fd = accept(srv.lfd, NULL, NULL)) != -1) {
			srv.conns[srv.nconns++] = fd;
			srv.accepts++;
		}
		for (i = n - 1; i >= 0; i--) {
			if (pfd[i + 1].revents == 0)
				continue;
			fd = srv.conns[i];
			if (readn(fd, msg, LURK_HDR_LEN) == -1) {
				drop(i);
				continue;
			}
			lurk_hdr_decode(msg, &h);
			if (h.length > 64 ||
			    readn(fd, msg + LURK_HDR_LEN, h.length) == -1) {
				drop(i);
				continue;
			}
			len = LURK_HDR_LEN + h.length;
			srv.requests++;
			switch (srv.mode) {
			case ECHO:
				answer(fd, msg, len, LURK_ST_SUCCESS);
				break;
			case STATUS:
				answer(fd, msg, len, EDGE_ST_UNAUTHORIZED);
				break;
			case SILENT:
				break;
			case DROP_FIRST:
				if (srv.requests == 1)
					drop(i);
				else
					answer(fd, msg, len, LURK_ST_SUCCESS);
				break;
			case REVERSE:
				memcpy(srv.held[srv.nheld], msg, len);
				srv.heldlen[srv.nheld] = len;
				srv.heldfd[srv.nheld++] = fd;
				if (srv.nheld < NREV)
					break;
				while (srv.nheld > 0) {
					srv.nheld--;
					answer(srv.heldfd[srv.nheld],
					    srv.held[srv.nheld],
					    srv.heldlen[srv.nheld],
					    LURK_ST_SUCCESS);
				}
				break;
			}
		}
	}
	while (srv.nconns > 0)
		drop(0);
	return NULL;
}

static char	 path[108];

/* one request whose payload is its own tag; 1 if the echo is ours */
static int
echo(int timeout, uint32_t tag, struct lc_error *e)
{
	struct lc_conn	*c = lc_conn_get(path);
	uint8_t		 req[4], *resp;
	size_t		 resplen;
	int		 r, ok;

	req[0] = tag >> 24;
	req[1] = tag >> 16;
	req[2] = tag >> 8;
	req[3] = tag;
	r = lc_request(c, timeout, EDGE_TYPE_KEY_INFO, req, 4, &resp, &resplen,
	    e);
	if (r != LC_OK)
		return 0;
	ok = resplen == 4 && memcmp(resp, req, 4) == 0;
	lc_free_response(resp, resplen);
	return ok;
}

static int	 rev_ok[NREV];

static void *
rev_thread(void *arg)
{
	struct lc_error	 e;
	int		 i = (int)(intptr_t)arg;

	rev_ok[i] = echo(3000, 0x1000 + i, &e);
	return NULL;
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(void)
{
	struct sockaddr_un	 sun;
	struct lc_error		 e;
	struct lc_conn		*c;
	pthread_t		 st, t[NREV];
	char			 dir[] = "/tmp/lurk-client-test.XXXXXX";
	char			 longpath[200];
	uint8_t			*resp;
	size_t			 resplen;
	int64_t			 t0, dt;
	pid_t			 pid;
	int			 i, all, status, r;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/lurk.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((srv.lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(srv.lfd, 8) == -1) {
		perror("fake lurkd");
		return 1;
	}

	c = lc_conn_get(path);
	{
		struct pollfd	 p = { srv.lfd, POLLIN, 0 };

		CHECK(c != NULL && poll(&p, 1, 50) == 0,
		    "nothing connects before the first request");
	}
	r = lc_request(c, 300, EDGE_TYPE_KEY_INFO, NULL, 0, &resp, &resplen,
	    &e);
	CHECK(r == LC_ETIMEOUT,
	    "nobody answers (listen backlog only): times out");

	srv.mode = ECHO;
	pthread_create(&st, NULL, server, NULL);
	/* the timed-out request's answer arrives late and is dropped */
	CHECK(echo(2000, 1, &e), "echo: answer matched to its request");
	CHECK(srv.accepts == 1, "one connection");

	srv.mode = REVERSE;
	for (i = 0; i < NREV; i++)
		pthread_create(&t[i], NULL, rev_thread, (void *)(intptr_t)i);
	all = 1;
	for (i = 0; i < NREV; i++) {
		pthread_join(t[i], NULL);
		all &= rev_ok[i];
	}
	CHECK(all, "4 threads, answers in reverse order: each gets its own");
	CHECK(srv.accepts == 1, "... over the one connection");

	srv.mode = DROP_FIRST;
	srv.requests = 0;
	CHECK(echo(2000, 2, &e),
	    "connection closed under a request: reconnected and resent");
	CHECK(srv.accepts == 2, "... on a second connection");

	srv.mode = STATUS;
	r = lc_request(lc_conn_get(path), 2000, EDGE_TYPE_KEY_INFO,
	    (const uint8_t *)"x", 1, &resp, &resplen, &e);
	CHECK(r == LC_ESTATUS && e.status == EDGE_ST_UNAUTHORIZED &&
	    strstr(e.msg, "unauthorized") != NULL,
	    "error status: LC_ESTATUS, status and its name");

	srv.mode = SILENT;
	t0 = now_ms();
	r = lc_request(lc_conn_get(path), 300, EDGE_TYPE_KEY_INFO,
	    (const uint8_t *)"x", 1, &resp, &resplen, &e);
	dt = now_ms() - t0;
	CHECK(r == LC_ETIMEOUT, "silent server: LC_ETIMEOUT");
	CHECK(dt >= 290 && dt < 800, "... after the 300 ms timeout");

	srv.mode = ECHO;
	CHECK(echo(2000, 3, &e), "the connection still works afterwards");

	/* a child never uses its parent's connection */
	srv.accepts = 0;
	if ((pid = fork()) == 0)
		_exit(echo(2000, 4, &e) ? 0 : 1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "forked child: its request answered");
	CHECK(srv.accepts == 1, "... on a connection of its own");
	CHECK(echo(2000, 5, &e) && srv.accepts == 1,
	    "parent: still on its own connection");

	srv.stop = 1;
	pthread_join(st, NULL);
	close(srv.lfd);
	unlink(path);
	rmdir(dir);

	r = lc_request(lc_conn_get(path), 1000, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	CHECK(r == LC_ECONNECT,
	    "server gone: connection lost, the reconnection fails");
	r = lc_request(lc_conn_get(path), 1000, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	CHECK(r == LC_ECONNECT && e.sys_errno == ENOENT,
	    "no socket: LC_ECONNECT, ENOENT");
	snprintf(longpath, sizeof(longpath), "/%0*d", 120, 0);
	r = lc_request(lc_conn_get(longpath), 1000, EDGE_TYPE_KEY_INFO, NULL,
	    0, &resp, &resplen, &e);
	CHECK(r == LC_EINVAL, "socket path too long: LC_EINVAL");
	TEST_EXIT();
}
