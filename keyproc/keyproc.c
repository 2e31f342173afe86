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
static struct key	*keys;
static size_t		 nkeys;
static int		 instance;
static int		 checking;	/* lurkd -n: load, report, exit */

static struct key *
key_slot(uint32_t index)
{
	if (index >= nkeys)
		fatalx("%s: key index %u out of range", __func__, index);
	return &keys[index];
}

static void
keyproc_send_public(void)
{
	struct iovec	 iov[3];
	uint32_t	 n = nkeys;
	size_t		 i;

	for (i = 0; i < nkeys; i++) {
		iov[0].iov_base = &keys[i].pub;
		iov[0].iov_len = sizeof(keys[i].pub);
		iov[1].iov_base = keys[i].spki;
		iov[1].iov_len = keys[i].spki_len;
		iov[2].iov_base = keys[i].chain;
		iov[2].iov_len = keys[i].chain_len;
		if (imsg_composev(&net, IMSG_KEY_PUBLIC, instance, 0, -1,
		    iov, 3) == -1)
			fatal("%s: key \"%s\"", __func__, keys[i].pub.name);
	}
	if (imsg_compose(&net, IMSG_KEY_END, instance, 0, -1, &n,
	    sizeof(n)) == -1 || imsgbuf_flush(&net) == -1)
		fatal("%s", __func__);
}

/*
 * Load every key.  A key that fails stops a start; for lurkd -n it is
 * reported and the others are still checked.  keyproc[0] tells the
 * parent each key's SPKI hash, by which it finds two blocks of one key.
 */
static void
keyproc_load_keys(void)
{
	struct key_loaded	 kl;
	char			 err[512];
	size_t			 i;
	int			 ok;

	for (i = 0; i < nkeys; i++) {
		struct key *k = &keys[i];

		/* lurkd -n sends no fds for files it could not open */
		if (checking && k->privfd == -1 && k->certfd == -1)
			continue;
		if (k->privfd == -1 || k->certfd == -1)
			fatalx("key \"%s\": missing key or certificate fd",
			    k->pub.name);
		err[0] = '\0';
		if (key_load(k, err, sizeof(err)) == -1 ||
		    key_warmup(k, err, sizeof(err)) == -1)
			ok = 0;
		else if ((k->operations & EDGE_OP_RSA_PREMASTER) &&
		    k->pub.kind != KEY_RSA) {
			snprintf(err, sizeof(err), "rsa-kex needs an RSA key, "
			    "%.400s is %s", k->privpath,
			    edge_kind_name(k->pub.kind));
			ok = 0;
		} else
			ok = 1;
		close(k->privfd);
		close(k->certfd);
		k->privfd = k->certfd = -1;
		if (!ok) {
			if (!checking)
				fatalx("key \"%s\": %s", k->pub.name, err);
			log_warnx("key \"%s\": %s", k->pub.name, err);
			continue;
		}
		if (instance == 0) {
			(checking ? log_debug : log_info)("key \"%s\": %s %d "
			    "bits, spki sha256 %02x%02x%02x%02x...",
			    k->pub.name, edge_kind_name(k->pub.kind),
			    k->pub.bits, k->pub.spki_sha256[0],
			    k->pub.spki_sha256[1], k->pub.spki_sha256[2],
			    k->pub.spki_sha256[3]);
			key_loaded_fill(&kl, k);
			if (proc_compose_parent(IMSG_KEY_LOADED, -1, &kl,
			    sizeof(kl)) == -1)
				fatal("%s: compose", __func__);
		}
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
	struct conf_key		 ck;
	struct procfd		 pf;
	struct key		*k;
	size_t			 i;
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
		    g.nkeys < 0 || g.nkeys > LURKD_KEYS_MAX || keys != NULL)
			fatalx("%s: bad IMSG_CONF_GLOBAL", __func__);
		nkeys = g.nkeys;
		if ((keys = calloc(nkeys ? nkeys : 1, sizeof(*keys))) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < nkeys; i++)
			keys[i].privfd = keys[i].certfd = -1;
		break;
	case IMSG_CONF_KEY:
	case IMSG_CONF_KEYCERT:
		if (keys == NULL ||
		    imsg_get_data(imsg, &ck, sizeof(ck)) == -1 ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("%s: bad key message", __func__);
		ck.name[sizeof(ck.name) - 1] = '\0';
		ck.path[sizeof(ck.path) - 1] = '\0';
		k = key_slot(ck.index);
		k->pub.index = ck.index;
		k->operations = ck.operations;
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
		break;
	case IMSG_CONF_CHECK:
		if (checking || net_ok)
			fatalx("%s: bad IMSG_CONF_CHECK", __func__);
		checking = 1;
		break;
	case IMSG_CONF_END:
		if (keys == NULL || (!net_ok && !checking))
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

static int
keyproc_dispatch_parent(struct imsg *imsg)
{
	int	 level;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_VERBOSE:
		if (imsg_get_data(imsg, &level, sizeof(level)) == -1 ||
		    level < 0 || level > 2)
			fatalx("%s: bad IMSG_CTL_VERBOSE", __func__);
		log_setverbose(level);
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

	if (imsg_get_ibuf(imsg, &ib) == -1 ||
	    keyop_req_parse(ibuf_data(&ib), ibuf_size(&ib), &req, &data) == -1)
		fatalx("%s: bad IMSG_KEYOP_REQ", __func__);
	k = key_slot(req.index);
	status = keyop_run(k, &req, data, out, &outlen, &why);
	if (status != LURK_ST_SUCCESS) {
		log_op(LOG_ERR, &(struct log_op){ -1, req.uid, -1,
		    transport_name(req.transport), k->pub.name,
		    edge_type_name(req.type), edge_status_name(status), why },
		    "refused: key \"%s\" %s uid %u: %s", k->pub.name,
		    edge_type_name(req.type), req.uid, why);
		outlen = 0;
	}
	if (keyop_reply(&net, imsg_get_id(imsg), status, out, outlen) == -1)
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
	if (checking) {
		/* locked down as for real, then done */
		keyproc_sandbox();
		proc_child_ready();
		exit(0);
	}
	keyproc_send_public();
	keyproc_sandbox();
	proc_child_ready();
	log_debug("ready with %zu keys", nkeys);
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
		if (poll(pfd, 2, -1) == -1) {
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
		/* all answers of this wake-up in one write */
		if (imsgbuf_queuelen(&net) > 0 && imsgbuf_write(&net) == -1)
			fatal("write to netproc");
		proc_log_flush();
	}
}
