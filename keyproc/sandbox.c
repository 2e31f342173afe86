/*
 * keyproc's seccomp allowlist: the tightest in lurkd.  It reads and writes
 * its two imsg channels, reads the key files the parent passes it at a
 * reload, uses memory, time and randomness, and exits.
 * No open, socket, connect, execve, fork, ptrace; no executable memory.
 */
#include <seccomp.h>
#include <stddef.h>

#include "keyproc.h"
#include "lurkd.h"
#include "proc.h"

static const int keyproc_allow[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64),	/* a reload's key files: fds from the parent */
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),	/* after SIGSTOP/SIGCONT, a tracer */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* libc and OpenSSL may probe files; they get EACCES, not a kill */
static const int keyproc_soft[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
};

void
keyproc_sandbox(void)
{
	struct sandbox_policy	 pol = {
		.allow = keyproc_allow,
		.nallow = sizeof(keyproc_allow) / sizeof(int),
		.soft = keyproc_soft,
		.nsoft = sizeof(keyproc_soft) / sizeof(int),
		.no_exec = 1,
	};

	sandbox_load("keyproc", &pol);
}
