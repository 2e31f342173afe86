/*
 * The edge's TLS to a key server (tlsclient.h).
 *
 * One library context per process, made on first use, with only the
 * default provider in it: the SSL_CTX, its certificate store and the
 * client key all come from it, never from the context the lurk
 * provider lives in.  One SSL_CTX per (certificate, key, CA) triple
 * of files as they are (path, inode, size, modification time), made
 * when a key that needs it is loaded (as root, in a server's master)
 * and kept for the life of the process: a server that loads its keys
 * again after the edge's files were renewed (nginx -s reload) gets a
 * new one, and new connections with it (client.c keys endpoints by it).
 *
 * OpenSSL's error queue is the calling thread's, shared with the TLS
 * server we run inside: what our own calls leave there is taken off
 * again (ERR_set_mark / ERR_pop_to_mark), or the server would take it
 * for an error of its own connection.  For the same reason the queue is
 * never cleared and SSL_get_error, which reads the oldest error in it,
 * the server's perhaps, is not used: what a call left to do is read
 * from the SSL object itself (tls_state).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "keyref.h"
#include "client.h"
#include "tlsclient.h"

/* what tells a file from the one that was at its path before */
struct file_id {
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
};

struct lc_tls {
	TAILQ_ENTRY(lc_tls)	 entry;
	char			*cert, *key, *ca;
	struct file_id		 id[3];		/* ca, cert, key */
	SSL_CTX			*ctx;
};

static pthread_mutex_t		 tls_mu = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, lc_tls)	 tlss = TAILQ_HEAD_INITIALIZER(tlss);
static OSSL_LIB_CTX		*libctx;

/* what OpenSSL said last, for a message; the queue is left as it was */
static void
ossl_why(char *why, size_t len, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[200];

	if (e == 0) {
		snprintf(why, len, "%s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, len, "%s: %s", what, buf);
}

static int	tls_state(SSL *, int *);

/* with tls_mu held */
static OSSL_LIB_CTX *
own_libctx(void)
{
	OSSL_LIB_CTX	*lc;

	if (libctx != NULL)
		return libctx;
	if ((lc = OSSL_LIB_CTX_new()) == NULL)
		return NULL;
	if (OSSL_PROVIDER_load(lc, "default") == NULL) {
		OSSL_LIB_CTX_free(lc);
		return NULL;
	}
	return libctx = lc;
}

static SSL_CTX *
ctx_new(const char *cert, const char *key, const char *ca, char *why,
    size_t whylen)
{
	SSL_CTX		*ctx;
	OSSL_LIB_CTX	*lc;
	const char	*files[3] = { ca, cert, key };
	int		 i;

	/* OpenSSL's own message for a file it cannot open says less */
	for (i = 0; i < 3; i++)
		if (access(files[i], R_OK) == -1) {
			snprintf(why, whylen, "%s: %s", files[i],
			    strerror(errno));
			return NULL;
		}
	if ((lc = own_libctx()) == NULL) {
		ossl_why(why, whylen, "a library context for TLS");
		return NULL;
	}
	if ((ctx = SSL_CTX_new_ex(lc, NULL, TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		ossl_why(why, whylen, "SSL_CTX");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* only this CA: not the system's store */
	if (SSL_CTX_load_verify_file(ctx, ca) != 1) {
		ossl_why(why, whylen, ca);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ossl_why(why, whylen, cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ossl_why(why, whylen, key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, whylen, "%s is not the key of %s", key, cert);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* connections are long-lived: no session cache, whose locks a
	   forked child could find held */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* every LURK message is framed: an EOF truncates nothing unseen */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The TLS client context for these files, loaded now if it is not yet
 * (all three are needed); NULL and why if it cannot be.
 */
struct lc_tls *
lc_tls_get(const char *cert, const char *key, const char *ca, char *why,
    size_t whylen)
{
	struct lc_tls	*t;
	struct file_id	 id[3];
	struct stat	 st;
	const char	*files[3] = { ca, cert, key };
	int		 i;

	if (cert == NULL || key == NULL || ca == NULL || *cert == '\0' ||
	    *key == '\0' || *ca == '\0') {
		snprintf(why, whylen, "a tls:// endpoint needs a client "
		    "certificate, its key and a CA file");
		return NULL;
	}
	pthread_mutex_lock(&tls_mu);
	/* the files as they are now: a rotated one makes a new context */
	for (i = 0; i < 3; i++) {
		memset(&id[i], 0, sizeof(id[i]));
		if (stat(files[i], &st) == 0) {
			id[i].dev = st.st_dev;
			id[i].ino = st.st_ino;
			id[i].size = st.st_size;
			id[i].mtime = st.st_mtim;
		}
	}
	TAILQ_FOREACH(t, &tlss, entry)
		if (strcmp(t->cert, cert) == 0 && strcmp(t->key, key) == 0 &&
		    strcmp(t->ca, ca) == 0 &&
		    memcmp(t->id, id, sizeof(id)) == 0)
			goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->cert = strdup(cert)) == NULL ||
	    (t->key = strdup(key)) == NULL || (t->ca = strdup(ca)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	memcpy(t->id, id, sizeof(id));
	ERR_set_mark();
	t->ctx = ctx_new(cert, key, ca, why, whylen);
	ERR_pop_to_mark();
	if (t->ctx == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&tlss, t, entry);
 out:
	pthread_mutex_unlock(&tls_mu);
	return t;
 fail:
	pthread_mutex_unlock(&tls_mu);
	if (t != NULL) {
		free(t->cert);
		free(t->key);
		free(t->ca);
		free(t);
	}
	return NULL;
}

/*
 * A TLS session with the key server over the connected, non-blocking fd,
 * handshake done by the deadline: the server's certificate chains to the
 * CA and names host (a DNS name, or an address of hosttype).  NULL and
 * *errp (ETIMEDOUT, an errno, or 0: TLS refused, see why) on failure.
 */
SSL *
lc_tls_connect(struct lc_tls *t, int fd, const char *host, int hosttype,
    int64_t deadline, int *errp, char *why, size_t whylen)
{
	struct pollfd	 pfd;
	SSL		*ssl;
	long		 vr;
	int		 r, err;

	*errp = 0;
	ERR_set_mark();
	if ((ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		ossl_why(why, whylen, "SSL_new");
		goto fail;
	}
	SSL_set_connect_state(ssl);
	if (hosttype == KEYREF_HOST_NAME) {
		if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1) {
			ossl_why(why, whylen, "host name");
			goto fail;
		}
	} else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    host) != 1) {
		ossl_why(why, whylen, "host address");
		goto fail;
	}
	for (;;) {
		errno = 0;
		if ((r = SSL_connect(ssl)) == 1)
			break;
		if ((r = tls_state(ssl, &err)) == -1) {
			if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK)
				snprintf(why, whylen, "server certificate: %s",
				    X509_verify_cert_error_string(vr));
			else if (err != EPROTO) {
				*errp = err ? err : ECONNRESET;
				snprintf(why, whylen, "TLS handshake: %s",
				    err ? strerror(err) : "closed by the peer");
			} else
				ossl_why(why, whylen, "TLS handshake");
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = r == LC_TLS_WANT_READ ? POLLIN : POLLOUT;
		if ((r = lc_left_ms(deadline)) == 0 || poll(&pfd, 1, r) == 0) {
			*errp = ETIMEDOUT;
			snprintf(why, whylen,
			    "TLS handshake: no answer in time");
			goto fail;
		}
	}
	ERR_pop_to_mark();
	return ssl;
 fail:
	ERR_pop_to_mark();
	SSL_free(ssl);
	return NULL;
}

/*
 * What a call on ssl that returned <= 0 left to do: LC_TLS_WANT_READ,
 * LC_TLS_WANT_WRITE, or -1 and *errp: 0 the peer closed, EPROTO a TLS
 * error, else the system's error.
 */
static int
tls_state(SSL *ssl, int *errp)
{
	int	 e = errno;

	/* as SSL_get_error: wanting is not enough, the BIO must retry */
	if (SSL_want_read(ssl) && BIO_should_read(SSL_get_rbio(ssl)))
		return LC_TLS_WANT_READ;
	if (SSL_want_write(ssl) && BIO_should_write(SSL_get_wbio(ssl)))
		return LC_TLS_WANT_WRITE;
	if (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN)
		*errp = 0;
	else if (e != 0 && e != EAGAIN && e != EINTR)
		*errp = e;
	else
		*errp = EPROTO;
	return -1;
}

/*
 * One non-blocking read (out 0) or write (out 1): the bytes moved,
 * LC_TLS_WANT_READ or LC_TLS_WANT_WRITE, or -1 and *errp (0: closed).
 * The caller makes sure no other thread uses ssl meanwhile.
 */
int
lc_tls_io(SSL *ssl, int out, void *buf, size_t len, int *errp)
{
	int	 n;

	ERR_set_mark();
	errno = 0;
	n = out ? SSL_write(ssl, buf, len) : SSL_read(ssl, buf, len);
	if (n <= 0)
		n = tls_state(ssl, errp);
	ERR_pop_to_mark();
	return n;
}

int
lc_tls_pending(SSL *ssl)
{
	return SSL_has_pending(ssl);
}

/*
 * fork (client.c's handlers): the forking thread holds the list of
 * contexts across it, so no other thread, absent in the child, does.
 */
void
lc_tls_atfork_prepare(void)
{
	pthread_mutex_lock(&tls_mu);
}

void
lc_tls_atfork_parent(void)
{
	pthread_mutex_unlock(&tls_mu);
}

void
lc_tls_atfork_child(void)
{
	pthread_mutex_unlock(&tls_mu);
}
