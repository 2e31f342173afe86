/*
 * keyproc: the only process that ever holds private keys.
 *
 * Start-up: lock down as the parent says (IMSG_CONF_SANDBOX), receive the
 * channel to netproc and one private-key and one certificate fd per key,
 * load and check the keys, hand netproc their public data, load the
 * seccomp filter, tell the parent we are ready.  From then on keyproc
 * reads only its two channels and accepts nothing it does not expect.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "imsg.h"
#include "keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "proc.h"

#define KEYPROC_NET_MAXSIZE	(256 * 1024)

static struct imsgbuf	*parent;
static struct imsgbuf	 net;
static int		 net_ok;
static int		 instance;
static int		 checking;	/* lurkd -n: load, report, exit */

/* A key table: the keys of one generation of the configuration. */
struct keytab {
	struct key	*keys;
	size_t		 nkeys;
	uint32_t	 gen;
};

static struct keytab	 cur;		/* what requests use */

/*
 * A reload's generation, loaded beside cur without touching it, until
 * netproc commits it (in the order of the requests on its channel) or
 * the parent aborts it.
 */
enum stage_state {
	STAGE_NONE,
	STAGE_RECV,		/* the parent is sending the key files */
	STAGE_LOAD,		/* loading, one key a turn of the loop */
	STAGE_OK,		/* loaded: waiting for COMMIT or ABORT */
};
static struct {
	enum stage_state state;
	struct keytab	 tab;
	size_t		 next;		/* STAGE_LOAD: the next key */
	int		 published;	/* keyproc[0]: netproc has it */
	struct draftconf drafts;	/* the drafts' settings it brings */
} stage;

static void
keytab_alloc(struct keytab *t, size_t n, uint32_t gen)
{
	size_t	 i;

	if ((t->keys = calloc(n ? n : 1, sizeof(*t->keys))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++)
		t->keys[i].privfd = t->keys[i].certfd = -1;
	t->nkeys = n;
	t->gen = gen;
}

/* Every key freed (EVP_PKEY_free) and its struct wiped. */
static void
keytab_free(struct keytab *t)
{
	size_t	 i;

	for (i = 0; i < t->nkeys; i++)
		key_free(&t->keys[i]);
	free(t->keys);
	explicit_bzero(t, sizeof(*t));
}

/* The edges' keys, then the TLS listeners' own. */
static int
keys_count_ok(const struct conf_global *g)
{
	return g->nkeys >= 0 && g->nkeys <= LURKD_KEYS_MAX &&
	    g->ntlskeys >= 0 &&
	    g->ntlskeys <= LURKD_TLS_MAX + LURKD_UPSTREAM_MAX;
}

static struct key *
key_slot(struct keytab *t, uint32_t index)
{
	if (index >= t->nkeys)
		fatalx("%s: key index %u out of range", __func__, index);
	return &t->keys[index];
}

/* A key of the table in use by its index, as netproc names it. */
struct key *
keyproc_key(uint32_t index)
{
	return key_slot(&cur, index);
}

/*
 * An edge's key of the table in use whose SPKI's SHA-256 begins with
 * the len bytes of id (the drafts' sha256_32, or all 32); NULL if none.
 * A TLS listener's key is never one.
 */
struct key *
keyproc_key_byspki(const uint8_t *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < cur.nkeys; i++)
		if (cur.keys[i].pkey != NULL &&
		    cur.keys[i].usage == KEY_USE_EDGE &&
		    memcmp(cur.keys[i].pub.spki_sha256, id, len) == 0)
			return &cur.keys[i];
	return NULL;
}

/* The generation of the table in use. */
uint32_t
keyproc_generation(void)
{
	return cur.gen;
}

/* A key file from the parent, into its slot of t. */
static void
keytab_set_fd(struct keytab *t, struct imsg *imsg)
{
	struct conf_key	 ck;
	struct key	*k;
	int		 fd;

	if (imsg_get_data(imsg, &ck, sizeof(ck)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		fatalx("%s: bad key message", __func__);
	ck.name[sizeof(ck.name) - 1] = '\0';
	ck.path[sizeof(ck.path) - 1] = '\0';
	k = key_slot(t, ck.index);
	if (ck.usage != KEY_USE_EDGE && ck.usage != KEY_USE_SERVER &&
	    ck.usage != KEY_USE_CLIENT)
		fatalx("%s: key \"%s\": bad usage", __func__, ck.name);
	k->pub.index = ck.index;
	k->operations = ck.operations;
	if (ck.tls13_tickets > LURKD_TICKETS_MAX)
		fatalx("%s: bad key message", __func__);
	k->tls13_secrets = ck.tls13_secrets;
	k->tls13_tickets = ck.tls13_tickets;
	k->usage = ck.usage;
	strlcpy(k->pub.name, ck.name, sizeof(k->pub.name));
	if (imsg_get_type(imsg) == IMSG_CONF_KEY) {
		if (k->privfd != -1)
			fatalx("%s: key fd twice", __func__);
		k->privfd = fd;
		strlcpy(k->privpath, ck.path, sizeof(k->privpath));
	} else {
		if (k->certfd != -1)
			fatalx("%s: certificate fd twice", __func__);
		k->certfd = fd;
		strlcpy(k->certpath, ck.path, sizeof(k->certpath));
	}
}

/* The public data of t's keys to netproc, as type, with id. */
static void
keyproc_send_public(const struct keytab *t, uint32_t type, uint32_t id)
{
	struct iovec	 iov[3];
	size_t		 i;

	for (i = 0; i < t->nkeys; i++) {
		iov[0].iov_base = &t->keys[i].pub;
		iov[0].iov_len = sizeof(t->keys[i].pub);
		iov[1].iov_base = t->keys[i].spki;
		iov[1].iov_len = t->keys[i].spki_len;
		iov[2].iov_base = t->keys[i].chain;
		iov[2].iov_len = t->keys[i].chain_len;
		if (imsg_composev(&net, type, id, 0, -1, iov, 3) == -1)
			fatal("%s: key \"%s\"", __func__, t->keys[i].pub.name);
	}
}

/*
 * Load one key from the fds the parent sent and check it: parsed,
 * matching its certificate, of a kind its operations allow, and once
 * used for each of them.  The fds are closed either way.
 */
static int
key_prepare(struct key *k, char *err, size_t errlen)
{
	int	 ok;

	err[0] = '\0';
	if (key_load(k, err, errlen) == -1 ||
	    key_warmup(k, err, errlen) == -1)
		ok = 0;
	else if ((k->operations & (EDGE_OP_RSA_PREMASTER | OP_TLS12_RSA)) &&
	    k->pub.kind != KEY_RSA) {
		snprintf(err, errlen, "%s needs an RSA key, %.400s is %s",
		    k->operations & EDGE_OP_RSA_PREMASTER ? "rsa-kex" :
		    "tls12-rsa-*", k->privpath, edge_kind_name(k->pub.kind));
		ok = 0;
	} else
		ok = 1;
	close(k->privfd);
	close(k->certfd);
	k->privfd = k->certfd = -1;
	return ok ? 0 : -1;
}

/* keyproc[0] tells the parent a key's SPKI hash (one block per key). */
static void
keyproc_key_loaded(const struct key *k)
{
	struct key_loaded	 kl;

	if (instance != 0)
		return;
	key_loaded_fill(&kl, k);
	if (proc_compose_parent(IMSG_KEY_LOADED, -1, &kl, sizeof(kl)) == -1)
		fatal("%s: compose", __func__);
}

/*
 * Load every key.  A key that fails stops a start; for lurkd -n it is
 * reported and the others are still checked.  keyproc[0] tells the
 * parent each key's SPKI hash, by which it finds two blocks of one key.
 */
static void
keyproc_load_keys(void)
{
	char	 err[RELOAD_ERROR_MAX];
	size_t	 i;

	for (i = 0; i < cur.nkeys; i++) {
		struct key *k = &cur.keys[i];

		/* lurkd -n sends no fds for files it could not open */
		if (checking && k->privfd == -1 && k->certfd == -1)
			continue;
		if (k->privfd == -1 || k->certfd == -1)
			fatalx("key \"%s\": missing key or certificate fd",
			    k->pub.name);
		if (key_prepare(k, err, sizeof(err)) == -1) {
			if (!checking)
				fatalx("key \"%s\": %s", k->pub.name, err);
			log_warnx("key \"%s\": %s", k->pub.name, err);
			continue;
		}
		if (instance == 0)
			(checking ? log_debug : log_info)("key \"%s\": %s %d "
			    "bits, spki sha256 %02x%02x%02x%02x...",
			    k->pub.name, edge_kind_name(k->pub.kind),
			    k->pub.bits, k->pub.spki_sha256[0],
			    k->pub.spki_sha256[1], k->pub.spki_sha256[2],
			    k->pub.spki_sha256[3]);
		keyproc_key_loaded(k);
	}
}

/*
 * Keep key bytes out of swap.  With no limit on locked memory (started
 * as root, the parent lifts it), lock what is mapped and all that will
 * be, before the keys are read.  Under a finite RLIMIT_MEMLOCK, lock
 * only what is mapped once the keys are in: locking later allocations
 * too would make them fail when the limit is reached.  Either way, say
 * at start when memory is not locked.
 */
static void
keyproc_mlock(int keys_loaded)
{
	static int	 done;
	struct rlimit	 rl;
	int		 flags = MCL_CURRENT, unlimited;

	if (done)
		return;
#ifdef LURKD_ASAN
	/* ASan's shadow memory is terabytes of reserved address space */
	done = 1;
	log_debug("sanitizer build: memory not locked");
	return;
#endif
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == -1)
		fatal("%s: getrlimit", __func__);
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
		if (getrlimit(RLIMIT_MEMLOCK, &rl) == -1)
			fatal("%s: getrlimit", __func__);
	}
	unlimited = rl.rlim_cur == RLIM_INFINITY;
	if (unlimited == keys_loaded)
		return;		/* not the moment for this limit */
	done = 1;
	if (unlimited)
		flags |= MCL_FUTURE;
#ifdef MCL_ONFAULT
	/* what is never touched holds no secret: lock pages as touched */
	flags |= MCL_ONFAULT;
#endif
	if (mlockall(flags) == -1) {
		if (instance == 0)
			log_warnx("memory not locked: mlockall: %s "
			    "(RLIMIT_MEMLOCK %llu KiB, and keyproc maps some "
			    "8 MiB): key bytes may be swapped out; start lurkd "
			    "as root with CAP_SYS_RESOURCE, or allow locked "
			    "memory (systemd: LimitMEMLOCK=infinity)",
			    strerror(errno),
			    (unsigned long long)rl.rlim_cur / 1024);
		return;
	}
	if (!unlimited && instance == 0)
		(checking ? log_debug : log_info)("memory locked at start, "
		    "later allocations not: RLIMIT_MEMLOCK is %llu KiB, not "
		    "unlimited", (unsigned long long)rl.rlim_cur / 1024);
	log_debug("memory locked (mlockall)");
}

/* One message from the parent during start-up; 1 when the config is done. */
static int
keyproc_dispatch_conf(struct imsg *imsg)
{
	struct conf_sandbox	 sb;
	struct conf_global	 g;
	struct procfd		 pf;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case IMSG_CONF_SANDBOX:
		if (imsg_get_data(imsg, &sb, sizeof(sb)) == -1)
			fatalx("%s: bad IMSG_CONF_SANDBOX", __func__);
		sb.chroot[sizeof(sb.chroot) - 1] = '\0';
		sandbox_drop(&sb, "keyproc");
		break;
	case IMSG_CTL_PROCFD:
		if (imsg_get_data(imsg, &pf, sizeof(pf)) == -1 ||
		    pf.proc != PROC_NETPROC || net_ok || checking ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad IMSG_CTL_PROCFD", __func__);
		if (imsgbuf_init(&net, fd) == -1 ||
		    imsgbuf_set_maxsize(&net, KEYPROC_NET_MAXSIZE) == -1)
			fatal("%s: netproc channel", __func__);
		net_ok = 1;
		break;
	case IMSG_CONF_GLOBAL:
		if (imsg_get_data(imsg, &g, sizeof(g)) == -1 ||
		    !keys_count_ok(&g) || cur.keys != NULL)
			fatalx("%s: bad IMSG_CONF_GLOBAL", __func__);
		drafts_init(&g.drafts, instance);
		/* the configuration a start reads is generation 1 */
		keytab_alloc(&cur, g.nkeys + g.ntlskeys, 1);
		break;
	case IMSG_CONF_KEY:
	case IMSG_CONF_KEYCERT:
		if (cur.keys == NULL)
			fatalx("%s: bad key message", __func__);
		keytab_set_fd(&cur, imsg);
		break;
	case IMSG_CONF_CHECK:
		if (checking || net_ok)
			fatalx("%s: bad IMSG_CONF_CHECK", __func__);
		checking = 1;
		break;
	case IMSG_CONF_END:
		if (cur.keys == NULL || (!net_ok && !checking))
			fatalx("%s: IMSG_CONF_END too early", __func__);
		return 1;
	default:
		fatalx("%s: unexpected imsg %u", __func__, imsg_get_type(imsg));
	}
	return 0;
}

/* Read one channel; -1 on EOF, else the number of messages handled. */
static int
keyproc_read(struct imsgbuf *ibuf, const char *peer,
    int (*dispatch)(struct imsg *))
{
	struct imsg	 imsg;
	int		 n, done = 0, count = 0;

	if ((n = imsgbuf_read(ibuf)) == -1)
		fatal("%s: read from %s", __func__, peer);
	if (n == 0)
		return -1;
	for (;;) {
		if ((n = imsgbuf_get(ibuf, &imsg)) == -1)
			fatal("%s: bad message from %s", __func__, peer);
		if (n == 0)
			break;
		count++;
		if (dispatch(&imsg) == 1)
			done = 1;
		imsg_free(&imsg);
	}
	return done ? 0x10000 : count;
}

static void
reload_answer(int ok, int index, const uint8_t *hash, const char *err)
{
	struct reload_result	 r;

	reload_result_fill(&r, stage.tab.gen, ok, index, hash, err);
	if (proc_compose_parent(IMSG_RELOAD_RESULT, -1, &r, sizeof(r)) == -1)
		fatal("%s: compose", __func__);
}

/*
 * One key of the staged generation per turn of the loop, so that
 * requests keep being answered while a reload loads many keys.  A key
 * that does not load fails the generation: the parent hears which and
 * why, and the staged table is freed.  Once all are in, the parent
 * hears the hash of the table.
 */
static void
keyproc_stage_step(void)
{
	char		 err[RELOAD_ERROR_MAX];
	uint8_t		 hash[32];
	EVP_MD_CTX	*ctx;
	struct key	*k;
	size_t		 i;

	if (stage.next < stage.tab.nkeys) {
		k = &stage.tab.keys[stage.next];
		if (key_prepare(k, err, sizeof(err)) == -1) {
			log_debug("generation %u: key \"%s\": %s",
			    stage.tab.gen, k->pub.name, err);
			reload_answer(0, stage.next, NULL, err);
			keytab_free(&stage.tab);
			memset(&stage, 0, sizeof(stage));
			return;
		}
		keyproc_key_loaded(k);
		stage.next++;
		return;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fatalx("%s: sha256", __func__);
	for (i = 0; i < stage.tab.nkeys; i++)
		if (EVP_DigestUpdate(ctx, stage.tab.keys[i].pub.spki_sha256,
		    sizeof(stage.tab.keys[i].pub.spki_sha256)) != 1)
			fatalx("%s: sha256", __func__);
	if (EVP_DigestFinal_ex(ctx, hash, NULL) != 1)
		fatalx("%s: sha256", __func__);
	EVP_MD_CTX_free(ctx);
	stage.state = STAGE_OK;
	log_debug("generation %u: %zu keys loaded", stage.tab.gen,
	    stage.tab.nkeys);
	reload_answer(1, -1, hash, NULL);
}

/* keyproc[0]: the staged generation's public data to netproc. */
static void
keyproc_publish(void)
{
	struct reload_public_end	 pe;

	keyproc_send_public(&stage.tab, IMSG_RELOAD_PUBLIC, stage.tab.gen);
	memset(&pe, 0, sizeof(pe));
	pe.generation = stage.tab.gen;
	pe.nkeys = stage.tab.nkeys;
	if (imsg_compose(&net, IMSG_RELOAD_PUBLIC_END, stage.tab.gen, 0, -1,
	    &pe, sizeof(pe)) == -1)
		fatal("%s: compose", __func__);
	stage.published = 1;
}

/* netproc commits the staged generation: it replaces cur, then goes. */
static void
keyproc_commit(struct imsg *imsg)
{
	struct keytab	 old;
	uint32_t	 gen = proc_imsg_gen(imsg, "IMSG_RELOAD_COMMIT");

	/* netproc chooses when, never what: only what the parent staged */
	if (stage.state != STAGE_OK || gen != stage.tab.gen ||
	    (instance == 0 && !stage.published))
		fatalx("%s: netproc commits generation %u, staged is %u%s",
		    __func__, gen, stage.tab.gen, stage.state == STAGE_OK ?
		    "" : " (not loaded)");
	old = cur;
	cur = stage.tab;
	/* the drafts' settings, and their sessions of keys now gone */
	drafts_commit(&stage.drafts);
	memset(&stage, 0, sizeof(stage));
	/* no copy of a signing context of the old keys may stay */
	keyop_forget();
	keytab_free(&old);
	log_debug("generation %u in use: %zu keys", cur.gen, cur.nkeys);
	if (proc_compose_parent(IMSG_RELOAD_DONE, -1, &gen, sizeof(gen)) == -1)
		fatal("%s: compose", __func__);
}

static int
keyproc_dispatch_parent(struct imsg *imsg)
{
	struct conf_reload	 cr;
	uint32_t		 gen;
	int			 level;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_VERBOSE:
		if (imsg_get_data(imsg, &level, sizeof(level)) == -1 ||
		    level < 0 || level > 2)
			fatalx("%s: bad IMSG_CTL_VERBOSE", __func__);
		log_setverbose(level);
		break;
	case IMSG_RELOAD_BEGIN:
		if (imsg_get_data(imsg, &cr, sizeof(cr)) == -1 ||
		    stage.state != STAGE_NONE ||
		    cr.generation != cur.gen + 1 || !keys_count_ok(&cr.g) ||
		    !drafts_reload_ok(&cr.g.drafts))
			fatalx("%s: bad IMSG_RELOAD_BEGIN", __func__);
		keytab_alloc(&stage.tab, cr.g.nkeys + cr.g.ntlskeys,
		    cr.generation);
		stage.drafts = cr.g.drafts;
		stage.state = STAGE_RECV;
		break;
	case IMSG_CONF_KEY:
	case IMSG_CONF_KEYCERT:
		if (stage.state != STAGE_RECV)
			fatalx("%s: key file outside a reload", __func__);
		keytab_set_fd(&stage.tab, imsg);
		break;
	case IMSG_RELOAD_END:
		gen = proc_imsg_gen(imsg, "IMSG_RELOAD_END");
		if (stage.state != STAGE_RECV || gen != stage.tab.gen)
			fatalx("%s: bad IMSG_RELOAD_END", __func__);
		/* the parent sends both files of every key, or no reload */
		for (stage.next = 0; stage.next < stage.tab.nkeys;
		    stage.next++)
			if (stage.tab.keys[stage.next].privfd == -1 ||
			    stage.tab.keys[stage.next].certfd == -1)
				fatalx("%s: generation %u: key %zu without "
				    "its files", __func__, gen, stage.next);
		stage.next = 0;
		stage.state = STAGE_LOAD;
		break;
	case IMSG_RELOAD_ABORT:
		gen = proc_imsg_gen(imsg, "IMSG_RELOAD_ABORT");
		if (stage.state != STAGE_OK || gen != stage.tab.gen)
			fatalx("%s: bad IMSG_RELOAD_ABORT", __func__);
		log_debug("generation %u aborted", gen);
		keytab_free(&stage.tab);
		memset(&stage, 0, sizeof(stage));
		break;
	case IMSG_RELOAD_PUBLISH:
		gen = proc_imsg_gen(imsg, "IMSG_RELOAD_PUBLISH");
		if (instance != 0 || stage.state != STAGE_OK ||
		    gen != stage.tab.gen || stage.published)
			fatalx("%s: bad IMSG_RELOAD_PUBLISH", __func__);
		keyproc_publish();
		break;
	default:
		fatalx("%s: unexpected imsg %u", __func__,
		    imsg_get_type(imsg));
	}
	return 0;
}

/* One key operation; a malformed request is fatal (netproc is broken). */
static void
keyproc_keyop(struct imsg *imsg)
{
	struct keyop_req	 req;
	struct ibuf		 ib;
	struct key		*k;
	const char		*why = "";
	const uint8_t		*data;
	uint8_t			 out[1024], status;
	size_t			 outlen = sizeof(out);
	int			 tls;

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    keyop_req_parse(ibuf_data(&ib), ibuf_size(&ib), &req, &data) == -1)
		fatalx("%s: bad IMSG_KEYOP_REQ", __func__);
	if (req.designation != 0) {
		/* the drafts' tls12 and tls13 */
		drafts_keyop(&net, imsg_get_id(imsg), &req, data);
		return;
	}
	k = key_slot(&cur, req.index);
	tls = req.type == KEYOP_TLS_SIGN13 || req.type == KEYOP_TLS_SIGN12;
#ifdef LURKD_TEST_HOOKS
	/* a slow keyproc: netproc must go on meanwhile (remote/mtls.t) */
	if (tls && getenv("LURKD_TEST_SLOW_TLS_MS") != NULL)
		usleep(1000 * strtonum(getenv("LURKD_TEST_SLOW_TLS_MS"), 0,
		    10000, NULL));
#endif
	status = keyop_run(k, &req, data, out, &outlen, &why);
	if (status != LURK_ST_SUCCESS && tls) {
		log_op(LOG_ERR, &(struct log_op){ -1, -1, -1,
		    transport_name(req.transport), k->pub.name,
		    "tls-handshake", edge_status_name(status), why, NULL },
		    "refused: key \"%s\" a handshake of netproc's: %s",
		    k->pub.name, why);
		outlen = 0;
	} else if (status != LURK_ST_SUCCESS) {
		log_op(LOG_ERR, &(struct log_op){ -1, req.uid, -1,
		    transport_name(req.transport), k->pub.name,
		    edge_type_name(req.type), edge_status_name(status), why,
		    NULL }, "refused: key \"%s\" %s uid %u: %s", k->pub.name,
		    edge_type_name(req.type), req.uid, why);
		outlen = 0;
	}
	if (keyop_reply(&net, imsg_get_id(imsg), status, req.index, cur.gen,
	    out, outlen) == -1)
		fatal("%s: compose", __func__);
	/* the premaster now lives in the queue, which wipes when freed */
	explicit_bzero(out, outlen);
}

static int
keyproc_dispatch_net(struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_KEYOP_REQ:
		proc_trip_request(PROC_KEYPROC);
		keyproc_keyop(imsg);
		break;
	case IMSG_RELOAD_COMMIT:
		keyproc_commit(imsg);
		break;
	default:
		fatalx("%s: unexpected imsg %u", __func__,
		    imsg_get_type(imsg));
	}
	return 0;
}

void
keyproc_main(int inst, int verbose)
{
	struct pollfd	 pfd[2];
	uint32_t	 n32;
	int		 n;

	instance = inst;
	parent = proc_child_init(PROC_KEYPROC, inst);
	log_setverbose(verbose);
	/* nothing from openssl.cnf: keyproc's crypto is fixed by us */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		fatalx("OPENSSL_init_crypto failed");

	for (;;) {
		pfd[0].fd = PARENT_SOCK_FILENO;
		pfd[0].events = POLLIN;
		if (poll(pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		n = keyproc_read(parent, "parent", keyproc_dispatch_conf);
		if (n == -1)
			exit(0);
		if (n == 0x10000)
			break;
	}

	keyproc_mlock(0);
	keyproc_load_keys();
	keyproc_mlock(1);
	if (tlscheck_init() == -1)
		fatalx("cannot make the DH groups of TLS 1.2 DHE");
	if (drafts_warmup() == -1)
		fatalx("cannot set up the tls12 and tls13 cryptography");
	if (checking) {
		/* locked down as for real, then done */
		keyproc_sandbox();
		proc_child_ready();
		exit(0);
	}
	keyproc_send_public(&cur, IMSG_KEY_PUBLIC, instance);
	n32 = cur.nkeys;
	if (imsg_compose(&net, IMSG_KEY_END, instance, 0, -1, &n32,
	    sizeof(n32)) == -1 || imsgbuf_flush(&net) == -1)
		fatal("send the public keys");
	keyproc_sandbox();
	proc_child_ready();
	log_debug("ready with %zu keys", cur.nkeys);
	proc_trip_hook(PROC_KEYPROC);

	for (;;) {
		pfd[0].fd = PARENT_SOCK_FILENO;
		pfd[0].events = POLLIN;
		if (proc_log_pending())
			pfd[0].events |= POLLOUT;
		pfd[1].fd = net.fd;
		pfd[1].events = POLLIN;
		if (imsgbuf_queuelen(&net) > 0)
			pfd[1].events |= POLLOUT;
		/* a reload loading keys takes turns with the requests */
		if (poll(pfd, 2, stage.state == STAGE_LOAD ? 0 : -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			if (keyproc_read(parent, "parent",
			    keyproc_dispatch_parent) == -1)
				exit(0);
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			if (keyproc_read(&net, "netproc",
			    keyproc_dispatch_net) == -1)
				fatalx("netproc closed its channel");
		if (stage.state == STAGE_LOAD)
			keyproc_stage_step();
		/* all answers of this wake-up in one write */
		if (imsgbuf_queuelen(&net) > 0 && imsgbuf_write(&net) == -1)
			fatal("write to netproc");
		proc_log_flush();
	}
}
