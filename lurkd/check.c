/*
 * Checks a start and "lurkd -n" share: the user the children run as and
 * their chroot directory.  Each says what is wrong and returns -1; a
 * start then exits, "lurkd -n" goes on and reports every problem.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"

/* Started as root: the children run as conf->user. */
int
user_ok(const struct lurkd_conf *conf, const char *conffile,
    struct conf_sandbox *sb)
{
	struct passwd	*pw;

	if ((pw = getpwnam(conf->user)) == NULL) {
		log_warnx("unknown user %s: create it (e.g. useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin %s) or set "
		    "\"user\" in %s", conf->user, conf->user, conffile);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx("user %s is root: pick an unprivileged user",
		    conf->user);
		return -1;
	}
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	strlcpy(sb->user, conf->user, sizeof(sb->user));
	strlcpy(sb->chroot, conf->chroot, sizeof(sb->chroot));
	return 0;
}

/*
 * The chroot directory must exist, belong to root, be writable by nobody
 * else and be empty: the sandboxed children see nothing in it.  With
 * create, a missing one is made (root-owned, 0755); without (lurkd -n),
 * *missing says it would be.
 */
int
chroot_ok(const char *dir, int create, int *missing)
{
	struct stat	 st;
	char		 path[PATH_MAX], *p;

	*missing = 0;
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT) {
			log_warn("chroot %s", dir);
			return -1;
		}
		if (!create) {
			*missing = 1;
			return 0;
		}
		/* make it, and its parents, root-owned 0755 */
		strlcpy(path, dir, sizeof(path));
		for (p = path + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(path, 0755) == -1 && errno != EEXIST) {
				log_warn("chroot: mkdir %s", path);
				return -1;
			}
			*p = '/';
		}
		if ((mkdir(path, 0755) == -1 && errno != EEXIST) ||
		    stat(dir, &st) == -1) {
			log_warn("chroot %s", dir);
			return -1;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("chroot %s: not a directory", dir);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_warnx("chroot %s: must be owned by root and writable by "
		    "nobody else", dir);
		return -1;
	}
	if (st.st_nlink > 2) {
		log_warnx("chroot %s: must be empty", dir);
		return -1;
	}
	return 0;
}
