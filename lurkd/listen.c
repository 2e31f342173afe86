/*
 * The listening sockets: what "lurkd -n" checks of them, binding them at
 * start, removing them at exit.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"

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

	if (parent_dir(l->path, dir, sizeof(dir)) == -1 ||
	    parent_dir(dir, up, sizeof(up)) == -1) {
		log_warnx("listen %s: path too long", l->path);
		return -1;
	}
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT && stat(up, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0;
		log_warn("listen %s: socket directory %s", l->path, dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("listen %s: %s is not a directory", l->path, dir);
		return -1;
	}
	if (lstat(l->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_warnx("listen %s: exists and is not a socket", l->path);
		return -1;
	}
	return 0;
}

int
listen_unix(struct listenconf *l)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	char			 dir[PATH_MAX];
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, l->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("socket path %s: too long", l->path);

	/* one daemon per socket: if it answers, someone is there */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("%s: another lurkd is already running", l->path);
	close(fd);
	if (unlink(l->path) == -1 && errno != ENOENT)
		fatal("unlink %s", l->path);

	strlcpy(dir, l->path, sizeof(dir));
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", l->path);
	umask(old);
	if (l->has_group && chown(l->path, -1, l->gid) == -1)
		fatal("chown %s to gid %u", l->path, (unsigned)l->gid);
	if (chmod(l->path, l->mode) == -1)
		fatal("chmod %s", l->path);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", l->path);
	return fd;
}

void
listen_remove(const struct lurkd_conf *conf)
{
	struct listenconf	*l;

	if (conf == NULL)
		return;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		unlink(l->path);
}
