/*
 * Logging for every lurkd process.  The parent writes to stderr (-d) or
 * syslog; children hand each line to the parent over their imsg channel
 * once it is set up (log_setsink), because their sandbox forbids socket().
 */
#ifndef LURKD_LOG_H
#define LURKD_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Where a child sends a finished line: (priority, text). */
typedef void	(*log_sink_fn)(int, const char *);

void	log_init(int debug, int facility);
void	log_procinit(const char *procname);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_setsink(log_sink_fn sink);
void	log_emit(int pri, const char *line);	/* raw line, no prefix */
void	log_settee(int fd);
void	log_escape(char *, size_t, const char *, size_t);
void	log_line(int, const char *, const char *, size_t);
void	log_settimestamps(int on);

void	log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((__format__(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((__format__(printf, 1, 2)))
	    __attribute__((__noreturn__));
void	fatalx(const char *, ...) __attribute__((__format__(printf, 1, 2)))
	    __attribute__((__noreturn__));

#endif
