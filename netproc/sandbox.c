/*
 * netproc's seccomp allowlist: its epoll loop, the sockets it was given
 * and accepts on, its imsg channels, memory, time, randomness.  It cannot
 * open files, execute or fork, nor create sockets or connect unless it
 * relays to an upstream: then TCP sockets and connect(2) only.
 */
#include <seccomp.h>
#include <stddef.h>

#include "lurkd.h"
#include "netproc.h"
#include "proc.h"

static const int netproc_allow[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(accept4), SCMP_SYS(accept), SCMP_SYS(getsockopt),
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64),	/* a reload's CA and CRL files, given */
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(close),
	SCMP_SYS(fcntl), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),	/* after SIGSTOP/SIGCONT, a tracer */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static const int netproc_soft[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
};

void
netproc_sandbox(void)
{
	struct sandbox_policy	 pol = {
		netproc_allow, sizeof(netproc_allow) / sizeof(int),
		netproc_soft, sizeof(netproc_soft) / sizeof(int),
		1, np->nupstream > 0
	};

	sandbox_load("netproc", &pol);
}
