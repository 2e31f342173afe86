/*
 * netproc: listeners, connections, LURK framing and dispatch.
 *
 * Start-up: lock down as the parent says, receive the channels to the
 * keyprocs, the key policies and the listening sockets from the parent
 * and the keys' public data from the keyprocs; then load the seccomp
 * filter and serve.  One epoll loop; nothing blocks.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "imsg.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "proc.h"

#define NETPROC_KEY_MAXSIZE	(256 * 1024)
#define NETPROC_MAX_EVENTS	256

struct netproc		*np;

static struct imsgbuf	*parent;
static struct evtag	 parent_tag = { EV_PARENT, PARENT_SOCK_FILENO, 0 };
static struct keychan {
	struct imsgbuf	 ibuf;
	struct evtag	 tag;
	int		 up;
	int		 done;		/* IMSG_KEY_END seen */
	uint32_t	 events;
} *kc;
static int		 serving;
static int		 nkeyprocs;
static int		 listen_want, control_want, http_want;
static int		 conf_done, keys_seen;
static time_t		 accept_paused, status_asked_at, ticked;

/*
 * A reload's generation: the parent's policies and settings, and
 * keyproc[0]'s public data, staged until both are in, then committed.
 */
static struct {
	uint32_t		 gen;		/* 0: none */
	struct conf_global	 g;
	struct netkey		*keys;
	size_t			 nkeys;
	int			 conf_done;	/* the parent's RELOAD_END */
	size_t			 npublic;
} stage;

#ifdef LURKD_TEST_HOOKS
static volatile sig_atomic_t	 test_reload;
#endif

void
netproc_ep_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(np->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("%s: epoll_ctl", __func__);
}

void
netproc_ep_mod(int fd, uint32_t events, void *ptr)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(np->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		fatal("%s: epoll_ctl", __func__);
}

void
netproc_update_events(struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	c->events = events;
	netproc_ep_mod(c->fd, events, c);
}

/* A listening socket from the parent; epoll gets it once we serve. */
struct listener *
netproc_listener_add(int kind, int fd, const char *what, const char *address)
{
	struct listener	*l = &np->listeners[np->nlisteners];

	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	memset(l, 0, sizeof(*l));
	l->tag.kind = kind;
	l->tag.fd = fd;
	l->tag.index = np->nlisteners++;
	strlcpy(l->kind, what, sizeof(l->kind));
	strlcpy(l->address, address, sizeof(l->address));
	return l;
}

/* Tell the parent something (control.c): reload, log level. */
void
netproc_send_parent(uint32_t type, const void *data, size_t len)
{
	if (proc_compose_parent(type, -1, data, len) == -1)
		fatal("%s: to the parent", __func__);
}

/*
 * Ask the parent for its status (show status|stats, /metrics), once
 * until it comes, or again after a while if it does not.
 */
void
netproc_ask_status(void)
{
	time_t	 now = monotime();

	if (status_asked_at != 0 && now - status_asked_at < 2)
		return;
	status_asked_at = now;
	netproc_send_parent(IMSG_CTL_STATUS, NULL, 0);
}

/*
 * A key with a policy: an edge's, or an upstream's (after the TLS
 * listeners' keys, which have none: nobody may use them).
 */
static int
policy_index_ok(uint32_t index, size_t nkeys)
{
	return index < nkeys || (index >= nkeys + np->ntls &&
	    index < nkeys + np->ntlskeys);
}

/* Where the parent's policy for a key goes: a start's, or a reload's. */
static struct netkey *
policy_slot(uint32_t index)
{
	if (!serving) {
		if (np->keys == NULL || !policy_index_ok(index, np->nkeys))
			fatalx("%s: key index %u out of range", __func__,
			    index);
		return &np->keys[index];
	}
	if (stage.gen == 0 || stage.conf_done ||
	    !policy_index_ok(index, stage.nkeys))
		fatalx("%s: key policy outside a reload", __func__);
	return &stage.keys[index];
}

/* Settings from the parent, at start or at a reload. */
static int
global_ok(const struct conf_global *g)
{
	return g->keyprocs >= 1 && g->keyprocs <= LURKD_KEYPROCS_MAX &&
	    g->nkeys >= 0 && g->nkeys <= LURKD_KEYS_MAX &&
	    g->nlisten >= 0 && g->nlisten <= LURKD_LISTEN_MAX &&
	    g->ntls >= 0 && g->ntls <= LURKD_TLS_MAX &&
	    g->nupstream >= 0 && g->nupstream <= LURKD_UPSTREAM_MAX &&
	    g->nlisten + g->ntls >= 1 &&
	    g->ntlskeys == g->ntls + g->nupstream &&
	    g->ncontrol >= 0 && g->ncontrol <= LURKD_CONTROL_MAX &&
	    g->nhttp >= 0 && g->nhttp <= LURKD_HTTP_MAX &&
	    g->max_message >= LURKD_MSG_MIN &&
	    g->max_message <= LURKD_MSG_MAX && g->limit_conns >= 1 &&
	    g->limit_user_conns >= 1 && g->limit_user_rate <= LURKD_RATE_MAX &&
	    g->limit_user_burst <= LURKD_RATE_MAX &&
	    (g->limit_user_rate == 0 || g->limit_user_burst >= 1) &&
	    drafts_conf_ok(&g->drafts);
}

/* What a reload may change of the settings; the rest needs a restart. */
static void
global_apply(const struct conf_global *g)
{
	np->timeout_idle = g->timeout_idle;
	np->timeout_message = g->timeout_message;
	np->limit_conns = g->limit_conns;
	np->limit_user_conns = g->limit_user_conns;
	np->limit_user_rate = g->limit_user_rate;
	np->limit_user_burst = g->limit_user_burst;
	/* the drafts' settings that capabilities list (lurkd/reload.c) */
	np->drafts = g->drafts;
}

/* allow client subject|san|spki of a key, from the parent */
static void
cert_rule(struct netkey *k, struct conf_allow *ca)
{
	struct certrule	*r;

	if ((k->certs = reallocarray(k->certs, k->ncerts + 1,
	    sizeof(*k->certs))) == NULL)
		fatal("%s", __func__);
	r = &k->certs[k->ncerts++];
	memset(r, 0, sizeof(*r));
	r->type = ca->type;
	ca->ident[sizeof(ca->ident) - 1] = '\0';
	if (ca->type == ALLOW_SPKI)
		memcpy(r->spki, ca->spki, sizeof(r->spki));
	else if ((r->value = strdup(ca->ident)) == NULL)
		fatal("%s", __func__);
}

static void	 reload_begin(struct imsg *);
static void	 reload_conf_end(struct imsg *);

static int
dispatch_parent(struct imsg *imsg)
{
	struct conf_sandbox	 sb;
	struct conf_global	 g;
	struct conf_key		 ck;
	struct conf_allow	 ca;
	struct conf_listen	 cl;
	struct conf_control	 cc;
	struct conf_http	 ch;
	struct procfd		 pf;
	struct netkey		*k;
	struct listener		*l;
	uint32_t		**list;
	size_t			*nlist;
	char			 addr[80];
	int			 fd, level, i;
	static int		 nlisten, ncontrol, nhttp;

	switch (imsg_get_type(imsg)) {
	case IMSG_CONF_SANDBOX:
		if (imsg_get_data(imsg, &sb, sizeof(sb)) == -1)
			fatalx("%s: bad IMSG_CONF_SANDBOX", __func__);
		sb.chroot[sizeof(sb.chroot) - 1] = '\0';
		sandbox_drop(&sb, "netproc");
		log_info("running as uid %u gid %u%s%s", (unsigned)getuid(),
		    (unsigned)getgid(), sb.root ? ", chroot " : "",
		    sb.root ? sb.chroot : "");
		break;
	case IMSG_CONF_GLOBAL:
		if (imsg_get_data(imsg, &g, sizeof(g)) == -1 ||
		    !global_ok(&g) || kc != NULL)
			fatalx("%s: bad IMSG_CONF_GLOBAL", __func__);
		np->lenmode = g.lenmode == LENMODE_MESSAGE ?
		    LURK_LEN_MESSAGE : LURK_LEN_PAYLOAD;
		np->max_message = g.max_message;
		global_apply(&g);
		np->nkeys = g.nkeys;
		np->ntlskeys = g.ntlskeys;
		np->generation = 1;
		nkeyprocs = np->nkeyprocs = g.keyprocs;
		listen_want = g.nlisten;
		control_want = g.ncontrol;
		http_want = g.nhttp;
		/* the TLS listeners' keys after the edges' (tls.c) */
		if ((np->keys = calloc(np->nkeys + np->ntlskeys + 1,
		    sizeof(*np->keys))) == NULL ||
		    (kc = calloc(nkeyprocs, sizeof(*kc))) == NULL ||
		    (np->listeners = calloc(listen_want + control_want +
		    http_want + g.ntls, sizeof(*np->listeners))) == NULL)
			fatal("%s", __func__);
		tls_conf_global(g.ntls);
		relay_conf_global(g.nupstream);
		edge_init();
		break;
	case IMSG_CTL_PROCFD:
		if (kc == NULL || imsg_get_data(imsg, &pf, sizeof(pf)) == -1 ||
		    pf.proc != PROC_KEYPROC || pf.instance < 0 ||
		    pf.instance >= nkeyprocs || kc[pf.instance].up ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CTL_PROCFD", __func__);
		if (imsgbuf_init(&kc[pf.instance].ibuf, fd) == -1 ||
		    imsgbuf_set_maxsize(&kc[pf.instance].ibuf,
		    NETPROC_KEY_MAXSIZE) == -1)
			fatal("%s: keyproc channel", __func__);
		kc[pf.instance].up = 1;
		kc[pf.instance].tag.kind = EV_KEYPROC;
		kc[pf.instance].tag.fd = fd;
		kc[pf.instance].tag.index = pf.instance;
		kc[pf.instance].events = EPOLLIN;
		netproc_ep_add(fd, EPOLLIN, &kc[pf.instance].tag);
		break;
	case IMSG_CONF_POLICY:
		if (imsg_get_data(imsg, &ck, sizeof(ck)) == -1)
			fatalx("%s: bad IMSG_CONF_POLICY", __func__);
		k = policy_slot(ck.index);
		ck.name[sizeof(ck.name) - 1] = '\0';
		strlcpy(k->name, ck.name, sizeof(k->name));
		if (ck.tls13_tickets > LURKD_TICKETS_MAX)
			fatalx("%s: bad IMSG_CONF_POLICY", __func__);
		k->operations = ck.operations;
		k->tls13_secrets = ck.tls13_secrets;
		k->tls13_tickets = ck.tls13_tickets;
		for (i = 0; i < KEY_NOPS; i++) {
			if (ck.rate[i] > LURKD_RATE_MAX ||
			    ck.burst[i] > LURKD_RATE_MAX ||
			    (ck.rate[i] > 0 && ck.burst[i] < 1))
				fatalx("%s: bad IMSG_CONF_POLICY", __func__);
			k->rate[i] = ck.rate[i];
			k->burst[i] = ck.burst[i];
			bucket_init(&k->bucket[i], k->burst[i]);
		}
		break;
	case IMSG_CONF_ALLOW:
		if (imsg_get_data(imsg, &ca, sizeof(ca)) == -1 ||
		    (ca.type != ALLOW_UID && ca.type != ALLOW_USER &&
		    ca.type != ALLOW_GID && ca.type != ALLOW_GROUP &&
		    !allow_is_client(ca.type)))
			fatalx("%s: bad IMSG_CONF_ALLOW", __func__);
		k = policy_slot(ca.index);
		if (ca.type == ALLOW_UID || ca.type == ALLOW_USER) {
			list = &k->uids;
			nlist = &k->nuids;
		} else {
			list = &k->gids;
			nlist = &k->ngids;
		}
		if (allow_is_client(ca.type)) {
			cert_rule(k, &ca);
			break;
		}
		if ((*list = reallocarray(*list, *nlist + 1,
		    sizeof(**list))) == NULL)
			fatal("%s", __func__);
		(*list)[(*nlist)++] = ca.id;
		break;
	case IMSG_CONF_TLS:
		if (serving)
			fatalx("%s: IMSG_CONF_TLS after start", __func__);
		tls_listener_conf(imsg);
		break;
	case IMSG_CONF_TLSFILE:
		/* at start, or a reload's between BEGIN and END */
		if (serving && (stage.gen == 0 || stage.conf_done))
			fatalx("%s: IMSG_CONF_TLSFILE outside a reload",
			    __func__);
		tls_file_conf(imsg);
		break;
	case IMSG_CONF_UPSTREAM:
	case IMSG_CONF_ROUTE:
		if (serving && (stage.gen == 0 || stage.conf_done))
			fatalx("%s: upstream outside a reload", __func__);
		if (imsg_get_type(imsg) == IMSG_CONF_UPSTREAM)
			relay_upstream_conf(imsg, serving);
		else
			relay_route_conf(imsg, serving);
		break;
	case IMSG_CONF_LISTEN:
		if (np->listeners == NULL || nlisten >= listen_want ||
		    imsg_get_data(imsg, &cl, sizeof(cl)) == -1 ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CONF_LISTEN", __func__);
		cl.path[sizeof(cl.path) - 1] = '\0';
		l = netproc_listener_add(EV_LISTEN, fd, "unix", cl.path);
		nlisten++;
		log_debug("listening on %s", cl.path);
		break;
	case IMSG_CONF_CONTROL:
		if (np->listeners == NULL || ncontrol >= control_want ||
		    imsg_get_data(imsg, &cc, sizeof(cc)) == -1 ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CONF_CONTROL", __func__);
		cc.path[sizeof(cc.path) - 1] = '\0';
		l = netproc_listener_add(EV_CTL_LISTEN, fd, cc.restricted ?
		    "control-ro" : "control", cc.path);
		l->restricted = cc.restricted != 0;
		l->uid = cc.uid;
		l->gid = cc.gid;
		ncontrol++;
		log_debug("control socket %s%s", cc.path, cc.restricted ?
		    " (restricted)" : "");
		break;
	case IMSG_CONF_HTTP:
		if (np->listeners == NULL || nhttp >= http_want ||
		    imsg_get_data(imsg, &ch, sizeof(ch)) == -1 ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CONF_HTTP", __func__);
		ch.addr[sizeof(ch.addr) - 1] = '\0';
		snprintf(addr, sizeof(addr), "%s port %u", ch.addr,
		    (unsigned)ch.port);
		netproc_listener_add(EV_HTTP_LISTEN, fd, "http", addr);
		nhttp++;
		log_debug("listening on http %s", addr);
		break;
	case IMSG_CONF_END:
		if (kc == NULL || nlisten != listen_want ||
		    ncontrol != control_want || nhttp != http_want ||
		    !tls_conf_done() || !relay_conf_done() || conf_done)
			fatalx("%s: IMSG_CONF_END too early", __func__);
		conf_done = 1;
		break;
	case IMSG_CTL_STATS:
		if (serving) {
			edge_log_stats();
			client_log_stats();
		}
		break;
	case IMSG_CTL_STATUS:
		if (imsg_get_data(imsg, &np->status, sizeof(np->status)) == -1)
			fatalx("%s: bad IMSG_CTL_STATUS", __func__);
		np->status.conffile[sizeof(np->status.conffile) - 1] = '\0';
		np->status.last_reload_error[
		    sizeof(np->status.last_reload_error) - 1] = '\0';
		np->status.version[sizeof(np->status.version) - 1] = '\0';
		/* ready: every child is, so the keys are loaded */
		np->ready = np->status.ready != 0;
		np->status_seq++;
		status_asked_at = 0;
		ctl_status_in();
		http_status_in();
		break;
	case IMSG_CTL_VERBOSE:
		if (imsg_get_data(imsg, &level, sizeof(level)) == -1 ||
		    level < 0 || level > 2)
			fatalx("%s: bad IMSG_CTL_VERBOSE", __func__);
		log_setverbose(level);
		break;
	case IMSG_RELOAD_BEGIN:
		reload_begin(imsg);
		break;
	case IMSG_RELOAD_END:
		reload_conf_end(imsg);
		break;
	default:
		fatalx("%s: unexpected imsg %u from parent", __func__,
		    imsg_get_type(imsg));
	}
	return 0;
}

/*
 * A key's public data from keyproc[ch] into keys (n of them); 1 if it
 * was new there.  At start every keyproc sends the same keys; a
 * reload's come from keyproc[0] only.
 */
static int
key_public(struct keychan *ch, struct imsg *imsg, struct netkey *keys,
    size_t n)
{
	struct key_public	 pub;
	struct ibuf		 ib;
	struct netkey		*k;

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    ibuf_get(&ib, &pub, sizeof(pub)) == -1 ||
	    ibuf_size(&ib) != (size_t)pub.spki_len + pub.chain_len ||
	    keys == NULL || pub.index >= n)
		fatalx("%s: bad public key from keyproc[%d]", __func__,
		    ch->tag.index);
	k = &keys[pub.index];
	pub.name[sizeof(pub.name) - 1] = '\0';
	if (k->spki != NULL) {
		/* every keyproc holds the same keys */
		if (strcmp(k->pub.name, pub.name) != 0 ||
		    memcmp(k->pub.spki_sha256, pub.spki_sha256,
		    sizeof(pub.spki_sha256)) != 0)
			fatalx("key %u differs between keyprocs", pub.index);
		return 0;
	}
	k->pub = pub;
	if ((k->spki = malloc(pub.spki_len + 1)) == NULL ||
	    (k->chain = malloc(pub.chain_len + 1)) == NULL)
		fatal("%s", __func__);
	if (ibuf_get(&ib, k->spki, pub.spki_len) == -1 ||
	    ibuf_get(&ib, k->chain, pub.chain_len) == -1)
		fatalx("%s: short public key message", __func__);
	return 1;
}

/*
 * The parent's policies and keyprocs' keys line up, name by name; the
 * TLS listeners' keys, which have no policy, follow.
 */
static void
keys_match(const struct netkey *keys, size_t n, size_t ntls)
{
	size_t	 i;

	for (i = n; i < n + np->ntls; i++)
		if (keys[i].spki == NULL ||
		    strncmp(keys[i].pub.name, "tls ", 4) != 0)
			fatalx("key %zu is \"%s\" in keyproc, a TLS listener's "
			    "in the configuration", i, keys[i].pub.name);
	/* the upstreams' have a policy, as the edges' keys */
	for (i = n + np->ntls; i < n + ntls; i++)
		if (keys[i].spki == NULL ||
		    strcmp(keys[i].name, keys[i].pub.name) != 0)
			fatalx("key %zu is \"%s\" in keyproc, upstream "
			    "\"%s\"'s in the configuration", i,
			    keys[i].pub.name, keys[i].name);
	for (i = 0; i < n; i++)
		if (keys[i].spki == NULL ||
		    strcmp(keys[i].name, keys[i].pub.name) != 0)
			fatalx("key %zu is \"%s\" in keyproc, \"%s\" in the "
			    "configuration", i, keys[i].pub.name,
			    keys[i].name);
}

static void	 reload_public(struct keychan *, struct imsg *);
static void	 reload_public_end(struct keychan *, struct imsg *);

static int
dispatch_keyproc(struct keychan *ch, struct imsg *imsg)
{
	uint32_t	 n;

	switch (imsg_get_type(imsg)) {
	case IMSG_KEY_PUBLIC:
		if (ch->done)
			fatalx("%s: key after IMSG_KEY_END", __func__);
		keys_seen += key_public(ch, imsg, np->keys,
		    np->nkeys + np->ntlskeys);
		break;
	case IMSG_KEY_END:
		if (imsg_get_data(imsg, &n, sizeof(n)) == -1 ||
		    n != np->nkeys + np->ntlskeys || ch->done)
			fatalx("%s: bad IMSG_KEY_END from keyproc[%d]",
			    __func__, ch->tag.index);
		ch->done = 1;
		break;
	case IMSG_KEYOP_RES:
		if (!serving)
			fatalx("%s: IMSG_KEYOP_RES before start", __func__);
		edge_keyop_done(ch->tag.index, imsg);
		break;
	case IMSG_RELOAD_PUBLIC:
		reload_public(ch, imsg);
		break;
	case IMSG_RELOAD_PUBLIC_END:
		reload_public_end(ch, imsg);
		break;
	default:
		fatalx("%s: unexpected imsg %u from keyproc[%d]", __func__,
		    imsg_get_type(imsg), ch->tag.index);
	}
	return 0;
}

static void
read_channel(struct evtag *tag)
{
	struct imsgbuf	*ibuf;
	struct imsg	 imsg;
	const char	*peer;
	int		 n;

	if (tag->kind == EV_PARENT) {
		ibuf = parent;
		peer = "parent";
	} else {
		ibuf = &kc[tag->index].ibuf;
		peer = "keyproc";
	}
	if ((n = imsgbuf_read(ibuf)) == -1)
		fatal("read from %s", peer);
	if (n == 0) {
		if (tag->kind == EV_PARENT)
			exit(0);	/* the parent is shutting down */
		fatalx("keyproc[%d] closed its channel", tag->index);
	}
	for (;;) {
		if ((n = imsgbuf_get(ibuf, &imsg)) == -1)
			fatal("bad message from %s", peer);
		if (n == 0)
			break;
		if (tag->kind == EV_PARENT)
			dispatch_parent(&imsg);
		else
			dispatch_keyproc(&kc[tag->index], &imsg);
		imsg_free(&imsg);
	}
}

void
netproc_send_keyproc(int i, uint32_t id, const struct iovec *iov, int n)
{
	if (imsg_composev(&kc[i].ibuf, IMSG_KEYOP_REQ, id, 0, -1, iov, n) ==
	    -1)
		fatal("%s: to keyproc[%d]", __func__, i);
}

/* Once per wake-up: everything queued for the keyprocs in one write. */
static void
flush_keyprocs(void)
{
	uint32_t	 want;
	int		 i;

	for (i = 0; i < nkeyprocs; i++) {
		if (imsgbuf_queuelen(&kc[i].ibuf) > 0 &&
		    imsgbuf_write(&kc[i].ibuf) == -1)
			fatal("write to keyproc[%d]", i);
		want = EPOLLIN;
		if (imsgbuf_queuelen(&kc[i].ibuf) > 0)
			want |= EPOLLOUT;
		if (want != kc[i].events) {
			kc[i].events = want;
			netproc_ep_mod(kc[i].tag.fd, want, &kc[i].tag);
		}
	}
}

static int
startup_done(void)
{
	int	 i;

	if (!conf_done)
		return 0;
	for (i = 0; i < nkeyprocs; i++)
		if (!kc[i].up || !kc[i].done)
			return 0;
	if ((size_t)keys_seen != np->nkeys + np->ntlskeys)
		fatalx("keyprocs sent %d of %zu keys", keys_seen,
		    np->nkeys + np->ntlskeys);
	/* the parent's policies and the keyprocs' keys must line up */
	keys_match(np->keys, np->nkeys, np->ntlskeys);
	return 1;
}

/*
 * lurk_state: a fingerprint of what this server offers, so a client can
 * notice a configuration change (drafts §1.3).
 */
static void
compute_state(void)
{
	EVP_MD_CTX	*ctx;
	uint8_t		 md[EVP_MAX_MD_SIZE];
	uint32_t	 v[2];
	size_t		 i;

	v[0] = np->lenmode;
	v[1] = np->max_message;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, "lurkd state 1", 13) ||
	    !EVP_DigestUpdate(ctx, v, sizeof(v)) ||
	    !EVP_DigestUpdate(ctx, &np->drafts, sizeof(np->drafts)))
		fatalx("%s: sha256", __func__);
	for (i = 0; i < np->nkeys; i++)
		if (!EVP_DigestUpdate(ctx, np->keys[i].pub.name,
		    strlen(np->keys[i].pub.name) + 1) ||
		    !EVP_DigestUpdate(ctx, np->keys[i].pub.spki_sha256, 32))
			fatalx("%s: sha256", __func__);
	if (!EVP_DigestFinal_ex(ctx, md, NULL))
		fatalx("%s: sha256", __func__);
	EVP_MD_CTX_free(ctx);
	memcpy(np->state, md, LURK_STATE_LEN);
}

/*
 * The parent stages the next generation: every keyproc has loaded its
 * keys.  Its policies and settings follow, then RELOAD_END.
 */
static void
reload_begin(struct imsg *imsg)
{
	struct conf_reload	 cr;

	if (!serving || stage.gen != 0 ||
	    imsg_get_data(imsg, &cr, sizeof(cr)) == -1 ||
	    cr.generation != np->generation + 1 || !global_ok(&cr.g) ||
	    cr.g.keyprocs != nkeyprocs)
		fatalx("%s: bad IMSG_RELOAD_BEGIN", __func__);
	stage.gen = cr.generation;
	stage.g = cr.g;
	stage.nkeys = cr.g.nkeys;
	/* the listeners cannot change without a restart: nor their keys */
	if (cr.g.ntls != np->ntls || (size_t)cr.g.ntlskeys != np->ntlskeys ||
	    cr.g.nupstream != np->nupstream)
		fatalx("%s: TLS listeners or upstreams differ", __func__);
	if ((stage.keys = calloc(stage.nkeys + np->ntlskeys + 1,
	    sizeof(*stage.keys))) == NULL)
		fatal("%s", __func__);
}

/* The parent's part is in: it may now have keyproc[0] send the keys. */
static void
reload_conf_end(struct imsg *imsg)
{
	uint32_t	 gen = proc_imsg_gen(imsg, "IMSG_RELOAD_END");

	if (stage.gen == 0 || gen != stage.gen || stage.conf_done)
		fatalx("%s: bad IMSG_RELOAD_END", __func__);
	stage.conf_done = 1;
	if (proc_compose_parent(IMSG_RELOAD_STAGED, -1, &gen,
	    sizeof(gen)) == -1)
		fatal("%s: compose", __func__);
}

static void
reload_public(struct keychan *ch, struct imsg *imsg)
{
	if (ch->tag.index != 0 || !stage.conf_done ||
	    imsg_get_id(imsg) != stage.gen ||
	    key_public(ch, imsg, stage.keys, stage.nkeys + np->ntlskeys) !=
	    1)
		fatalx("%s: bad IMSG_RELOAD_PUBLIC from keyproc[%d]",
		    __func__, ch->tag.index);
	stage.npublic++;
}

/* The generation's COMMIT: the test build may name another one. */
static uint32_t
commit_gen(uint32_t gen)
{
#ifdef LURKD_TEST_HOOKS
	const char	*s = getenv("LURKD_TEST_COMMIT_GEN");

	if (s != NULL)
		return gen + strtonum(s, 0, 1000, NULL);
#endif
	return gen;
}

/*
 * keyproc[0] sent the last key: commit.  The new keys, policies and
 * settings replace the old ones here, in one go; then every keyproc
 * gets COMMIT behind the requests already on its channel, so that
 * those are answered with the old keys and every later one with the
 * new (edge_swap_keys remaps the operations still queued here).
 */
static void
reload_public_end(struct keychan *ch, struct imsg *imsg)
{
	struct reload_public_end	 pe;
	uint32_t			 gen;
	int				 i;

	if (ch->tag.index != 0 || !stage.conf_done ||
	    imsg_get_data(imsg, &pe, sizeof(pe)) == -1 ||
	    pe.generation != stage.gen ||
	    pe.nkeys != stage.nkeys + np->ntlskeys ||
	    stage.npublic != stage.nkeys + np->ntlskeys)
		fatalx("%s: bad IMSG_RELOAD_PUBLIC_END from keyproc[%d]",
		    __func__, ch->tag.index);
	keys_match(stage.keys, stage.nkeys, np->ntlskeys);
	gen = stage.gen;
	edge_swap_keys(stage.keys, stage.nkeys);
	tls_reload_commit();
	relay_reload_commit();
	global_apply(&stage.g);
	np->generation = gen;
	compute_state();
	memset(&stage, 0, sizeof(stage));
	for (i = 0; i < nkeyprocs; i++) {
		uint32_t	 cg = commit_gen(gen);

		if (imsg_compose(&kc[i].ibuf, IMSG_RELOAD_COMMIT, 0, 0, -1,
		    &cg, sizeof(cg)) == -1)
			fatal("%s: to keyproc[%d]", __func__, i);
	}
	if (proc_compose_parent(IMSG_RELOAD_DONE, -1, &gen, sizeof(gen)) == -1)
		fatal("%s: compose", __func__);
	log_debug("generation %u in use: %zu keys", gen, np->nkeys);
}

static void
listeners_enable(int on)
{
	int	 i;

	for (i = 0; i < np->nlisteners; i++) {
		if (on)
			netproc_ep_add(np->listeners[i].tag.fd, EPOLLIN,
			    &np->listeners[i]);
		else if (epoll_ctl(np->epfd, EPOLL_CTL_DEL,
		    np->listeners[i].tag.fd, NULL) == -1)
			fatal("%s: epoll_ctl", __func__);
	}
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
void
netproc_pause_accept(void)
{
	if (accept_paused)
		return;
	log_warnx("out of file descriptors: not accepting for 1 second");
	listeners_enable(0);
	accept_paused = time(NULL);
	np->accept_paused = 1;
}

#ifdef LURKD_TEST_HOOKS
/*
 * Test builds only: SIGUSR2 makes netproc ask the parent for a reload
 * (IMSG_CTL_RELOAD), as lurkctl reload does through the control socket.
 */
static void
test_reload_signal(int sig)
{
	test_reload = 1;
}

static void
test_reload_hook(void)
{
	if (!test_reload)
		return;
	test_reload = 0;
	log_info("test hook: asking the parent for a reload");
	if (proc_compose_parent(IMSG_CTL_RELOAD, -1, NULL, 0) == -1)
		fatal("%s: compose", __func__);
}
#endif

static __attribute__((__noreturn__)) void
event_loop(void)
{
	struct epoll_event	 ev[NETPROC_MAX_EVENTS];
	struct evtag		*tag;
	int			 n, i, timeout;

	for (;;) {
#ifdef LURKD_TEST_HOOKS
		test_reload_hook();
#endif
		/* a tick a second while anyone may time out */
		timeout = accept_paused || np->nconns > 0 ||
		    client_count() > 0 || ctl_count() > 0 ||
		    http_count() > 0 ? 1000 : -1;
		if (proc_log_pending())
			timeout = 100;	/* the parent is slow to take lines */
		if ((n = epoll_wait(np->epfd, ev, NETPROC_MAX_EVENTS,
		    timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		if (accept_paused && time(NULL) != accept_paused) {
			accept_paused = 0;
			np->accept_paused = 0;
			listeners_enable(1);
		}
		for (i = 0; i < n; i++) {
			tag = ev[i].data.ptr;
			switch (tag->kind) {
			case EV_LISTEN:
				conn_accept(tag->fd);
				break;
			case EV_PARENT:
				read_channel(tag);
				break;
			case EV_KEYPROC:
				if (ev[i].events & (EPOLLIN | EPOLLHUP |
				    EPOLLERR))
					read_channel(tag);
				break;
			case EV_CONN:
				conn_event((struct conn *)tag, ev[i].events);
				break;
			case EV_CTL_LISTEN:
				ctl_accept((struct listener *)tag);
				break;
			case EV_CTL:
				ctl_event((struct ctlconn *)tag, ev[i].events);
				break;
			case EV_HTTP_LISTEN:
				http_accept((struct listener *)tag);
				break;
			case EV_TLS_LISTEN:
				tls_accept((struct listener *)tag);
				break;
			case EV_HTTP:
				http_event((struct httpconn *)tag,
				    ev[i].events);
				break;
			}
		}
		conn_flush_dirty();
		edge_dispatch();
		flush_keyprocs();
		conn_timeouts();
		if (monotime() != ticked) {
			ticked = monotime();
			ctl_tick();
			http_tick();
		}
		proc_log_flush();
	}
}

void
netproc_main(int verbose)
{
	struct epoll_event	 ev;
	int			 n, i;

	parent = proc_child_init(PROC_NETPROC, 0);
	log_setverbose(verbose);
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		fatalx("OPENSSL_init_crypto failed");
	if ((np = calloc(1, sizeof(*np))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&np->conns);
	TAILQ_INIT(&np->dirty);
	/* variables only so that the fuzz target can make them small */
	np->conn_out_high = CONN_OUT_HIGH;
	np->client_out_high = CLIENT_OUT_HIGH;
	np->keyproc_inflight = KEYPROC_INFLIGHT;
	if ((np->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	netproc_ep_add(PARENT_SOCK_FILENO, EPOLLIN, &parent_tag);

	/* start-up: only the parent and keyproc channels are in the set */
	while (!startup_done()) {
		if ((n = epoll_wait(np->epfd, &ev, 1, -1)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		if (n == 1)
			read_channel(ev.data.ptr);
	}
	compute_state();
	tls_init();
	relay_init();
#ifdef LURKD_TEST_HOOKS
	if (signal(SIGUSR2, test_reload_signal) == SIG_ERR)
		fatal("signal");
#endif
	netproc_sandbox();
	serving = 1;
	listeners_enable(1);
	proc_child_ready();
	for (i = 0; i < nkeyprocs; i++)
		log_debug("keyproc[%d] channel up", i);
	log_debug("serving %zu keys on %d listeners", np->nkeys,
	    np->nlisteners);
	proc_trip_hook(PROC_NETPROC);
	event_loop();
}
