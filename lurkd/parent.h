/*
 * The parent's own modules (lurkd/): daemon start and pid file, listening
 * sockets, the checks a start and "lurkd -n" share.
 */
#ifndef LURKD_PARENT_H
#define LURKD_PARENT_H

#include <stddef.h>

#include "lurkd.h"
#include "proc.h"

/* lurkd.c: the parent's state and what reload.c shares of it */
struct keyset {
	struct keyconf		**tab;		/* the key blocks by index, */
						/* then the TLS listeners' */
	struct key_loaded	 *loaded;	/* by keyproc[0]; index + 1 */
	int			  n;		/* all */
	int			  nedge;	/* the key blocks */
	int			  ntls;		/* then the listeners' */
						/* then the upstreams' */
};
extern struct lurkd_conf	*conf;
extern const char		*conffile;
extern struct keyset		 keyset;
extern struct child		*children;
extern int			 nchildren;
extern struct ctl_status	 ctlstatus;

void	 keyset_build(struct keyset *, struct lurkd_conf *);
void	 keyset_free(struct keyset *);
int	 keyset_loaded(struct keyset *, const struct key_loaded *, char *,
	    size_t);
void	 compose(struct child *, uint32_t, int, const void *, size_t);
int	 open_key_files(const struct keyconf *, int *, int *, char *, size_t);
void	 key_mode_warn(int, const struct keyconf *);
void	 send_key_files(struct child *, int, int, const struct keyconf *,
	    int, int);
void	 send_policies(struct child *, const struct keyset *);
void	 global_config(struct conf_global *, const struct lurkd_conf *,
	    const struct keyset *, int);
void	 tls_key_name(const struct tlsconf *, char *, size_t);
int	 open_key_file(const char *, const char *, const char *, char *,
	    size_t);
int	 open_tls_files(const struct tlsconf *, int *, char *, size_t);
void	 send_tls_files(struct child *, const struct lurkd_conf *, int *);
void	 send_status(void);
void	 status_confhash(void);

/* reload.c */
void	 reload(const char *);
void	 reload_ready(void);
void	 reload_dispatch(struct child *, struct imsg *);

/* watch.c */
void	 watch_files_begin(void);
void	 watch_file(const char *, int);
void	 watch_files_end(void);
void	 watch_enable(int);
int	 watch_fd(void);
void	 watch_read(void);
int	 watch_timeout(void);
void	 watch_expired(void);

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

/* upstream.c: what the parent does for the upstreams */
struct upstate {
	int			 n;
	struct conf_upstream	 cu[LURKD_UPSTREAM_MAX];
	int			 cafd[LURKD_UPSTREAM_MAX];
};
int	 upstream_prepare(const struct lurkd_conf *, struct upstate *,
	    char *, size_t);
void	 upstream_close(struct upstate *);
void	 upstream_send(struct child *, const struct lurkd_conf *,
	    struct upstate *);

/* listen.c */
int	 listen_check(const struct listenconf *);
int	 listen_unix(struct listenconf *);
int	 listen_tcp(int, const char *, uint16_t, const char *);
int	 listen_dirs_check(const struct lurkd_conf *);
void	 listen_remove(void);

#endif
