/*
 * The edge client's failover (provider/client.c) against fake key
 * servers in threads, each on a Unix socket of its own: the first
 * endpoint preferred; a dead, hung, refusing or connection-dropping one
 * passed over; a request lost on one sent again on the next, once; an
 * error status taken as an answer; the whole within the one timeout; the
 * load back on the first within LC_FAILBACK_MAX_MS of its return; the
 * list forms lc_endpoints_split and lc_conn_open accept and refuse.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

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

enum mode { ECHO, HANG, STATUS, DROP, PING_TEMPFAIL };

#define MAXCONN	16

struct fake {
	char		 path[108];
	int		 lfd;
	pthread_t	 t;
	int		 running;
	volatile int	 mode;
	volatile int	 stop;
	volatile int	 requests;	/* of the edge extension */
	int		 conns[MAXCONN];
	int		 nconns;
};

static struct fake	 fa, fb;

static void
answer(int fd, uint8_t *msg, size_t len, uint8_t status)
{
	fake_answer(fd, msg, len, status, LURK_LEN_PAYLOAD);
}

static void
drop(struct fake *f, int i)
{
	close(f->conns[i]);
	f->conns[i] = f->conns[--f->nconns];
}

static void *
serve(void *arg)
{
	struct fake	*f = arg;
	struct pollfd	 pfd[MAXCONN + 1];
	struct lurk_hdr	 h;
	uint8_t		 msg[LURK_HDR_LEN + 64];
	uint32_t	 plen;
	size_t		 len;
	int		 i, fd, n;

	while (!f->stop) {
		pfd[0].fd = f->lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < f->nconns; i++) {
			pfd[i + 1].fd = f->conns[i];
			/* hung: accepts, reads nothing, answers nothing */
			pfd[i + 1].events = f->mode == HANG ? 0 : POLLIN;
		}
		n = f->nconns;
		if (poll(pfd, n + 1, 10) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && f->nconns < MAXCONN &&
		    (fd = accept(f->lfd, NULL, NULL)) != -1)
			f->conns[f->nconns++] = fd;
		for (i = n - 1; i >= 0; i--) {
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP)))
				continue;
			fd = f->conns[i];
			if (readn(fd, msg, LURK_HDR_LEN) == -1) {
				drop(f, i);
				continue;
			}
			lurk_hdr_decode(msg, &h);
			if (lurk_payload_len(&h, LURK_LEN_PAYLOAD, &plen) ==
			    -1 || plen > 64 ||
			    readn(fd, msg + LURK_HDR_LEN, plen) == -1) {
				drop(f, i);
				continue;
			}
			len = LURK_HDR_LEN + plen;
			if (h.designation == LURK_DESIG_LURK &&
			    h.type == LURK_TYPE_PING) {
				answer(fd, msg, len, f->mode == PING_TEMPFAIL ?
				    LURK_ST_TEMPORARY_FAILURE :
				    LURK_ST_SUCCESS);
				continue;
			}
			f->requests++;
			switch (f->mode) {
			case ECHO:
			case PING_TEMPFAIL:
				answer(fd, msg, len, LURK_ST_SUCCESS);
				break;
			case STATUS:
				answer(fd, msg, len, EDGE_ST_UNAUTHORIZED);
				break;
			case DROP:
				drop(f, i);
				break;
			}
		}
	}
	while (f->nconns > 0)
		drop(f, 0);
	return NULL;
}

static void
fake_start(struct fake *f, enum mode mode)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	unlink(f->path);
	if ((f->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(f->lfd, 16) == -1) {
		perror("fake");
		exit(1);
	}
	f->mode = mode;
	f->stop = 0;
	f->requests = 0;
	pthread_create(&f->t, NULL, serve, f);
	f->running = 1;
}

/* gone: its connections closed, its socket file left (ECONNREFUSED) */
static void
fake_stop(struct fake *f)
{
	if (!f->running)
		return;
	f->stop = 1;
	pthread_join(f->t, NULL);
	close(f->lfd);
	f->running = 0;
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int	 last_ms;

/* one request on c with timeout ms: its result, its time in last_ms */
static int
req(struct lc_conn *c, int timeout, struct lc_error *e)
{
	uint8_t		*resp;
	size_t		 resplen;
	int64_t		 t0 = now_ms();
	int		 r;

	r = lc_request(c, timeout, EDGE_TYPE_KEY_INFO, (const uint8_t *)"abcd",
	    4, &resp, &resplen, e);
	last_ms = now_ms() - t0;
	if (r == LC_OK)
		lc_free_response(resp, resplen);
	return r;
}

/* a fresh list of A then B: a new socket name each, so new endpoints */
static struct lc_conn *
pair(const char *dir, int n)
{
	char		 spec[300];
	struct lc_error	 e;

	fake_stop(&fa);
	fake_stop(&fb);
	snprintf(fa.path, sizeof(fa.path), "%s/a%d.sock", dir, n);
	snprintf(fb.path, sizeof(fb.path), "%s/b%d.sock", dir, n);
	snprintf(spec, sizeof(spec), "unix:%s %s", fa.path, fb.path);
	return lc_conn_open(spec, LC_LEN_AUTO, NULL, &e);
}

int
main(void)
{
	struct lc_error		 e;
	struct lc_conn		*c;
	char			 dir[] = "/tmp/lurk-failover-test.XXXXXX";
	char			 spec[2048], *buf;
	size_t			 n;
	int			 i, r, ok, ntls, before, back;
	int64_t			 t0;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;

	/* both up: all on A */
	c = pair(dir, 1);
	fake_start(&fa, ECHO);
	fake_start(&fb, ECHO);
	for (ok = 1, i = 0; i < 20; i++)
		ok &= req(c, 1000, &e) == LC_OK;
	CHECK(ok && fa.requests == 20 && fb.requests == 0,
	    "both up: 20 requests, all answered by the first endpoint");

	/* A gone (socket left, refusing): B, at once */
	fake_stop(&fa);
	r = req(c, 1000, &e);
	CHECK(r == LC_OK && fb.requests == 1,
	    "first gone (its connection closed, socket refusing): the "
	    "request answered by the second");
	CHECK(last_ms < 300, "... at once, not after the first's share of "
	    "the timeout");
	for (ok = 1, i = 0; i < 10; i++)
		ok &= req(c, 1000, &e) == LC_OK;
	CHECK(ok && fb.requests == 11, "... and the next ones go to the "
	    "second");

	/* A back: within LC_FAILBACK_MAX_MS the load is on A again */
	fake_start(&fa, ECHO);
	t0 = now_ms();
	back = -1;
	while (now_ms() - t0 < LC_FAILBACK_MAX_MS + 1000) {
		if (req(c, 1000, &e) != LC_OK)
			break;
		if (fa.requests > 0) {
			back = now_ms() - t0;
			break;
		}
		poll(NULL, 0, 20);
	}
	printf("# failback: first endpoint answered again %d ms after it "
	    "came back\n", back);
	CHECK(back >= 0 && back <= LC_FAILBACK_MAX_MS + 100,
	    "first back: tried again and used within LC_FAILBACK_MAX_MS");
	before = fb.requests;
	for (ok = 1, i = 0; i < 10; i++)
		ok &= req(c, 1000, &e) == LC_OK;
	CHECK(ok && fb.requests == before && fa.requests == 11,
	    "... and every request after goes to it");

	/* A hung (its connection open, nothing answered): B, within the
	   first's share of the timeout (half of it), never the whole */
	fa.mode = HANG;
	before = fb.requests;
	r = req(c, 1000, &e);
	CHECK(r == LC_OK && fb.requests == before + 1,
	    "first hung: the request answered by the second");
	CHECK(last_ms >= 450 && last_ms < 1000,
	    "... after the first's share of the 1000 ms timeout, not all");
	printf("# first hung: answered by the second in %d ms\n", last_ms);
	r = req(c, 1000, &e);
	CHECK(r == LC_OK && last_ms < 300,
	    "... the next request goes to the second at once");

	/* both hung: fails at the deadline, not later */
	fb.mode = HANG;
	poll(NULL, 0, LC_FAILBACK_MAX_MS);	/* A due to be tried again */
	r = req(c, 1000, &e);
	CHECK(r == LC_ETIMEOUT, "both hung: LC_ETIMEOUT");
	CHECK(last_ms >= 950 && last_ms < 1300,
	    "... within the one 1000 ms timeout, whatever the endpoints");
	printf("# both hung: failed in %d ms (timeout 1000)\n", last_ms);

	/* an error status is an answer: the other is not asked */
	c = pair(dir, 2);
	fake_start(&fa, STATUS);
	fake_start(&fb, ECHO);
	r = req(c, 1000, &e);
	CHECK(r == LC_ESTATUS && e.status == EDGE_ST_UNAUTHORIZED &&
	    fb.requests == 0,
	    "first answers unauthorized: LC_ESTATUS, the second not asked");

	/* a ping refused with temporary_failure: the next endpoint */
	fa.mode = PING_TEMPFAIL;
	c = pair(dir, 3);
	fake_start(&fa, PING_TEMPFAIL);
	fake_start(&fb, ECHO);
	r = req(c, 1000, &e);
	CHECK(r == LC_OK && fa.requests == 0 && fb.requests == 1,
	    "first refuses the ping: the request goes to the second");

	/* lost (the connection closed under it): sent again on the next,
	   once; lost on both: fails at once */
	c = pair(dir, 4);
	fake_start(&fa, DROP);
	fake_start(&fb, ECHO);
	r = req(c, 1000, &e);
	CHECK(r == LC_OK && fa.requests == 1 && fb.requests == 1,
	    "lost on the first: sent again on the second, answered");
	c = pair(dir, 5);
	fake_start(&fa, DROP);
	fake_start(&fb, DROP);
	r = req(c, 1000, &e);
	CHECK(r == LC_EIO && fa.requests == 1 && fb.requests == 1,
	    "lost on both: LC_EIO, sent once to each, not more");
	CHECK(last_ms < 500, "... at once");

	/* all gone: each tried, fails */
	c = pair(dir, 6);
	r = req(c, 1000, &e);
	CHECK(r == LC_ECONNECT && strstr(e.msg, fa.path) != NULL &&
	    strstr(e.msg, fb.path) != NULL,
	    "none there: LC_ECONNECT, the message names both");
	fake_stop(&fa);
	fake_stop(&fb);

	/* the forms of a list */
	CHECK(lc_endpoints_split("/a b,c", &buf, &n, &ntls, &e) == 0 &&
	    n == 1 && strcmp(buf, "unix:/a b,c") == 0,
	    "a value starting with / is one socket path, spaces and commas "
	    "included");
	free(buf);
	CHECK(lc_endpoints_split(" unix:/a,, /b\ttls://h:1 ", &buf, &n,
	    &ntls, &e) == 0 && n == 3 && ntls == 1 &&
	    strcmp(buf, "unix:/a") == 0 && strcmp(buf + 8, "unix:/b") == 0 &&
	    strcmp(buf + 16, "tls://h:1") == 0,
	    "a list: spaces, tabs and commas between, bare paths as unix:");
	free(buf);
	CHECK(lc_endpoints_split("unix:/a /a", &buf, &n, &ntls, &e) == -1 &&
	    strstr(e.msg, "twice") != NULL, "an endpoint twice: refused");
	CHECK(lc_endpoints_split(" , ", &buf, &n, &ntls, &e) == -1 &&
	    strstr(e.msg, "no endpoint") != NULL, "no endpoint: refused");
	CHECK(lc_endpoints_split("unix:/a tls://h", &buf, &n, &ntls, &e) ==
	    -1 && strstr(e.msg, "tls://h") != NULL,
	    "a malformed endpoint: refused, named");
	spec[0] = '\0';
	for (i = 0; i < 9; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec),
		    "unix:/s%d ", i);
	CHECK(lc_endpoints_split(spec, &buf, &n, &ntls, &e) == -1 &&
	    strstr(e.msg, "more than 8") != NULL, "9 endpoints: refused");
	CHECK(lc_conn_open("tls://h:1", LC_LEN_AUTO, NULL, &e) == NULL &&
	    e.result == LC_ETLS, "tls:// without TLS files: LC_ETLS");
	rmdir(dir);
	TEST_EXIT();
}
