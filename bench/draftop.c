/*
 * draftop: the in-process cost of a tls12 or tls13 operation, the very
 * code keyproc runs (keyproc/lurk12.c, lurk13.c) on a request, without
 * lurkd's sockets and processes around it: the baseline of the bench's
 * drafts rows.
 *
 *	draftop -k key.pem -c cert.pem -r request [-p procs] [-t seconds]
 *
 * request is a whole LURK message (header and payload) as bench/run
 * writes it; each of procs processes runs it again and again for the
 * time given, on a key it loads itself.  Prints one line:
 *	ok procs=... ops=... secs=... ops_per_s=... us_per_op=...
 * or "fail reason=..." and exit 1.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"
#include "drafts.h"
#include "keyproc/keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"

static struct key	 key;

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	printf("fail reason=");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* lurkd/log.c, for keyproc's code: quiet, and fatal is fatal */
void
log_warn(const char *fmt, ...)
{
}

void
log_warnx(const char *fmt, ...)
{
}

void
log_info(const char *fmt, ...)
{
}

void
log_debug(const char *fmt, ...)
{
}

void
log_op(int pri, const struct log_op *op, const char *fmt, ...)
{
}

void
fatal(const char *fmt, ...)
{
	die("fatal in keyproc's code");
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	printf("fail reason=");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

/* keyproc.c's key table: the one key */
struct key *
keyproc_key(uint32_t index)
{
	return &key;
}

struct key *
keyproc_key_byspki(const uint8_t *id, size_t len)
{
	return memcmp(key.pub.spki_sha256, id, len) == 0 ? &key : NULL;
}

uint32_t
keyproc_generation(void)
{
	return 1;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	uint8_t	*buf;
	FILE	*f;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc(n)) == NULL || fread(buf, 1, n, f) != (size_t)n)
		die("%s: cannot read", path);
	fclose(f);
	*len = n;
	return buf;
}

/* One process: operations for secs; their count. */
static uint64_t
loop(const struct keyop_req *req, const uint8_t *payload, double secs)
{
	struct lurk_wr	 w;
	const char	*why;
	uint64_t	 n = 0;
	double		 end = now_s() + secs;
	int		 st;

	do {
		memset(&w, 0, sizeof(w));
		st = req->designation == LURK_DESIG_TLS12 ?
		    lurk12_run(&key, req, payload, &w, &why) :
		    lurk13_run(req, payload, &w, &(struct key *){ NULL },
		    &why);
		if (st != LURK_ST_SUCCESS)
			die("status %d: %s", st, why);
		lurk_wr_free(&w);
		n++;
	} while (now_s() < end);
	return n;
}

int
main(int argc, char *argv[])
{
	struct draftconf	 d;
	struct keyop_req	 req;
	struct lurk_hdr		 h;
	const char		*keypath = NULL, *certpath = NULL;
	const char		*rpath = NULL;
	char			 err[512];
	uint8_t			*msg;
	size_t			 len;
	uint64_t		 total = 0, n;
	double			 secs = 3;
	int			 procs = 1, ch, i, fds[64][2], status;
	pid_t			 pids[64];

	while ((ch = getopt(argc, argv, "c:k:p:r:t:")) != -1)
		switch (ch) {
		case 'c':
			certpath = optarg;
			break;
		case 'k':
			keypath = optarg;
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'r':
			rpath = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			die("usage: draftop -k key -c cert -r request "
			    "[-p procs] [-t seconds]");
		}
	if (keypath == NULL || certpath == NULL || rpath == NULL ||
	    procs < 1 || procs > 64 || secs <= 0)
		die("usage: draftop -k key -c cert -r request [-p procs] "
		    "[-t seconds]");

	memset(&d, 0, sizeof(d));
	d.tls12_freshness = d.tls13_freshness = LURKD_FRESH_SHA256;
	d.tls12_window = LURKD_WINDOW_MAX;
	d.tls13_label = LURKD_LABEL_DRAFT;
	d.tls13_sessions = 16;
	d.tls13_session_timeout = LURKD_SESSION_TIMEOUT;
	d.tls13_ticket_lifetime = LURKD_TICKET_LIFETIME;
	drafts_init(&d, 0);
	strlcpy(key.privpath, keypath, sizeof(key.privpath));
	strlcpy(key.certpath, certpath, sizeof(key.certpath));
	if ((key.privfd = open(keypath, O_RDONLY)) == -1 ||
	    (key.certfd = open(certpath, O_RDONLY)) == -1)
		die("cannot open the key or certificate: %s", strerror(errno));
	if (key_load(&key, err, sizeof(err)) == -1)
		die("%s", err);
	key.operations = OP_TLS12_RSA | OP_TLS12_ECDHE | OP_TLS13;
	key.tls13_secrets = LURKD_SECRETS_DEFAULT;
	if (drafts_warmup() == -1)
		die("drafts_warmup");

	msg = slurp(rpath, &len);
	if (len < LURK_HDR_LEN)
		die("%s: not a LURK message", rpath);
	lurk_hdr_decode(msg, &h);
	memset(&req, 0, sizeof(req));
	req.designation = h.designation;
	req.type = h.type;
	req.len = len - LURK_HDR_LEN;

	for (i = 0; i < procs; i++) {
		if (pipe(fds[i]) == -1 || (pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			n = loop(&req, msg + LURK_HDR_LEN, secs);
			if (write(fds[i][1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (i = 0; i < procs; i++) {
		if (read(fds[i][0], &n, sizeof(n)) != sizeof(n) ||
		    waitpid(pids[i], &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("a worker failed");
		total += n;
	}
	printf("ok procs=%d ops=%llu secs=%.3f ops_per_s=%.1f us_per_op=%.2f\n",
	    procs, (unsigned long long)total, secs, total / secs,
	    total ? 1e6 * secs * procs / total : 0);
	return 0;
}
