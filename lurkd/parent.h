/*
 * The parent's own modules (lurkd/): daemon start and pid file, listening
 * sockets, the checks a start and "lurkd -n" share.
 */
#ifndef LURKD_PARENT_H
#define LURKD_PARENT_H

#include <stddef.h>

#include "lurkd.h"
#include "proc.h"

/* daemon.c */
int	 parent_dir(const char *, char *, size_t);
void	 daemon_start(void);
void	 daemon_ready(void);
int	 pidfile_ok(const char *);
void	 pidfile_create(const char *);
void	 pidfile_unlink(void);

/* check.c */
int	 user_ok(const struct lurkd_conf *, const char *,
	    struct conf_sandbox *);
int	 chroot_ok(const char *, int, int *);

/* listen.c */
int	 listen_check(const struct listenconf *);
int	 listen_unix(struct listenconf *);
int	 listen_tcp(const struct httpconf *);
int	 listen_dirs_check(const struct lurkd_conf *);
void	 listen_remove(void);

#endif
