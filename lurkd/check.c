/*
 * Checks a start and "lurkd -n" share: the user the children run as and
 * their chroot directory.  Each says what is wrong and returns -1; a
 * start then exits, "lurkd -n" goes on and reports every problem.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"

/* Started as root: the children run as c->user. */
int
user_ok(const struct lurkd_conf *c, const char *file,
    struct conf_sandbox *sb)
{
	struct passwd	*pw;

	if ((pw = getpwnam(c->user)) == NULL) {
		log_warnx("unknown user %s: create it (e.g. useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin %s) or set "
		    "\"user\" in %s", c->user, c->user, file);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx("user %s is root: pick an unprivileged user",
		    c->user);
		return -1;
	}
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	strlcpy(sb->user, c->user, sizeof(sb->user));
	strlcpy(sb->chroot, c->chroot, sizeof(sb->chroot));
	return 0;
}

/* One directory on the way to the chroot: root's, writable by root only. */
static int
root_only(const char *chroot, const char *dir)
{
	struct stat	 st;

	if (stat(dir, &st) == -1) {
		log_warn("chroot %s: %s", chroot, dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("chroot %s: %s is not a directory", chroot, dir);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_warnx("chroot %s: %s has owner uid %u and mode %04o: every "
		    "directory from / to the chroot must be owned by root and "
		    "writable by nobody else", chroot, dir,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * Every directory from / down to path (absolute, resolved) belongs to
 * root and is writable by nobody else, as sshd wants of ChrootDirectory:
 * otherwise whoever may write in one of them could put another tree, or
 * files, where the children's root is.
 */
static int
chroot_chain_ok(const char *chroot, const char *path)
{
	char	 prefix[PATH_MAX];
	size_t	 len = strlen(path), i;

	if (len >= sizeof(prefix) || root_only(chroot, "/") == -1)
		return -1;
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (root_only(chroot, prefix) == -1)
			return -1;
	}
	return 0;
}

/* Nothing in it: read the directory (a file does not change st_nlink). */
static int
chroot_empty(const char *chroot)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(chroot)) == NULL) {
		log_warn("chroot %s", chroot);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		log_warnx("chroot %s: must be empty, and holds \"%s\"",
		    chroot, de->d_name);
		rc = -1;
		break;
	}
	closedir(d);
	return rc;
}

/*
 * The chroot directory must be empty and, with every directory above it,
 * belong to root and be writable by nobody else.  With create, a missing
 * one is made (root-owned, 0755) below an existing directory that passes
 * the same test; without (lurkd -n), *missing says it would be.
 */
int
chroot_ok(const char *dir, int create, int *missing)
{
	struct stat	 st;
	char		 path[PATH_MAX], real[PATH_MAX], *p;

	*missing = 0;
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT) {
			log_warn("chroot %s", dir);
			return -1;
		}
		/* the part that exists must pass before anything is made */
		strlcpy(path, dir, sizeof(path));
		while ((p = strrchr(path, '/')) != NULL && p != path) {
			*p = '\0';
			if (stat(path, &st) == 0)
				break;
		}
		if (p == path)
			strlcpy(path, "/", sizeof(path));
		if (realpath(path, real) == NULL) {
			log_warn("chroot %s: %s", dir, path);
			return -1;
		}
		if (chroot_chain_ok(dir, real) == -1)
			return -1;
		if (!create) {
			*missing = 1;
			return 0;
		}
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
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_warn("chroot: mkdir %s", path);
			return -1;
		}
	}
	if (realpath(dir, real) == NULL) {
		log_warn("chroot %s", dir);
		return -1;
	}
	if (chroot_chain_ok(dir, real) == -1 || chroot_empty(dir) == -1)
		return -1;
	return 0;
}
