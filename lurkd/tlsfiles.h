/*
 * A TLS listener's CA and CRL files (lurkd/tlsfiles.c): the parent
 * checks them, netproc verifies its peers with them.
 */
#ifndef LURKD_TLSFILES_H
#define LURKD_TLSFILES_H

#include <openssl/types.h>
#include <openssl/x509.h>

int	 tlsfiles_load(int, const char *, int, const char *, OSSL_LIB_CTX *,
	    X509_STORE **, STACK_OF(X509_NAME) **, char *, size_t);
const char	*tls_errstr(const char *);

#endif
