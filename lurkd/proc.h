/*
 * Process plumbing shared by the parent and its children: the process
 * table, fork + re-exec, the child's channel to the parent.
 */
#ifndef LURKD_PROC_H
#define LURKD_PROC_H

#include <sys/types.h>

#include "imsg.h"
#include "lurkd.h"

/* Built with AddressSanitizer (make SANITIZE=1), by gcc or by clang. */
#if defined(__SANITIZE_ADDRESS__)
#define LURKD_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LURKD_ASAN	1
#endif
#endif

/* What the parent sends each child first: how to lock itself down. */
struct conf_sandbox {
	int		 root;		/* started as root: chroot + setuid */
	uid_t		 uid;
	gid_t		 gid;
	char		 user[LURKD_NAME_MAX];
	char		 chroot[PATH_MAX];
};

struct child {
	enum proc_id	 id;
	int		 instance;
	pid_t		 pid;
	int		 alive;
	int		 ready;		/* it said IMSG_READY */
	int		 signaled;	/* the signal we stopped it with */
	struct imsgbuf	 ibuf;		/* the parent's end */
	char		 name[32];	/* "keyproc[0]", "netproc" */
};

const char	*proc_title(enum proc_id);
enum proc_id	 proc_byname(const char *);
void		 proc_name(enum proc_id, int, char *, size_t);

/* parent */
pid_t	 proc_exec(const char *, enum proc_id, int, int, int, int);

/* child */
struct imsgbuf	*proc_child_init(enum proc_id, int);
void		 proc_child_ready(void);
uint32_t	 proc_imsg_gen(struct imsg *, const char *);
int		 proc_compose_parent(uint32_t, int, const void *, size_t);
void		 proc_log_flush(void);
int		 proc_log_pending(void);
uint64_t	 proc_log_dropped_total(void);
void		 proc_trip_hook(enum proc_id);
void		 proc_trip_request(enum proc_id);

/* sandbox.c */
void	 sandbox_drop(const struct conf_sandbox *, const char *);
void	 sandbox_harden(void);
void	 sandbox_parent(int);
void	 sandbox_files(int);

struct sandbox_policy {
	const int	*allow;		/* syscall numbers allowed outright */
	size_t		 nallow;
	const int	*soft;		/* syscalls answered with EACCES */
	size_t		 nsoft;
	int		 no_exec;	/* mmap/mprotect without PROT_EXEC */
	int		 outbound;	/* TCP connections out (upstream) */
};
void	 sandbox_load(const char *, const struct sandbox_policy *);

/* keyproc/keyproc.c, netproc/netproc.c */
__attribute__((__noreturn__)) void	keyproc_main(int, int);
__attribute__((__noreturn__)) void	netproc_main(int);

#endif
