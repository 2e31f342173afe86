/*
 * The watch (lurkd.conf(5) "watch yes", the default): the parent reloads
 * when a key or certificate file changes.
 *
 * inotify on a file dies with the file, and Kubernetes replaces a Secret
 * volume's files by renaming a new "..data" symlink over the old one, so
 * the parent watches directories: the directory of each configured path,
 * of each symbolic link on the way to the file, and of the file itself.
 * An event there that names a file on the way to a key or certificate
 * (or is about the directory itself) starts a wait for quiet
 * (LURKD_WATCH_QUIET ms without another such event, LURKD_WATCH_MAX ms
 * at most), so that a key and its
 * certificate replaced one after the other are read together.  Then each
 * file is compared with what the last reload (or the start) opened under
 * its path (device, inode, size, times): if one differs, reload.  A
 * reload that fails on a pair caught half replaced is tried again at the
 * next change.  The inotify descriptor lives in the parent only.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"

#define WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
			 IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | \
			 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
			 IN_ONLYDIR)
#define WATCH_HOPS	16		/* symbolic links followed */
#define WATCH_READS	64		/* reads of events a wake-up */

/* A key or certificate file as the last reload opened it. */
struct wfile {
	char		 path[PATH_MAX];
	int		 opened;	/* else it could not be: no fields */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
	struct timespec	 ctim;
};

static struct wfile	*files, *next;	/* in use; being opened */
static size_t		 nfiles, capfiles, nnext, capnext;
static int		 ifd = -1;
static int		*wds;
static size_t		 nwds;
static int		 armed;
static struct timespec	 first, last;
static char		**names;	/* the names on the way to the files */
static size_t		 nnames;

/* Remember every component of path: an event naming one may matter. */
static void
names_add(const char *path)
{
	const char	*p = path, *e;
	size_t		 len, i;

	for (; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		if ((e = strchr(p, '/')) == NULL)
			e = p + strlen(p);
		if ((len = e - p) == 0)
			continue;
		for (i = 0; i < nnames; i++)
			if (strlen(names[i]) == len &&
			    strncmp(names[i], p, len) == 0)
				break;
		if (i < nnames)
			continue;
		if ((names = reallocarray(names, nnames + 1,
		    sizeof(*names))) == NULL ||
		    (names[nnames] = strndup(p, len)) == NULL)
			fatal("%s", __func__);
		nnames++;
	}
}

static void
names_clear(void)
{
	size_t	 i;

	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	names = NULL;
	nnames = 0;
}

/*
 * Does an event matter: one about a watched directory itself, or naming
 * a file on the way to a key or certificate?  Other files in the same
 * directories (a log written next to the keys) arm nothing.
 */
static int
event_matters(const struct inotify_event *ev)
{
	size_t	 i;

	if (ev->len == 0 || (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED)))
		return 1;
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], ev->name) == 0)
			return 1;
	return 0;
}

static void
fingerprint(struct wfile *w, const struct stat *st)
{
	w->opened = 1;
	w->dev = st->st_dev;
	w->ino = st->st_ino;
	w->size = st->st_size;
	w->mtim = st->st_mtim;
	w->ctim = st->st_ctim;
}

/* Is the file at w's path still the one w describes? */
static int
unchanged(const struct wfile *w)
{
	struct wfile	 now;
	struct stat	 st;

	memset(&now, 0, sizeof(now));
	if (stat(w->path, &st) == 0)
		fingerprint(&now, &st);
	return now.opened == w->opened && now.dev == w->dev &&
	    now.ino == w->ino && now.size == w->size &&
	    now.mtim.tv_sec == w->mtim.tv_sec &&
	    now.mtim.tv_nsec == w->mtim.tv_nsec &&
	    now.ctim.tv_sec == w->ctim.tv_sec &&
	    now.ctim.tv_nsec == w->ctim.tv_nsec;
}

/* A start or reload is about to open its key and certificate files. */
void
watch_files_begin(void)
{
	nnext = 0;
}

/* path was opened as fd (-1: it could not be). */
void
watch_file(const char *path, int fd)
{
	struct wfile	*w;
	struct stat	 st;

	if (nnext == capnext) {
		capnext = capnext ? capnext * 2 : 16;
		if ((next = reallocarray(next, capnext, sizeof(*next))) ==
		    NULL)
			fatal("%s", __func__);
	}
	w = &next[nnext++];
	memset(w, 0, sizeof(*w));
	if (strlcpy(w->path, path, sizeof(w->path)) >= sizeof(w->path))
		fatalx("%s: path too long", __func__);
	if (fd != -1 && fstat(fd, &st) == 0)
		fingerprint(w, &st);
}

/* The directory part of path into dir ("." for a bare name). */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		strlcpy(dir, ".", len);
	else if (slash == path)
		strlcpy(dir, "/", len);
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

static void
watch_dir(const char *dir, int **set, size_t *n)
{
	size_t	 i;
	int	 wd;

	if ((wd = inotify_add_watch(ifd, dir, WATCH_MASK)) == -1) {
		log_warn("watch: %s", dir);
		return;
	}
	/* one directory by several names: one descriptor */
	for (i = 0; i < *n; i++)
		if ((*set)[i] == wd)
			return;
	if ((*set = reallocarray(*set, *n + 1, sizeof(**set))) == NULL)
		fatal("%s", __func__);
	(*set)[(*n)++] = wd;
}

/* The directories path depends on: its own, its links', its file's. */
static void
watch_path(const char *path, int **set, size_t *n)
{
	char	 cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	ssize_t	 len;
	int	 hops;

	strlcpy(cur, path, sizeof(cur));
	for (hops = 0; hops < WATCH_HOPS; hops++) {
		names_add(cur);
		dir_of(cur, dir, sizeof(dir));
		watch_dir(dir, set, n);
		if ((len = readlink(cur, link, sizeof(link) - 1)) == -1)
			break;
		link[len] = '\0';
		if (link[0] == '/')
			strlcpy(cur, link, sizeof(cur));
		else if ((size_t)snprintf(cur, sizeof(cur), "%s/%s", dir,
		    link) >= sizeof(cur))
			break;
	}
	/* directories that are links on the way (Kubernetes' ..data) */
	if (realpath(path, real) != NULL) {
		names_add(real);
		dir_of(real, dir, sizeof(dir));
		watch_dir(dir, set, n);
	}
}

/* Watch the directories of the current files, and no others. */
static void
watch_dirs(void)
{
	int	*set = NULL;
	size_t	 n = 0, i, j;

	if (ifd == -1)
		return;
	names_clear();
	sandbox_files(1);
	for (i = 0; i < nfiles; i++)
		watch_path(files[i].path, &set, &n);
	sandbox_files(0);
	for (i = 0; i < nwds; i++) {
		for (j = 0; j < n; j++)
			if (set[j] == wds[i])
				break;
		if (j == n)
			(void)inotify_rm_watch(ifd, wds[i]);
	}
	free(wds);
	wds = set;
	nwds = n;
}

/* The files just opened are those to compare with from now on. */
void
watch_files_end(void)
{
	struct wfile	*t = files;
	size_t		 c = capfiles;

	files = next;
	capfiles = capnext;
	nfiles = nnext;
	next = t;
	capnext = c;
	nnext = 0;
	watch_dirs();
}

void
watch_enable(int on)
{
	if (on && ifd == -1) {
		if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
			log_warn("watch: inotify_init1: key files are not "
			    "watched");
			return;
		}
		watch_dirs();
		log_info("watching %zu key and certificate files (%zu "
		    "directories)", nfiles, nwds);
	} else if (!on && ifd != -1) {
		close(ifd);
		ifd = -1;
		names_clear();
		free(wds);
		wds = NULL;
		nwds = 0;
		armed = 0;
		log_info("watch no: key and certificate files are not "
		    "watched");
	}
}

int
watch_fd(void)
{
	return ifd;
}

/*
 * Events arm the wait for quiet if they name a file that matters; what
 * they say happened does not, the files are compared.  A bounded number
 * of reads a wake-up: a directory that never stops changing must not
 * keep the parent from its children (poll wakes it again).
 */
void
watch_read(void)
{
	char		 buf[8192]
	    __attribute__((__aligned__(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct timespec	 now;
	ssize_t		 n, off;
	int		 got = 0, reads;

	for (reads = 0; reads < WATCH_READS; reads++) {
		if ((n = read(ifd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("watch: read");
			break;
		}
		if (n == 0)
			break;
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (event_matters(ev))
				got = 1;
		}
	}
	if (!got)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!armed)
		first = now;
	last = now;
	armed = 1;
}

static long long
ms_since(const struct timespec *t, const struct timespec *now)
{
	return (now->tv_sec - t->tv_sec) * 1000LL +
	    (now->tv_nsec - t->tv_nsec) / 1000000;
}

/* Milliseconds until the files are compared; -1: no change seen. */
int
watch_timeout(void)
{
	struct timespec	 now;
	long long	 quiet, max;

	if (!armed)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	quiet = LURKD_WATCH_QUIET - ms_since(&last, &now);
	max = LURKD_WATCH_MAX - ms_since(&first, &now);
	if (max < quiet)
		quiet = max;
	return quiet < 0 ? 0 : (int)quiet;
}

/* Quiet again: reload if a file is not the one last opened. */
void
watch_expired(void)
{
	char	 dir[PATH_MAX], why[PATH_MAX + 32];
	size_t	 i;

	armed = 0;
	sandbox_files(1);
	for (i = 0; i < nfiles; i++)
		if (!unchanged(&files[i]))
			break;
	sandbox_files(0);
	if (i == nfiles) {
		/* a link may point elsewhere now: follow it */
		watch_dirs();
		return;
	}
	dir_of(files[i].path, dir, sizeof(dir));
	snprintf(why, sizeof(why), "files changed in %s", dir);
	reload(why);
}
