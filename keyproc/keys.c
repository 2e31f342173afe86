/*
 * Loading keys: the parent opened the files, keyproc reads and parses
 * them, checks each key against its certificate, computes its ids and
 * wipes every buffer that held key bytes.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keyproc.h"
#include "log.h"

#define CHAIN_MAX	(200 * 1024)

/*
 * Read a whole file from fd into a fresh buffer the caller must wipe (a
 * key file) or free; the parent and netproc read CA and CRL files so.
 */
uint8_t *
read_fd(int fd, size_t *lenp, char *err, size_t errlen, const char *path)
{
	uint8_t	*buf, *nbuf;
	size_t	 len = 0, cap = 8192;
	ssize_t	 n;

	if ((buf = malloc(cap)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= KEYFILE_MAX) {
				uint8_t	 one;

				/* KEYFILE_MAX bytes, not one more */
				if (pread(fd, &one, 1, len) == 0)
					break;
				explicit_bzero(&one, sizeof(one));
				snprintf(err, errlen, "%s: larger than %d bytes",
				    path, KEYFILE_MAX);
				goto fail;
			}
			if ((nbuf = malloc(cap * 2)) == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			/* no realloc: the old copy must be wiped, not leaked */
			memcpy(nbuf, buf, len);
			explicit_bzero(buf, cap);
			free(buf);
			buf = nbuf;
			cap *= 2;
		}
		/* pread: every keyproc gets a dup of one open file */
		n = pread(fd, buf + len, cap - len, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: pread: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	*lenp = len;
	return buf;
 fail:
	explicit_bzero(buf, cap);
	free(buf);
	return NULL;
}

/* No PEM armour, and a DER SEQUENCE's first byte: the same file in DER. */
static int
is_der(const uint8_t *buf, size_t len)
{
	return len > 2 && buf[0] == 0x30 &&
	    memmem(buf, len, "-----BEGIN", 10) == NULL;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static const char *
ssl_error(void)
{
	static char	 buf[256];
	unsigned long	 e = ERR_peek_last_error();

	if (e == 0)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static int
key_check_kind(struct key *k, char *err, size_t errlen)
{
	char	 group[64];
	size_t	 glen;

	k->pub.bits = EVP_PKEY_get_bits(k->pkey);
	switch (EVP_PKEY_get_base_id(k->pkey)) {
	case EVP_PKEY_RSA:
		k->pub.kind = KEY_RSA;
		break;
	case EVP_PKEY_RSA_PSS:
		k->pub.kind = KEY_RSA_PSS;
		break;
	case EVP_PKEY_EC:
		k->pub.kind = KEY_EC;
		if (!EVP_PKEY_get_utf8_string_param(k->pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen)) {
			snprintf(err, errlen, "%s: EC key without a named curve",
			    k->privpath);
			return -1;
		}
		k->pub.curve_nid = OBJ_txt2nid(group);
		if (k->pub.curve_nid != NID_X9_62_prime256v1 &&
		    k->pub.curve_nid != NID_secp384r1 &&
		    k->pub.curve_nid != NID_secp521r1) {
			snprintf(err, errlen, "%s: EC curve %s not supported "
			    "(P-256, P-384, P-521 are)", k->privpath, group);
			return -1;
		}
		return 0;
	case EVP_PKEY_ED25519:
		k->pub.kind = KEY_ED25519;
		return 0;
	case EVP_PKEY_ED448:
		k->pub.kind = KEY_ED448;
		return 0;
	default:
		snprintf(err, errlen, "%s: key type %s not supported",
		    k->privpath, OBJ_nid2sn(EVP_PKEY_get_base_id(k->pkey)));
		return -1;
	}
	if (k->pub.bits < 2048 || k->pub.bits > 4096) {
		snprintf(err, errlen, "%s: RSA key of %d bits (2048 to 4096 "
		    "are supported)", k->privpath, k->pub.bits);
		return -1;
	}
	return 0;
}

/*
 * The PEM private key in buf (len bytes: a key file) into k->pkey.  buf
 * is wiped on return, whether it parsed or not; the caller frees it.
 */
int
key_parse_private(struct key *k, uint8_t *buf, size_t len, char *err,
    size_t errlen)
{
	BIO	*bio;

	k->pkey = NULL;
	if (len > KEYFILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", k->privpath,
		    KEYFILE_MAX);
		goto done;
	}
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL) {
		snprintf(err, errlen, "%s: %s", k->privpath, ssl_error());
		goto done;
	}
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (k->pkey != NULL)
		;
	else if (memmem(buf, len, "ENCRYPTED", 9) != NULL)
		/* "BEGIN ENCRYPTED PRIVATE KEY", or "Proc-Type: 4,ENCRYPTED" */
		snprintf(err, errlen, "%s: encrypted keys are not supported; "
		    "decrypt it with `openssl pkey`", k->privpath);
	else if (is_der(buf, len))
		snprintf(err, errlen, "%s: a DER (binary) key: lurkd reads "
		    "PEM; convert it with `openssl pkey -inform DER`",
		    k->privpath);
	else
		snprintf(err, errlen, "%s: not a PEM private key: %s",
		    k->privpath, ssl_error());
	ERR_clear_error();
 done:
	explicit_bzero(buf, len);
	return k->pkey == NULL ? -1 : 0;
}

static int
key_load_private(struct key *k, char *err, size_t errlen)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rc;

	if ((buf = read_fd(k->privfd, &len, err, errlen, k->privpath)) == NULL)
		return -1;
	rc = key_parse_private(k, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* The leaf and its chain, as a TLS certificate_list of cert<3> entries. */
static int
key_load_chain(struct key *k, char *err, size_t errlen)
{
	uint8_t		*buf = NULL, *der = NULL;
	size_t		 len;
	BIO		*bio = NULL;
	X509		*x, *leaf = NULL;
	int		 dlen, rc = -1, n = 0, mine = 0;

	if ((buf = read_fd(k->certfd, &len, err, errlen, k->certpath)) == NULL)
		return -1;
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL)
		goto sslerr;
	if ((k->chain = malloc(CHAIN_MAX)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", k->certpath);
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		der = NULL;
		if ((dlen = i2d_X509(x, &der)) <= 0) {
			X509_free(x);
			goto sslerr;
		}
		if (k->chain_len + 3 + dlen > CHAIN_MAX) {
			snprintf(err, errlen, "%s: chain larger than %d bytes",
			    k->certpath, CHAIN_MAX);
			OPENSSL_free(der);
			X509_free(x);
			goto done;
		}
		k->chain[k->chain_len++] = dlen >> 16;
		k->chain[k->chain_len++] = dlen >> 8;
		k->chain[k->chain_len++] = dlen;
		memcpy(k->chain + k->chain_len, der, dlen);
		k->chain_len += dlen;
		OPENSSL_free(der);
		/* which certificate is the key's, if not the first */
		if (n++ == 0)
			leaf = x;
		else {
			if (mine == 0 &&
			    EVP_PKEY_eq(X509_get0_pubkey(x), k->pkey) == 1)
				mine = n;
			X509_free(x);
		}
	}
	ERR_clear_error();	/* the loop ends on "no start line" */
	if (leaf == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate%s", k->certpath,
		    is_der(buf, len) ? " (a DER certificate? convert it with "
		    "`openssl x509 -inform DER`)" : "");
		goto done;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), k->pkey) != 1) {
		if (mine > 0)
			snprintf(err, errlen, "%s: the key's own certificate "
			    "must come first (it is certificate %d of %d)",
			    k->certpath, mine, n);
		else
			snprintf(err, errlen, "%s does not match private key "
			    "%s", k->certpath, k->privpath);
		goto done;
	}
	rc = 0;
	goto done;
 sslerr:
	snprintf(err, errlen, "%s: %s", k->certpath, ssl_error());
 done:
	X509_free(leaf);
	BIO_free(bio);
	free(buf);
	return rc;
}

int
key_load(struct key *k, char *err, size_t errlen)
{
	uint8_t		 md[32];
	unsigned char	*p = NULL;
	int		 len;

	if (key_load_private(k, err, errlen) == -1)
		return -1;
	if (key_check_kind(k, err, errlen) == -1)
		return -1;
	if (key_load_chain(k, err, errlen) == -1)
		return -1;
	if ((len = i2d_PUBKEY(k->pkey, &p)) <= 0) {
		snprintf(err, errlen, "%s: cannot encode public key: %s",
		    k->privpath, ssl_error());
		return -1;
	}
	k->spki = p;
	k->spki_len = len;
	if (!EVP_Digest(k->spki, k->spki_len, md, NULL, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "%s: sha256: %s", k->privpath,
		    ssl_error());
		return -1;
	}
	memcpy(k->pub.spki_sha256, md, sizeof(md));
	memcpy(k->id32, md, sizeof(k->id32));
	k->pub.spki_len = k->spki_len;
	k->pub.chain_len = k->chain_len;
	return 0;
}

/*
 * Exercise every code path of the key before the seccomp filter goes on:
 * OpenSSL 3 fetches algorithms and seeds its DRBG lazily, and must not
 * need a file or a forbidden syscall when the first real request comes.
 */
int
key_warmup(struct key *k, char *err, size_t errlen)
{
	static const uint8_t	 tbs[] = "lurkd key warm-up";
	const EVP_MD		*mds[4];
	uint8_t			 sig[1024], ct[512], pm[512];
	size_t			 siglen, len;
	EVP_MD_CTX		*ctx;
	EVP_PKEY_CTX		*pctx;
	OSSL_PARAM		 params[3];
	unsigned int		 version = 0x0303;
	int			 i, n = 1, ok = 1, pss;

	mds[0] = NULL;
	if (k->pub.kind != KEY_ED25519 && k->pub.kind != KEY_ED448) {
		mds[0] = EVP_sha256();
		mds[1] = EVP_sha384();
		mds[2] = EVP_sha512();
		mds[3] = EVP_sha224();	/* TLS 1.2 only */
		n = 4;
	}
	for (pss = 0; pss < 2 && ok; pss++) {
		if (pss && k->pub.kind != KEY_RSA && k->pub.kind != KEY_RSA_PSS)
			break;
		for (i = 0; i < n && ok; i++) {
			/* the very contexts requests will be signed with */
			siglen = sizeof(sig);
			ok = (ctx = keyop_signctx(k, mds[i], pss)) != NULL &&
			    EVP_DigestSign(ctx, sig, &siglen, tbs,
			    sizeof(tbs)) == 1;
			EVP_MD_CTX_free(ctx);
		}
	}
	if (ok && k->pub.kind == KEY_RSA) {
		/* the TLS premaster path, on a random ciphertext */
		len = EVP_PKEY_get_size(k->pkey);
		memset(ct, 0x5a, len);
		ct[0] = 0;
		siglen = sizeof(pm);
		params[0] = OSSL_PARAM_construct_uint(
		    OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &version);
		params[1] = OSSL_PARAM_construct_uint(
		    OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, &version);
		params[2] = OSSL_PARAM_construct_end();
		ok = (pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
		    NULL)) != NULL &&
		    EVP_PKEY_decrypt_init(pctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_WITH_TLS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_params(pctx, params) == 1 &&
		    EVP_PKEY_decrypt(pctx, pm, &siglen, ct, len) == 1;
		EVP_PKEY_CTX_free(pctx);
		explicit_bzero(pm, sizeof(pm));
	}
	if (!ok) {
		snprintf(err, errlen, "test operation failed: %s",
		    ssl_error());
		return -1;
	}
	return 0;
}

void
key_free(struct key *k)
{
	int	 i;

	for (i = 0; i < KEY_SIGNCTX_MAX; i++)
		EVP_MD_CTX_free(k->signctx[i]);
	EVP_PKEY_free(k->pkey);
	OPENSSL_free(k->spki);
	free(k->chain);
	if (k->privfd != -1)
		close(k->privfd);
	if (k->certfd != -1)
		close(k->certfd);
	explicit_bzero(k, sizeof(*k));
	k->privfd = k->certfd = -1;
}
