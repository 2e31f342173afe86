/*
 * lurkd: the parent.  Reads the configuration, opens the key files and
 * the listening sockets, starts keyprocs and netproc by fork + re-exec,
 * hands them what they need over imsg, relays their log lines and
 * supervises them: if any child dies, lurkd logs why and exits non-zero.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "imsg.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "parent.h"
#include "proc.h"
#include "tlsfiles.h"

struct lurkd_conf	*conf;		/* what runs */
struct child		*children;
int			 nchildren;
struct ctl_status	 ctlstatus;	/* lurkctl show status */
const char		*conffile = LURKD_CONF;
struct keyset		 keyset;	/* conf's key blocks by index */

static pid_t			 parent_pid;
static int			 nready;
static int			 debug, verbose;

static void	 set_verbose(int);
static char			 self[PATH_MAX];

/* lurkd -n: one throwaway keyproc loads the keys, nothing listens */
static int			 checking;
static int			 check_errors;

/* The TLS listeners' CA and CRL files, opened for netproc (send_keys) */
static int			 tlsfds[2 * LURKD_TLS_MAX];
/* The upstreams' addresses and CA files, for netproc (send_keys) */
static struct upstate		 upst;

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: lurkd [-dnv] [-D macro=value] [-f file]\n");
	exit(2);
}

/* netproc holds one descriptor per edge connection: take what we may. */
static void
raise_nofile(uint32_t conns)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
	/* netproc needs a few descriptors of its own besides connections */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)conns + 64 > rl.rlim_cur)
		log_warnx("limit connections %u: the descriptor limit (%llu) "
		    "is lower; connections beyond it wait in the backlog",
		    conns, (unsigned long long)rl.rlim_cur);
}

/*
 * The key blocks of c by index, none loaded yet; then a key of each TLS
 * listener, which keyproc holds as it holds the edges' keys, but for
 * the listener's handshakes only.
 */
void
keyset_build(struct keyset *ks, struct lurkd_conf *c)
{
	struct keyconf		*k;
	struct tlsconf		*t;
	struct upstreamconf	*u;

	memset(ks, 0, sizeof(*ks));
	TAILQ_FOREACH(k, &c->keys, entry)
		ks->n++;
	TAILQ_FOREACH(t, &c->tlss, entry)
		ks->n++;
	TAILQ_FOREACH(u, &c->upstreams, entry)
		ks->n++;
	if ((ks->tab = calloc(ks->n + 1, sizeof(*ks->tab))) == NULL ||
	    (ks->loaded = calloc(ks->n + 1, sizeof(*ks->loaded))) == NULL)
		fatal("calloc");
	ks->n = 0;
	TAILQ_FOREACH(k, &c->keys, entry)
		ks->tab[ks->n++] = k;
	ks->nedge = ks->n;
	TAILQ_FOREACH(t, &c->tlss, entry) {
		if ((k = calloc(1, sizeof(*k))) == NULL)
			fatal("calloc");
		TAILQ_INIT(&k->allows);
		k->usage = KEY_USE_SERVER;
		tls_key_name(t, k->name, sizeof(k->name));
		/* its CertificateVerify; ServerKeyExchange for TLS 1.2 */
		k->operations = EDGE_OP_SIGN_TLS13 |
		    (t->tls12 ? EDGE_OP_SIGN_TLS12 : 0);
		strlcpy(k->private, t->private, sizeof(k->private));
		strlcpy(k->certificate, t->certificate,
		    sizeof(k->certificate));
		strlcpy(k->file, t->file, sizeof(k->file));
		k->line = t->line;
		ks->tab[ks->n++] = k;
	}
	ks->ntls = ks->n - ks->nedge;
	/* the upstreams' client keys, the configuration's own */
	TAILQ_FOREACH(u, &c->upstreams, entry)
		ks->tab[ks->n++] = u->key;
}

/* How keyproc and the logs name a TLS listener's key. */
void
tls_key_name(const struct tlsconf *t, char *buf, size_t len)
{
	snprintf(buf, len, t->family == AF_INET6 ? "tls [%s]:%u" :
	    "tls %s:%u", t->addr, t->port);
}

void
keyset_free(struct keyset *ks)
{
	int	 i;

	/* the listeners' keys are the keyset's own */
	for (i = ks->nedge; i < ks->nedge + ks->ntls; i++)
		free(ks->tab[i]);
	free(ks->tab);
	free(ks->loaded);
	memset(ks, 0, sizeof(*ks));
}

/*
 * keyproc[0] loaded key kl->index of ks.  Two blocks of the same key
 * would leave the second one's rules unused: then -1, and err names
 * both blocks.
 */
int
keyset_loaded(struct keyset *ks, const struct key_loaded *kl, char *err,
    size_t errlen)
{
	struct keyconf	*k, *o, *l, *e;
	int		 i, rc = 0;

	k = ks->tab[kl->index];
	for (i = 0; i < ks->n; i++) {
		if (ks->loaded[i].index == 0 || memcmp(ks->loaded[i].spki_sha256,
		    kl->spki_sha256, sizeof(kl->spki_sha256)) != 0)
			continue;
		o = ks->tab[i];
		/* listeners may share a key; no edge may have one */
		if (k->usage != KEY_USE_EDGE && o->usage != KEY_USE_EDGE)
			continue;
		if (k->usage == KEY_USE_EDGE && o->usage == KEY_USE_EDGE)
			snprintf(err, errlen, "%s:%d: key \"%s\" is the same "
			    "key as key \"%s\" (%s:%d): give each key one "
			    "block", k->file, k->line, k->name, o->name,
			    o->file, o->line);
		else {
			l = k->usage != KEY_USE_EDGE ? k : o;
			e = l == k ? o : k;
			snprintf(err, errlen, "%s:%d: listen on %s: its key is "
			    "key \"%s\" (%s:%d): an edge could sign for the "
			    "listener", l->file, l->line, l->name, e->name,
			    e->file, e->line);
		}
		rc = -1;
	}
	/* index + 1: 0 marks a key not loaded (yet) */
	ks->loaded[kl->index] = *kl;
	ks->loaded[kl->index].index = kl->index + 1;
	return rc;
}

static int
ncpus(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > LURKD_KEYPROCS_MAX ? LURKD_KEYPROCS_MAX : (int)n;
}

/* Whatever way the parent exits: no socket or pid file of ours left. */
static void
parent_exit(void)
{
	/* a child between fork and exec runs this too */
	if (getpid() != parent_pid)
		return;
	listen_remove();
	pidfile_unlink();
}

void
compose(struct child *c, uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&c->ibuf, type, 0, 0, fd, data, len) == -1)
		fatal("%s: to %s", __func__, c->name);
	/* flush now: never pile up descriptors in the parent */
	if (fd != -1 && imsgbuf_flush(&c->ibuf) == -1)
		fatal("%s: flush to %s", __func__, c->name);
}

/*
 * Open a key or certificate file; the parent never reads from it.  On
 * failure, err says which and why.  The watch (watch.c) learns which
 * file the key is now, or that it could not be opened.
 */
int
open_key_file(const char *path, const char *what, const char *who,
    char *err, size_t errlen)
{
	size_t	 n = strlen(err);
	int	 fd;

	/* both files of a key can fail: err says both */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 &&
	    n < errlen)
		snprintf(err + n, errlen - n, "%s%s: %s %s: %s",
		    n > 0 ? "; " : "", who, what, path, strerror(errno));
	watch_file(path, fd);
	return fd;
}

/* Both files of a key, or neither (and err says why). */
int
open_key_files(const struct keyconf *k, int *kfd, int *cfd, char *err,
    size_t errlen)
{
	char	 who[LURKD_NAME_MAX + 16];

	if (k->usage == KEY_USE_EDGE)
		snprintf(who, sizeof(who), "key \"%s\"", k->name);
	else
		snprintf(who, sizeof(who), "listen on %s", k->name);
	err[0] = '\0';
	*kfd = open_key_file(k->private, "private key", who, err, errlen);
	*cfd = open_key_file(k->certificate, "certificate", who, err,
	    errlen);
	if (*kfd != -1 && *cfd != -1)
		return 0;
	if (*kfd != -1)
		close(*kfd);
	if (*cfd != -1)
		close(*cfd);
	*kfd = *cfd = -1;
	return -1;
}

/*
 * A TLS listener's CA file and CRL file: opened (and watched) as the
 * keys' files are, and parsed here, so that a start, lurkd -n and a
 * reload say what is wrong with them; netproc reads them again from
 * the descriptors.  fds[0]: the CA file, fds[1]: the CRL file, or -1.
 * -1 if one does not open or parse, and err says why.
 */
int
open_tls_files(const struct tlsconf *t, int *fds, char *err, size_t errlen)
{
	X509_STORE	*store;
	char		 who[LURKD_NAME_MAX + 16], name[LURKD_NAME_MAX];
	size_t		 n;

	tls_key_name(t, name, sizeof(name));
	snprintf(who, sizeof(who), "listen on %s", name);
	err[0] = '\0';
	fds[0] = open_key_file(t->ca, "ca", who, err, errlen);
	fds[1] = t->crl[0] == '\0' ? -1 :
	    open_key_file(t->crl, "crl", who, err, errlen);
	if (fds[0] != -1 && (t->crl[0] == '\0' || fds[1] != -1)) {
		n = snprintf(err, errlen, "%s: ", who);
		if (tlsfiles_load(fds[0], t->ca, fds[1], t->crl, NULL, &store,
		    NULL, err + n, errlen - n) == 0) {
			X509_STORE_free(store);
			err[0] = '\0';
			return 0;
		}
	}
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	fds[0] = fds[1] = -1;
	return -1;
}

/* Each listener's CA and CRL descriptors to netproc (which take them). */
void
send_tls_files(struct child *net, const struct lurkd_conf *c, int *fds)
{
	struct conf_tlsfile	 cf;
	const struct tlsconf	*t;
	int			 i = 0, j;

	TAILQ_FOREACH(t, &c->tlss, entry) {
		for (j = 0; j < 2; j++) {
			if (fds[2 * i + j] == -1)
				continue;
			memset(&cf, 0, sizeof(cf));
			cf.index = i;
			cf.kind = j == 0 ? TLSFILE_CA : TLSFILE_CRL;
			strlcpy(cf.path, j == 0 ? t->ca : t->crl,
			    sizeof(cf.path));
			compose(net, IMSG_CONF_TLSFILE, fds[2 * i + j], &cf,
			    sizeof(cf));
			fds[2 * i + j] = -1;
		}
		i++;
	}
}

/*
 * A private key others may read is worth a warning, not a refusal:
 * Kubernetes Secret volumes are 0644 unless told (defaultMode: 0400).
 */
void
key_mode_warn(int fd, const struct keyconf *k)
{
	struct stat	 st;

	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		log_warnx("key \"%s\": private key %s is readable by %s "
		    "(mode %04o): make it 0400 or 0600 (a Kubernetes Secret "
		    "volume: defaultMode: 0400)", k->name, k->private,
		    (st.st_mode & S_IROTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
}

static void
send_key_fd(struct child *c, uint32_t type, uint32_t idx,
    const struct keyconf *k, const char *path, int fd)
{
	struct conf_key	 ck;
	int		 dfd;

	memset(&ck, 0, sizeof(ck));
	ck.index = idx;
	ck.usage = k->usage;
	ck.operations = k->operations;
	ck.tls13_secrets = k->tls13_secrets;
	ck.tls13_tickets = k->tls13_tickets;
	strlcpy(ck.name, k->name, sizeof(ck.name));
	strlcpy(ck.path, path, sizeof(ck.path));
	if ((dfd = dup(fd)) == -1)
		fatal("dup");
	compose(c, type, dfd, &ck, sizeof(ck));
}

/* A key's two fds to each keyproc (dups: the caller closes its own). */
void
send_key_files(struct child *kp, int nkp, int idx, const struct keyconf *k,
    int kfd, int cfd)
{
	int	 i;

	for (i = 0; i < nkp; i++) {
		send_key_fd(&kp[i], IMSG_CONF_KEY, idx, k, k->private, kfd);
		send_key_fd(&kp[i], IMSG_CONF_KEYCERT, idx, k, k->certificate,
		    cfd);
	}
}

/*
 * The key fds go to the keyprocs, and only there; the TLS listeners' CA
 * and CRL files are opened and checked, into tlsfds for netproc.
 * Returns how many keys could not be opened (each said why), which are
 * not sent; *tlsbad, how many listeners' CA or CRL files failed.
 */
static int
send_keys(struct child *kp, int nkp, int *tlsbad)
{
	struct keyconf	*k;
	struct tlsconf	*t;
	char		 err[2 * PATH_MAX + 256];
	int		 idx, kfd, cfd, bad = 0;

	watch_files_begin();
	for (idx = 0; idx < keyset.n; idx++) {
		k = keyset.tab[idx];
		if (open_key_files(k, &kfd, &cfd, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			bad++;
			continue;
		}
		key_mode_warn(kfd, k);
		send_key_files(kp, nkp, idx, k, kfd, cfd);
		close(kfd);
		close(cfd);
	}
	idx = 0;
	*tlsbad = 0;
	TAILQ_FOREACH(t, &conf->tlss, entry) {
		if (open_tls_files(t, &tlsfds[2 * idx], err,
		    sizeof(err)) == -1) {
			log_warnx("%s", err);
			(*tlsbad)++;
		}
		idx++;
	}
	if (upstream_prepare(conf, &upst, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		(*tlsbad)++;
	}
	watch_files_end();
	return bad;
}

/* The settings of c for the children, with the keys of ks, nkp keyprocs. */
void
global_config(struct conf_global *g, const struct lurkd_conf *c,
    const struct keyset *ks, int nkp)
{
	struct listenconf	*l;
	struct httpconf		*h;
	struct tlsconf		*t;

	memset(g, 0, sizeof(*g));
	g->keyprocs = nkp;
	g->lenmode = c->lenmode;
	g->max_message = c->max_message;
	g->timeout_idle = c->timeout_idle;
	g->timeout_message = c->timeout_message;
	g->limit_conns = c->limit_conns;
	g->limit_user_conns = c->limit_user_conns;
	g->limit_user_rate = c->limit_user_rate;
	g->limit_user_burst = c->limit_user_burst;
	g->drafts = c->drafts;
	g->nkeys = ks->nedge;
	g->ntlskeys = ks->n - ks->nedge;
	g->nupstream = ks->n - ks->nedge - ks->ntls;
	TAILQ_FOREACH(t, &c->tlss, entry)
		g->ntls++;
	TAILQ_FOREACH(l, &c->listeners, entry)
		g->nlisten++;
	TAILQ_FOREACH(l, &c->controls, entry)
		g->ncontrol++;
	TAILQ_FOREACH(h, &c->https, entry)
		g->nhttp++;
}

/*
 * The control sockets and HTTP listeners, served by netproc: lurkd's
 * parent parses no byte from outside, and netproc already holds the
 * connections and counters that lurkctl shows (DESIGN.md; lurkd(8)).
 * Who may use a control socket: root, lurkd's own uid, and the members
 * of the socket's group (its group, or lurkd's when none is given).
 */
static void
send_ctl_config(struct child *net, int *cfds, int *hfds)
{
	struct conf_control	 cc;
	struct conf_http	 ch;
	struct listenconf	*l;
	struct httpconf		*h;
	int			 i = 0;

	TAILQ_FOREACH(l, &conf->controls, entry) {
		memset(&cc, 0, sizeof(cc));
		strlcpy(cc.path, l->path, sizeof(cc.path));
		cc.restricted = l->restricted;
		cc.uid = geteuid();
		cc.gid = l->has_group ? l->gid : getegid();
		compose(net, IMSG_CONF_CONTROL, cfds[i++], &cc, sizeof(cc));
	}
	i = 0;
	TAILQ_FOREACH(h, &conf->https, entry) {
		memset(&ch, 0, sizeof(ch));
		strlcpy(ch.addr, h->addr, sizeof(ch.addr));
		ch.port = h->port;
		ch.family = h->family;
		compose(net, IMSG_CONF_HTTP, hfds[i++], &ch, sizeof(ch));
	}
}

/* netproc: who may use each key of ks, and for what. */
void
send_policies(struct child *net, const struct keyset *ks)
{
	struct conf_key		 ck;
	struct conf_allow	 ca;
	struct keyconf		*k;
	struct allow		*a;
	int			 idx;

	/*
	 * the listeners' keys have no policy: nobody may use them; an
	 * upstream's says who may use the upstream through this lurkd
	 */
	for (idx = 0; idx < ks->n; idx++) {
		if (idx == ks->nedge)
			idx += ks->ntls;
		if (idx >= ks->n)
			break;
		k = ks->tab[idx];
		memset(&ck, 0, sizeof(ck));
		ck.index = idx;
		ck.operations = k->operations;
		memcpy(ck.rate, k->rate, sizeof(ck.rate));
		memcpy(ck.burst, k->burst, sizeof(ck.burst));
		ck.tls13_secrets = k->tls13_secrets;
		ck.tls13_tickets = k->tls13_tickets;
		strlcpy(ck.name, k->name, sizeof(ck.name));
		compose(net, IMSG_CONF_POLICY, -1, &ck, sizeof(ck));
		TAILQ_FOREACH(a, &k->allows, entry) {
			memset(&ca, 0, sizeof(ca));
			ca.index = idx;
			ca.type = a->type;
			ca.id = a->id;
			strlcpy(ca.ident, a->ident, sizeof(ca.ident));
			memcpy(ca.spki, a->spki, sizeof(ca.spki));
			compose(net, IMSG_CONF_ALLOW, -1, &ca, sizeof(ca));
		}
	}
}

/* The TLS listeners: their sockets, then their CA and CRL files. */
static void
send_tls_config(struct child *net, int *tfds)
{
	struct conf_tls		 ct;
	struct tlsconf		*t;
	int			 i = 0;

	TAILQ_FOREACH(t, &conf->tlss, entry) {
		memset(&ct, 0, sizeof(ct));
		ct.index = i;
		ct.tls12 = t->tls12;
		ct.family = t->family;
		ct.port = t->port;
		strlcpy(ct.addr, t->addr, sizeof(ct.addr));
		compose(net, IMSG_CONF_TLS, tfds[i++], &ct, sizeof(ct));
	}
	send_tls_files(net, conf, tlsfds);
}

static void
send_config(struct child *net, struct child *kp, int nkp, int *lfds,
    int *cfds, int *hfds, int *tfds, int *pairs,
    const struct conf_sandbox *sb)
{
	struct conf_global	 g;
	struct conf_listen	 cl;
	struct procfd		 pf;
	struct listenconf	*l;
	int			 i;

	global_config(&g, conf, &keyset, nkp);

	/* every child locks itself down before it gets anything else */
	for (i = 0; i < nchildren; i++)
		compose(&children[i], IMSG_CONF_SANDBOX, -1, sb, sizeof(*sb));

	for (i = 0; i < nkp; i++)
		compose(&kp[i], IMSG_CONF_GLOBAL, -1, &g, sizeof(g));
	compose(net, IMSG_CONF_GLOBAL, -1, &g, sizeof(g));

	/* netproc <-> keyproc[i] channels */
	for (i = 0; i < nkp; i++) {
		memset(&pf, 0, sizeof(pf));
		pf.proc = PROC_NETPROC;
		pf.instance = 0;
		compose(&kp[i], IMSG_CTL_PROCFD, pairs[2 * i], &pf, sizeof(pf));
		pf.proc = PROC_KEYPROC;
		pf.instance = i;
		compose(net, IMSG_CTL_PROCFD, pairs[2 * i + 1], &pf,
		    sizeof(pf));
	}
	if (send_keys(kp, nkp, &i) > 0 || i > 0)
		exit(1);
	send_policies(net, &keyset);
	i = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		memset(&cl, 0, sizeof(cl));
		strlcpy(cl.path, l->path, sizeof(cl.path));
		compose(net, IMSG_CONF_LISTEN, lfds[i++], &cl, sizeof(cl));
	}
	send_ctl_config(net, cfds, hfds);
	send_tls_config(net, tfds);
	upstream_send(net, conf, &upst);
	for (i = 0; i < nchildren; i++) {
		compose(&children[i], IMSG_CONF_END, -1, NULL, 0);
		if (imsgbuf_flush(&children[i].ibuf) == -1)
			fatal("flush to %s", children[i].name);
	}
}

static struct child *
child_bypid(pid_t pid)
{
	int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid == pid)
			return &children[i];
	return NULL;
}

static void
kill_children(int sig)
{
	int	 i;

	for (i = 0; i < nchildren; i++)
		if (children[i].alive) {
			children[i].signaled = sig;
			kill(children[i].pid, sig);
		}
}

/* Reap; return the number of children that died unexpectedly. */
static int
reap(int shutting_down)
{
	struct child	*c;
	pid_t		 pid;
	int		 status, lost = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = child_bypid(pid)) == NULL)
			continue;
		c->alive = 0;
		/*
		 * During shutdown, a child we told to stop is not news when
		 * it exits (perhaps first noticing its peers leave) or dies
		 * of our signal; one killed by another signal (perhaps
		 * before we told it anything) is.
		 */
		if (shutting_down && c->signaled != 0 && (WIFEXITED(status) ||
		    WTERMSIG(status) == c->signaled)) {
			log_debug("%s pid %d stopped", c->name, (int)pid);
			continue;
		}
		lost++;
		if (WIFSIGNALED(status))
			log_warnx("lost child: %s pid %d terminated; signal %d "
			    "(%s)", c->name, (int)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			log_warnx("lost child: %s pid %d exited with status "
			    "%d", c->name, (int)pid, WEXITSTATUS(status));
	}
	return lost;
}

static int
alive_children(void)
{
	int	 i, n = 0;

	for (i = 0; i < nchildren; i++)
		n += children[i].alive;
	return n;
}

/* Stop every child, waiting up to 5 seconds before SIGKILL. */
static void
shutdown_children(void)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	int		 i;

	/* whoever is already dead died on its own: say so */
	reap(0);
	kill_children(SIGTERM);
	for (i = 0; i < 250 && alive_children() > 0; i++) {
		reap(1);
		if (alive_children() == 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (alive_children() > 0) {
		log_warnx("children did not stop in time: killing them");
		kill_children(SIGKILL);
		while (alive_children() > 0 && waitpid(-1, NULL, 0) > 0)
			reap(1);
	}
}

/*
 * keyproc[0] loaded a key: two blocks of the same key would leave the
 * second one's rules unused, so that is a configuration error naming
 * both blocks.
 */
static void
key_loaded(struct child *c, struct imsg *imsg)
{
	struct key_loaded	 kl;
	char			 err[2 * PATH_MAX + 256];

	if (c->id != PROC_KEYPROC || c->instance != 0 || c->ready ||
	    imsg_get_data(imsg, &kl, sizeof(kl)) == -1 ||
	    kl.index >= (uint32_t)keyset.n ||
	    keyset.loaded[kl.index].index != 0)
		fatalx("bad IMSG_KEY_LOADED from %s", c->name);
	if (keyset_loaded(&keyset, &kl, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		if (!checking)
			exit(1);
		check_errors++;
	}
}

static void
dispatch_child(struct child *c)
{
	struct imsg	 imsg;
	struct ibuf	 ib;
	struct log_kv	 kv[LOGF_MAX];
	const uint8_t	*p, *nul;
	size_t		 nkv, len;
	int		 n, pri, fd;

	if ((n = imsgbuf_read(&c->ibuf)) == -1 && errno != ECONNRESET)
		fatal("read from %s", c->name);
	if (n <= 0) {
		/* it is dying; SIGCHLD tells us how */
		c->ibuf.fd = -1;
		return;
	}
	for (;;) {
		if ((n = imsgbuf_get(&c->ibuf, &imsg)) == -1)
			fatal("bad message from %s", c->name);
		if (n == 0)
			break;
		/* descriptors go from the parent to the children only */
		if ((fd = imsg_get_fd(&imsg)) != -1) {
			close(fd);
			fatalx("%s sent a file descriptor (imsg %u): no child "
			    "may", c->name, imsg_get_type(&imsg));
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_LOG:
			/*
			 * int priority (no more urgent than LOG_ERR), a
			 * NUL-terminated line of at most 1200 bytes, then
			 * its fields (log_fields_parse).  The line and the
			 * fields are escaped and said to be the child's as
			 * the parent knows it, whatever the child claims
			 * in them.
			 */
			if (imsg_get_ibuf(&imsg, &ib) == -1 ||
			    ibuf_get(&ib, &pri, sizeof(pri)) == -1 ||
			    pri < LOG_ERR || pri > LOG_DEBUG ||
			    (len = ibuf_size(&ib)) == 0 ||
			    (p = ibuf_data(&ib)) == NULL ||
			    (nul = memchr(p, '\0', len < 1200 ? len :
			    1200)) == NULL ||
			    log_fields_parse(nul + 1, len - (nul + 1 - p), kv,
			    &nkv) == -1)
				fatalx("bad IMSG_LOG from %s", c->name);
			log_record(pri, c->name, (const char *)p, nul - p, kv,
			    nkv);
			break;
		case IMSG_KEY_LOADED:
			/* a start's, or once ready a reload's (reload.c) */
			if (!c->ready)
				key_loaded(c, &imsg);
			else
				reload_dispatch(c, &imsg);
			break;
		case IMSG_RELOAD_RESULT:
		case IMSG_RELOAD_STAGED:
		case IMSG_RELOAD_DONE:
			reload_dispatch(c, &imsg);
			break;
		case IMSG_CTL_STATUS:
			/* netproc wants it now: show status, /metrics */
			if (c->id != PROC_NETPROC || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_CTL_STATUS from %s", c->name);
			send_status();
			break;
		case IMSG_CTL_RELOAD:
			if (c->id != PROC_NETPROC || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_CTL_RELOAD from %s", c->name);
			reload("lurkctl reload");
			break;
		case IMSG_CTL_VERBOSE:
			if (c->id != PROC_NETPROC ||
			    imsg_get_data(&imsg, &n, sizeof(n)) == -1 ||
			    n < 0 || n > 2)
				fatalx("bad IMSG_CTL_VERBOSE from %s", c->name);
			set_verbose(n);
			break;
		case IMSG_READY:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_READY from %s", c->name);
			if (c->ready)
				fatalx("%s said READY twice", c->name);
			c->ready = 1;
			if (++nready < nchildren || checking)
				break;
			pidfile_create(conf->pidfile);
			/* from here on, the parent needs no more than this */
			sandbox_parent(geteuid() == 0);
			log_info("ready: %d keyprocs, netproc; %s mode",
			    nchildren - 1, getuid() == 0 ?
			    "root (chroot, setuid)" : "unprivileged");
			ctlstatus.ready = 1;
			watch_enable(conf->watch);
			send_status();
			daemon_ready();
			reload_ready();
			break;
		default:
			fatalx("unexpected imsg %u from %s",
			    imsg_get_type(&imsg), c->name);
		}
		imsg_free(&imsg);
	}
}

/*
 * How long the children may take to say READY, in ms: a child that hangs
 * at start must not leave the invoker (and a supervisor) waiting forever.
 */
static int
start_timeout(void)
{
#ifdef LURKD_TEST_HOOKS
	const char	*s = getenv("LURKD_TEST_START_TIMEOUT");

	if (s != NULL)
		return atoi(s) * 1000;
#endif
	return LURKD_START_TIMEOUT * 1000;
}

/* Milliseconds left before the start times out; -1 once all are ready. */
static int
start_left(const struct timespec *t0)
{
	struct timespec	 now;
	long		 ms;

	if (nready == nchildren)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
	return ms >= start_timeout() ? 0 : start_timeout() - ms;
}

/*
 * What show status says from the start: the configuration file, by its
 * real path and the SHA-256 of its bytes (of the file named, not of its
 * includes), the mode, the keyprocs.
 */
static void
status_init(int nkp)
{
	memset(&ctlstatus, 0, sizeof(ctlstatus));
	ctlstatus.started = time(NULL);
	ctlstatus.root = geteuid() == 0;
	ctlstatus.nkeyprocs = nkp;
	ctlstatus.generation = 1;
	strlcpy(ctlstatus.version, LURKD_VERSION, sizeof(ctlstatus.version));
	ctlstatus.parent_pid = getpid();
	ctlstatus.log_format = conf->log_format;
	status_confhash();
}

/* The configuration file's real path and hash, at start and reload. */
void
status_confhash(void)
{
	EVP_MD_CTX	*ctx;
	FILE		*f;
	char		 buf[8192];
	size_t		 n;
	int		 ok;

	if (realpath(conffile, ctlstatus.conffile) == NULL)
		strlcpy(ctlstatus.conffile, conffile,
		    sizeof(ctlstatus.conffile));
	memset(ctlstatus.confhash, 0, sizeof(ctlstatus.confhash));
	if ((f = fopen(conffile, "re")) == NULL)
		return;
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	if (ok && !ferror(f))
		EVP_DigestFinal_ex(ctx, ctlstatus.confhash, NULL);
	EVP_MD_CTX_free(ctx);
	fclose(f);
}

/* Tell netproc what lurkctl show status says of the parent. */
void
send_status(void)
{
	int	 i;

	ctlstatus.log_dropped = log_dropped_total();
	ctlstatus.log_verbose = verbose;
	for (i = 0; i < nchildren; i++)
		if (children[i].id == PROC_NETPROC)
			compose(&children[i], IMSG_CTL_STATUS, -1, &ctlstatus,
			    sizeof(ctlstatus));
}

/* log verbose|brief: here and in every child. */
static void
set_verbose(int level)
{
	int	 i;

	verbose = level;
	log_setverbose(level);
	for (i = 0; i < nchildren; i++)
		compose(&children[i], IMSG_CTL_VERBOSE, -1, &level,
		    sizeof(level));
	log_info("log %s", level > 0 ? "verbose" : "brief");
}

static __attribute__((__noreturn__)) void
parent_loop(int sfd)
{
	struct signalfd_siginfo	 si;
	struct timespec		 t0;
	struct pollfd		*pfd;
	int			 i, n, rc = 0, timeout, wt;

	if ((pfd = calloc(nchildren + 2, sizeof(*pfd))) == NULL)
		fatal("calloc");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nchildren; i++) {
			pfd[i + 1].fd = children[i].ibuf.fd;
			pfd[i + 1].events = POLLIN;
			if (imsgbuf_queuelen(&children[i].ibuf) > 0)
				pfd[i + 1].events |= POLLOUT;
		}
		/* the key directories (watch.c): -1 while not watching */
		pfd[nchildren + 1].fd = watch_fd();
		pfd[nchildren + 1].events = POLLIN;
		timeout = start_left(&t0);
		if ((wt = watch_timeout()) != -1 &&
		    (timeout == -1 || wt < timeout))
			timeout = wt;
		if ((n = poll(pfd, nchildren + 2, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[nchildren + 1].revents & POLLIN)
			watch_read();
		if (watch_timeout() == 0)
			watch_expired();
		if (n == 0 && start_left(&t0) == 0) {
			for (i = 0; i < nchildren; i++)
				if (!children[i].ready)
					log_warnx("%s pid %d is not ready after "
					    "%d s", children[i].name,
					    (int)children[i].pid,
					    start_timeout() / 1000);
			log_warnx("the start timed out: shutting down");
			rc = 1;
			goto stop;
		}
		for (i = 0; i < nchildren; i++) {
			if (pfd[i + 1].revents & POLLOUT &&
			    imsgbuf_write(&children[i].ibuf) == -1)
				children[i].ibuf.fd = -1;
			if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				dispatch_child(&children[i]);
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			if (reap(0) == 0)
				continue;
			rc = 1;
			log_warnx("a child died: shutting down");
			break;
		case SIGTERM:
		case SIGINT:
			log_info("received %s, shutting down",
			    strsignal(si.ssi_signo));
			break;
		case SIGHUP:
			reload("SIGHUP");
			continue;
		case SIGUSR1:
			/* netproc logs its counters */
			for (i = 0; i < nchildren; i++)
				if (children[i].id == PROC_NETPROC &&
				    imsg_compose(&children[i].ibuf,
				    IMSG_CTL_STATS, 0, 0, -1, NULL, 0) == -1)
					fatal("compose");
			continue;
		default:
			continue;
		}
 stop:
		/* drain log lines the children wrote before they died */
		for (i = 0; i < nchildren; i++)
			if (children[i].ibuf.fd != -1)
				dispatch_child(&children[i]);
		shutdown_children();
		log_info("exiting");
		exit(rc);
	}
}

/* Fork + re-exec one child, its channel ready for imsg. */
static void
spawn_child(struct child *c, enum proc_id id, int instance)
{
	int	 sp[2];

	c->id = id;
	c->instance = instance;
	proc_name(id, instance, c->name, sizeof(c->name));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1)
		fatal("socketpair");
	c->pid = proc_exec(self, id, instance, sp[1], debug, verbose);
	c->alive = 1;
	close(sp[1]);
	if (imsgbuf_init(&c->ibuf, sp[0]) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&c->ibuf);
	if (imsgbuf_set_maxsize(&c->ibuf, 8192) == -1)
		fatal("imsgbuf_set_maxsize");
}

static void
start_children(int nkp, const struct conf_sandbox *sb)
{
	struct listenconf	*l;
	struct httpconf		*h;
	struct tlsconf		*t;
	int			 sp[2], i, *lfds, *pairs;
	int			 cfds[LURKD_CONTROL_MAX], hfds[LURKD_HTTP_MAX];
	int			 tfds[LURKD_TLS_MAX];
	int			 nl = 0;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		nl++;
	if ((lfds = calloc(nl, sizeof(int))) == NULL ||
	    (pairs = calloc(2 * nkp, sizeof(int))) == NULL ||
	    (children = calloc(nkp + 1, sizeof(*children))) == NULL)
		fatal("calloc");
	i = 0;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		lfds[i++] = listen_unix(l);
	i = 0;
	TAILQ_FOREACH(l, &conf->controls, entry)
		cfds[i++] = listen_unix(l);
	/* the directories exist now: compare them as directories */
	if (listen_dirs_check(conf) == -1)
		exit(1);
	i = 0;
	TAILQ_FOREACH(h, &conf->https, entry)
		hfds[i++] = listen_tcp(h->family, h->addr, h->port, "http");
	i = 0;
	TAILQ_FOREACH(t, &conf->tlss, entry)
		tfds[i++] = listen_tcp(t->family, t->addr, t->port, "tls");

	nchildren = nkp + 1;
	for (i = 0; i < nchildren; i++) {
		spawn_child(&children[i], i < nkp ? PROC_KEYPROC :
		    PROC_NETPROC, i < nkp ? i : 0);
		if (i < nkp)
			ctlstatus.keyproc_pid[i] = children[i].pid;
		else
			ctlstatus.netproc_pid = children[i].pid;
	}
	for (i = 0; i < nkp; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sp) == -1)
			fatal("socketpair");
		pairs[2 * i] = sp[0];
		pairs[2 * i + 1] = sp[1];
	}
	send_config(&children[nkp], children, nkp, lfds, cfds, hfds, tfds,
	    pairs, sb);
	free(lfds);
	free(pairs);
}

/*
 * lurkd -n: every check of a start short of binding the sockets, each
 * problem on stderr; the keys are loaded by a throwaway keyproc, locked
 * down as a real one (the parent still never reads key bytes).  Returns
 * the number of problems.
 */
static int
check_config(void)
{
	struct conf_sandbox	 sb;
	struct conf_global	 g;
	struct listenconf	*l;
	struct child		*kp;
	struct pollfd		 pfd;
	int			 errors = 0, missing = 0, status, i;

	memset(&sb, 0, sizeof(sb));
	sb.root = geteuid() == 0;
	if (sb.root) {
		if (user_ok(conf, conffile, &sb) == -1 ||
		    chroot_ok(conf->chroot, 0, &missing) == -1) {
			errors++;
			/* the keys are checked all the same, as root */
			sb.root = 0;
		} else if (missing) {
			log_info("chroot %s does not exist: lurkd makes it at "
			    "start", conf->chroot);
			/* the test keyproc changes user without it */
			strlcpy(sb.chroot, "/", sizeof(sb.chroot));
		}
	}
	if (pidfile_ok(conf->pidfile) == -1)
		errors++;
	TAILQ_FOREACH(l, &conf->listeners, entry)
		if (listen_check(l) == -1)
			errors++;
	TAILQ_FOREACH(l, &conf->controls, entry)
		if (listen_check(l) == -1)
			errors++;
	if (listen_dirs_check(conf) == -1)
		errors++;

	checking = 1;
	nchildren = 1;
	if ((children = calloc(1, sizeof(*children))) == NULL)
		fatal("calloc");
	kp = &children[0];
	spawn_child(kp, PROC_KEYPROC, 0);
	global_config(&g, conf, &keyset, 1);
	compose(kp, IMSG_CONF_SANDBOX, -1, &sb, sizeof(sb));
	compose(kp, IMSG_CONF_GLOBAL, -1, &g, sizeof(g));
	compose(kp, IMSG_CONF_CHECK, -1, NULL, 0);
	/* a key that does not open is not sent, and counted below */
	(void)send_keys(kp, 1, &i);
	errors += i;
	for (i = 0; i < 2 * LURKD_TLS_MAX; i++)
		if (tlsfds[i] != -1) {
			close(tlsfds[i]);
			tlsfds[i] = -1;
		}
	upstream_close(&upst);
	compose(kp, IMSG_CONF_END, -1, NULL, 0);
	if (imsgbuf_flush(&kp->ibuf) == -1)
		fatal("flush to %s", kp->name);

	while (!kp->ready && kp->ibuf.fd != -1) {
		pfd.fd = kp->ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			fatal("poll");
		dispatch_child(kp);
	}
	while (waitpid(kp->pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	if (WIFSIGNALED(status)) {
		log_warnx("the test keyproc was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
		errors++;
	} else if (!kp->ready)
		errors++;	/* it said why */
	/* each key that did not open or load: it was said why */
	for (i = 0; i < keyset.n; i++)
		if (keyset.loaded[i].index == 0)
			errors++;
	return errors + check_errors;
}

int
main(int argc, char *argv[], char *envp[])
{
	struct conf_sandbox	 sb;
	const char		*title = NULL;
	const char		*errstr;
	sigset_t		 mask;
	int			 ch, noaction = 0, instance = 0, nkp, sfd;
	int			 missing;
	ssize_t			 n;

	setproctitle_init(argc, argv, envp);
	log_init(1, LOG_DAEMON);
	for (n = 0; n < 2 * LURKD_TLS_MAX; n++)
		tlsfds[n] = -1;
	for (n = 0; n < LURKD_UPSTREAM_MAX; n++)
		upst.cafd[n] = -1;

	while ((ch = getopt(argc, argv, "dD:f:nP:I:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) < 0)
				log_warnx("could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			noaction++;
			break;
		case 'P':
			title = optarg;
			break;
		case 'I':
			instance = strtonum(optarg, 0, LURKD_KEYPROCS_MAX - 1,
			    &errstr);
			if (errstr != NULL)
				fatalx("instance %s is %s", optarg, errstr);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (title != NULL) {
		switch (proc_byname(title)) {
		case PROC_KEYPROC:
			keyproc_main(instance, verbose);
		case PROC_NETPROC:
			netproc_main(verbose);
		default:
			fatalx("unknown process %s", title);
		}
	}

	log_setverbose(verbose);
	/*
	 * A reload reads the file again after the parent has gone to "/":
	 * a relative name is made absolute against the directory lurkd was
	 * started in.  Joined, not realpath(): a name that is a link which
	 * changes (a ConfigMap's) must stay that name.  -n never reloads and
	 * names the file as it was given.
	 */
	if (!noaction && conffile[0] != '/') {
		char	 cwd[PATH_MAX], *abs;

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			fatal("%s: the current directory", conffile);
		if (asprintf(&abs, "%s/%s", cwd, conffile) == -1)
			fatal("%s", __func__);
		conffile = abs;
	}
	if ((conf = parse_config(conffile, (verbose ? LURKD_OPT_VERBOSE : 0) |
	    (noaction ? LURKD_OPT_NOACTION : 0))) == NULL)
		exit(1);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	keyset_build(&keyset, conf);
	if (noaction) {
		if (verbose)
			print_config(conf);
		/* -nn: the syntax only */
		if (noaction == 1 && (n = check_config()) > 0) {
			fprintf(stderr, "configuration check failed: %zd "
			    "problem%s\n", n, n == 1 ? "" : "s");
			exit(1);
		}
		if (!verbose)
			fprintf(stderr, "configuration OK\n");
		exit(0);
	}

	/*
	 * Without -d, fork now: what fails from here on reaches the
	 * invoker's stderr through daemon_start's pipe, and its exit status.
	 */
	signal(SIGPIPE, SIG_IGN);	/* a reader gone is EPIPE */
	if (!debug)
		daemon_start();
	log_init(debug, LOG_DAEMON);
	log_settimestamps(debug);
	log_setformat(conf->log_format);
	log_procinit("parent");
	setproctitle("%s", "parent");
	parent_pid = getpid();
	if (atexit(parent_exit) != 0)
		fatalx("atexit");

	memset(&sb, 0, sizeof(sb));
	sb.root = geteuid() == 0;
	if (sb.root && (user_ok(conf, conffile, &sb) == -1 ||
	    chroot_ok(conf->chroot, 1, &missing) == -1))
		exit(1);
	if (pidfile_ok(conf->pidfile) == -1)
		exit(1);
	nkp = conf->keyprocs ? conf->keyprocs : ncpus();

	/* signals arrive through a descriptor the main loop polls */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");

	if (sb.root)
		log_info("starting as root: children chroot to %s and run as "
		    "%s (uid %u)", sb.chroot, sb.user, (unsigned)sb.uid);
	else
		log_info("starting as uid %u (not root): no chroot and no "
		    "user change; seccomp, no_new_privs and the rest apply",
		    (unsigned)getuid());
	raise_nofile(conf->limit_conns);
	status_init(nkp);
	start_children(nkp, &sb);
	/* no core, not dumpable, no_new_privs; capabilities go at ready */
	sandbox_harden();
	parent_loop(sfd);
}
