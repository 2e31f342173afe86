/*
 * lurkd/log.c for the fuzz targets.  Every message is still formatted, so
 * that a bad argument (a string without its NUL, a wrong pointer) shows
 * up under ASan, and then dropped: a fuzzer must not print per input.
 * fatal() and fatalx() abort: in the code a fuzz target drives, an input
 * must never reach them (the targets keep the inputs that would make a
 * process exit on purpose, fail closed, away from them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lurkd.h"
#include "proc.h"

static volatile size_t	 sink;

static void
consume(const char *fmt, va_list ap)
{
	char	 buf[1100];
	int	 n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	sink += n > 0 ? (size_t)n + strlen(buf) : 0;
}

void
log_init(int debug, int facility)
{
}

void
log_procinit(const char *procname)
{
}

void
log_setverbose(int verbose)
{
}

int
log_getverbose(void)
{
	return 1;	/* format the debug lines too */
}

void
log_setsink(log_sink_fn fn)
{
}

void
log_emit(int pri, const char *line)
{
	sink += strlen(line);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	consume(fmt, ap);
}

#define LOGFN(name)				\
void						\
name(const char *fmt, ...)			\
{						\
	va_list	 ap;				\
						\
	va_start(ap, fmt);			\
	consume(fmt, ap);			\
	va_end(ap);				\
}
void
log_op(int pri, const struct log_op *op, const char *fmt, ...)
{
	va_list	 ap;

	/* what a real log line would read of the fields */
	sink += (op->transport ? strlen(op->transport) : 0) +
	    (op->key ? strlen(op->key) : 0) +
	    (op->operation ? strlen(op->operation) : 0) +
	    (op->status ? strlen(op->status) : 0) +
	    (op->reason ? strlen(op->reason) : 0);
	va_start(ap, fmt);
	consume(fmt, ap);
	va_end(ap);
}

LOGFN(log_warn)
LOGFN(log_warnx)
LOGFN(log_info)
LOGFN(log_debug)

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "fatal() reached: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "fatalx() reached: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* lurkd/proc.c: the test builds' seccomp trip; never in a fuzz target */
void
proc_trip_request(enum proc_id id)
{
}

/* lurkd/proc.c: lines a child could not send (netproc/stats.c) */
uint64_t
proc_log_dropped_total(void)
{
	return 0;
}
