/*
 * Fork + re-exec of the children, and the child's side of its channel to
 * the parent.  Every child starts from a fresh exec, so it inherits no heap,
 * no key bytes and no address-space layout from the parent.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "lurkd.h"
#include "proc.h"

static const char *proc_titles[PROC_MAX] = {
	[PROC_PARENT] = "parent",
	[PROC_KEYPROC] = "keyproc",
	[PROC_NETPROC] = "netproc",
};

static struct imsgbuf	 parent_ibuf;
static int		 parent_ibuf_ok;
static char		 child_name[32];
static enum proc_id	 child_id;
static unsigned long long log_dropped;	/* lines the parent could not take */
static unsigned long long log_dropped_all;	/* since the start */

static void	 proc_trip_start(enum proc_id);

/*
 * Log lines waiting for the parent.  A parent stuck on its own log (a
 * reader that stopped reading) must not stop a child: beyond this many
 * the child drops lines and counts them.
 */
#define LOG_QUEUE_MAX	256

const char *
proc_title(enum proc_id id)
{
	if (id < 0 || id >= PROC_MAX)
		return "unknown";
	return proc_titles[id];
}

enum proc_id
proc_byname(const char *name)
{
	int	 i;

	for (i = 0; i < PROC_MAX; i++)
		if (strcmp(name, proc_titles[i]) == 0)
			return i;
	return PROC_MAX;
}

void
proc_name(enum proc_id id, int instance, char *buf, size_t len)
{
	if (id == PROC_KEYPROC)
		snprintf(buf, len, "%s[%d]", proc_title(id), instance);
	else
		snprintf(buf, len, "%s", proc_title(id));
}

/*
 * Start a child: its channel becomes fd 3 and it re-execs this binary
 * with -P title -I instance.
 */
pid_t
proc_exec(const char *self, enum proc_id id, int instance, int fd,
    int debug, int verbose)
{
	char		*argv[12], inst[16], title[16];
	sigset_t	 all;
	pid_t		 pid;
	int		 argc = 0, sig;

	switch (pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		break;
	default:
		return pid;
	}

	/* child: clean signal state, channel on fd 3, nothing else open */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (fd == PARENT_SOCK_FILENO) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			fatal("%s: fcntl", __func__);
	} else if (dup2(fd, PARENT_SOCK_FILENO) == -1)
		fatal("%s: dup2", __func__);
	closefrom(PARENT_SOCK_FILENO + 1);

	/*
	 * keyproc locks its memory (mlockall): started as root, with
	 * CAP_SYS_RESOURCE, let it lock all it needs.  Without, keyproc
	 * says so; nothing may be logged here, where fd 3 is the channel
	 * and the syslog socket may have been it.
	 */
	if (id == PROC_KEYPROC && geteuid() == 0) {
		struct rlimit	 rl = { RLIM_INFINITY, RLIM_INFINITY };

		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	}

	snprintf(inst, sizeof(inst), "%d", instance);
	strlcpy(title, proc_title(id), sizeof(title));
	argv[argc++] = (char *)"lurkd";
	argv[argc++] = (char *)"-P";
	argv[argc++] = title;
	argv[argc++] = (char *)"-I";
	argv[argc++] = inst;
	if (debug)
		argv[argc++] = (char *)"-d";
	if (verbose)
		argv[argc++] = (char *)"-v";
	argv[argc] = NULL;
	execv(self, argv);
	fatal("%s: execv %s", __func__, self);
}

/*
 * IMSG_LOG: int priority, the line and a NUL, then each field: a byte,
 * its number (enum log_field), its value and a NUL (log_fields_parse).
 */
static void
log_queue(int pri, const char *line, const struct log_kv *kv, size_t nkv)
{
	struct iovec	 iov[2 + 3 * LOGF_MAX];
	uint8_t		 ids[LOGF_MAX];
	size_t		 i;
	int		 n = 0;

	iov[n].iov_base = &pri;
	iov[n++].iov_len = sizeof(pri);
	iov[n].iov_base = (void *)(uintptr_t)line;
	iov[n++].iov_len = strlen(line) + 1;
	for (i = 0; i < nkv && i < LOGF_MAX; i++) {
		ids[i] = kv[i].id;
		iov[n].iov_base = &ids[i];
		iov[n++].iov_len = 1;
		iov[n].iov_base = (void *)(uintptr_t)kv[i].value;
		iov[n++].iov_len = strnlen(kv[i].value, LOG_VALUE_MAX);
		iov[n].iov_base = (void *)(uintptr_t)"";
		iov[n++].iov_len = 1;
	}
	if (imsg_composev(&parent_ibuf, IMSG_LOG, 0, 0, -1, iov, n) == -1)
		log_dropped++;
}

/*
 * Queue the line and write what the channel takes now, never waiting:
 * what is left goes out with the next line or proc_log_flush().
 */
static void
proc_log_sink(int pri, const char *line, const struct log_kv *kv, size_t nkv)
{
	char	 note[128];

	if (!parent_ibuf_ok) {
		fprintf(stderr, "%s: %s\n", child_name, line);
		return;
	}
	if (imsgbuf_queuelen(&parent_ibuf) >= LOG_QUEUE_MAX)
		proc_log_flush();
	if (imsgbuf_queuelen(&parent_ibuf) >= LOG_QUEUE_MAX) {
		log_dropped++;
		log_dropped_all++;
		return;
	}
	if (log_dropped > 0) {
		snprintf(note, sizeof(note), "%llu log lines dropped: the "
		    "parent did not take them in time", log_dropped);
		log_dropped = 0;
		log_queue(LOG_ERR, note, NULL, 0);
	}
	log_queue(pri, line, kv, nkv);
	proc_log_flush();
}

/* Lines this child could not hand to the parent, since it started. */
uint64_t
proc_log_dropped_total(void)
{
	return log_dropped_all;
}

/* Write queued log lines without waiting; the parent gone: exit. */
void
proc_log_flush(void)
{
	if (parent_ibuf_ok && imsgbuf_queuelen(&parent_ibuf) > 0 &&
	    imsgbuf_write(&parent_ibuf) == -1)
		_exit(1);	/* the parent is gone: nobody left to tell */
}

/* Lines are waiting for the parent: the caller should come back. */
int
proc_log_pending(void)
{
	return parent_ibuf_ok && imsgbuf_queuelen(&parent_ibuf) > 0;
}

/* At exit (fatal() included): give the last lines a second to go out. */
static void
proc_log_drain(void)
{
	struct pollfd	 pfd;
	int		 i;

	for (i = 0; i < 20 && proc_log_pending(); i++) {
		proc_log_flush();
		if (!proc_log_pending())
			break;
		pfd.fd = parent_ibuf.fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 50);
	}
}

/* A child's first steps after exec. */
struct imsgbuf *
proc_child_init(enum proc_id id, int instance)
{
	char	 name[32], comm[16];

	proc_name(id, instance, name, sizeof(name));
	log_procinit(name);
	setproctitle("%s", proc_title(id));
	snprintf(comm, sizeof(comm), "lurkd-%s", proc_title(id));
	prctl(PR_SET_NAME, comm, 0, 0, 0);

	if (imsgbuf_init(&parent_ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("%s: imsgbuf_init", __func__);
	imsgbuf_allow_fdpass(&parent_ibuf);
	if (imsgbuf_set_maxsize(&parent_ibuf, 8192) == -1)
		fatal("%s: imsgbuf_set_maxsize", __func__);
	parent_ibuf_ok = 1;
	strlcpy(child_name, name, sizeof(child_name));
	child_id = id;
	atexit(proc_log_drain);
	log_setsink(proc_log_sink);
	/* a dead peer is noticed through EPIPE, never SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	/* the parent handles termination; children just stop */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	return &parent_ibuf;
}

int
proc_compose_parent(uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&parent_ibuf, type, 0, 0, fd, data, len) == -1)
		return -1;
	return imsgbuf_flush(&parent_ibuf);
}

/* The generation a reload message names: exactly a u_int32, or fatal. */
uint32_t
proc_imsg_gen(struct imsg *imsg, const char *what)
{
	uint32_t	 gen;

	if (imsg_get_data(imsg, &gen, sizeof(gen)) == -1)
		fatalx("bad %s", what);
	return gen;
}

void
proc_child_ready(void)
{
	proc_trip_start(child_id);
	if (proc_compose_parent(IMSG_READY, -1, NULL, 0) == -1)
		fatal("%s: compose", __func__);
}

#ifdef LURKD_TEST_HOOKS
static void	 proc_trip(enum proc_id);
static void	 proc_trip_call(const char *);

/*
 * Test builds only: LURKD_TEST_FORGE=netproc:WHAT (or keyproc:WHAT)
 * makes that child, once ready, do to the parent what a compromised one
 * could: "log" a line with a newline, another process's name and
 * terminal escapes in it, "pri" a line at LOG_EMERG, "fd" pass a
 * descriptor, "ready" say READY again, "jsonlog" a line whose text and
 * fields try to be another process's JSON, "field" a field of an
 * unknown number, "number" a uid that is not a number.
 */
static void
proc_forge(enum proc_id id)
{
	struct iovec	 iov[2];
	const char	*f = getenv("LURKD_TEST_FORGE");
	char		 line[] = "test hook: a line with a descriptor";
	size_t		 n = strlen(proc_title(id));
	int		 pri = LOG_INFO;

	if (f == NULL || strncmp(f, proc_title(id), n) != 0 || f[n] != ':')
		return;
	f += n + 1;
	if (strcmp(f, "log") == 0)
		log_queue(LOG_INFO, "test hook\nkeyproc[0]: key \"k\": "
		    "forged\x1b[2J\\x41", NULL, 0);
	else if (strcmp(f, "pri") == 0)
		log_queue(LOG_EMERG, "test hook: an emergency", NULL, 0);
	else if (strcmp(f, "jsonlog") == 0) {
		/* fields that try to be the parent's, in a good line */
		struct log_kv	 kv[] = { { LOGF_KEY, "k\",\"process\":"
		    "\"parent" }, { LOGF_REASON, "a\nb\x1b[2J" } };

		log_queue(LOG_INFO, "test hook: \"process\":\"parent\"", kv,
		    2);
	} else if (strcmp(f, "field") == 0) {
		struct log_kv	 kv[] = { { LOGF_MAX, "x" } };

		log_queue(LOG_INFO, "test hook: an unknown field", kv, 1);
	} else if (strcmp(f, "number") == 0) {
		struct log_kv	 kv[] = { { LOGF_PEER_UID, "0,\"level\":1" } };

		log_queue(LOG_INFO, "test hook: a uid that is no number", kv,
		    1);
	}
	else if (strcmp(f, "fd") == 0) {
		/* a good log line, but with a descriptor */
		iov[0].iov_base = &pri;
		iov[0].iov_len = sizeof(pri);
		iov[1].iov_base = line;
		iov[1].iov_len = sizeof(line);
		if (imsg_composev(&parent_ibuf, IMSG_LOG, 0, 0, STDIN_FILENO,
		    iov, 2) == -1)
			fatal("%s: compose", __func__);
	} else if (strcmp(f, "ready") == 0) {
		if (imsg_compose(&parent_ibuf, IMSG_READY, 0, 0, -1, NULL,
		    0) == -1)
			fatal("%s: compose", __func__);
	} else
		fatalx("LURKD_TEST_FORGE: unknown \"%s\"", f);
	if (imsgbuf_flush(&parent_ibuf) == -1)
		fatal("%s: flush", __func__);
}

/*
 * Test builds only: LURKD_TEST_TRIP=keyproc|netproc makes that process
 * call socket(2), which its seccomp filter forbids, once it is running;
 * with LURKD_TEST_TRIP_AT=N, when it handles its N-th request instead,
 * and with LURKD_TEST_TRIP_AT=0 before it says READY (a failed start).
 * LURKD_TEST_TRIP_CALL=mmap-exec or mprotect-exec asks for executable
 * memory instead of a socket (the filters allow memory, never PROT_EXEC),
 * and "hang" makes it wait forever (a start that never ends).
 * With LURKD_TEST_TRIP_ASAN=1 too, in a sanitizer build, it uses memory
 * after freeing it instead: ASan must report it from inside the sandbox.
 */
void
proc_trip_hook(enum proc_id id)
{
	const char	*who = getenv("LURKD_TEST_TRIP");

	proc_forge(id);

	if (who == NULL || strcmp(who, proc_title(id)) != 0 ||
	    getenv("LURKD_TEST_TRIP_AT") != NULL)
		return;
	proc_trip(id);
}

/* With LURKD_TEST_TRIP_AT=0: before the child says READY. */
static void
proc_trip_start(enum proc_id id)
{
	const char	*who = getenv("LURKD_TEST_TRIP");
	const char	*at = getenv("LURKD_TEST_TRIP_AT");

	if (who != NULL && at != NULL && strcmp(who, proc_title(id)) == 0 &&
	    strcmp(at, "0") == 0)
		proc_trip(id);
}

void
proc_trip_request(enum proc_id id)
{
	static long	 n;
	const char	*who = getenv("LURKD_TEST_TRIP");
	const char	*at = getenv("LURKD_TEST_TRIP_AT");

	if (who == NULL || at == NULL || strcmp(who, proc_title(id)) != 0 ||
	    ++n != strtol(at, NULL, 10))
		return;
	log_info("test hook: request %ld", n);
	proc_trip(id);
}

static void
proc_trip(enum proc_id id)
{
	if (getenv("LURKD_TEST_TRIP_ASAN") != NULL) {
#ifdef LURKD_ASAN
		char *volatile	 p;

		log_info("test hook: use after free under seccomp");
		if ((p = malloc(16)) == NULL)
			fatal("%s: malloc", __func__);
		free(p);
		((volatile char *)p)[0] = 1;
		log_warnx("test hook: ASan did not see the use after free");
#else
		log_warnx("test hook: not a sanitizer build");
#endif
		return;
	}
	proc_trip_call(getenv("LURKD_TEST_TRIP_CALL"));
}

static void
proc_trip_call(const char *call)
{
	void	*p;

	if (call != NULL && strcmp(call, "hang") == 0) {
		log_info("test hook: hanging");
		for (;;)
			poll(NULL, 0, -1);
	} else if (call != NULL && strcmp(call, "mmap-exec") == 0) {
		log_info("test hook: calling mmap(2) PROT_EXEC under seccomp");
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		log_warnx("test hook: mmap(2) PROT_EXEC was not stopped by "
		    "seccomp (%s)", p == MAP_FAILED ? strerror(errno) : "mapped");
	} else if (call != NULL && strcmp(call, "mprotect-exec") == 0) {
		/* writable memory is allowed; making it executable is not */
		if ((p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
			log_warn("test hook: mmap(2) PROT_READ|PROT_WRITE");
			return;
		}
		log_info("test hook: calling mprotect(2) PROT_EXEC under "
		    "seccomp");
		if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == -1)
			log_warn("test hook: mprotect(2) PROT_EXEC was not "
			    "stopped by seccomp");
		else
			log_warnx("test hook: mprotect(2) PROT_EXEC was not "
			    "stopped by seccomp (done)");
	} else {
		log_info("test hook: calling socket(2) under seccomp");
		(void)socket(AF_INET, SOCK_STREAM, 0);
		log_warnx("test hook: socket(2) was not stopped by seccomp");
	}
}
#else
static void
proc_trip_start(enum proc_id id)
{
}

void
proc_trip_hook(enum proc_id id)
{
}

void
proc_trip_request(enum proc_id id)
{
}
#endif
