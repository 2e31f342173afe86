/*
 * Becoming a daemon without hiding failures, and the pid file.
 *
 * Without -d the process the operator started forks the daemon and then
 * waits on a pipe: the daemon copies its warnings and errors into it
 * while it starts (log_settee) and, once every child has said READY,
 * writes one NUL byte and closes it.  The waiting process prints the
 * lines on its stderr and exits 0 after the NUL, 1 if the pipe closes
 * without it: a start that fails says why and exits non-zero even with
 * no syslog daemon, as sshd and nginx do.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"

static int	 ready_fd = -1;
static int	 pid_written;
static dev_t	 pid_dev;
static ino_t	 pid_ino;
static char	 pid_path[PATH_MAX];

/* The directory part of an absolute path. */
int
parent_dir(const char *path, char *dir, size_t len)
{
	const char	*slash;

	errno = 0;
	if ((slash = strrchr(path, '/')) == NULL || (size_t)(slash - path) >=
	    len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (slash == path)
		strlcpy(dir, "/", len);
	else {
		memcpy(dir, path, slash - path);
		dir[slash - path] = '\0';
	}
	return 0;
}

/* The invoker: relay the daemon's lines until it is ready or gone. */
static __attribute__((__noreturn__)) void
daemon_wait(int fd, pid_t pid)
{
	char	 buf[4096], line[1200];
	size_t	 len = 0;
	ssize_t	 n, i;
	int	 status, ready = 0, said = 0;

	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\0') {
				ready = 1;
				continue;
			}
			if (buf[i] != '\n' && len < sizeof(line) - 1) {
				line[len++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;	/* over long: cut */
			line[len] = '\0';
			fprintf(stderr, "lurkd: %s\n", line);
			said = 1;
			len = 0;
		}
	}
	if (ready)
		exit(0);
	/* it is exiting, or dead: reap it */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!said) {
		if (WIFSIGNALED(status))
			fprintf(stderr, "lurkd: killed by signal %d before it "
			    "was ready\n", WTERMSIG(status));
		else
			fprintf(stderr, "lurkd: exited before it was ready "
			    "(status %d); see the system log\n",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	exit(1);
}

/* Fork; the caller goes on as the daemon, the invoker waits for it. */
void
daemon_start(void)
{
	pid_t	 pid;
	int	 p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("%s: pipe", __func__);
	switch (pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		break;
	default:
		close(p[1]);
		daemon_wait(p[0], pid);
	}
	close(p[0]);
	/* as daemon(3): a session of our own, no terminal, stdio on null */
	if (setsid() == -1)
		fatal("%s: setsid", __func__);
	if (chdir("/") == -1)
		fatal("%s: chdir /", __func__);
	if ((fd = open(_PATH_DEVNULL, O_RDWR)) == -1)
		fatal("%s: %s", __func__, _PATH_DEVNULL);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		fatal("%s: dup2", __func__);
	if (fd > STDERR_FILENO)
		close(fd);
	ready_fd = p[1];
	log_settee(ready_fd);
}

/* Every child is ready: let the invoker go. */
void
daemon_ready(void)
{
	ssize_t	 n;

	if (ready_fd == -1)
		return;
	log_settee(-1);
	do
		n = write(ready_fd, "", 1);
	while (n == -1 && errno == EINTR);
	close(ready_fd);
	ready_fd = -1;
}

/*
 * A pid file may replace only a pid file: a path that names anything
 * else (a configuration pasted in the wrong place, a directory) is an
 * error, never overwritten.  Its directory must exist.
 */
int
pidfile_ok(const char *path)
{
	struct stat	 st;
	char		 dir[PATH_MAX], buf[32];
	ssize_t		 n, i;
	int		 fd;

	if (path[0] == '\0')
		return 0;
	if (parent_dir(path, dir, sizeof(dir)) == -1) {
		log_warnx("pidfile %s: path too long", path);
		return -1;
	}
	if (stat(dir, &st) == -1) {
		log_warn("pidfile %s: directory %s", path, dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("pidfile %s: %s is not a directory", path, dir);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warnx("pidfile %s: %s%s", path, errno == ELOOP ?
		    "a symbolic link: " : "", errno == ELOOP ?
		    "lurkd replaces only a pid file" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		log_warnx("pidfile %s: not a regular file: lurkd replaces "
		    "only a pid file", path);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	/* empty, or digits and perhaps a newline */
	for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		;
	if (n != 0 && (n < 0 || n == sizeof(buf) || i == 0 ||
	    (i != n && (i != n - 1 || buf[i] != '\n')))) {
		log_warnx("pidfile %s: exists and does not hold a pid: lurkd "
		    "replaces only a pid file", path);
		return -1;
	}
	return 0;
}

/*
 * Write our pid to a new file beside the pid file and rename it over:
 * a reader never sees a half-written file, and a symbolic link at the
 * path is replaced, never followed.
 */
void
pidfile_create(const char *path)
{
	struct stat	 st;
	char		 tmp[PATH_MAX], dir[PATH_MAX], pid[32];
	int		 fd, len;

	if (path[0] == '\0')
		return;
	if (parent_dir(path, dir, sizeof(dir)) == -1 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.lurkd.pid.XXXXXX", dir) >=
	    sizeof(tmp))
		fatalx("pidfile %s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		fatal("pidfile %s: %s", path, tmp);
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (fchmod(fd, 0644) == -1 || write(fd, pid, len) != len ||
	    fstat(fd, &st) == -1 || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		log_warn("pidfile %s", path);
		unlink(tmp);
		fatalx("pidfile %s: cannot write it", path);
	}
	strlcpy(pid_path, path, sizeof(pid_path));
	pid_dev = st.st_dev;
	pid_ino = st.st_ino;
	pid_written = 1;
}

/* At exit: remove the pid file if it is still the one we wrote. */
void
pidfile_unlink(void)
{
	struct stat	 st;

	if (!pid_written)
		return;
	pid_written = 0;
	if (lstat(pid_path, &st) == 0 && st.st_dev == pid_dev &&
	    st.st_ino == pid_ino && unlink(pid_path) == -1)
		log_warn("pidfile %s: unlink", pid_path);
}
