/*
 * The listening sockets: what "lurkd -n" checks of them, binding them at
 * start, removing them at exit.  The workload sockets and the control
 * sockets are Unix sockets alike; listen on http is TCP.
 *
 * lurkd never destroys an operator's file: at a socket path it removes
 * only a stale socket (a socket nobody accepts on), and refuses anything
 * else.  At exit, or when a start fails, it removes the sockets it made
 * and only those.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"

/* The sockets this process made, by inode: what it may remove. */
static struct made {
	char	 path[PATH_MAX];
	dev_t	 dev;
	ino_t	 ino;
} made[LURKD_LISTEN_MAX + LURKD_CONTROL_MAX];
static int	 nmade;

static const char *
file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a socket";
}

static int
not_a_socket(const char *path, mode_t m)
{
	log_warnx("listen %s: the path exists and is %s: lurkd removes only "
	    "a stale socket there; move it away or listen elsewhere", path,
	    file_kind(m));
	return -1;
}

static int
split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	if (parent_dir(path, dir, dirlen) == -1) {
		log_warnx("listen %s: path too long", path);
		return -1;
	}
	*base = strrchr(path, '/') + 1;
	return 0;
}

/*
 * What binding will need, short of binding: the socket's directory, or
 * its parent (lurkd makes the last level), and no file other than a
 * socket at the path.  Whether a lurkd answers there is not checked:
 * "lurkd -n" before a restart runs while the old daemon still does.
 */
int
listen_check(const struct listenconf *l)
{
	struct stat	 st;
	char		 dir[PATH_MAX], up[PATH_MAX];
	const char	*base;

	if (split_path(l->path, dir, sizeof(dir), &base) == -1)
		return -1;
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT && parent_dir(dir, up, sizeof(up)) == 0 &&
		    stat(up, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		log_warn("listen %s: socket directory %s", l->path, dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("listen %s: %s is not a directory", l->path, dir);
		return -1;
	}
	if (lstat(l->path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return not_a_socket(l->path, st.st_mode);
	return 0;
}

/*
 * A socket is at the path: if someone accepts on it, it is in use; if
 * the connection is refused, it is stale and goes, provided the path
 * still names the inode we looked at.  The directory is the operator's
 * (only who may write in it could swap the file in between).
 */
static void
remove_stale(int dfd, const char *base, const struct sockaddr_un *sun,
    const struct stat *seen)
{
	struct stat	 st;
	int		 fd, rc, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (rc == 0)
		fatalx("%s: another lurkd is already running", sun->sun_path);
	if (saved != ECONNREFUSED) {
		errno = saved;
		fatal("%s: a socket is there and lurkd cannot tell whether it "
		    "is in use", sun->sun_path);
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)
		fatalx("%s: changed while lurkd looked at it", sun->sun_path);
	if (unlinkat(dfd, base, 0) == -1)
		fatal("%s: removing the stale socket", sun->sun_path);
	log_info("removed the stale socket %s", sun->sun_path);
}

/*
 * Give the socket its group and mode without following a symbolic link
 * or acting on a file someone swapped in after bind(2):
 *  - without a group, bind(2) creates the socket with exactly the mode
 *    (the umask decides a socket's mode), and nothing follows;
 *  - with a group, bind(2) creates it for its owner only, and the group
 *    and mode are then set through fd, an O_PATH descriptor of the path
 *    checked to be a socket of ours with one link: fchownat(AT_EMPTY_PATH)
 *    and chmod of /proc/self/fd/N act on the inode the descriptor holds,
 *    never on whatever the path names by then.  (fchmod(2) refuses
 *    O_PATH descriptors, and fchmodat(2) takes no AT_EMPTY_PATH before
 *    Linux 6.6.)  Until then nobody but the owner may connect.
 */
static void
set_group_mode(int fd, const struct listenconf *l)
{
	char	 proc[64];

	if (fchownat(fd, "", (uid_t)-1, l->gid, AT_EMPTY_PATH) == -1)
		fatal("listen %s: chown to gid %u", l->path, (unsigned)l->gid);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, l->mode) == -1)
		fatal("listen %s: chmod %04o (through %s)", l->path,
		    (unsigned)l->mode, proc);
}

int
listen_unix(struct listenconf *l)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	char			 dir[PATH_MAX];
	const char		*base;
	int			 fd, dfd, pfd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, l->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    nmade >= (int)(sizeof(made) / sizeof(made[0])) ||
	    split_path(l->path, dir, sizeof(dir), &base) == -1)
		fatalx("listen %s: path too long", l->path);

	/* lurkd makes the last level of the directory, not more */
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		fatal("listen %s: socket directory %s", l->path, dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("listen %s: socket directory %s", l->path, dir);
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			not_a_socket(l->path, st.st_mode);
			exit(1);
		}
		remove_stale(dfd, base, &sun, &st);
	} else if (errno != ENOENT)
		fatal("listen %s", l->path);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	old = umask(l->has_group ? 0077 : ~l->mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", l->path);
	umask(old);
	/* from here on, what is done to the socket is done through pfd */
	if ((pfd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(pfd, &st) == -1)
		fatal("listen %s", l->path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1)
		fatalx("listen %s: not the socket lurkd bound", l->path);
	strlcpy(made[nmade].path, l->path, sizeof(made[nmade].path));
	made[nmade].dev = st.st_dev;
	made[nmade].ino = st.st_ino;
	nmade++;
	if (l->has_group)
		set_group_mode(pfd, l);
	close(pfd);
	close(dfd);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", l->path);
	return fd;
}

/*
 * The directory of each control socket is not the directory of any
 * workload socket, compared as directories (a symbolic link, a bind
 * mount, "a/../b" are seen through): a workload's mount of its socket's
 * directory must never reach the control socket.  Directories that do
 * not exist yet are not compared (lurkd -n; lurkd checks again once it
 * has made them).
 */
int
listen_dirs_check(const struct lurkd_conf *lc)
{
	const struct listenconf	*c, *l;
	struct stat		 cs, ls;
	char			 cd[PATH_MAX], ld[PATH_MAX];
	int			 rv = 0;

	TAILQ_FOREACH(c, &lc->controls, entry) {
		if (parent_dir(c->path, cd, sizeof(cd)) == -1 ||
		    stat(cd, &cs) == -1)
			continue;
		TAILQ_FOREACH(l, &lc->listeners, entry) {
			if (parent_dir(l->path, ld, sizeof(ld)) == -1 ||
			    stat(ld, &ls) == -1 || cs.st_dev != ls.st_dev ||
			    cs.st_ino != ls.st_ino)
				continue;
			log_warnx("control socket %s: its directory %s is the "
			    "directory of the workload socket %s (%s): give "
			    "it a directory of its own", c->path, cd, l->path,
			    ld);
			rv = -1;
		}
	}
	return rv;
}

/*
 * listen on http|tls: a TCP socket on the address, IPv6 only for an
 * IPv6 address (so that "::" and "0.0.0.0" can both be given).
 */
int
listen_tcp(int family, const char *addr, uint16_t port, const char *what)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			fatalx("listen on %s %s: not an address", what, addr);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			fatalx("listen on %s %s: not an address", what, addr);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("listen on %s %s port %u: socket", what, addr, port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1))
		fatal("listen on %s %s port %u: setsockopt", what, addr,
		    port);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		fatal("listen on %s %s port %u", what, addr, port);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen on %s %s port %u: listen", what, addr, port);
	return fd;
}

/* At exit, after a failed start too: the sockets made here, if still. */
void
listen_remove(void)
{
	struct stat	 st;
	int		 i;

	for (i = 0; i < nmade; i++)
		if (lstat(made[i].path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == made[i].dev && st.st_ino == made[i].ino &&
		    unlink(made[i].path) == -1)
			log_warn("unlink %s", made[i].path);
	nmade = 0;
}
