/*
 * The edge's TLS to a key server (tls:// endpoints, client.c): TLS 1.3
 * only, the server's certificate verified against one CA file and its
 * host name or address checked, the edge's own certificate and key
 * presented.
 *
 * Everything here runs in a library context of its own that holds only
 * OpenSSL's default provider: the lurk provider may be loaded into the
 * process's default context, and its TLS must never sign or load keys
 * through itself (the client key is a plain PEM file, loaded here).
 */
#ifndef LURK_TLSCLIENT_H
#define LURK_TLSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct lc_tls;

struct lc_tls	*lc_tls_get(const char *, const char *, const char *, char *,
		    size_t);
SSL		*lc_tls_connect(struct lc_tls *, int, const char *, int,
		    int64_t, int *, char *, size_t);
int		 lc_tls_io(SSL *, int, void *, size_t, int *);
int		 lc_tls_pending(SSL *);
void		 lc_tls_atfork_prepare(void);
void		 lc_tls_atfork_parent(void);
void		 lc_tls_atfork_child(void);

#define LC_TLS_WANT_READ	(-2)	/* lc_tls_io: poll for input */
#define LC_TLS_WANT_WRITE	(-3)	/* ... for output */

#endif
