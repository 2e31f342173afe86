/*
 * Reload: SIGHUP, lurkctl reload (IMSG_CTL_RELOAD from netproc) or key
 * files that changed (watch.c).  The parent reads the configuration
 * again and reopens every key and certificate file; the children stage
 * what it sends as the next generation beside the one in use, which
 * serves until the new one is complete everywhere:
 *
 *   1. every keyproc loads the keys into a table of its own (BEGIN,
 *      the files, END) and answers RESULT: loaded, or which key and why;
 *   2. if one failed, the others drop theirs (ABORT) and the running
 *      generation stays, the failure logged and counted;
 *   3. otherwise netproc stages the policies and settings (BEGIN, the
 *      policies, END; it answers STAGED), keyproc[0] sends it the keys'
 *      public data (PUBLISH), and netproc commits: it swaps its tables
 *      and sends COMMIT to each keyproc behind the requests already on
 *      that channel, so that each request is answered by the generation
 *      it was sent under; every one answers DONE.
 *
 * One reload at a time: one asked for meanwhile follows this one.
 * What a reload cannot change (listeners, control sockets, HTTP
 * listeners, the log format, keyprocs, user, chroot, pid file, lurk
 * length, max message size, tls13 sessions) stays as it runs, and the
 * log says that it takes a restart.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "log.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"

enum rl_phase {
	RL_IDLE,
	RL_LOAD,		/* the keyprocs load the keys */
	RL_COMMIT,		/* netproc stages, then commits */
};

static struct {
	enum rl_phase		 phase;
	uint32_t		 gen;
	char			 why[160];
	struct timespec		 t0;
	struct lurkd_conf	*conf;		/* what was read */
	struct keyset		 keys;
	int			 nkp;
	int			 answers;	/* RESULTs */
	uint8_t			 state[LURKD_KEYPROCS_MAX]; /* 1 ok, 2 not */
	uint8_t			 tablehash[32];
	int			 hashed;
	int			 staged;	/* netproc's STAGED */
	int			 done;		/* DONEs */
	uint8_t			 donekp[LURKD_KEYPROCS_MAX];
	int			 donenet;
	int			 tlsfds[2 * LURKD_TLS_MAX];	/* CA, CRL */
	struct upstate		 up;
	char			 error[sizeof(ctlstatus.last_reload_error)];
} rl;

static int	 ready;			/* every child said READY */
static int	 again;			/* asked for meanwhile */
static char	 againwhy[160];

static int
count_keyprocs(void)
{
	int	 i, n = 0;

	for (i = 0; i < nchildren; i++)
		n += children[i].id == PROC_KEYPROC;
	return n;
}

static struct child *
netproc_child(void)
{
	int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].id == PROC_NETPROC)
			return &children[i];
	fatalx("%s: no netproc", __func__);
}

/* The first reason a reload fails is the one it reports. */
static void __attribute__((__format__(printf, 1, 2)))
reload_error(const char *fmt, ...)
{
	va_list	 ap;

	if (rl.error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(rl.error, sizeof(rl.error), fmt, ap);
	va_end(ap);
}

static void
restart_warn(const char *what)
{
	log_warnx("reload (%s): %s changed: that takes a restart; the "
	    "running one stays", rl.why, what);
}

/* Two lists of Unix sockets the same? */
static int
sockets_same(const struct listenlist *x, const struct listenlist *y)
{
	const struct listenconf	*a, *b;

	for (a = TAILQ_FIRST(x), b = TAILQ_FIRST(y);
	    a != NULL && b != NULL;
	    a = TAILQ_NEXT(a, entry), b = TAILQ_NEXT(b, entry))
		if (strcmp(a->path, b->path) != 0 || a->mode != b->mode ||
		    a->has_group != b->has_group || a->gid != b->gid ||
		    a->restricted != b->restricted)
			return 0;
	return a == NULL && b == NULL;
}

/*
 * The TLS listeners' addresses and TLS versions take a restart, their
 * files a reload: where the addresses or versions changed, the running
 * listeners stay, with the files they have.
 */
static void
tls_restart_only(const struct lurkd_conf *run, struct lurkd_conf *c)
{
	const struct tlsconf	*t, *u;
	struct tlsconf		*n;

	for (t = TAILQ_FIRST(&run->tlss), u = TAILQ_FIRST(&c->tlss);
	    t != NULL && u != NULL;
	    t = TAILQ_NEXT(t, entry), u = TAILQ_NEXT(u, entry))
		if (t->family != u->family || t->port != u->port ||
		    strcmp(t->addr, u->addr) != 0 || t->tls12 != u->tls12)
			break;
	if (t == NULL && u == NULL)
		return;
	restart_warn("listen on tls");
	while ((n = TAILQ_FIRST(&c->tlss)) != NULL) {
		TAILQ_REMOVE(&c->tlss, n, entry);
		free(n);
	}
	TAILQ_FOREACH(t, &run->tlss, entry) {
		if ((n = malloc(sizeof(*n))) == NULL)
			fatal("%s", __func__);
		*n = *t;
		TAILQ_INSERT_TAIL(&c->tlss, n, entry);
	}
}

/* A copy of u, its key block included. */
static struct upstreamconf *
upstream_dup(const struct upstreamconf *u)
{
	struct upstreamconf	*n;
	struct allow		*a, *b;

	if ((n = malloc(sizeof(*n))) == NULL ||
	    (n->key = NULL, *n = *u, n->key = malloc(sizeof(*n->key))) ==
	    NULL)
		fatal("%s", __func__);
	*n->key = *u->key;
	TAILQ_INIT(&n->key->allows);
	TAILQ_FOREACH(a, &u->key->allows, entry) {
		if ((b = malloc(sizeof(*b))) == NULL)
			fatal("%s", __func__);
		*b = *a;
		TAILQ_INSERT_TAIL(&n->key->allows, b, entry);
	}
	return n;
}

/*
 * The upstreams' names take a restart, the rest a reload (addresses,
 * files, routes, rules): where the names changed, the running
 * upstreams stay as they are.
 */
static void
upstream_restart_only(const struct lurkd_conf *run, struct lurkd_conf *c)
{
	const struct upstreamconf	*t, *u;
	struct upstreamconf		*n;
	struct allow			*a;

	for (t = TAILQ_FIRST(&run->upstreams),
	    u = TAILQ_FIRST(&c->upstreams); t != NULL && u != NULL;
	    t = TAILQ_NEXT(t, entry), u = TAILQ_NEXT(u, entry))
		if (strcmp(t->name, u->name) != 0)
			break;
	if (t == NULL && u == NULL)
		return;
	restart_warn("upstream");
	while ((n = TAILQ_FIRST(&c->upstreams)) != NULL) {
		TAILQ_REMOVE(&c->upstreams, n, entry);
		while ((a = TAILQ_FIRST(&n->key->allows)) != NULL) {
			TAILQ_REMOVE(&n->key->allows, a, entry);
			free(a);
		}
		free(n->key);
		free(n);
	}
	TAILQ_FOREACH(t, &run->upstreams, entry)
		TAILQ_INSERT_TAIL(&c->upstreams, upstream_dup(t), entry);
}

/* What a reload does not apply, said if it changed. */
static void
restart_only(const struct lurkd_conf *run, struct lurkd_conf *c)
{
	const struct httpconf	*h, *i;

	if (!sockets_same(&run->listeners, &c->listeners))
		restart_warn("listen");
	if (!sockets_same(&run->controls, &c->controls))
		restart_warn("control socket");
	for (h = TAILQ_FIRST(&run->https), i = TAILQ_FIRST(&c->https);
	    h != NULL && i != NULL;
	    h = TAILQ_NEXT(h, entry), i = TAILQ_NEXT(i, entry))
		if (h->family != i->family || h->port != i->port ||
		    strcmp(h->addr, i->addr) != 0)
			break;
	if (h != NULL || i != NULL)
		restart_warn("listen on http");
	if (run->log_format != c->log_format)
		restart_warn("log format");
	if (run->keyprocs != c->keyprocs)
		restart_warn("keyprocs");
	if (strcmp(run->user, c->user) != 0)
		restart_warn("user");
	if (strcmp(run->chroot, c->chroot) != 0)
		restart_warn("chroot");
	if (strcmp(run->pidfile, c->pidfile) != 0)
		restart_warn("pidfile");
	if (run->lenmode != c->lenmode)
		restart_warn("lurk length");
	if (run->max_message != c->max_message)
		restart_warn("max message size");
	if (run->drafts.tls13_sessions != c->drafts.tls13_sessions)
		restart_warn("tls13 sessions");
	tls_restart_only(run, c);
	upstream_restart_only(run, c);
}

/* What a reload applies of from's settings (the rest takes a restart). */
static void
settings_apply(struct lurkd_conf *to, const struct lurkd_conf *from)
{
	uint32_t	 sessions;

	to->timeout_idle = from->timeout_idle;
	to->timeout_message = from->timeout_message;
	to->limit_conns = from->limit_conns;
	to->limit_user_conns = from->limit_user_conns;
	to->limit_user_rate = from->limit_user_rate;
	to->limit_user_burst = from->limit_user_burst;
	to->watch = from->watch;
	/*
	 * The drafts' settings apply from the next request on, to the
	 * exchanges of sessions begun before too; the size of keyproc's
	 * session table, allocated once, takes a restart.
	 */
	sessions = to->drafts.tls13_sessions;
	to->drafts = from->drafts;
	to->drafts.tls13_sessions = sessions;
}

/* The running settings, with what a reload changes from rl.conf. */
static void
reload_settings(struct conf_reload *cr)
{
	struct lurkd_conf	 c = *conf;	/* its lists only read */

	settings_apply(&c, rl.conf);
	memset(cr, 0, sizeof(*cr));
	cr->generation = rl.gen;
	global_config(&cr->g, &c, &rl.keys, rl.nkp);
}

static void
reload_end(void)
{
	int	 i;

	for (i = 0; i < 2 * LURKD_TLS_MAX; i++)
		if (rl.tlsfds[i] != -1)
			close(rl.tlsfds[i]);
	upstream_close(&rl.up);
	if (rl.conf != NULL)
		free_config(rl.conf);
	rl.conf = NULL;
	keyset_free(&rl.keys);
	rl.phase = RL_IDLE;
	if (again) {
		again = 0;
		reload(againwhy);
	}
}

/* The running generation stays: log, count, tell netproc. */
static void
reload_failed(void)
{
	ctlstatus.reloads_failed++;
	ctlstatus.last_reload = time(NULL);
	ctlstatus.last_reload_ok = 0;
	strlcpy(ctlstatus.last_reload_error, rl.error,
	    sizeof(ctlstatus.last_reload_error));
	log_warnx("reload (%s) failed: %s; generation %u stays in use "
	    "(reloads: %llu ok, %llu failed)", rl.why, rl.error,
	    ctlstatus.generation, (unsigned long long)ctlstatus.reloads_ok,
	    (unsigned long long)ctlstatus.reloads_failed);
	send_status();
	reload_end();
}

/*
 * Open both files of every key of rl.keys (all of them, so that the
 * watch knows each one); fds[2 * i], fds[2 * i + 1].  -1 if one failed.
 */
static int
reload_open(int *fds)
{
	struct tlsconf	*t;
	char		 err[2 * PATH_MAX + 256];
	int		 idx, bad = 0;

	watch_files_begin();
	for (idx = 0; idx < rl.keys.n; idx++) {
		if (open_key_files(rl.keys.tab[idx], &fds[2 * idx],
		    &fds[2 * idx + 1], err, sizeof(err)) == -1) {
			reload_error("%s", err);
			bad++;
			continue;
		}
		key_mode_warn(fds[2 * idx], rl.keys.tab[idx]);
	}
	/* the TLS listeners' CA and CRL, for netproc's stage */
	idx = 0;
	TAILQ_FOREACH(t, &rl.conf->tlss, entry) {
		if (open_tls_files(t, &rl.tlsfds[2 * idx], err,
		    sizeof(err)) == -1) {
			reload_error("%s", err);
			bad++;
		}
		idx++;
	}
	/* the upstreams' names resolved again, their CA files */
	if (upstream_prepare(rl.conf, &rl.up, err, sizeof(err)) == -1) {
		reload_error("%s", err);
		bad++;
	}
	watch_files_end();
	return bad ? -1 : 0;
}

void
reload(const char *why)
{
	struct conf_reload	 cr;
	int			*fds, i, idx;

	if (rl.phase != RL_IDLE || !ready) {
		if (!again) {
			again = 1;
			strlcpy(againwhy, why, sizeof(againwhy));
		}
		log_info("reload (%s): after the %s", why, ready ?
		    "reload under way" : "start");
		return;
	}
	memset(&rl, 0, sizeof(rl));
	for (i = 0; i < 2 * LURKD_TLS_MAX; i++)
		rl.tlsfds[i] = -1;
	for (i = 0; i < LURKD_UPSTREAM_MAX; i++)
		rl.up.cafd[i] = -1;
	rl.phase = RL_LOAD;
	rl.gen = ctlstatus.generation + 1;
	strlcpy(rl.why, why, sizeof(rl.why));
	clock_gettime(CLOCK_MONOTONIC, &rl.t0);
	rl.nkp = count_keyprocs();
	log_info("reload (%s): reading %s for generation %u", why, conffile,
	    rl.gen);

	sandbox_files(1);
	if ((rl.conf = parse_config(conffile, 0)) == NULL) {
		sandbox_files(0);
		reload_error("%s", parse_config_error());
		reload_failed();
		return;
	}
	restart_only(conf, rl.conf);
	keyset_build(&rl.keys, rl.conf);
	if ((fds = calloc(2 * rl.keys.n + 1, sizeof(*fds))) == NULL)
		fatal("%s", __func__);
	i = reload_open(fds);
	sandbox_files(0);
	if (i == -1) {
		for (i = 0; i < 2 * rl.keys.n; i++)
			if (fds[i] != -1)
				close(fds[i]);
		free(fds);
		reload_failed();
		return;
	}

	/* keyprocs come first in children[] */
	reload_settings(&cr);
	for (i = 0; i < rl.nkp; i++)
		compose(&children[i], IMSG_RELOAD_BEGIN, -1, &cr, sizeof(cr));
	for (idx = 0; idx < rl.keys.n; idx++) {
		send_key_files(children, rl.nkp, idx, rl.keys.tab[idx],
		    fds[2 * idx], fds[2 * idx + 1]);
		close(fds[2 * idx]);
		close(fds[2 * idx + 1]);
	}
	free(fds);
	for (i = 0; i < rl.nkp; i++)
		compose(&children[i], IMSG_RELOAD_END, -1, &rl.gen,
		    sizeof(rl.gen));
}

/* Every child is ready: a reload asked for during the start runs now. */
void
reload_ready(void)
{
	ready = 1;
	if (again) {
		again = 0;
		reload(againwhy);
	}
}

/* keyproc[0] loaded a key: two blocks of one key fail the reload. */
static void
reload_key_loaded(struct child *c, struct imsg *imsg)
{
	struct key_loaded	 kl;
	char			 err[2 * PATH_MAX + 256];

	if (c->id != PROC_KEYPROC || c->instance != 0 ||
	    rl.phase != RL_LOAD || rl.state[0] != 0 ||
	    imsg_get_data(imsg, &kl, sizeof(kl)) == -1 ||
	    kl.index >= (uint32_t)rl.keys.n ||
	    rl.keys.loaded[kl.index].index != 0)
		fatalx("bad IMSG_KEY_LOADED from %s", c->name);
	if (keyset_loaded(&rl.keys, &kl, err, sizeof(err)) == -1)
		reload_error("%s", err);
}

/*
 * Every keyproc answered: on any failure the others drop what they
 * loaded and the running generation stays; else netproc stages.
 */
static void
reload_loaded(void)
{
	struct conf_reload	 cr;
	struct child		*net = netproc_child();
	int			 i;

	if (rl.error[0] != '\0') {
		for (i = 0; i < rl.nkp; i++)
			if (rl.state[i] == 1)
				compose(&children[i], IMSG_RELOAD_ABORT, -1,
				    &rl.gen, sizeof(rl.gen));
		reload_failed();
		return;
	}
	rl.phase = RL_COMMIT;
	reload_settings(&cr);
	compose(net, IMSG_RELOAD_BEGIN, -1, &cr, sizeof(cr));
	send_policies(net, &rl.keys);
	send_tls_files(net, rl.conf, rl.tlsfds);
	upstream_send(net, rl.conf, &rl.up);
	compose(net, IMSG_RELOAD_END, -1, &rl.gen, sizeof(rl.gen));
}

static void
reload_result(struct child *c, struct imsg *imsg)
{
	struct reload_result	 r;
	char			 esc[RELOAD_ERROR_MAX];

	if (c->id != PROC_KEYPROC || rl.phase != RL_LOAD ||
	    imsg_get_data(imsg, &r, sizeof(r)) == -1 ||
	    r.generation != rl.gen || rl.state[c->instance] != 0 ||
	    (r.ok == 1 && r.index != -1) ||
	    (r.ok == 0 && (r.index < -1 || r.index >= rl.keys.n)) ||
	    (r.ok != 0 && r.ok != 1))
		fatalx("bad IMSG_RELOAD_RESULT from %s", c->name);
	r.error[sizeof(r.error) - 1] = '\0';
	rl.state[c->instance] = r.ok ? 1 : 2;
	if (!r.ok) {
		/* a child's words: escaped, as its log lines are */
		log_escape(esc, sizeof(esc), r.error, strlen(r.error));
		if (r.index >= 0)
			reload_error("key \"%s\": %s",
			    rl.keys.tab[r.index]->name, esc);
		else
			reload_error("%s: %s", c->name, esc);
	} else if (!rl.hashed) {
		memcpy(rl.tablehash, r.tablehash, sizeof(rl.tablehash));
		rl.hashed = 1;
	} else if (memcmp(rl.tablehash, r.tablehash,
	    sizeof(rl.tablehash)) != 0)
		reload_error("the keyprocs loaded different keys: a key file "
		    "changed while they read it");
	if (++rl.answers == rl.nkp)
		reload_loaded();
}

/* netproc has the policies: keyproc[0] may send it the public keys. */
static void
reload_staged(struct child *c, struct imsg *imsg)
{
	uint32_t	 gen;

	if (c->id != PROC_NETPROC || rl.phase != RL_COMMIT || rl.staged ||
	    imsg_get_data(imsg, &gen, sizeof(gen)) == -1 || gen != rl.gen)
		fatalx("bad IMSG_RELOAD_STAGED from %s", c->name);
	rl.staged = 1;
	compose(&children[0], IMSG_RELOAD_PUBLISH, -1, &rl.gen,
	    sizeof(rl.gen));
}

/* The generation is in use everywhere: the parent's turn. */
static void
reload_committed(void)
{
	struct keylist		 old;
	struct tlslist		 oldtls;
	struct upstreamlist	 oldup;
	struct timespec		 t1;
	long long	 ms;

	/* the keys and what else a reload applies, from rl.conf */
	TAILQ_INIT(&old);
	TAILQ_CONCAT(&old, &conf->keys, entry);
	TAILQ_CONCAT(&conf->keys, &rl.conf->keys, entry);
	TAILQ_CONCAT(&rl.conf->keys, &old, entry);
	/* the listeners' files (their addresses are the same) */
	TAILQ_INIT(&oldtls);
	TAILQ_CONCAT(&oldtls, &conf->tlss, entry);
	TAILQ_CONCAT(&conf->tlss, &rl.conf->tlss, entry);
	TAILQ_CONCAT(&rl.conf->tlss, &oldtls, entry);
	/* the upstreams (their names are the same), whose keys keyset has */
	TAILQ_INIT(&oldup);
	TAILQ_CONCAT(&oldup, &conf->upstreams, entry);
	TAILQ_CONCAT(&conf->upstreams, &rl.conf->upstreams, entry);
	TAILQ_CONCAT(&rl.conf->upstreams, &oldup, entry);
	settings_apply(conf, rl.conf);
	keyset_free(&keyset);
	keyset = rl.keys;
	memset(&rl.keys, 0, sizeof(rl.keys));

	ctlstatus.generation = rl.gen;
	ctlstatus.reloads_ok++;
	ctlstatus.last_reload = time(NULL);
	ctlstatus.last_reload_ok = 1;
	ctlstatus.last_reload_error[0] = '\0';
	sandbox_files(1);
	status_confhash();
	sandbox_files(0);
	send_status();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - rl.t0.tv_sec) * 1000LL +
	    (t1.tv_nsec - rl.t0.tv_nsec) / 1000000;
	log_info("reload (%s): generation %u in use, %d keys, in %lld ms "
	    "(reloads: %llu ok, %llu failed)", rl.why, rl.gen, keyset.n, ms,
	    (unsigned long long)ctlstatus.reloads_ok,
	    (unsigned long long)ctlstatus.reloads_failed);
	watch_enable(conf->watch);
	reload_end();
}

static void
reload_done(struct child *c, struct imsg *imsg)
{
	uint32_t	 gen;

	if (rl.phase != RL_COMMIT || !rl.staged ||
	    imsg_get_data(imsg, &gen, sizeof(gen)) == -1 || gen != rl.gen ||
	    (c->id == PROC_NETPROC && rl.donenet) ||
	    (c->id == PROC_KEYPROC && rl.donekp[c->instance]))
		fatalx("bad IMSG_RELOAD_DONE from %s", c->name);
	if (c->id == PROC_NETPROC)
		rl.donenet = 1;
	else
		rl.donekp[c->instance] = 1;
	if (++rl.done == rl.nkp + 1)
		reload_committed();
}

void
reload_dispatch(struct child *c, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_KEY_LOADED:
		reload_key_loaded(c, imsg);
		break;
	case IMSG_RELOAD_RESULT:
		reload_result(c, imsg);
		break;
	case IMSG_RELOAD_STAGED:
		reload_staged(c, imsg);
		break;
	case IMSG_RELOAD_DONE:
		reload_done(c, imsg);
		break;
	default:
		fatalx("%s: unexpected imsg %u from %s", __func__,
		    imsg_get_type(imsg), c->name);
	}
}
