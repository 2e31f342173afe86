/*
 * Lockdown shared by keyproc and netproc (DESIGN.md "Lockdown per
 * process"): chroot + setuid when started as root, no capabilities,
 * no_new_privs, not dumpable, no core files, then a seccomp allowlist
 * whose violation kills the whole process.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "proc.h"

/*
 * A sanitizer build (make SANITIZE=1) only: the AddressSanitizer runtime
 * makes system calls of its own in a sandboxed child.  It asks for the
 * alternate signal stack on every call of a noreturn function (exit,
 * fatal, the event loops) and while reporting an error; that is allowed.
 * While reporting it also looks for the executable's name, whether
 * stderr is a terminal and whether memory is readable (through a pipe):
 * those are answered with EACCES, and the report comes out all the same.
 * A normal build has none of this (LURKD_ASAN: proc.h).
 */
#ifdef LURKD_ASAN
static const int asan_allow[] = {
	SCMP_SYS(sigaltstack),
};
static const int asan_soft[] = {
	SCMP_SYS(readlink), SCMP_SYS(ioctl), SCMP_SYS(pipe), SCMP_SYS(pipe2),
};
static int	 sandboxed;

/*
 * LeakSanitizer's check at exit needs a thread, ptrace and /proc: a child
 * that has locked itself down has none of them (its chroot has no /proc,
 * its seccomp filter allows neither clone nor ptrace), so it skips the
 * check from then on.  The parent and the unit tests keep it.
 */
int	 __lsan_is_turned_off(void);
int
__lsan_is_turned_off(void)
{
	return sandboxed;
}
#endif

/* Process-wide limits every process of lurkd gets, the parent too. */
void
sandbox_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("%s: setrlimit RLIMIT_CORE", __func__);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
}

/*
 * The parent, once its children run, keeps only what it still needs: it
 * stops its children at exit (CAP_KILL, when they run as another user)
 * and removes its sockets and pid file, which needs no capability in
 * directories root owns.  A reload re-reads the configuration and
 * reopens the key and certificate files, and the watch (watch.c) looks
 * at their directories: a start opened them with root's whole file
 * access, and a reload must open the same files, which need not be
 * root's own (a key of its service user at 0400, a directory of
 * another user at 0700).  That takes CAP_DAC_READ_SEARCH (read and
 * search only; CAP_DAC_OVERRIDE would also write): it stays permitted,
 * not effective, and sandbox_files() raises it only while the parent
 * reads those files.  The parent parses nothing its children send but
 * fixed structs and log lines, and executes nothing.  Every other
 * capability goes, from the bounding set too where it may (CAP_SETPCAP),
 * so that nothing can take them back.
 */
static int	 files_cap;	/* CAP_DAC_READ_SEARCH kept permitted */

void
sandbox_parent(int children_other_uid)
{
	int	 dac;

	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return;
	dac = capng_have_capability(CAPNG_PERMITTED, CAP_DAC_READ_SEARCH);
	capng_clear(CAPNG_SELECT_BOTH);
	if (children_other_uid && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE |
	    CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_KILL) != 0)
		fatalx("%s: capng_update", __func__);
	if (dac && capng_update(CAPNG_ADD, CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_DAC_READ_SEARCH) != 0)
		fatalx("%s: capng_update", __func__);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0) {
		/* no CAP_SETPCAP: the bounding set stays, the rest goes */
		if (capng_apply(CAPNG_SELECT_CAPS) != 0)
			fatalx("%s: cannot drop capabilities", __func__);
		log_debug("capabilities dropped, the bounding set kept");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
	files_cap = dac;
}

/*
 * Around the parent's reading of the configuration and the key files
 * after start: CAP_DAC_READ_SEARCH effective (on) or not (off).  Before
 * sandbox_parent(), and without the capability, nothing to do.
 */
void
sandbox_files(int on)
{
	if (!files_cap)
		return;
	capng_get_caps_process();
	if (capng_update(on ? CAPNG_ADD : CAPNG_DROP, CAPNG_EFFECTIVE,
	    CAP_DAC_READ_SEARCH) != 0 || capng_apply(CAPNG_SELECT_CAPS) != 0)
		fatalx("%s: cannot %s CAP_DAC_READ_SEARCH", __func__,
		    on ? "raise" : "lower");
}

void
sandbox_drop(const struct conf_sandbox *sb, const char *who)
{
#ifdef LURKD_ASAN
	sandboxed = 1;
#endif
	if (sb->root) {
		if (chroot(sb->chroot) == -1)
			fatal("%s: chroot %s", who, sb->chroot);
		if (chdir("/") == -1)
			fatal("%s: chdir /", who);
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_change_id(sb->uid, sb->gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0)
			fatalx("%s: cannot change to uid %u gid %u", who,
			    (unsigned)sb->uid, (unsigned)sb->gid);
		/* belt and braces: the switch must be irreversible */
		if (setuid(0) != -1 || seteuid(0) != -1)
			fatalx("%s: could regain root", who);
	} else {
		/* whatever capabilities we were given, we give up */
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_apply(CAPNG_SELECT_CAPS) != 0)
			fatalx("%s: cannot clear capabilities", who);
	}
	sandbox_harden();
}

static void
add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const char *who)
{
	int	 rc;

	if ((rc = seccomp_rule_add(ctx, action, nr, 0)) < 0)
		fatalx("%s: seccomp_rule_add %d: %s", who, nr, strerror(-rc));
}

/*
 * Load an allowlist.  Anything not listed kills the process with SIGSYS
 * (SCMP_ACT_KILL_PROCESS), so the parent sees it in waitpid and logs it.
 */
void
sandbox_load(const char *who, const struct sandbox_policy *pol)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init", who);
	for (i = 0; i < pol->nallow; i++)
		add_rule(ctx, SCMP_ACT_ALLOW, pol->allow[i], who);
	for (i = 0; i < pol->nsoft; i++)
		add_rule(ctx, SCMP_ACT_ERRNO(EACCES), pol->soft[i], who);
#ifdef LURKD_ASAN
	for (i = 0; i < sizeof(asan_allow) / sizeof(asan_allow[0]); i++)
		add_rule(ctx, SCMP_ACT_ALLOW, asan_allow[i], who);
	for (i = 0; i < sizeof(asan_soft) / sizeof(asan_soft[0]); i++)
		add_rule(ctx, SCMP_ACT_ERRNO(EACCES), asan_soft[i], who);
	sandboxed = 1;
#endif
	if (pol->no_exec) {
		/* memory may be mapped, never executable */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap),
		    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
			fatalx("%s: seccomp mmap rule: %s", who, strerror(-rc));
	} else {
		add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), who);
		add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), who);
	}
	if (pol->outbound) {
		/* TCP over IPv4 or IPv6, and nothing else: its flags aside */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_INET),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM))) < 0 ||
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_INET6),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM))) < 0)
			fatalx("%s: seccomp socket rule: %s", who,
			    strerror(-rc));
		add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), who);
	}
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("%s: seccomp_load: %s", who, strerror(-rc));
	seccomp_release(ctx);
	log_debug("seccomp filter loaded");
}
