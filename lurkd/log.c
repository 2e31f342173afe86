#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <paths.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_debug_mode = 1;	/* stderr until log_init */
static int		 log_verbose;
static char		 log_procname[32] = "parent";
static log_sink_fn	 log_sink;
static int		 log_facility = LOG_DAEMON;
static int		 log_fd = -1;		/* syslog socket */
static unsigned long long log_dropped;		/* lines not written */
static int		 log_tee_fd = -1;	/* the invoker, while starting */
static int		 log_stamps;		/* stderr lines get the time */

/*
 * syslog(3) waits when the syslog daemon does not read its socket, and a
 * stuck log must not stop key service: lurkd sends its lines itself, on
 * a non-blocking socket, and counts what it could not send.
 */
static void
syslog_connect(void)
{
	struct sockaddr_un	 sun;
	const char		*path = _PATH_LOG;

#ifdef LURKD_TEST_HOOKS
	if (getenv("LURKD_TEST_SYSLOG") != NULL)
		path = getenv("LURKD_TEST_SYSLOG");
#endif
	if (log_fd == -1 && (log_fd = socket(AF_UNIX, SOCK_DGRAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	(void)connect(log_fd, (struct sockaddr *)&sun, sizeof(sun));
}

static int
syslog_line(int pri, const char *line)
{
	char		 buf[1200], ts[32];
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 len, retry;

	if (log_fd == -1)
		syslog_connect();
	if (log_fd == -1)
		return -1;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	len = snprintf(buf, sizeof(buf), "<%d>%s lurkd[%ld]: %s",
	    log_facility | pri, ts, (long)getpid(), line);
	if (len < 0)
		return -1;
	if (len >= (int)sizeof(buf))
		len = sizeof(buf) - 1;
	for (retry = 0; retry < 2; retry++) {
		if (send(log_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == len)
			return 0;
		/* the daemon restarted, or was not there yet: once more */
		if (errno != ECONNREFUSED && errno != ENOTCONN &&
		    errno != ENOENT && errno != EDESTADDRREQ)
			break;
		syslog_connect();
	}
	return -1;
}

/* Local time to the millisecond, with the offset from UTC. */
static void
log_timestamp(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 date[24], zone[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%03ld%s ", date, ts.tv_nsec / 1000000, zone);
}

/* stderr (-d): write only what it takes now, a line at once. */
static int
log_stderr(int pri, const char *line)
{
	struct pollfd	 pfd;
	char		 buf[1300], stamp[64];
	ssize_t		 n;
	int		 len;

	stamp[0] = '\0';
	if (log_stamps)
		log_timestamp(stamp, sizeof(stamp));
	len = snprintf(buf, sizeof(buf), "%s%s\n", stamp, line);
	if (len < 0)
		return -1;
	if (len >= (int)sizeof(buf)) {
		len = sizeof(buf) - 1;
		buf[len - 1] = '\n';
	}
	/* a pipe says POLLOUT while a page is free: a line fits */
	pfd.fd = STDERR_FILENO;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
		return -1;
	do
		n = write(STDERR_FILENO, buf, len);
	while (n == -1 && errno == EINTR);
	return n == len ? 0 : -1;
}

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	log_facility = facility;
	tzset();
	if (!debug)
		syslog_connect();
}

/* lurkd -d: each line on stderr begins with the date and time. */
void
log_settimestamps(int on)
{
	log_stamps = on;
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		strlcpy(log_procname, procname, sizeof(log_procname));
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_setsink(log_sink_fn sink)
{
	log_sink = sink;
}

/*
 * Until lurkd is ready, the process that started it waits on a pipe and
 * shows the warnings and errors on its stderr (lurkd.c): a start that
 * fails says why even with no syslog daemon.
 */
void
log_settee(int fd)
{
	log_tee_fd = fd;
}

static void
log_tee(int pri, const char *line)
{
	struct iovec	 iov[2];
	ssize_t		 n;

	if (log_tee_fd == -1 || pri > LOG_WARNING)
		return;
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = strlen(line);
	iov[1].iov_base = (void *)(uintptr_t)"\n";
	iov[1].iov_len = 1;
	do
		n = writev(log_tee_fd, iov, 2);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		log_tee_fd = -1;	/* the invoker is gone */
}

void
log_emit(int pri, const char *line)
{
	char	 note[128];
	int	 (*out)(int, const char *);
	int	 saved = errno;

	if (log_sink != NULL) {
		log_sink(pri, line);
		errno = saved;
		return;
	}
	log_tee(pri, line);
	out = log_debug_mode ? log_stderr : syslog_line;
	if (log_dropped > 0) {
		snprintf(note, sizeof(note), "%s: %llu log lines dropped: the "
		    "log could not be written", log_procname, log_dropped);
		if (out(LOG_ERR, note) == 0)
			log_dropped = 0;
	}
	if (log_dropped > 0 || out(pri, line) == -1)
		log_dropped++;
	errno = saved;
}

/*
 * Make text safe for a log line: printable ASCII stays, a backslash is
 * doubled, and every other byte is written as \n, \r, \t or \xHH, so
 * that no text, whoever wrote it, can end a line, start another or
 * drive a terminal.  Cut where dst is full.
 */
void
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;
	char			 e[5];
	size_t			 i, n = 0, el;

	for (i = 0; i < len && size > 0; i++) {
		c = src[i];
		el = 0;
		if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
			e[el++] = '\\';
			e[el++] = c == '\n' ? 'n' : c == '\r' ? 'r' :
			    c == '\t' ? 't' : '\\';
		} else if (c < 0x20 || c >= 0x7f) {
			e[el++] = '\\';
			e[el++] = 'x';
			e[el++] = hex[c >> 4];
			e[el++] = hex[c & 0xf];
		} else
			e[el++] = c;
		if (n + el >= size)
			break;
		memcpy(dst + n, e, el);
		n += el;
	}
	if (size > 0)
		dst[n] = '\0';
}

/* One line "who: text", text escaped: who is what the writer knows. */
void
log_line(int pri, const char *who, const char *text, size_t len)
{
	char	 safe[1024], line[1100];

	log_escape(safe, sizeof(safe), text, len);
	snprintf(line, sizeof(line), "%s: %s", who, safe);
	log_emit(pri, line);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink != NULL)
		/* a child: the parent escapes it and says who wrote it */
		log_sink(pri, msg);
	else
		log_line(pri, log_procname, msg, strlen(msg));
	errno = saved;
}

void
log_warn(const char *emsg, ...)
{
	char	 buf[1024];
	int	 saved = errno;
	va_list	 ap;

	va_start(ap, emsg);
	vsnprintf(buf, sizeof(buf), emsg, ap);
	va_end(ap);
	errno = saved;
	log_warnx("%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, emsg);
	vlog(LOG_DEBUG, emsg, ap);
	va_end(ap);
}

static void __attribute__((__format__(printf, 2, 0)))
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 buf[1024];

	vsnprintf(buf, sizeof(buf), emsg, ap);
	if (code)
		log_warnx("fatal: %s: %s", buf, strerror(code));
	else
		log_warnx("fatal: %s", buf);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
