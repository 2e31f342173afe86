/*
 * listen on tls: edges on other hosts, over TLS with a client
 * certificate of the listener's CA (lurkd.conf(5)).
 *
 * netproc holds no private key, its own included: a listener's key is
 * in keyproc (lurkd.h, enum key_usage) and libssl signs through
 * netproc's provider (tlskey.c), whose signature calls tls_sign().  The
 * connections run with SSL_MODE_ASYNC: every SSL call is an async job,
 * and tls_sign() queues the signature as a key operation of the peer's
 * client (edge.c schedules it as any other) and pauses the job
 * (ASYNC_pause_job) until keyproc has answered; the event loop goes on
 * meanwhile, and the answer resumes the handshake.
 *
 * A peer is its address while it handshakes (the unit of its limits),
 * then its verified certificate: subject, SAN DNS names and URIs, and
 * the SHA-256 of its SPKI, which the keys' allow client rules match
 * (edge.c) and which is the client of its limits (limit.c).  Every
 * connection makes a full handshake (no session cache, no tickets), so
 * that each is verified against the CA and CRL of the moment.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/async.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "proc.h"
#include "tlsfiles.h"

struct tlslistener {
	struct listener		*l;
	int			 tls12;		/* TLS 1.2 allowed */
	SSL_CTX			*ctx;		/* NULL until tls_init */
	int			 fd[2];		/* CA, CRL: for the next ctx */
	char			 path[2][PATH_MAX];
};

static int		 ntls_want;
static struct conn	*tls_cur;	/* whose SSL call runs */

/* The key of listener i in np->keys: after the edges' keys. */
static struct netkey *
listener_key(int i)
{
	return &np->keys[np->nkeys + i];
}

void
tls_listener_conf(struct imsg *imsg)
{
	struct conf_tls		 ct;
	struct tlslistener	*tl;
	char			 addr[96];
	int			 fd;

	if (np->tls == NULL || np->ntls >= ntls_want ||
	    imsg_get_data(imsg, &ct, sizeof(ct)) == -1 ||
	    ct.index != (uint32_t)np->ntls || (fd = imsg_get_fd(imsg)) == -1)
		fatalx("%s: bad IMSG_CONF_TLS", __func__);
	ct.addr[sizeof(ct.addr) - 1] = '\0';
	tl = &np->tls[np->ntls++];
	tl->tls12 = ct.tls12 != 0;
	snprintf(addr, sizeof(addr), "%s port %u", ct.addr,
	    (unsigned)ct.port);
	tl->l = netproc_listener_add(EV_TLS_LISTEN, fd, "tls", addr);
	log_debug("listening on tls %s%s", addr, tl->tls12 ?
	    " (TLS 1.2 too)" : "");
}

/* How many listeners the parent announced (IMSG_CONF_GLOBAL). */
void
tls_conf_global(int ntls)
{
	int	 i;

	ntls_want = ntls;
	if (ntls > 0 && (np->tls = calloc(ntls, sizeof(*np->tls))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < ntls; i++)
		np->tls[i].fd[0] = np->tls[i].fd[1] = -1;
}

int
tls_conf_done(void)
{
	return np->ntls == ntls_want;
}

/* A CA or CRL file of a listener, for its next SSL_CTX. */
void
tls_file_conf(struct imsg *imsg)
{
	struct conf_tlsfile	 cf;
	struct tlslistener	*tl;
	int			 fd;

	if (imsg_get_data(imsg, &cf, sizeof(cf)) == -1 ||
	    (fd = imsg_get_fd(imsg)) == -1)
		fatalx("%s: bad IMSG_CONF_TLSFILE", __func__);
	cf.path[sizeof(cf.path) - 1] = '\0';
	if (cf.kind == TLSFILE_UPCA) {
		/* an upstream's CA (relay.c) */
		if (relay_file_conf(cf.index, fd, cf.path) == -1)
			fatalx("%s: bad IMSG_CONF_TLSFILE", __func__);
		return;
	}
	if (cf.index >= (uint32_t)np->ntls ||
	    (cf.kind != TLSFILE_CA && cf.kind != TLSFILE_CRL))
		fatalx("%s: bad IMSG_CONF_TLSFILE", __func__);
	tl = &np->tls[cf.index];
	if (tl->fd[cf.kind] != -1)
		fatalx("%s: listener %u: file %d twice", __func__, cf.index,
		    cf.kind);
	tl->fd[cf.kind] = fd;
	strlcpy(tl->path[cf.kind], cf.path, sizeof(tl->path[cf.kind]));
}

static const char *
sslerr(void)
{
	return tls_errstr("unknown error");
}

/*
 * Why the peer's certificate failed, said once with what it is: the
 * handshake then fails with the alert libssl sends for err.
 */
int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct conn	*c;
	X509		*x;
	char		 subj[96] = "?";
	int		 err;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (c = SSL_get_app_data(ssl)) == NULL ||
	    c->verify_err[0] != '\0')
		return 0;
	err = X509_STORE_CTX_get_error(xs);
	if ((x = X509_STORE_CTX_get_current_cert(xs)) != NULL)
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
	snprintf(c->verify_err, sizeof(c->verify_err), "certificate %s "
	    "(depth %d): %s", subj, X509_STORE_CTX_get_error_depth(xs),
	    X509_verify_cert_error_string(err));
	return 0;
}

/* The chain keyproc sent (a TLS certificate_list) into ctx. */
int
tls_ctx_chain(SSL_CTX *ctx, const struct netkey *k)
{
	const uint8_t	*p = k->chain, *end = k->chain + k->pub.chain_len;
	size_t		 len;
	X509		*x;
	int		 first = 1, ok;

	while (end - p >= 3) {
		len = (size_t)p[0] << 16 | p[1] << 8 | p[2];
		p += 3;
		if (len > (size_t)(end - p))
			return -1;
		if ((x = X509_new_ex(tlskey_libctx(), NULL)) == NULL ||
		    d2i_X509(&x, &p, len) == NULL) {
			X509_free(x);
			return -1;
		}
		if (first)
			ok = SSL_CTX_use_certificate(ctx, x) == 1;
		else
			ok = SSL_CTX_add1_chain_cert(ctx, x) == 1;
		X509_free(x);
		if (!ok)
			return -1;
		first = 0;
	}
	return first || p != end ? -1 : 0;
}

/*
 * A listener's SSL_CTX: its key (keyproc's, through tlskey.c), its
 * chain, the CA and CRL to verify peers with.  NULL and why in err.
 */
static SSL_CTX *
ctx_new(struct tlslistener *tl, const struct netkey *k, char *err,
    size_t errlen)
{
	SSL_CTX			*ctx;
	EVP_PKEY		*pk = NULL;
	X509_STORE		*store;
	STACK_OF(X509_NAME)	*names;
	char			 e[256];

	if (tl->fd[TLSFILE_CA] == -1) {
		snprintf(err, errlen, "no CA file");
		return NULL;
	}
	if (tlsfiles_load(tl->fd[TLSFILE_CA], tl->path[TLSFILE_CA],
	    tl->fd[TLSFILE_CRL], tl->path[TLSFILE_CRL], tlskey_libctx(),
	    &store, &names, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s", e);
		return NULL;
	}
	if ((ctx = SSL_CTX_new_ex(tlskey_libctx(), NULL,
	    TLS_server_method())) == NULL) {
		X509_STORE_free(store);
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		snprintf(err, errlen, "SSL_CTX_new: %s", sslerr());
		return NULL;
	}
	SSL_CTX_set_cert_store(ctx, store);
	SSL_CTX_set0_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, tls_verify_cb);
	SSL_CTX_set_verify_depth(ctx, 8);
	if (SSL_CTX_set_min_proto_version(ctx, tl->tls12 ? TLS1_2_VERSION :
	    TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto bad;
	/* a full, verified handshake each time; nothing to renegotiate */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC | SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (tls_ctx_chain(ctx, k) == -1) {
		snprintf(err, errlen, "certificate chain: %s", sslerr());
		goto out;
	}
	if ((pk = tlskey_pkey(k->spki, k->pub.spki_len,
	    k->pub.spki_sha256)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key: %s", sslerr());
		goto out;
	}
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ctx;
 bad:
	snprintf(err, errlen, "%s", sslerr());
 out:
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static void
files_close(struct tlslistener *tl)
{
	int	 j;

	for (j = 0; j < 2; j++) {
		if (tl->fd[j] != -1)
			close(tl->fd[j]);
		tl->fd[j] = -1;
	}
}

/* At start, before the sandbox: every listener's SSL_CTX, or fatal. */
void
tls_init(void)
{
	struct tlslistener	*tl;
	char			 err[512];
	int			 i;

	if (np->ntls == 0)
		return;
	/* libssl writes alerts with write(2) */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	if (!ASYNC_is_capable())
		fatalx("listen on tls: OpenSSL has no async jobs here");
	for (i = 0; i < np->ntls; i++) {
		tl = &np->tls[i];
		if ((tl->ctx = ctx_new(tl, listener_key(i), err,
		    sizeof(err))) == NULL)
			fatalx("listen on %s: %s", tl->l->address, err);
		files_close(tl);
	}
}

/*
 * A reload is committed: each listener's next connections use its new
 * key, chain, CA and CRL; those open keep what they began with.  A
 * listener whose new SSL_CTX cannot be made keeps its old one.
 */
void
tls_reload_commit(void)
{
	struct tlslistener	*tl;
	SSL_CTX			*ctx;
	char			 err[512];
	int			 i;

	for (i = 0; i < np->ntls; i++) {
		tl = &np->tls[i];
		if ((ctx = ctx_new(tl, listener_key(i), err,
		    sizeof(err))) == NULL)
			log_warnx("reload: listen on %s: %s: it keeps its "
			    "previous key and CA", tl->l->address, err);
		else {
			SSL_CTX_free(tl->ctx);
			tl->ctx = ctx;
		}
		files_close(tl);
	}
}

/* The address of a peer, for its identity while it handshakes. */
static void
peer_addr(struct conn *c, const struct sockaddr_storage *ss)
{
	char	 a[INET6_ADDRSTRLEN] = "?";

	c->ident.kind = IDENT_ADDR;
	memset(c->ident.id, 0, sizeof(c->ident.id));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memcpy(c->ident.id, &sin->sin_addr, 4);
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(c->ident.id + 4, &sin6->sin6_addr, 16);
		c->ident.id[0] = 6;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
	}
	snprintf(c->who, sizeof(c->who), "tls peer %s", a);
}

void
tls_accept(struct listener *l)
{
	struct tlslistener	*tl = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct conn		*c;
	int			 fd, i;

	for (i = 0; i < np->ntls; i++)
		if (np->tls[i].l == l)
			tl = &np->tls[i];
	if (tl == NULL)
		fatalx("%s: not a TLS listener", __func__);
	/* a bounded batch per wake-up, as conn_accept */
	for (i = 0; i < 64; i++) {
		sslen = sizeof(ss);
		if ((fd = accept4(l->tag.fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				netproc_pause_accept();
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept on tls %s", l->address);
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("accept: calloc");
			close(fd);
			return;
		}
		c->fd = fd;
		c->transport = TRANSPORT_TLS;
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
		c->tlsidx = tl - np->tls;
		peer_addr(c, &ss);
		if ((c->ssl = SSL_new(tl->ctx)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			log_warnx("accept on tls %s: %s", l->address,
			    sslerr());
			ERR_clear_error();
			SSL_free(c->ssl);
			close(fd);
			free(c);
			continue;
		}
		SSL_set_app_data(c->ssl, c);
		SSL_set_accept_state(c->ssl);
		c->tls = TLS_HANDSHAKE;
		/* too many handshakes from one address: not even begun */
		if (conn_add(c) == -1 || c->over_limit) {
			if (c->over_limit)
				conn_close(c);
			continue;
		}
		log_debug("conn %llu: %s on tls %s",
		    (unsigned long long)c->serial, c->who, l->address);
	}
}

static void
hex(const uint8_t *p, size_t n, char *buf)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * n] = '\0';
}

/* The subject as RFC 2253 writes it (allow client subject). */
static int
subject_rfc2253(X509 *x, char *buf, size_t len)
{
	BIO	*b;
	int	 n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0 || (n = BIO_read(b, buf, len - 1)) < 0) {
		BIO_free(b);
		return -1;
	}
	buf[n] = '\0';
	/*
	 * Longer than any rule may be: it matches none (a rule equal to
	 * its start must not), and the logs show it empty.
	 */
	if (BIO_pending(b) > 0)
		strlcpy(buf, "", len);
	BIO_free(b);
	return 0;
}

static void
peercert_free(struct peercert *pc)
{
	int	 i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->nsans; i++)
		free(pc->sans[i].value);
	free(pc);
}

/* What the rules match of a verified certificate; NULL on failure. */
static struct peercert *
peercert_new(X509 *x)
{
	struct peercert		*pc;
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const ASN1_IA5STRING	*s;
	uint8_t			*der = NULL;
	unsigned int		 mdlen;
	int			 len, i;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0 ||
	    EVP_Digest(der, len, pc->spki, &mdlen, EVP_sha256(), NULL) != 1 ||
	    subject_rfc2253(x, pc->subject, sizeof(pc->subject)) == -1) {
		OPENSSL_free(der);
		free(pc);
		return NULL;
	}
	OPENSSL_free(der);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) &&
	    pc->nsans < PEER_SANS_MAX; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			s = g->d.dNSName;
		else if (g->type == GEN_URI)
			s = g->d.uniformResourceIdentifier;
		else
			continue;
		/* a NUL inside would let it pass for another name */
		if (s->length <= 0 || s->length >= LURKD_IDENT_MAX ||
		    memchr(s->data, '\0', s->length) != NULL)
			continue;
		if ((pc->sans[pc->nsans].value = strndup((const char *)s->data,
		    s->length)) == NULL)
			break;
		pc->sans[pc->nsans++].uri = g->type == GEN_URI;
	}
	GENERAL_NAMES_free(gens);
	return pc;
}

/*
 * The handshake is done and the certificate verified: the peer is now
 * its certificate, for the rules, the logs and the limits.
 */
static int
tls_verified(struct conn *c)
{
	struct peercert	*pc;
	X509		*x;
	char		 h[65];
	int		 rc;

	if ((x = SSL_get0_peer_certificate(c->ssl)) == NULL ||
	    SSL_get_verify_result(c->ssl) != X509_V_OK) {
		/* SSL_VERIFY_FAIL_IF_NO_PEER_CERT: never here */
		log_warnx("conn %llu %s: handshake without a verified "
		    "certificate", (unsigned long long)c->serial, c->who);
		return -1;
	}
	if ((pc = peercert_new(x)) == NULL) {
		log_warnx("conn %llu %s: certificate: out of memory",
		    (unsigned long long)c->serial, c->who);
		return -1;
	}
	c->peer = pc;
	hex(pc->spki, sizeof(pc->spki), h);
	log_info("conn %llu %s: TLS %s, certificate subject \"%s\" spki "
	    "sha256:%s", (unsigned long long)c->serial, c->who,
	    SSL_get_version(c->ssl), pc->subject, h);
	/* the limits of the certificate, no longer of the address */
	if (c->over_limit == 0)
		np->stats.conns_open[c->transport]--;
	client_detach(c);
	c->ident.kind = IDENT_CERT;
	memcpy(c->ident.id, pc->spki, sizeof(c->ident.id));
	snprintf(c->who, sizeof(c->who), "cert sha256:%.16s \"%.100s\"", h,
	    pc->subject);
	c->over_limit = 0;
	if ((rc = client_join(c)) == -1)
		return -1;
	if (rc == 0)
		np->stats.conns_open[c->transport]++;
	c->tls = TLS_OPEN;
	return 0;
}

/* A handshake that failed: one line, with the peer and why. */
static void
handshake_refused(struct conn *c, int err)
{
	const char	*why;
	char		 buf[256];

	if (c->verify_err[0] != '\0')
		why = c->verify_err;
	else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
		why = "the peer closed the connection";
	else {
		snprintf(buf, sizeof(buf), "%s", sslerr());
		why = buf;
	}
	if (c->verify_err[0] == '\0')
		strlcpy(c->verify_err, why, sizeof(c->verify_err));
	stats_refusal(REF_HANDSHAKE);
	if (c->transport == TRANSPORT_UPSTREAM)
		log_warnx("conn %llu %s: TLS handshake failed: %s",
		    (unsigned long long)c->serial, c->who, why);
	else if (client_log_ok(c->client))
		log_op(LOG_ERR, &(struct log_op){ c->serial, -1, -1,
		    transport_name(c->transport), NULL, NULL, NULL, why,
		    c->who }, "conn %llu %s: TLS handshake refused: %s",
		    (unsigned long long)c->serial, c->who, why);
	ERR_clear_error();
}

/*
 * What the peer sent after its part of the handshake (in TLS 1.3 its
 * first request follows its Finished at once) is read and dropped: a
 * close with unread bytes is a reset, which the peer may see before
 * the alert that says why.  A bounded read, the alert is written.
 */
static void
tls_drain(struct conn *c)
{
	int	 i;

	for (i = 0; i < 4; i++)
		if (recv(c->fd, np->rbuf, NETPROC_READ_SIZE, MSG_DONTWAIT) <= 0)
			break;
	shutdown(c->fd, SHUT_WR);
}

/*
 * One step of c's handshake: on its socket's events, and when keyproc
 * has signed.  -1: close c.
 */
int
tls_conn_step(struct conn *c)
{
	int	 r, err;

	if (c->sign_wait)
		return 0;
	ERR_clear_error();
	tls_cur = c;
	r = SSL_do_handshake(c->ssl);
	tls_cur = NULL;
	if (r == 1) {
		if (c->transport == TRANSPORT_UPSTREAM) {
			/* the upstream verified (SSL_set1_host, its CA) */
			relay_verified(c);
			c->tls = TLS_OPEN;
		} else if (tls_verified(c) == -1)
			return -1;
		c->last_in = monotime();
		netproc_update_events(c, EPOLLIN);
		conn_mark_dirty(c);
		return 0;
	}
	switch ((err = SSL_get_error(c->ssl, r))) {
	case SSL_ERROR_WANT_READ:
		netproc_update_events(c, EPOLLIN);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		netproc_update_events(c, EPOLLOUT);
		return 0;
	case SSL_ERROR_WANT_ASYNC:
		/* the signature is at keyproc: the answer wakes it */
		if (!c->sign_wait)
			fatalx("%s: conn %llu: paused without a signature",
			    __func__, (unsigned long long)c->serial);
		netproc_update_events(c, 0);
		return 0;
	}
	handshake_refused(c, err);
	tls_drain(c);
	return -1;
}

/* SSL_read: bytes, 0 at the end, -1 with errno (EAGAIN: later). */
int
tls_conn_read(struct conn *c, uint8_t *buf, size_t len)
{
	size_t	 n = 0, got;
	int	 err;

	/* all that is decrypted: epoll knows only of the socket's bytes */
	while (n < len) {
		ERR_clear_error();
		tls_cur = c;
		err = SSL_read_ex(c->ssl, buf + n, len - n, &got);
		tls_cur = NULL;
		if (err == 1) {
			n += got;
			continue;
		}
		err = SSL_get_error(c->ssl, 0);
		if (n > 0)
			break;
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			errno = EAGAIN;
			return -1;
		}
		if (err == SSL_ERROR_ZERO_RETURN)
			return 0;
		log_debug("conn %llu %s: TLS read: %s",
		    (unsigned long long)c->serial, c->who, sslerr());
		ERR_clear_error();
		errno = EIO;
		return -1;
	}
	return n;
}

int
tls_conn_write(struct conn *c, const uint8_t *buf, size_t len)
{
	size_t	 n;
	int	 err;

	ERR_clear_error();
	tls_cur = c;
	err = SSL_write_ex(c->ssl, buf, len, &n);
	tls_cur = NULL;
	if (err == 1)
		return n;
	err = SSL_get_error(c->ssl, 0);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	ERR_clear_error();
	errno = EPIPE;
	return -1;
}

/*
 * Inside c's handshake job: keyproc signs tbs with the listener's key
 * (id: the SHA-256 of its SPKI) as the TLS SignatureScheme scheme.  The
 * job pauses until the answer is in.  1 with the signature in sig, 0
 * on failure (the handshake fails).
 */
int
tls_sign(const uint8_t *id, uint16_t scheme, const uint8_t *tbs,
    size_t tbslen, uint8_t *sig, size_t *siglen, size_t sigmax)
{
	struct conn		*c = tls_cur;
	struct keyop_req	 req;
	struct pending		*p;
	uint8_t			*msg;

	if (c == NULL || c->ssl == NULL || c->sign_wait ||
	    ASYNC_get_current_job() == NULL) {
		/* never a blocking signature in the event loop */
		log_warnx("%s: a signature outside a handshake job", __func__);
		return 0;
	}
	if (c->client == NULL || c->client->npending >= CLIENT_PENDING_MAX ||
	    (p = TAILQ_FIRST(&np->freepending)) == NULL) {
		snprintf(c->verify_err, sizeof(c->verify_err), "too many "
		    "operations in flight to sign the handshake");
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.index = np->nkeys + c->tlsidx;	/* tls_pending_index */
	req.type = SSL_version(c->ssl) == TLS1_3_VERSION ? KEYOP_TLS_SIGN13 :
	    KEYOP_TLS_SIGN12;
	req.transport = TRANSPORT_TLS;
	req.scheme = scheme;
	req.uid = (uint32_t)-1;
	req.len = 32 + tbslen;
	if ((msg = malloc(sizeof(req) + req.len)) == NULL)
		return 0;
	memcpy(msg, &req, sizeof(req));
	memcpy(msg + sizeof(req), id, 32);
	memcpy(msg + sizeof(req) + 32, tbs, tbslen);
	pending_queue(p, c, NULL, c->tlsidx, msg, sizeof(req) + req.len);
	p->tls = 1;
	c->sign_wait = 1;
	c->sign_ok = 0;
	c->sig = sig;
	c->sigmax = sigmax;
	c->siglen = 0;
	/* each resume while keyproc has not answered pauses again */
	while (c->sign_wait)
		if (ASYNC_pause_job() != 1) {
			/* cannot pause: never resumed for this sign */
			fatalx("%s: ASYNC_pause_job failed", __func__);
		}
	c->sig = NULL;
	if (!c->sign_ok)
		return 0;
	*siglen = c->siglen;
	return 1;
}

/* The index keyproc reads: the listener's key in today's table. */
void
tls_pending_index(struct pending *p)
{
	struct keyop_req	 req;

	memcpy(&req, p->msg, sizeof(req));
	req.index = np->nkeys + p->key;
	memcpy(p->msg, &req, sizeof(req));
}

/* keyproc answered c's handshake signature: its job may go on. */
void
tls_sign_done(struct pending *p, uint8_t status, const uint8_t *sig,
    size_t len)
{
	struct conn	*c = p->c;

	if (c == NULL || !c->sign_wait)
		fatalx("%s: an answer for no handshake", __func__);
	c->sign_wait = 0;
	/* the peer's clock runs again (conn_timeouts), not keyproc's */
	c->last_in = monotime();
	/* keyproc answers as to an edge: signature<2> */
	if (status == LURK_ST_SUCCESS && len > 2 &&
	    (size_t)(sig[0] << 8 | sig[1]) == len - 2 &&
	    len - 2 <= c->sigmax) {
		memcpy(c->sig, sig + 2, len - 2);
		c->siglen = len - 2;
		c->sign_ok = 1;
	} else if (!c->zombie)
		snprintf(c->verify_err, sizeof(c->verify_err), "keyproc "
		    "did not sign the handshake: %s",
		    edge_status_name(status));
	conn_mark_dirty(c);
}

/*
 * c is closing.  A handshake whose job waits for keyproc cannot be
 * freed before the job ends: an operation still queued is dropped and
 * the job ended now; one at keyproc leaves c a zombie, out of the event
 * set, until its answer comes (conn_update).  1: not closed yet.
 */
int
tls_conn_close(struct conn *c)
{
	struct pending	*p, *next;

	if (!c->sign_wait)
		return 0;
	for (p = TAILQ_FIRST(&c->pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->tls && p->keyproc == -1) {
			pending_unqueue(p);
			pending_free(p);
			c->sign_wait = 0;
		}
	}
	if (!c->sign_wait) {
		tls_zombie_end(c);
		return 0;
	}
	if (!c->zombie) {
		c->zombie = 1;
		if (epoll_ctl(np->epfd, EPOLL_CTL_DEL, c->fd, NULL) == -1)
			fatal("%s: epoll_ctl", __func__);
		c->events = 0;
	}
	return 1;
}

/* The job of a closing connection ends (its signature failed). */
void
tls_zombie_end(struct conn *c)
{
	c->sign_ok = 0;
	c->zombie = 0;
	tls_cur = c;
	(void)SSL_do_handshake(c->ssl);
	tls_cur = NULL;
	ERR_clear_error();
}

void
tls_conn_free(struct conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	peercert_free(c->peer);
	c->peer = NULL;
}
