/*
 * rtt: the IPC floor.  Two processes over a Unix stream socketpair; the
 * client writes a 16-byte request (a LURK header's size), the server
 * answers 16 + 72 bytes (a header and an ECDSA P-256 signature<2>'s
 * size), one at a time, for the given time.
 *
 *	rtt [-t seconds] [-q request bytes] [-r response bytes]
 *
 * Prints one line:
 *	ok ops=... secs=... ops_per_s=... mean_us=... p50_us=... p99_us=...
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define MAX_SAMPLES	(4 * 1024 * 1024)

static int
full_read(int fd, uint8_t *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		if ((n = read(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		off += n;
	}
	return 1;
}

static int
full_write(int fd, const uint8_t *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
	}
	return 0;
}

static void __attribute__((__noreturn__))
server(int fd, size_t qlen, size_t rlen)
{
	uint8_t	 q[4096], r[4096];

	memset(r, 0xa5, rlen);
	while (full_read(fd, q, qlen) == 1) {
		memcpy(r, q, 16);	/* echo the "header" */
		if (full_write(fd, r, rlen) == -1)
			break;
	}
	_exit(0);
}

int
main(int argc, char *argv[])
{
	uint8_t		 q[4096], r[4096];
	uint32_t	*lat;
	size_t		 qlen = 16, rlen = 16 + 72, n = 0;
	uint64_t	 t, t0, tend, ops = 0;
	double		 secs = 3, sum = 0;
	pid_t		 pid;
	int		 sv[2], ch, status;

	while ((ch = getopt(argc, argv, "q:r:t:")) != -1) {
		switch (ch) {
		case 'q':
			qlen = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rlen = strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: rtt [-t seconds] "
			    "[-q request bytes] [-r response bytes]\n");
			return 2;
		}
	}
	if (qlen < 16 || qlen > sizeof(q) || rlen < 16 || rlen > sizeof(r) ||
	    secs <= 0)
		errx(2, "bad sizes or time");
	if ((lat = calloc(MAX_SAMPLES, sizeof(*lat))) == NULL)
		err(1, "calloc");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(sv[0]);
		server(sv[1], qlen, rlen);
	}
	close(sv[1]);
	memset(q, 0, qlen);

	/* a short warm-up, then the measurement */
	t0 = now_ns();
	while (now_ns() - t0 < 200000000ULL) {
		if (full_write(sv[0], q, qlen) == -1 ||
		    full_read(sv[0], r, rlen) != 1)
			errx(1, "warm-up: the server went away");
	}
	t0 = now_ns();
	tend = t0 + (uint64_t)(secs * 1e9);
	do {
		uint64_t	 a = now_ns();

		memcpy(q + 4, &ops, sizeof(ops));
		if (full_write(sv[0], q, qlen) == -1 ||
		    full_read(sv[0], r, rlen) != 1)
			errx(1, "the server went away");
		t = now_ns();
		if (n < MAX_SAMPLES)
			lat[n++] = (uint32_t)(t - a);
		sum += t - a;
		ops++;
	} while (t < tend);
	close(sv[0]);
	waitpid(pid, &status, 0);

	sort_u32(lat, n);
	printf("ok ops=%llu secs=%.3f ops_per_s=%.1f mean_us=%.2f p50_us=%.2f "
	    "p99_us=%.2f\n", (unsigned long long)ops, (t - t0) / 1e9,
	    ops / ((t - t0) / 1e9), sum / ops / 1e3,
	    pct_sorted(lat, n, 0.50) / 1e3, pct_sorted(lat, n, 0.99) / 1e3);
	return 0;
}
