/*
 * The edge client against a fake lurkd in a thread: answers matched by id
 * when they come in reverse order, a connection closed under a request
 * sent again, a silent server timing out on time, error statuses, a
 * forked child making its own connection; restarts (socket missing, then
 * refusing, then back) within and beyond the timeout; both length
 * framings, found by the ping probe or configured.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lurk.h"
#include "provider/client.h"
#include "regress/test.h"
#include "regress/provider/fake.h"

enum mode { ECHO, REVERSE, DROP_FIRST, DROP_ALL, SILENT, STATUS,
    PING_TEMPFAIL };

#define MAXCONN	8
#define NREV	4

static struct {
	int		 lfd;
	volatile int	 mode;
	volatile int	 stop;
	volatile int	 accepts;
	volatile int	 requests;	/* of the edge extension */
	volatile int	 pings;
	volatile int	 refused;	/* framing lost */
	volatile int	 lenmode;	/* LURK_LEN_* */
	int		 conns[MAXCONN];
	int		 nconns;
	uint8_t		 held[NREV][LURK_HDR_LEN + 64];
	size_t		 heldlen[NREV];
	int		 heldfd[NREV];
	int		 nheld;
} srv;

static void
answer(int fd, uint8_t *msg, size_t len, uint8_t status)
{
	fake_answer(fd, msg, len, status, srv.lenmode);
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
	uint32_t	 plen;
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
			if (lurk_payload_len(&h, srv.lenmode, &plen) == -1) {
				/* as lurkd: invalid_format, hang up */
				answer(fd, msg, LURK_HDR_LEN,
				    LURK_ST_INVALID_FORMAT);
				srv.refused++;
				drop(i);
				continue;
			}
			if (plen > 64 ||
			    readn(fd, msg + LURK_HDR_LEN, plen) == -1) {
				drop(i);
				continue;
			}
			len = LURK_HDR_LEN + plen;
			if (h.designation == LURK_DESIG_LURK &&
			    h.type == LURK_TYPE_PING) {
				srv.pings++;
				answer(fd, msg, len, srv.mode == PING_TEMPFAIL ?
				    LURK_ST_TEMPORARY_FAILURE :
				    plen == 0 ? LURK_ST_SUCCESS :
				    LURK_ST_INVALID_FORMAT);
				continue;
			}
			srv.requests++;
			switch (srv.mode) {
			case ECHO:
			case PING_TEMPFAIL:
				answer(fd, msg, len, LURK_ST_SUCCESS);
				break;
			case DROP_ALL:
				drop(i);
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
static pthread_t st;

static void
srv_listen(void)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((srv.lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(srv.lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(srv.lfd, 8) == -1) {
		perror("fake lurkd");
		exit(1);
	}
}

static void
srv_start(void)
{
	srv_listen();
	srv.stop = 0;
	pthread_create(&st, NULL, server, NULL);
}

/* stale: leave a socket file nobody listens on (ECONNREFUSED) */
static void
srv_stop(int stale)
{
	srv.stop = 1;
	pthread_join(st, NULL);
	close(srv.lfd);
	if (!stale)
		unlink(path);
}

/* one request whose payload is its own tag; 1 if the echo is ours */
static int
echo_on(struct lc_conn *c, int timeout, uint32_t tag, struct lc_error *e)
{
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

static int
echo(int timeout, uint32_t tag, struct lc_error *e)
{
	return echo_on(lc_conn_get(path), timeout, tag, e);
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

/* a restart: no socket, then a stale one, each for gap ms, then back */
static void *
restart_thread(void *arg)
{
	struct sockaddr_un	 sun;
	int			 gap = (int)(intptr_t)arg, fd;

	srv_stop(0);
	poll(NULL, 0, gap);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		perror("stale socket");
	close(fd);
	poll(NULL, 0, gap);
	unlink(path);
	srv_start();
	return NULL;
}

int
main(void)
{
	struct lc_error		 e;
	struct lc_conn		*c;
	pthread_t		 rt, t[NREV];
	char			 dir[] = "/tmp/lurk-client-test.XXXXXX";
	char			 longpath[200], path2[120];
	uint8_t			*resp;
	size_t			 resplen;
	int64_t			 t0, dt;
	pid_t			 pid;
	int			 i, all, status, r;

	/* the fake lurkd answers connections the client gave up on */
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/lurk.sock", dir);
	srv_listen();	/* not accepting yet */

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
	srv.stop = 0;
	pthread_create(&st, NULL, server, NULL);
	CHECK(echo(2000, 1, &e), "echo: answer matched to its request");
	CHECK(srv.accepts == 2 && srv.pings == 2 && srv.requests == 1,
	    "one connection, found payload framing with a ping (and the "
	    "timed-out one)");

	srv.mode = REVERSE;
	srv.accepts = 0;
	for (i = 0; i < NREV; i++)
		pthread_create(&t[i], NULL, rev_thread, (void *)(intptr_t)i);
	all = 1;
	for (i = 0; i < NREV; i++) {
		pthread_join(t[i], NULL);
		all &= rev_ok[i];
	}
	CHECK(all, "4 threads, answers in reverse order: each gets its own");
	CHECK(srv.accepts == 0, "... over the one connection");

	srv.mode = DROP_FIRST;
	srv.requests = 0;
	srv.accepts = 0;
	CHECK(echo(2000, 2, &e),
	    "connection closed under a request: reconnected and resent");
	CHECK(srv.accepts == 1 && srv.requests == 2,
	    "... on a second connection");

	srv.mode = DROP_ALL;
	srv.requests = 0;
	t0 = now_ms();
	r = lc_request(lc_conn_get(path), 2000, EDGE_TYPE_KEY_INFO,
	    (const uint8_t *)"x", 1, &resp, &resplen, &e);
	dt = now_ms() - t0;
	CHECK(r == LC_EIO && srv.requests == 4,
	    "a request that always loses its connection: sent 4 times, "
	    "LC_EIO");
	CHECK(dt < 1000, "... at once, not at the deadline");

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

	/* restarts: the socket missing, then refusing, then back */
	srv.accepts = 0;
	pthread_create(&rt, NULL, restart_thread, (void *)(intptr_t)150);
	poll(NULL, 0, 50);
	t0 = now_ms();
	r = echo(2000, 6, &e);
	dt = now_ms() - t0;
	pthread_join(rt, NULL);
	CHECK(r, "restart shorter than the timeout (socket gone, then "
	    "refusing): the request is answered");
	CHECK(dt >= 200 && srv.accepts == 1,
	    "... after waiting for the new server, on a new connection");

	pthread_create(&rt, NULL, restart_thread, (void *)(intptr_t)700);
	poll(NULL, 0, 50);
	t0 = now_ms();
	r = lc_request(lc_conn_get(path), 1000, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	dt = now_ms() - t0;
	CHECK(r == LC_ECONNECT && e.sys_errno == ECONNREFUSED,
	    "restart longer than the timeout: LC_ECONNECT, ECONNREFUSED");
	CHECK(dt >= 990 && dt < 1300, "... at the deadline, not later");
	t0 = now_ms();
	r = lc_request(lc_conn_get(path), 1000, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	dt = now_ms() - t0;
	CHECK(r == LC_ECONNECT && dt < 100,
	    "unreachable for longer than a timeout: the next request fails "
	    "at once");
	pthread_join(rt, NULL);
	CHECK(echo(1000, 7, &e), "server back: answered again");
	srv_stop(0);
	t0 = now_ms();
	r = lc_request(lc_conn_get(path), 300, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	dt = now_ms() - t0;
	CHECK(r == LC_ECONNECT && e.sys_errno == ENOENT && dt >= 290,
	    "server gone: connection lost, reconnections fail until the "
	    "deadline: LC_ECONNECT, ENOENT");

	/* both framings, found or configured */
	srv.lenmode = LURK_LEN_MESSAGE;
	srv.accepts = srv.pings = srv.requests = srv.refused = 0;
	srv_start();
	CHECK(echo(1000, 8, &e), "whole-message framing found by the ping");
	CHECK(srv.accepts == 2 && srv.refused == 1 && srv.requests == 1,
	    "... refused (shorter than a header), then a connection "
	    "framed so");
	srv.accepts = srv.pings = srv.requests = 0;
	CHECK(echo_on(lc_conn_get_len(path, LURK_LEN_MESSAGE), 1000, 9, &e) &&
	    srv.accepts == 1 && srv.pings == 0,
	    "whole-message framing configured: no ping");
	srv.accepts = 0;
	r = lc_request(lc_conn_get_len(path, LURK_LEN_PAYLOAD), 300,
	    EDGE_TYPE_KEY_INFO, (const uint8_t *)"x", 1, &resp, &resplen, &e);
	CHECK(r != LC_OK && srv.requests == 1,
	    "payload framing configured against a whole-message server: "
	    "fails");
	srv_stop(0);
	srv.lenmode = LURK_LEN_PAYLOAD;
	srv_start();
	srv.accepts = srv.pings = srv.requests = 0;
	CHECK(echo_on(lc_conn_get_len(path, LURK_LEN_PAYLOAD), 1000, 10, &e) &&
	    srv.accepts == 1 && srv.pings == 0 && srv.requests == 1,
	    "payload framing configured: no ping");
	CHECK(lc_conn_get_len(path, 7) == NULL, "unknown framing: refused");

	/* another name for the socket: a new connection, so a new ping */
	srv.mode = PING_TEMPFAIL;
	srv.requests = 0;
	snprintf(path2, sizeof(path2), "%s//lurk.sock", dir);
	r = lc_request(lc_conn_get(path2), 1000, EDGE_TYPE_KEY_INFO, NULL, 0,
	    &resp, &resplen, &e);
	CHECK(r == LC_ESTATUS && e.status == LURK_ST_TEMPORARY_FAILURE &&
	    srv.requests == 0,
	    "ping answered temporary_failure: that status, request not sent");
	srv_stop(0);
	rmdir(dir);

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
