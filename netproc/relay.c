/*
 * upstream: requests for keys this lurkd does not hold go to another
 * lurkd that does (CDN interconnection: the delegated CDN never holds
 * the content owner's key).  lurkd.conf(5), "upstream".
 *
 * Routing: a key this lurkd holds is never relayed.  Otherwise a
 * request goes to the upstream whose route names the key: by the
 * SHA-256 of its SPKI (route spki, and the keys a key_info by name
 * through the upstream made known), by name (route name, for key_info
 * by name), or to the default route.  The edge must be allowed to use
 * the upstream (its allow rules, edge.c's), and its limits apply as to
 * its own requests.
 *
 * Connections: a small pool per upstream, persistent and pipelined,
 * over TLS 1.3 with this lurkd's client certificate, whose key is in
 * keyproc and signs through the async path of tls.c as a listener's
 * does.  Each request gets an id of the upstream connection's (the
 * edges' ids may collide); the answer goes back to the edge that asked
 * with the upstream's status and payload as they are.  An upstream that
 * cannot be reached answers its requests with temporary_failure at
 * once, and so it is answered for a while without a new try.  The
 * addresses are the parent's: netproc has no resolver (upstream.c).
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "tlsfiles.h"

#define UPSTREAM_POOL		4	/* connections to one upstream */
#define UPSTREAM_DEPTH		64	/* requests in flight on one */
#define UPSTREAM_RETRY		2	/* s an unreachable one is not tried */
#define UPSTREAM_LEARNED	256	/* keys a key_info by name made known */

struct upnext {				/* what a reload stages */
	int			 set;
	char			 host[256];
	uint16_t		 port;
	int			 naddrs;
	struct sockaddr_storage	 addrs[LURKD_UPADDR_MAX];
	int			 nroutes;
	struct conf_route	 routes[LURKD_ROUTE_MAX];
};

struct upstream {
	int			 index;
	char			 name[LURKD_NAME_MAX];
	char			 host[256];
	uint16_t		 port;
	int			 naddrs, next;
	struct sockaddr_storage	 addrs[LURKD_UPADDR_MAX];
	int			 nroutes;
	struct conf_route	 routes[LURKD_ROUTE_MAX];
	uint8_t			 learned[UPSTREAM_LEARNED][32];
	int			 nlearned;
	SSL_CTX			*ctx;
	int			 cafd;		/* for the next ctx */
	char			 capath[PATH_MAX];
	TAILQ_HEAD(, conn)	 conns;
	int			 nconns;
	time_t			 down_since;	/* 0: not known down */
	char			 down_why[160];
	struct upnext		 stage;
};

static int	 nupstream_want;

void
relay_conf_global(int n)
{
	int	 i;

	nupstream_want = n;
	if (n > 0 && (np->up = calloc(n, sizeof(*np->up))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++) {
		np->up[i].index = i;
		np->up[i].cafd = -1;
		TAILQ_INIT(&np->up[i].conns);
	}
}

int
relay_conf_done(void)
{
	return np->nupstream == nupstream_want;
}

/* IMSG_CONF_UPSTREAM: at start, or a reload's (staged). */
void
relay_upstream_conf(struct imsg *imsg, int reload)
{
	struct conf_upstream	 cu;
	struct upstream		*u;
	int			 i;

	if (imsg_get_data(imsg, &cu, sizeof(cu)) == -1 ||
	    cu.naddrs < 1 || cu.naddrs > LURKD_UPADDR_MAX ||
	    (reload ? cu.index >= (uint32_t)np->nupstream :
	    cu.index != (uint32_t)np->nupstream ||
	    np->nupstream >= nupstream_want))
		fatalx("%s: bad IMSG_CONF_UPSTREAM", __func__);
	for (i = 0; i < cu.naddrs; i++)
		if (cu.addrs[i].ss_family != AF_INET &&
		    cu.addrs[i].ss_family != AF_INET6)
			fatalx("%s: bad IMSG_CONF_UPSTREAM", __func__);
	cu.name[sizeof(cu.name) - 1] = '\0';
	cu.host[sizeof(cu.host) - 1] = '\0';
	u = &np->up[cu.index];
	if (reload) {
		if (strcmp(u->name, cu.name) != 0 || u->stage.set)
			fatalx("%s: upstream %u is not \"%s\"", __func__,
			    cu.index, cu.name);
		memset(&u->stage, 0, sizeof(u->stage));
		u->stage.set = 1;
		strlcpy(u->stage.host, cu.host, sizeof(u->stage.host));
		u->stage.port = cu.port;
		u->stage.naddrs = cu.naddrs;
		memcpy(u->stage.addrs, cu.addrs, sizeof(cu.addrs));
		return;
	}
	np->nupstream++;
	strlcpy(u->name, cu.name, sizeof(u->name));
	strlcpy(u->host, cu.host, sizeof(u->host));
	u->port = cu.port;
	u->naddrs = cu.naddrs;
	memcpy(u->addrs, cu.addrs, sizeof(cu.addrs));
	log_debug("upstream \"%s\": %s port %u, %d addresses", u->name,
	    u->host, u->port, u->naddrs);
}

void
relay_route_conf(struct imsg *imsg, int reload)
{
	struct conf_route	 cr;
	struct upstream		*u;
	int			*n;
	struct conf_route	*tab;

	if (imsg_get_data(imsg, &cr, sizeof(cr)) == -1 ||
	    cr.index >= (uint32_t)np->nupstream ||
	    (cr.type != ROUTE_DEFAULT && cr.type != ROUTE_NAME &&
	    cr.type != ROUTE_SPKI))
		fatalx("%s: bad IMSG_CONF_ROUTE", __func__);
	cr.name[sizeof(cr.name) - 1] = '\0';
	u = &np->up[cr.index];
	if (reload && !u->stage.set)
		fatalx("%s: a route before its upstream", __func__);
	n = reload ? &u->stage.nroutes : &u->nroutes;
	tab = reload ? u->stage.routes : u->routes;
	if (*n >= LURKD_ROUTE_MAX)
		fatalx("%s: too many routes", __func__);
	tab[(*n)++] = cr;
}

/* An upstream's CA file (IMSG_CONF_TLSFILE, TLSFILE_UPCA). */
int
relay_file_conf(uint32_t index, int fd, const char *path)
{
	struct upstream	*u;

	if (index >= (uint32_t)np->nupstream ||
	    np->up[index].cafd != -1)
		return -1;
	u = &np->up[index];
	u->cafd = fd;
	strlcpy(u->capath, path, sizeof(u->capath));
	return 0;
}

/* The client key of upstream u in np->keys: after the listeners'. */
static struct netkey *
upstream_key(const struct upstream *u)
{
	return &np->keys[np->nkeys + np->ntls + u->index];
}

static const char *
sslerr(void)
{
	return tls_errstr("unknown error");
}

/*
 * An upstream's SSL_CTX: TLS 1.3, its CA to verify it by, this lurkd's
 * client certificate (the chain keyproc sent) and its key, keyproc's.
 */
static SSL_CTX *
ctx_new(struct upstream *u, char *err, size_t errlen)
{
	const struct netkey	*k = upstream_key(u);
	SSL_CTX			*ctx;
	X509_STORE		*store;
	EVP_PKEY		*pk = NULL;
	char			 e[256];

	if (u->cafd == -1) {
		snprintf(err, errlen, "no CA file");
		return NULL;
	}
	if (tlsfiles_load(u->cafd, u->capath, -1, NULL, tlskey_libctx(),
	    &store, NULL, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s", e);
		return NULL;
	}
	if ((ctx = SSL_CTX_new_ex(tlskey_libctx(), NULL,
	    TLS_client_method())) == NULL) {
		X509_STORE_free(store);
		snprintf(err, errlen, "SSL_CTX_new: %s", sslerr());
		return NULL;
	}
	SSL_CTX_set_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_cb);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC | SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto bad;
	if (tls_ctx_chain(ctx, k) == -1 || (pk = tlskey_pkey(k->spki,
	    k->pub.spki_len, k->pub.spki_sha256)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto bad;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ctx;
 bad:
	snprintf(err, errlen, "client certificate and key: %s", sslerr());
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static void
cafd_close(struct upstream *u)
{
	if (u->cafd != -1)
		close(u->cafd);
	u->cafd = -1;
}

/* At start, before the sandbox: every upstream's SSL_CTX, or fatal. */
void
relay_init(void)
{
	struct upstream	*u;
	char		 err[512];
	int		 i;

	for (i = 0; i < np->nupstream; i++) {
		u = &np->up[i];
		if ((u->ctx = ctx_new(u, err, sizeof(err))) == NULL)
			fatalx("upstream \"%s\": %s", u->name, err);
		cafd_close(u);
	}
}

/*
 * A reload is committed: the staged addresses, routes and CA apply to
 * the next connections; the keys key_info made known stay (the
 * upstream says if they are still its).  The connections open stay,
 * with what they began with.
 */
void
relay_reload_commit(void)
{
	struct upstream	*u;
	SSL_CTX		*ctx;
	char		 err[512];
	int		 i;

	for (i = 0; i < np->nupstream; i++) {
		u = &np->up[i];
		if (u->stage.set) {
			strlcpy(u->host, u->stage.host, sizeof(u->host));
			u->port = u->stage.port;
			u->naddrs = u->stage.naddrs;
			memcpy(u->addrs, u->stage.addrs, sizeof(u->addrs));
			u->next = 0;
			u->nroutes = u->stage.nroutes;
			memcpy(u->routes, u->stage.routes, sizeof(u->routes));
			u->down_since = 0;
		}
		memset(&u->stage, 0, sizeof(u->stage));
		if ((ctx = ctx_new(u, err, sizeof(err))) == NULL)
			log_warnx("reload: upstream \"%s\": %s: it keeps its "
			    "previous certificate, key and CA", u->name, err);
		else {
			SSL_CTX_free(u->ctx);
			u->ctx = ctx;
		}
		cafd_close(u);
	}
}

/* ---- routing -------------------------------------------------------- */

static struct upstream *
route_byspki(const uint8_t *id)
{
	struct upstream	*u, *def = NULL;
	int		 i, j;

	for (i = 0; i < np->nupstream; i++) {
		u = &np->up[i];
		for (j = 0; j < u->nroutes; j++) {
			if (u->routes[j].type == ROUTE_DEFAULT)
				def = u;
			else if (u->routes[j].type == ROUTE_SPKI &&
			    memcmp(u->routes[j].spki, id, 32) == 0)
				return u;
		}
		for (j = 0; j < u->nlearned && j < UPSTREAM_LEARNED; j++)
			if (memcmp(u->learned[j], id, 32) == 0)
				return u;
	}
	return def;
}

static struct upstream *
route_byname(const uint8_t *name, size_t len)
{
	struct upstream	*u, *def = NULL;
	int		 i, j;

	for (i = 0; i < np->nupstream; i++) {
		u = &np->up[i];
		for (j = 0; j < u->nroutes; j++)
			if (u->routes[j].type == ROUTE_DEFAULT)
				def = u;
			else if (u->routes[j].type == ROUTE_NAME &&
			    strlen(u->routes[j].name) == len &&
			    memcmp(u->routes[j].name, name, len) == 0)
				return u;
	}
	return def;
}

/* A key a key_info by name answered: its later operations follow it. */
static void
learn(struct upstream *u, const uint8_t *id)
{
	int	 i;

	for (i = 0; i < u->nlearned && i < UPSTREAM_LEARNED; i++)
		if (memcmp(u->learned[i], id, 32) == 0)
			return;
	memcpy(u->learned[u->nlearned++ % UPSTREAM_LEARNED], id, 32);
}

/* ---- connections ---------------------------------------------------- */

static void
addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a = ss->ss_family == AF_INET ?
			    (const void *)&((const struct sockaddr_in *)
			    ss)->sin_addr : (const void *)&((const struct
			    sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, len) == NULL)
		strlcpy(buf, "?", len);
}

static void
mark_down(struct upstream *u, const char *why)
{
	if (u->down_since == 0)
		log_warnx("upstream \"%s\": unreachable: %s", u->name, why);
	u->down_since = monotime();
	strlcpy(u->down_why, why, sizeof(u->down_why));
}

/* A new connection to u, in the pool; NULL (u marked down) on failure. */
static struct conn *
upconn_new(struct upstream *u)
{
	struct sockaddr_storage	*ss = &u->addrs[u->next % u->naddrs];
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct conn		*c;
	char			 a[INET6_ADDRSTRLEN], why[200];
	socklen_t		 len;
	int			 fd;

	if (u->ctx == NULL)
		return NULL;
	if (ss->ss_family == AF_INET) {
		sin->sin_port = htons(u->port);
		len = sizeof(*sin);
	} else {
		sin6->sin6_port = htons(u->port);
		len = sizeof(*sin6);
	}
	addr_str(ss, a, sizeof(a));
	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		mark_down(u, why);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)ss, len) == -1 &&
	    errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "%s port %u: %s", a, u->port,
		    strerror(errno));
		close(fd);
		u->next++;
		mark_down(u, why);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->transport = TRANSPORT_UPSTREAM;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->upstream = u;
	c->tlsidx = np->ntls + u->index;
	c->ident.kind = IDENT_UPSTREAM;
	c->ident.uid = u->index;
	snprintf(c->who, sizeof(c->who), "upstream \"%s\" %s", u->name, a);
	TAILQ_INIT(&c->relays);
	TAILQ_INIT(&c->upops);
	c->tls = TLS_CONNECTING;
	if (conn_add(c) == -1)
		return NULL;	/* conn_add logged it */
	netproc_update_events(c, EPOLLOUT);
	TAILQ_INSERT_TAIL(&u->conns, c, upentry);
	u->nconns++;
	log_debug("conn %llu: %s: connecting", (unsigned long long)c->serial,
	    c->who);
	return c;
}

static int
is_addr(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * c could not connect: its requests, and the bytes of them not sent
 * yet, go to a new connection to the next address of the name.
 */
static int
move_next(struct conn *c)
{
	struct conn	*n;
	struct relayop	*op;
	uint8_t		*out;
	size_t		 off, len, cap;

	if ((n = upconn_new(c->upstream)) == NULL)
		return -1;
	n->upattempt = c->upattempt + 1;
	n->upseq = c->upseq;
	while ((op = TAILQ_FIRST(&c->upops)) != NULL) {
		TAILQ_REMOVE(&c->upops, op, uentry);
		op->up = n;
		TAILQ_INSERT_TAIL(&n->upops, op, uentry);
	}
	/* both are the upstream's client: its charge stays as it is */
	out = n->out, off = n->outoff, len = n->outlen, cap = n->outcap;
	n->out = c->out, n->outoff = c->outoff, n->outlen = c->outlen;
	n->outcap = c->outcap;
	c->out = out, c->outoff = off, c->outlen = len, c->outcap = cap;
	return 0;
}

/* The TCP connection is up, or failed: the TLS handshake begins. */
void
relay_connected(struct conn *c)
{
	struct upstream	*u = c->upstream;
	socklen_t	 len = sizeof(int);
	char		 why[200];
	int		 err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err != 0) {
		snprintf(why, sizeof(why), "%s port %u: %s", c->who, u->port,
		    strerror(err));
		u->next++;
		/* the name's next address, if it has one not tried yet */
		if (c->upattempt + 1 >= u->naddrs || move_next(c) == -1)
			mark_down(u, why);
		else
			log_info("conn %llu %s: %s: trying the next address",
			    (unsigned long long)c->serial, c->who,
			    strerror(err));
		conn_close(c);
		return;
	}
	/* the upstream's certificate must name it: address or DNS name */
	if ((c->ssl = SSL_new(u->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (is_addr(u->host) ? X509_VERIFY_PARAM_set1_ip_asc(
	    SSL_get0_param(c->ssl), u->host) != 1 :
	    (SSL_set1_host(c->ssl, u->host) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, u->host) != 1))) {
		snprintf(why, sizeof(why), "%s: %s", c->who, sslerr());
		ERR_clear_error();
		mark_down(u, why);
		conn_close(c);
		return;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_connect_state(c->ssl);
	c->tls = TLS_HANDSHAKE;
	c->last_in = monotime();
	if (tls_conn_step(c) == -1)
		conn_close(c);
}

/* The handshake is done and the upstream verified (tls.c). */
void
relay_verified(struct conn *c)
{
	X509	*x = SSL_get0_peer_certificate(c->ssl);
	char	 subj[128] = "?";

	if (x != NULL)
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
	c->upstream->down_since = 0;
	log_info("conn %llu %s: %s, upstream certificate %s",
	    (unsigned long long)c->serial, c->who, SSL_get_version(c->ssl),
	    subj);
}

/* An edge's request answered here, for the upstream. */
static void
relay_refuse(struct conn *c, const struct lurk_hdr *h, uint8_t status,
    enum refusal reason, const char *why)
{
	struct iovec	 iov;

	stats_refusal(reason);
	if (c->client != NULL)
		c->client->refusals++;
	if (client_log_ok(c->client))
		log_op(LOG_ERR, &(struct log_op){ c->serial, conn_uid(c),
		    conn_gid(c), transport_name(c->transport), NULL,
		    edge_type_name(h->type), edge_status_name(status), why,
		    conn_peer(c) }, "conn %llu %s: %s %s (relay): %s",
		    (unsigned long long)c->serial, c->who,
		    edge_status_name(status), edge_type_name(h->type), why);
	iov.iov_base = np->state;
	iov.iov_len = LURK_STATE_LEN;
	conn_reply(c, h, status, &iov, 1);
}

static void
relayop_free(struct relayop *op)
{
	if (op->edge != NULL) {
		TAILQ_REMOVE(&op->edge->relays, op, eentry);
		op->edge->npending--;
		op->edge->qbytes -= op->charge;
		conn_mark_dirty(op->edge);
	}
	if (op->up != NULL)
		TAILQ_REMOVE(&op->up->upops, op, uentry);
	op->cl->npending--;
	client_discharge(op->cl, op->charge);
	client_gc(op->cl);
	free(op);
}

/*
 * An edge's request for a key this lurkd does not hold: 1 if it is an
 * upstream's (relayed, or answered here), 0 if no route takes it.
 */
int
relay_edge_request(struct conn *c, const struct lurk_hdr *h,
    const uint8_t *payload, size_t len)
{
	struct upstream	*u = NULL;
	struct conn	*uc, *best = NULL;
	struct relayop	*op;
	struct lurk_hdr	 fh;
	unsigned	 n, bestn = 0;
	char		 why[IDENT_NAME_MAX + 128];

	if (np->nupstream == 0 || h->status != LURK_ST_REQUEST)
		return 0;
	if (h->type == EDGE_TYPE_KEY_INFO) {
		if (len < 2 || len != 2 + (size_t)payload[1])
			return 0;
		if (payload[0] == EDGE_SEL_SPKI_SHA256 && payload[1] == 32)
			u = route_byspki(payload + 2);
		else if (payload[0] == EDGE_SEL_NAME && payload[1] > 0)
			u = route_byname(payload + 2, payload[1]);
	} else if (len >= EDGE_KEY_ID_LEN)
		u = route_byspki(payload);
	if (u == NULL)
		return 0;
	if (!edge_authorized(c, upstream_key(u))) {
		snprintf(why, sizeof(why), "%s may not use upstream \"%s\"",
		    c->who, u->name);
		relay_refuse(c, h, EDGE_ST_UNAUTHORIZED, REF_UNAUTHORIZED, why);
		return 1;
	}
	if (c->client == NULL ||
	    c->client->npending >= CLIENT_PENDING_MAX) {
		relay_refuse(c, h, LURK_ST_TEMPORARY_FAILURE, REF_IN_FLIGHT,
		    "too many operations of this peer in flight");
		return 1;
	}
	/* the least busy connection, or a new one */
	TAILQ_FOREACH(uc, &u->conns, upentry) {
		n = 0;
		TAILQ_FOREACH(op, &uc->upops, uentry)
			n++;
		if (n < UPSTREAM_DEPTH && !uc->closing &&
		    (best == NULL || n < bestn)) {
			best = uc;
			bestn = n;
		}
	}
	if ((best == NULL || (bestn > 0 && u->nconns < UPSTREAM_POOL)) &&
	    u->nconns < UPSTREAM_POOL) {
		/* one known unreachable is not tried again at once */
		if (u->down_since != 0 &&
		    monotime() - u->down_since < UPSTREAM_RETRY) {
			if (best == NULL) {
				snprintf(why, sizeof(why), "upstream \"%s\" "
				    "unreachable: %s", u->name, u->down_why);
				relay_refuse(c, h, LURK_ST_TEMPORARY_FAILURE,
				    REF_FAILED, why);
				return 1;
			}
		} else if ((uc = upconn_new(u)) != NULL)
			best = uc;
		else if (best == NULL) {
			snprintf(why, sizeof(why), "upstream \"%s\" "
			    "unreachable: %s", u->name, u->down_why);
			relay_refuse(c, h, LURK_ST_TEMPORARY_FAILURE,
			    REF_FAILED, why);
			return 1;
		}
	}
	if (best == NULL) {
		relay_refuse(c, h, LURK_ST_TEMPORARY_FAILURE, REF_IN_FLIGHT,
		    "upstream busy: its connections are full");
		return 1;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		relay_refuse(c, h, LURK_ST_TEMPORARY_FAILURE, REF_FAILED,
		    "out of memory");
		return 1;
	}
	op->id = ++best->upseq;
	op->edge = c;
	op->up = best;
	op->cl = c->client;
	op->hdr = *h;
	op->charge = LURK_HDR_LEN + len;
	op->t0 = monotime_ns();
	if (TAILQ_EMPTY(&best->upops))
		best->last_in = monotime();	/* its answer's clock */
	TAILQ_INSERT_TAIL(&best->upops, op, uentry);
	TAILQ_INSERT_TAIL(&c->relays, op, eentry);
	c->npending++;
	c->qbytes += op->charge;
	op->cl->npending++;
	client_charge(op->cl, op->charge);
	fh = *h;
	fh.id = op->id;
	conn_forward(best, &fh, payload, len);
	return 1;
}

static struct relayop *
op_byid(struct conn *uc, uint64_t id)
{
	struct relayop	*op;

	TAILQ_FOREACH(op, &uc->upops, uentry)
		if (op->id == id)
			return op;
	return NULL;
}

/* An answer from the upstream: to the edge that asked, as it is. */
void
relay_response(struct conn *uc, const uint8_t *msg, size_t len)
{
	struct lurk_hdr	 h;
	struct relayop	*op;
	struct iovec	 iov;
	size_t		 plen = len - LURK_HDR_LEN;

	lurk_hdr_decode(msg, &h);
	if ((op = op_byid(uc, h.id)) == NULL ||
	    h.designation != op->hdr.designation ||
	    h.version != op->hdr.version || h.type != op->hdr.type ||
	    h.status == LURK_ST_REQUEST) {
		log_warnx("conn %llu %s: an answer to no request of ours "
		    "(id %llu type %u status %u): closed",
		    (unsigned long long)uc->serial, uc->who,
		    (unsigned long long)h.id, h.type, h.status);
		uc->closing = 1;
		return;
	}
	/* a key_info by name makes the key's id known for its operations */
	if (h.type == EDGE_TYPE_KEY_INFO && h.status == LURK_ST_SUCCESS &&
	    plen >= 32)
		learn(uc->upstream, msg + LURK_HDR_LEN);
	if (op->edge != NULL) {
		iov.iov_base = (void *)(uintptr_t)(msg + LURK_HDR_LEN);
		iov.iov_len = plen;
		log_debug("conn %llu %s: %s relayed by upstream \"%s\": %s",
		    (unsigned long long)op->edge->serial, op->edge->who,
		    edge_type_name(h.type), uc->upstream->name,
		    edge_status_name(h.status));
		conn_reply(op->edge, &op->hdr, h.status, &iov, 1);
		if (h.status != LURK_ST_SUCCESS)
			op->cl->refusals++;
	}
	relayop_free(op);
}

/* An edge's connection goes: its requests' answers go nowhere. */
void
relay_conn_gone(struct conn *c)
{
	struct relayop	*op;

	while ((op = TAILQ_FIRST(&c->relays)) != NULL) {
		TAILQ_REMOVE(&c->relays, op, eentry);
		op->edge = NULL;
	}
}

/*
 * An upstream connection closes: its requests are answered now with
 * temporary_failure; one that never got through its handshake makes
 * the upstream known unreachable.
 */
void
relay_upconn_closed(struct conn *uc)
{
	struct upstream	*u = uc->upstream;
	struct relayop	*op;
	char		 why[IDENT_NAME_MAX + 200];

	/* a connect(2) that failed was said so (relay_connected) */
	if (uc->tls == TLS_HANDSHAKE) {
		snprintf(why, sizeof(why), "%s: TLS handshake: %s", uc->who,
		    uc->verify_err[0] != '\0' ? uc->verify_err : "failed");
		mark_down(u, why);
	}
	if (uc->tls == TLS_OPEN || u->down_since == 0)
		snprintf(why, sizeof(why), "upstream \"%s\": connection "
		    "lost", u->name);
	else
		strlcpy(why, u->down_why, sizeof(why));
	while ((op = TAILQ_FIRST(&uc->upops)) != NULL) {
		if (op->edge != NULL)
			relay_refuse(op->edge, &op->hdr,
			    LURK_ST_TEMPORARY_FAILURE, REF_FAILED, why);
		relayop_free(op);
	}
	TAILQ_REMOVE(&u->conns, uc, upentry);
	u->nconns--;
}

/* Once a second: an upstream that does not answer in time is dropped. */
void
relay_timeouts(time_t now)
{
	struct conn	*c, *next;
	int		 i;

	for (i = 0; i < np->nupstream; i++)
		for (c = TAILQ_FIRST(&np->up[i].conns); c != NULL; c = next) {
			next = TAILQ_NEXT(c, upentry);
			if (c->zombie || TAILQ_EMPTY(&c->upops) ||
			    c->tls != TLS_OPEN ||
			    now - c->last_in < np->timeout_message)
				continue;
			log_warnx("conn %llu %s: no answer in %u s: closed",
			    (unsigned long long)c->serial, c->who,
			    np->timeout_message);
			conn_close(c);
		}
}
