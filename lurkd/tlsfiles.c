/*
 * A TLS listener's CA file and CRL file (listen on tls: ca, crl), read
 * from descriptors the parent opened and parsed into a certificate
 * store.  The parent does it to check them (at start, lurkd -n, each
 * reload) and says what is wrong with them; netproc, to verify its
 * peers with them.  Both files are PEM: certificates, CRLs.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "lurkd.h"
#include "tlsfiles.h"

/* OpenSSL's last error as text, or none if there is none. */
const char *
tls_errstr(const char *none)
{
	static char	 buf[256];
	unsigned long	 e = ERR_peek_last_error();

	if (e == 0)
		return none;
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/* The whole file at fd (read with pread: the offset is shared). */
static BIO *
read_all(int fd, const char *path, char *err, size_t errlen)
{
	uint8_t	*buf;
	size_t	 len;
	BIO	*bio;

	if ((buf = read_fd(fd, &len, err, errlen, path)) == NULL)
		return NULL;
	/* a read-only BIO over a copy: buf can go */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(bio, buf, len) != (int)len) {
		BIO_free(bio);
		bio = NULL;
		snprintf(err, errlen, "%s: out of memory", path);
	}
	free(buf);
	return bio;
}

static int
load_ca(X509_STORE *store, STACK_OF(X509_NAME) *names, int fd,
    const char *path, OSSL_LIB_CTX *libctx, char *err, size_t errlen)
{
	BIO	*bio;
	X509	*x;
	int	 n = 0, rc = -1;

	if ((bio = read_all(fd, path, err, errlen)) == NULL)
		return -1;
	for (;;) {
		if ((x = X509_new_ex(libctx, NULL)) == NULL)
			break;
		if (PEM_read_bio_X509(bio, &x, NULL, NULL) == NULL) {
			X509_free(x);
			break;
		}
		if (X509_STORE_add_cert(store, x) != 1 ||
		    (names != NULL && !sk_X509_NAME_push(names,
		    X509_NAME_dup(X509_get_subject_name(x))))) {
			X509_free(x);
			snprintf(err, errlen, "%s: %s", path,
			    tls_errstr("no PEM data"));
			goto done;
		}
		X509_free(x);
		n++;
	}
	/* the loop ends on "no start line"; anything else is an error */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    n == 0) {
		snprintf(err, errlen, "%s: %s", path, n == 0 ?
		    "no PEM certificate in it" : tls_errstr("no PEM data"));
		goto done;
	}
	rc = 0;
 done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

static int
load_crl(X509_STORE *store, int fd, const char *path, char *err,
    size_t errlen)
{
	BIO		*bio;
	X509_CRL	*crl;
	int		 n = 0, rc = -1;

	if ((bio = read_all(fd, path, err, errlen)) == NULL)
		return -1;
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_crl(store, crl) != 1) {
			X509_CRL_free(crl);
			snprintf(err, errlen, "%s: %s", path,
			    tls_errstr("no PEM data"));
			goto done;
		}
		X509_CRL_free(crl);
		n++;
	}
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    n == 0) {
		snprintf(err, errlen, "%s: %s", path, n == 0 ?
		    "no PEM CRL in it" : tls_errstr("no PEM data"));
		goto done;
	}
	rc = 0;
 done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/*
 * The store that verifies a listener's peers: the CA file's
 * certificates, and with a CRL file its CRLs, which must then cover
 * each peer's issuer (X509_V_FLAG_CRL_CHECK: the peer's own certificate
 * is checked against its issuer's CRL).  *names: the CAs' subjects,
 * which the listener tells its peers, unless names is NULL.  crlfd -1:
 * no CRL.  -1 and err on failure.
 */
int
tlsfiles_load(int cafd, const char *capath, int crlfd, const char *crlpath,
    OSSL_LIB_CTX *libctx, X509_STORE **storep, STACK_OF(X509_NAME) **names,
    char *err, size_t errlen)
{
	X509_STORE		*store;
	STACK_OF(X509_NAME)	*sk = NULL;

	*storep = NULL;
	if (names != NULL)
		*names = NULL;
	if ((store = X509_STORE_new()) == NULL ||
	    (names != NULL && (sk = sk_X509_NAME_new_null()) == NULL)) {
		X509_STORE_free(store);
		snprintf(err, errlen, "%s: out of memory", capath);
		return -1;
	}
	if (load_ca(store, sk, cafd, capath, libctx, err, errlen) == -1 ||
	    (crlfd != -1 && load_crl(store, crlfd, crlpath, err,
	    errlen) == -1)) {
		X509_STORE_free(store);
		sk_X509_NAME_pop_free(sk, X509_NAME_free);
		return -1;
	}
	if (crlfd != -1)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	*storep = store;
	if (names != NULL)
		*names = sk;
	return 0;
}
