/*
 * The TLS 1.3 key schedule (RFC 8446 §7.1) and transcript (§4.4.1),
 * for keyproc's tls13 operations.  HKDF over HMAC with the cipher
 * suite's hash; every intermediate secret lives in a struct tls13_ks
 * that the caller wipes.  Checked against RFC 8448 by
 * regress/keyproc/drafts_test.c.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "keyproc.h"
#include "lurk.h"

static EVP_MAC	*hmac_alg;	/* fetched before the sandbox */

/* HMAC(key, a || b); out gets the hash's size. */
int
tls13_hmac(const EVP_MD *md, const uint8_t *key, size_t keylen,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    uint8_t *out)
{
	EVP_MAC_CTX	*ctx;
	OSSL_PARAM	 params[2];
	size_t		 len;
	int		 ok;

	if (hmac_alg == NULL &&
	    (hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = (ctx = EVP_MAC_CTX_new(hmac_alg)) != NULL &&
	    EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
	    EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE) == 1;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* HKDF-Expand-Label(secret, label, context, outlen) */
int
tls13_expand_label(const EVP_MD *md, const uint8_t *secret,
    const char *label, const uint8_t *ctx, size_t ctxlen, uint8_t *out,
    size_t outlen)
{
	uint8_t		 info[2 + 1 + 255 + 1 + 255 + 1], t[EVP_MAX_MD_SIZE];
	size_t		 llen = strlen(label), ilen, hlen = EVP_MD_get_size(md);
	size_t		 done = 0, n;
	uint8_t		 i;

	if (6 + llen > 255 || ctxlen > 255 || outlen > 255 * hlen)
		return -1;
	info[0] = outlen >> 8;
	info[1] = outlen;
	info[2] = 6 + llen;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, llen);
	info[9 + llen] = ctxlen;
	if (ctxlen > 0)
		memcpy(info + 10 + llen, ctx, ctxlen);
	ilen = 10 + llen + ctxlen;
	/* T(i) = HMAC(secret, T(i-1) || info || i) */
	for (i = 1; done < outlen; i++) {
		info[ilen] = i;
		if (tls13_hmac(md, secret, hlen, t, i == 1 ? 0 : hlen, info,
		    ilen + 1, t) == -1) {
			explicit_bzero(t, sizeof(t));
			return -1;
		}
		n = outlen - done < hlen ? outlen - done : hlen;
		memcpy(out + done, t, n);
		done += n;
	}
	explicit_bzero(t, sizeof(t));
	return 0;
}

/* Derive-Secret(secret, label, transcript hash) */
int
tls13_derive(const struct tls13_ks *ks, const char *label, const uint8_t *th,
    uint8_t *out)
{
	return tls13_expand_label(ks->md, ks->secret, label, th, ks->hlen, out,
	    ks->hlen);
}

/* The schedule's start: the early secret, HKDF-Extract(0, psk or 0). */
int
tls13_ks_init(struct tls13_ks *ks, const EVP_MD *md, const uint8_t *psk,
    size_t psklen)
{
	uint8_t	 zero[EVP_MAX_MD_SIZE];

	memset(ks, 0, sizeof(*ks));
	ks->md = md;
	ks->hlen = EVP_MD_get_size(md);
	memset(zero, 0, sizeof(zero));
	if (psk == NULL) {
		psk = zero;
		psklen = ks->hlen;
	}
	/* HKDF-Extract(salt, IKM) = HMAC(salt, IKM) */
	return tls13_hmac(md, zero, ks->hlen, psk, psklen, NULL, 0, ks->secret);
}

/*
 * The next stage: handshake secret from the early secret (ikm: the
 * (EC)DHE shared secret, or NULL for none), master from handshake (NULL).
 */
int
tls13_ks_next(struct tls13_ks *ks, const uint8_t *ikm, size_t ikmlen)
{
	uint8_t	 derived[EVP_MAX_MD_SIZE], empty[EVP_MAX_MD_SIZE];
	uint8_t	 zero[EVP_MAX_MD_SIZE];
	int	 rc;

	memset(zero, 0, sizeof(zero));
	if (EVP_Digest("", 0, empty, NULL, ks->md, NULL) != 1 ||
	    tls13_derive(ks, "derived", empty, derived) == -1)
		return -1;
	if (ikm == NULL) {
		ikm = zero;
		ikmlen = ks->hlen;
	}
	rc = tls13_hmac(ks->md, derived, ks->hlen, ikm, ikmlen, NULL, 0,
	    ks->secret);
	explicit_bzero(derived, sizeof(derived));
	return rc;
}

/* Finished / binder: HMAC(finished_key(base), transcript hash) */
int
tls13_finished(const EVP_MD *md, const uint8_t *base, const uint8_t *th,
    uint8_t *out)
{
	uint8_t	 fk[EVP_MAX_MD_SIZE];
	size_t	 hlen = EVP_MD_get_size(md);
	int	 rc;

	rc = tls13_expand_label(md, base, "finished", NULL, 0, fk, hlen) ==
	    -1 || tls13_hmac(md, fk, hlen, th, hlen, NULL, 0, out) == -1 ?
	    -1 : 0;
	explicit_bzero(fk, sizeof(fk));
	return rc;
}

/* The transcript: each message as type, uint24 length, body. */
int
tls13_th_add(EVP_MD_CTX *th, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t	 h[4] = { type, len >> 16, len >> 8, len };

	return EVP_DigestUpdate(th, h, 4) == 1 &&
	    (len == 0 || EVP_DigestUpdate(th, body, len) == 1) ? 0 : -1;
}

/* The transcript's hash so far; the transcript goes on. */
int
tls13_th_hash(const EVP_MD_CTX *th, uint8_t *out)
{
	EVP_MD_CTX	*c;
	int		 ok;

	ok = (c = EVP_MD_CTX_new()) != NULL &&
	    EVP_MD_CTX_copy_ex(c, th) == 1 &&
	    EVP_DigestFinal_ex(c, out, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/* The hash of a cipher suite; NULL if lurkd does not know it. */
const EVP_MD *
tls13_suite_md(uint16_t suite)
{
	switch (suite) {
	case TLS13_AES_128_GCM_SHA256:
	case TLS13_CHACHA20_POLY1305_SHA256:
	case TLS13_AES_128_CCM_SHA256:
	case TLS13_AES_128_CCM_8_SHA256:
		return EVP_sha256();
	case TLS13_AES_256_GCM_SHA384:
		return EVP_sha384();
	}
	return NULL;
}
