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
#include "lurkd.h"

static int		 log_debug_mode = 1;	/* stderr until log_init */
static int		 log_verbose;
static char		 log_procname[32] = "parent";
static log_sink_fn	 log_sink;
static int		 log_facility = LOG_DAEMON;
static int		 log_fd = -1;		/* syslog socket */
static unsigned long long log_dropped;		/* lines not written */
static int		 log_tee_fd = -1;	/* the invoker, while starting */
static int		 log_stamps;		/* stderr lines get the time */
static int		 log_format = LOG_FORMAT_TEXT;
static unsigned long long log_dropped_all;	/* since the start */

#define LOG_LINE_MAX	8192	/* a JSON line with every field */

static const char *const field_names[LOGF_MAX] = {
	[LOGF_CONN] = "conn",
	[LOGF_PEER_UID] = "peer_uid",
	[LOGF_PEER_GID] = "peer_gid",
	[LOGF_TRANSPORT] = "transport",
	[LOGF_KEY] = "key",
	[LOGF_OPERATION] = "operation",
	[LOGF_STATUS] = "status",
	[LOGF_REASON] = "reason",
	[LOGF_PEER] = "peer",
};
/* these are JSON numbers, the others strings */
#define FIELD_IS_NUMBER(id)	((id) == LOGF_CONN || (id) == LOGF_PEER_UID \
				    || (id) == LOGF_PEER_GID)

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
	char		 buf[LOG_LINE_MAX + 64], ts[32];
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
	char		 buf[LOG_LINE_MAX + 64], stamp[64];
	ssize_t		 n;
	int		 len;

	stamp[0] = '\0';
	/* a JSON line has its time inside */
	if (log_stamps && line[0] != '{')
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

/* log format text or json (enum log_format); the parent's alone. */
void
log_setformat(int format)
{
	log_format = format;
}

/* Lines that could not be written, since the start: show stats. */
uint64_t
log_dropped_total(void)
{
	return log_dropped_all;
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

/* A line being built; full once something did not fit. */
struct jline {
	char	*p;
	size_t	 len, cap;
	int	 full;
};

static void
jput(struct jline *j, const char *s, size_t n)
{
	if (j->full || n >= j->cap - j->len) {
		j->full = 1;
		return;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

static void
jraw(struct jline *j, const char *s)
{
	jput(j, s, strlen(s));
}

/* A JSON string of text log_escape() made printable ASCII. */
static void
jstr(struct jline *j, const char *s)
{
	jput(j, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			jput(j, "\\", 1);
		jput(j, s, 1);
	}
	jput(j, "\"", 1);
}

static const char *
level_name(int pri)
{
	static const char *const names[] = { "emerg", "alert", "crit",
	    "error", "warning", "notice", "info", "debug" };

	return pri >= 0 && pri <= LOG_DEBUG ? names[pri] : "unknown";
}

/*
 * One JSON object: time (UTC), level, process, message, then the
 * fields in their fixed order.  msg is escaped already; field values
 * are escaped here (numbers were checked to be digits).
 */
static int
json_line(char *buf, size_t size, int pri, const char *who, const char *msg,
    const struct log_kv *kv, size_t nkv)
{
	struct jline	 j = { buf, 0, size, 0 };
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[48], v[LOG_VALUE_MAX + 1];
	char		 safe[4 * LOG_VALUE_MAX + 1];
	size_t		 i;
	int		 id;

	buf[0] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + strlen(t), sizeof(t) - strlen(t), ".%03ldZ",
	    ts.tv_nsec / 1000000);
	jraw(&j, "{\"time\":");
	jstr(&j, t);
	jraw(&j, ",\"level\":");
	jstr(&j, level_name(pri));
	jraw(&j, ",\"process\":");
	log_escape(safe, sizeof(safe), who, strlen(who));
	jstr(&j, safe);
	jraw(&j, ",\"message\":");
	jstr(&j, msg);
	for (id = 0; id < LOGF_MAX; id++)
		for (i = 0; i < nkv; i++) {
			if (kv[i].id != id)
				continue;
			jraw(&j, ",\"");
			jraw(&j, field_names[id]);
			jraw(&j, "\":");
			strlcpy(v, kv[i].value, sizeof(v));
			if (FIELD_IS_NUMBER(id))
				jraw(&j, v);
			else {
				log_escape(safe, sizeof(safe), v, strlen(v));
				jstr(&j, safe);
			}
			break;
		}
	jraw(&j, "}");
	return j.full ? -1 : 0;
}

/*
 * A finished line (text, and its JSON form in log format json) to
 * stderr or syslog; the invoker, while lurkd starts, sees the text.
 */
static void
log_put(int pri, const char *text, const char *json)
{
	char		 note[128], jnote[512];
	const char	*line;
	int		 (*out)(int, const char *);
	int		 saved = errno;

	log_tee(pri, text);
	out = log_debug_mode ? log_stderr : syslog_line;
	if (log_dropped > 0) {
		snprintf(note, sizeof(note), "%llu log lines dropped: the log "
		    "could not be written", log_dropped);
		line = jnote;
		if (log_format != LOG_FORMAT_JSON || json_line(jnote,
		    sizeof(jnote), LOG_ERR, log_procname, note, NULL, 0) == -1)
			snprintf(jnote, sizeof(jnote), "%s: %s", log_procname,
			    note);
		if (out(LOG_ERR, line) == 0)
			log_dropped = 0;
	}
	if (log_dropped > 0 || out(pri, log_format == LOG_FORMAT_JSON &&
	    json != NULL ? json : text) == -1) {
		log_dropped++;
		log_dropped_all++;
	}
	errno = saved;
}

/* A raw line, "who: text" already: a child's goes to the parent. */
void
log_emit(int pri, const char *line)
{
	char	 safe[1024], json[LOG_LINE_MAX];
	int	 saved = errno;

	if (log_sink != NULL) {
		log_sink(pri, line, NULL, 0);
		errno = saved;
		return;
	}
	if (log_format == LOG_FORMAT_JSON) {
		log_escape(safe, sizeof(safe), line, strlen(line));
		if (json_line(json, sizeof(json), pri, log_procname, safe,
		    NULL, 0) == 0) {
			log_put(pri, line, json);
			return;
		}
	}
	log_put(pri, line, NULL);
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

/*
 * One line "who: text", text escaped, and its fields: who is what the
 * writer knows (the parent names a child as it knows it).  In log
 * format text the fields are not written: the text says the same.
 */
void
log_record(int pri, const char *who, const char *text, size_t len,
    const struct log_kv *kv, size_t nkv)
{
	char	 safe[1024], line[1100], json[LOG_LINE_MAX];
	int	 saved = errno;

	log_escape(safe, sizeof(safe), text, len);
	snprintf(line, sizeof(line), "%s: %s", who, safe);
	if (log_sink == NULL && log_format == LOG_FORMAT_JSON &&
	    json_line(json, sizeof(json), pri, who, safe, kv, nkv) == 0)
		log_put(pri, line, json);
	else
		log_emit(pri, line);
	errno = saved;
}

void
log_line(int pri, const char *who, const char *text, size_t len)
{
	log_record(pri, who, text, len, NULL, 0);
}

/* A line of this process, with fields. */
static void
log_fields(int pri, const char *msg, const struct log_kv *kv, size_t nkv)
{
	int	 saved = errno;

	if (log_sink != NULL)
		/* a child: the parent escapes it and says who wrote it */
		log_sink(pri, msg, kv, nkv);
	else
		log_record(pri, log_procname, msg, strlen(msg), kv, nkv);
	errno = saved;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fields(pri, msg, NULL, 0);
	errno = saved;
}

/*
 * A line about an operation: the text as always, and what it is about
 * as fields (key, operation, peer, transport, status, reason).
 */
void
log_op(int pri, const struct log_op *op, const char *fmt, ...)
{
	struct log_kv	 kv[LOGF_MAX];
	char		 msg[1024], num[3][24];
	size_t		 n = 0;
	va_list		 ap;
	int		 saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (op->conn >= 0) {
		snprintf(num[0], sizeof(num[0]), "%lld", (long long)op->conn);
		kv[n++] = (struct log_kv){ LOGF_CONN, num[0] };
	}
	if (op->uid >= 0) {
		snprintf(num[1], sizeof(num[1]), "%lld", (long long)op->uid);
		kv[n++] = (struct log_kv){ LOGF_PEER_UID, num[1] };
	}
	if (op->gid >= 0) {
		snprintf(num[2], sizeof(num[2]), "%lld", (long long)op->gid);
		kv[n++] = (struct log_kv){ LOGF_PEER_GID, num[2] };
	}
	if (op->transport != NULL)
		kv[n++] = (struct log_kv){ LOGF_TRANSPORT, op->transport };
	if (op->key != NULL)
		kv[n++] = (struct log_kv){ LOGF_KEY, op->key };
	if (op->operation != NULL)
		kv[n++] = (struct log_kv){ LOGF_OPERATION, op->operation };
	if (op->status != NULL)
		kv[n++] = (struct log_kv){ LOGF_STATUS, op->status };
	if (op->reason != NULL)
		kv[n++] = (struct log_kv){ LOGF_REASON, op->reason };
	if (op->peer != NULL)
		kv[n++] = (struct log_kv){ LOGF_PEER, op->peer };
	log_fields(pri, msg, kv, n);
	errno = saved;
}

/*
 * The fields after a child's line in IMSG_LOG (proc.c): each a byte,
 * its number, then its value and a NUL.  Each field at most once, a
 * value at most LOG_VALUE_MAX bytes, a number only digits.  -1 if p is
 * not exactly that; kv then points into p.
 */
int
log_fields_parse(const uint8_t *p, size_t len, struct log_kv *kv,
    size_t *nkv)
{
	const uint8_t	*nul;
	unsigned	 seen = 0;
	size_t		 vlen, i;
	int		 id;

	*nkv = 0;
	while (len > 0) {
		id = p[0];
		if (id >= LOGF_MAX || (seen & (1U << id)) || len < 2 ||
		    (nul = memchr(p + 1, '\0', len - 1)) == NULL)
			return -1;
		vlen = nul - (p + 1);
		if (vlen > LOG_VALUE_MAX || (FIELD_IS_NUMBER(id) &&
		    (vlen == 0 || vlen > 20)))
			return -1;
		for (i = 0; FIELD_IS_NUMBER(id) && i < vlen; i++)
			if (p[1 + i] < '0' || p[1 + i] > '9')
				return -1;
		seen |= 1U << id;
		kv[*nkv].id = id;
		kv[*nkv].value = (const char *)p + 1;
		(*nkv)++;
		len -= vlen + 2;
		p += vlen + 2;
	}
	return 0;
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
