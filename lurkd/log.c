#include <errno.h>
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

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	if (!debug)
		openlog("lurkd", LOG_PID | LOG_NDELAY, facility);
	tzset();
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

void
log_emit(int pri, const char *line)
{
	int	 saved = errno;

	if (log_sink != NULL)
		log_sink(pri, line);
	else if (log_debug_mode) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);
	errno = saved;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[1024], line[1100];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Escape control characters: a peer's bytes must not forge lines. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(line, sizeof(line), "%s: %s", log_procname, msg);
	log_emit(pri, line);
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
