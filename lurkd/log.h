/*
 * Logging for every lurkd process.  The parent writes to stderr (-d) or
 * syslog; children hand each line to the parent over their imsg channel
 * once it is set up (log_setsink), because their sandbox forbids socket().
 */
#ifndef LURKD_LOG_H
#define LURKD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

/*
 * The fields a line about an operation carries besides its text, for
 * log format json (lurkd.conf(5)).  A child sends them by number; the
 * parent writes the names, and the time, level and process itself, so
 * that no child can speak for another process.
 */
enum log_field {
	LOGF_CONN,		/* number: the connection */
	LOGF_PEER_UID,		/* number */
	LOGF_PEER_GID,		/* number */
	LOGF_TRANSPORT,		/* "unix" */
	LOGF_KEY,
	LOGF_OPERATION,
	LOGF_STATUS,
	LOGF_REASON,
	LOGF_PEER,		/* a TLS peer's certificate identity */
	LOGF_MAX
};
#define LOG_VALUE_MAX	256	/* bytes of a field's value */

struct log_kv {
	int			 id;	/* enum log_field */
	const char		*value;
};

/* What log_op() says of an operation: NULL, or -1, where unknown. */
struct log_op {
	int64_t			 conn;
	int64_t			 uid;
	int64_t			 gid;
	const char		*transport;
	const char		*key;
	const char		*operation;
	const char		*status;
	const char		*reason;
	const char		*peer;		/* TLS: the certificate's */
};

/* Where a child sends a finished line: (priority, text, fields). */
typedef void	(*log_sink_fn)(int, const char *, const struct log_kv *,
		    size_t);

void	log_init(int debug, int facility);
void	log_procinit(const char *procname);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_setsink(log_sink_fn sink);
void	log_emit(int pri, const char *line);	/* raw line, no prefix */
void	log_settee(int fd);
void	log_escape(char *, size_t, const char *, size_t);
void	log_line(int, const char *, const char *, size_t);
void	log_record(int, const char *, const char *, size_t,
	    const struct log_kv *, size_t);
int	log_fields_parse(const uint8_t *, size_t, struct log_kv *,
	    size_t *);
void	log_settimestamps(int on);
void	log_setformat(int);		/* enum log_format */
uint64_t log_dropped_total(void);

void	log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_op(int, const struct log_op *, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
void	vlog(int, const char *, va_list) __attribute__((__format__(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((__format__(printf, 1, 2)))
	    __attribute__((__noreturn__));
void	fatalx(const char *, ...) __attribute__((__format__(printf, 1, 2)))
	    __attribute__((__noreturn__));

#endif
