/*
 * fuzz_config: lurkd.conf(5) as parse_config() reads it (lurkd/parse.y:
 * lexer, macros, includes, grammar, checks), from a file in a scratch
 * directory.  Errors go to log_emit(), which the stubs drop.
 *
 * The parser may open only files in the scratch directory: fopen() is
 * wrapped (-Wl,--wrap=fopen) so that an include of /dev/zero, a FIFO or
 * /dev/stdin cannot hang a run.  The directory holds a few files to
 * include: inc.conf (a key block), self.conf (includes itself) and
 * sock.conf (a macro).
 *
 * What must hold: a configuration that parses prints (print_config(), as
 * lurkd -nv does) to a text that parses again to the same configuration,
 * field by field (conf_diff) -- the round trip regress/config checks on
 * its golden files.  Comparing the parsed structures, not the printed
 * texts, catches a setting the printer drops or changes: both texts
 * would then print the same wrong thing.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurkd.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
FILE	*__real_fopen(const char *, const char *);
FILE	*__wrap_fopen(const char *, const char *);

static char	 dir[64];
static size_t	 dirlen;
static char	 inpath[128], printpath[128], outpath[128];

FILE *
__wrap_fopen(const char *path, const char *mode)
{
	if (strncmp(path, dir, dirlen) != 0 || path[dirlen] != '/' ||
	    strstr(path, "..") != NULL) {
		errno = ENOENT;
		return NULL;
	}
	return __real_fopen(path, mode);
}

static void
put(const char *name, const void *data, size_t len)
{
	char	 path[128];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || (len > 0 && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
}

static void
cleanup(void)
{
	static const char	*names[] = { "in.conf", "printed.conf",
		"stdout", "inc.conf", "self.conf", "sock.conf" };
	char			 path[128];
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char	 inc[] = "key \"inc\" {\n"
	    "\tprivate \"/etc/lurkd/inc.key\"\n"
	    "\tcertificate \"/etc/lurkd/inc.crt\"\n"
	    "\tallow uid 0\n}\n";
	static const char	 self[] = "include \"self.conf\"\n";
	static const char	 sock[] = "sock = \"/run/lurkd/inc.sock\"\n";

	strlcpy(dir, "/tmp/lurkd-fuzz-config.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		abort();
	dirlen = strlen(dir);
	atexit(cleanup);
	snprintf(inpath, sizeof(inpath), "%s/in.conf", dir);
	snprintf(printpath, sizeof(printpath), "%s/printed.conf", dir);
	snprintf(outpath, sizeof(outpath), "%s/stdout", dir);
	put("inc.conf", inc, sizeof(inc) - 1);
	put("self.conf", self, sizeof(self) - 1);
	put("sock.conf", sock, sizeof(sock) - 1);
	/* print_config() writes to stdout: a file we read back */
	if (freopen(outpath, "w+", stdout) == NULL)
		abort();
	return 0;
}

/* print_config(c) into a fresh buffer; *len its length */
static char *
printed(struct lurkd_conf *c, size_t *len)
{
	char	*buf;
	off_t	 n;

	rewind(stdout);
	if (ftruncate(fileno(stdout), 0) == -1)
		abort();
	print_config(c);
	if (fflush(stdout) == EOF || (n = ftello(stdout)) < 0 ||
	    (buf = malloc(n + 1)) == NULL ||
	    pread(fileno(stdout), buf, n, 0) != n)
		abort();
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* LP64 (x86-64, arm64) sizes of the structures, as conf_diff knows them */
#define CONF_SIZE	8424
#define KEYCONF_SIZE	12432
#define LISTENCONF_SIZE	4192
#define ALLOW_SIZE	376
#define HTTPCONF_SIZE	72
#define TLSCONF_SIZE	20560
#define UPSTREAMCONF_SIZE	14952
#define ROUTECONF_SIZE	100

/*
 * The sizes of the structures conf_diff compares: a field added to one
 * of them breaks this build until conf_diff compares it too (or says
 * here why it need not: keyconf's file and line are where a block is,
 * not what it says).
 */
_Static_assert(sizeof(struct lurkd_conf) == CONF_SIZE,
    "struct lurkd_conf changed: compare the new field in conf_diff");
_Static_assert(sizeof(struct keyconf) == KEYCONF_SIZE,
    "struct keyconf changed: compare the new field in conf_diff");
_Static_assert(sizeof(struct listenconf) == LISTENCONF_SIZE,
    "struct listenconf changed: compare the new field in conf_diff");
_Static_assert(sizeof(struct allow) == ALLOW_SIZE,
    "struct allow changed: compare the new field in conf_diff");
_Static_assert(sizeof(struct httpconf) == HTTPCONF_SIZE,
    "struct httpconf changed: compare the new field in conf_diff");
/* upstreamconf: its key compared as a key block (keys_diff) */
_Static_assert(sizeof(struct upstreamconf) == UPSTREAMCONF_SIZE,
    "struct upstreamconf changed: compare the new field in conf_diff");
_Static_assert(sizeof(struct routeconf) == ROUTECONF_SIZE,
    "struct routeconf changed: compare the new field in conf_diff");
/* tlsconf: file and line say where the block is, as keyconf's */
_Static_assert(sizeof(struct tlsconf) == TLSCONF_SIZE,
    "struct tlsconf changed: compare the new field in conf_diff");

/* Two lists of Unix sockets: what differs, NULL if nothing. */
static const char *
listen_diff(const struct listenlist *a, const struct listenlist *b,
    const char *what)
{
	const struct listenconf	*la, *lb;

	for (la = TAILQ_FIRST(a), lb = TAILQ_FIRST(b);
	    la != NULL && lb != NULL;
	    la = TAILQ_NEXT(la, entry), lb = TAILQ_NEXT(lb, entry))
		if (strcmp(la->path, lb->path) != 0 || la->mode != lb->mode ||
		    la->has_group != lb->has_group ||
		    strcmp(la->group, lb->group) != 0 || la->gid != lb->gid ||
		    la->restricted != lb->restricted)
			return what;
	if (la != NULL || lb != NULL)
		return "number of listeners or control sockets";
	return NULL;
}

/* Two key blocks (or upstreams' keys): what differs, NULL if nothing. */
static const char *
key_diff(const struct keyconf *ka, const struct keyconf *kb)
{
	const struct allow	*aa, *ab;
	int			 i;

	if (strcmp(ka->name, kb->name) != 0 ||
	    ka->operations != kb->operations ||
	    ka->tls13_secrets != kb->tls13_secrets ||
	    ka->tls13_tickets != kb->tls13_tickets ||
	    ka->usage != kb->usage ||
	    strcmp(ka->private, kb->private) != 0 ||
	    strcmp(ka->certificate, kb->certificate) != 0)
		return "key";
	for (i = 0; i < KEY_NOPS; i++)
		if (ka->rate[i] != kb->rate[i] ||
		    ka->burst[i] != kb->burst[i])
			return "key limit rate";
	for (aa = TAILQ_FIRST(&ka->allows),
	    ab = TAILQ_FIRST(&kb->allows); aa != NULL && ab != NULL;
	    aa = TAILQ_NEXT(aa, entry), ab = TAILQ_NEXT(ab, entry))
		if (aa->type != ab->type || aa->id != ab->id ||
		    strcmp(aa->name, ab->name) != 0 ||
		    strcmp(aa->ident, ab->ident) != 0 ||
		    memcmp(aa->spki, ab->spki, sizeof(aa->spki)) != 0)
			return "key allow";
	if (aa != NULL || ab != NULL)
		return "number of allows of a key";
	return NULL;
}

/* Two lists of upstreams: what differs, NULL if nothing. */
static const char *
upstream_diff(const struct upstreamlist *a, const struct upstreamlist *b)
{
	const struct upstreamconf	*ua, *ub;
	const char			*d;
	int				 i;

	for (ua = TAILQ_FIRST(a), ub = TAILQ_FIRST(b);
	    ua != NULL && ub != NULL;
	    ua = TAILQ_NEXT(ua, entry), ub = TAILQ_NEXT(ub, entry)) {
		if (strcmp(ua->name, ub->name) != 0 ||
		    strcmp(ua->host, ub->host) != 0 || ua->port != ub->port ||
		    strcmp(ua->ca, ub->ca) != 0 || ua->nroutes != ub->nroutes)
			return "upstream";
		for (i = 0; i < ua->nroutes; i++)
			if (ua->routes[i].type != ub->routes[i].type ||
			    strcmp(ua->routes[i].name, ub->routes[i].name) !=
			    0 || memcmp(ua->routes[i].spki, ub->routes[i].spki,
			    sizeof(ua->routes[i].spki)) != 0)
				return "upstream route";
		if ((d = key_diff(ua->key, ub->key)) != NULL)
			return d;
	}
	if (ua != NULL || ub != NULL)
		return "number of upstreams";
	return NULL;
}

/* The first field in which a and b differ, NULL if none. */
static const char *
conf_diff(const struct lurkd_conf *a, const struct lurkd_conf *b)
{
	const struct httpconf	*ha, *hb;
	const struct tlsconf	*ta, *tb;
	const struct keyconf	*ka, *kb;
	const char		*d;

#define SAME(f)		do { if (a->f != b->f) return #f; } while (0)
#define SAMESTR(f)	do { if (strcmp(a->f, b->f) != 0) return #f; } while (0)
	SAME(keyprocs);
	SAME(lenmode);
	SAME(max_message);
	SAME(timeout_idle);
	SAME(timeout_message);
	SAME(limit_conns);
	SAME(limit_user_conns);
	SAME(limit_user_rate);
	SAME(limit_user_burst);
	SAME(watch);
	SAMESTR(user);
	SAMESTR(chroot);
	SAMESTR(pidfile);
	SAME(log_format);
	SAME(drafts.tls12_freshness);
	SAME(drafts.tls12_window);
	SAME(drafts.tls13_freshness);
	SAME(drafts.tls13_label);
	SAME(drafts.tls13_sessions);
	SAME(drafts.tls13_session_timeout);
	SAME(drafts.tls13_ticket_lifetime);
#undef SAME
#undef SAMESTR
	if ((d = listen_diff(&a->listeners, &b->listeners, "listener")) !=
	    NULL || (d = listen_diff(&a->controls, &b->controls,
	    "control socket")) != NULL)
		return d;
	for (ha = TAILQ_FIRST(&a->https), hb = TAILQ_FIRST(&b->https);
	    ha != NULL && hb != NULL;
	    ha = TAILQ_NEXT(ha, entry), hb = TAILQ_NEXT(hb, entry))
		if (ha->family != hb->family || ha->port != hb->port ||
		    strcmp(ha->addr, hb->addr) != 0)
			return "listen on http";
	if (ha != NULL || hb != NULL)
		return "number of listen on http";
	for (ta = TAILQ_FIRST(&a->tlss), tb = TAILQ_FIRST(&b->tlss);
	    ta != NULL && tb != NULL;
	    ta = TAILQ_NEXT(ta, entry), tb = TAILQ_NEXT(tb, entry))
		if (ta->family != tb->family || ta->port != tb->port ||
		    strcmp(ta->addr, tb->addr) != 0 || ta->tls12 != tb->tls12 ||
		    strcmp(ta->certificate, tb->certificate) != 0 ||
		    strcmp(ta->private, tb->private) != 0 ||
		    strcmp(ta->ca, tb->ca) != 0 ||
		    strcmp(ta->crl, tb->crl) != 0)
			return "listen on tls";
	if (ta != NULL || tb != NULL)
		return "number of listen on tls";
	for (ka = TAILQ_FIRST(&a->keys), kb = TAILQ_FIRST(&b->keys);
	    ka != NULL && kb != NULL;
	    ka = TAILQ_NEXT(ka, entry), kb = TAILQ_NEXT(kb, entry))
		if ((d = key_diff(ka, kb)) != NULL)
			return d;
	if (ka != NULL || kb != NULL)
		return "number of keys";
	return upstream_diff(&a->upstreams, &b->upstreams);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lurkd_conf	*c, *c2;
	const char		*diff;
	char			*p1;
	size_t			 n1;

	put("in.conf", data, size);
	if ((c = parse_config(inpath, 0)) == NULL)
		return 0;
	p1 = printed(c, &n1);

	put("printed.conf", p1, n1);
	if ((c2 = parse_config(printpath, 0)) == NULL) {
		fprintf(stderr, "printed configuration does not parse:\n%s",
		    p1);
		abort();
	}
	if ((diff = conf_diff(c, c2)) != NULL) {
		fprintf(stderr, "printed configuration parses to another "
		    "one (%s differs):\n%s", diff, p1);
		abort();
	}
	free_config(c);
	free_config(c2);
	free(p1);
	return 0;
}
