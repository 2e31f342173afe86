/*
 * The parent's own modules (lurkd/): daemon start and pid file, listening
 * sockets, the checks a start and "lurkd -n" share.
 */
#ifndef LURKD_PARENT_H
#define LURKD_PARENT_H

#include <stddef.h>

/* daemon.c */
int	 parent_dir(const char *, char *, size_t);
void	 daemon_start(void);
void	 daemon_ready(void);
int	 pidfile_ok(const char *);
void	 pidfile_create(const char *);
void	 pidfile_unlink(void);

#endif
