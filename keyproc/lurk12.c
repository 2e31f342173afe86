/*
 * The tls12 operations (draft-mglt-lurk-tls12-05): the master secret of
 * an RSA key exchange (rsa_master, rsa_extended_master, with or without
 * the client Finished as proof of the handshake) and the signature of an
 * ECDHE ServerKeyExchange.  In each, keyproc derives ServerHello.random
 * from the edge's S itself (the freshness function) after checking the
 * time in S, so that a recorded handshake cannot be replayed; the
 * premaster never leaves this file, and is wiped after use.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include "drafts.h"
#include "keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"

static EVP_KDF	*prf;		/* TLS1-PRF, fetched before the sandbox */

/*
 * ServerHello.random from the edge's S (draft -05 §4.1.1): S's
 * gmt_unix_time, which must be within the window of now, then the
 * freshness function: 28 bytes of SHA-256(S || "tls12 pfs"); with the
 * null function (if allowed), S itself.  0 or a tls12 status.
 */
int
tls12_server_random(const uint8_t *s, uint8_t fresh, time_t now,
    uint32_t window, uint8_t *out, const char **why)
{
	uint8_t		 md[32];
	int64_t		 t;
	EVP_MD_CTX	*ctx;
	int		 ok;

	if (!drafts_fresh_ok(drafts_conf()->tls12_freshness, fresh,
	    TLS12_FRESH_NULL)) {
		*why = fresh == TLS12_FRESH_NULL ? "freshness function null "
		    "not allowed (lurkd.conf: tls12 freshness)" :
		    "unknown freshness function";
		return TLS12_ST_INVALID_FRESHNESS;
	}
	t = (int64_t)s[0] << 24 | s[1] << 16 | s[2] << 8 | s[3];
	if (t < (int64_t)now - window || t > (int64_t)now + window) {
		*why = "gmt_unix_time of the server random outside the "
		    "window (lurkd.conf: tls12 window)";
		return TLS12_ST_INVALID_TLS_RANDOM;
	}
	if (fresh == TLS12_FRESH_NULL) {
		memcpy(out, s, TLS12_RANDOM_LEN);
		return 0;
	}
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, s, TLS12_RANDOM_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, TLS12_PFS_LABEL,
	    sizeof(TLS12_PFS_LABEL) - 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		*why = "sha256 failed";
		return TLS12_ST_UNDEFINED_ERROR;
	}
	memcpy(out, s, 4);
	memcpy(out + 4, md + 4, TLS12_RANDOM_LEN - 4);
	return 0;
}

/*
 * The TLS 1.2 PRF (RFC 5246 §5): outlen bytes of
 * PRF(secret, label, seed1 || seed2).  0, or -1.
 */
int
tls12_prf(const EVP_MD *md, const uint8_t *secret, size_t secretlen,
    const char *label, const uint8_t *seed1, size_t len1,
    const uint8_t *seed2, size_t len2, uint8_t *out, size_t outlen)
{
	EVP_KDF_CTX	*ctx;
	OSSL_PARAM	 params[6], *p = params;
	uint8_t		 seed[128];
	size_t		 llen = strlen(label);
	int		 ok;

	if (llen + len1 + len2 > sizeof(seed) || prf == NULL)
		return -1;
	memcpy(seed, label, llen);
	memcpy(seed + llen, seed1, len1);
	if (len2 > 0)
		memcpy(seed + llen + len1, seed2, len2);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)EVP_MD_get0_name(md), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
	    (void *)(uintptr_t)secret, secretlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed,
	    llen + len1 + len2);
	*p = OSSL_PARAM_construct_end();
	ok = (ctx = EVP_KDF_CTX_new(prf)) != NULL &&
	    EVP_KDF_derive(ctx, out, outlen, params) == 1;
	EVP_KDF_CTX_free(ctx);
	explicit_bzero(seed, sizeof(seed));
	return ok ? 0 : -1;
}

static const EVP_MD *
prf_md(int prf_hash)
{
	switch (prf_hash) {
	case TLS12_PRF_SHA256:
		return EVP_sha256();
	case TLS12_PRF_SHA384:
		return EVP_sha384();
	case TLS12_PRF_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/*
 * The premaster in an EncryptedPreMasterSecret: of the modulus' size,
 * or (pylurk-M sends none, some a TLS 1.0+ one) after a 2-byte length
 * that says so.  Implicit rejection: a bad padding or version gives 48
 * random bytes, with nothing to tell them apart.
 */
static int
premaster(struct key *k, const uint8_t *epms, size_t len, unsigned int cv,
    uint8_t *pm, const char **why)
{
	size_t	 mod = EVP_PKEY_get_size(k->pkey), pmlen = TLS12_MASTER_LEN;

	if (len == mod + 2 && ((size_t)epms[0] << 8 | epms[1]) == mod) {
		epms += 2;
		len -= 2;
	}
	if (len != mod) {
		*why = "encrypted premaster is not the size of the modulus";
		return TLS12_ST_INVALID_PAYLOAD_FORMAT;
	}
	/* the negotiated version is TLS 1.2: it is the tls12 extension */
	if (keyop_rsa_decrypt(k, cv, TLS_VERSION_12, epms, len, pm, &pmlen,
	    why) != 0)
		return TLS12_ST_UNDEFINED_ERROR;
	return 0;
}

/* Hash of the handshake messages (session hash, Finished). */
static int
hs_hash(const EVP_MD *md, const uint8_t *p, size_t len, uint8_t *out,
    unsigned int *outlen)
{
	return EVP_Digest(p, len, out, outlen, md, NULL) == 1 ? 0 : -1;
}

/* rsa_master: the fields as given. */
static int
rsa_master(struct key *k, const struct tls12_req *q, time_t now,
    struct lurk_wr *w, const char **why)
{
	const EVP_MD	*md;
	uint8_t		 sr[TLS12_RANDOM_LEN], pm[TLS12_MASTER_LEN];
	uint8_t		 master[TLS12_MASTER_LEN];
	int		 st;

	if ((md = prf_md(q->prf_hash)) == NULL) {
		*why = "unknown prf_hash";
		return TLS12_ST_INVALID_CIPHER_PRF;
	}
	if ((st = tls12_server_random(q->server_random, q->freshness, now,
	    drafts_conf()->tls12_window, sr, why)) != 0)
		return st;
	/* the edge's ClientHello is not here: its version is TLS 1.2 */
	if ((st = premaster(k, q->epms, q->epms_len, TLS_VERSION_12, pm,
	    why)) != 0)
		return st;
	st = tls12_prf(md, pm, sizeof(pm), "master secret", q->client_random,
	    TLS12_RANDOM_LEN, sr, sizeof(sr), master, sizeof(master));
	explicit_bzero(pm, sizeof(pm));
	if (st != 0) {
		*why = "PRF failed";
		return TLS12_ST_UNDEFINED_ERROR;
	}
	lurk_wr_bytes(w, master, sizeof(master));
	explicit_bzero(master, sizeof(master));
	return 0;
}

/*
 * rsa_master_with_poh, rsa_extended_master(_with_poh): what they need
 * is in the handshake messages, whose ServerHello.random is S until
 * keyproc puts the derived random in its place.
 */
static int
rsa_master_hs(struct key *k, const struct tls12_req *q, time_t now,
    struct lurk_wr *w, const char **why)
{
	const EVP_MD	*md;
	uint8_t		 hs[65536], pm[TLS12_MASTER_LEN];
	uint8_t		 master[TLS12_MASTER_LEN], hash[EVP_MAX_MD_SIZE];
	uint8_t		 finished[TLS12_FINISHED_LEN];
	unsigned int	 hlen;
	int		 st, prfhash, ext;

	ext = q->type != TLS12_TYPE_RSA_MASTER_POH;
	if ((prfhash = tls12_rsa_suite_prf(q->h.cipher_suite)) == -1) {
		*why = "ServerHello cipher suite is not an RSA key exchange";
		return TLS12_ST_INVALID_CIPHER_PRF;
	}
	md = prf_md(prfhash);
	if (q->hs_len > sizeof(hs))
		fatalx("%s: handshake of %zu bytes", __func__, q->hs_len);
	memcpy(hs, q->hs, q->hs_len);
	if ((st = tls12_server_random(q->hs + q->h.sh_random, q->freshness,
	    now, drafts_conf()->tls12_window, hs + q->h.sh_random, why)) != 0)
		return st;
	if ((st = premaster(k, q->h.epms, q->h.epms_len, q->h.client_version,
	    pm, why)) != 0)
		return st;
	if (ext)
		st = hs_hash(md, hs, q->h.cke_end, hash, &hlen) == -1 ||
		    tls12_prf(md, pm, sizeof(pm), "extended master secret",
		    hash, hlen, NULL, 0, master, sizeof(master)) == -1;
	else
		st = tls12_prf(md, pm, sizeof(pm), "master secret",
		    q->h.client_random, TLS12_RANDOM_LEN, hs + q->h.sh_random,
		    TLS12_RANDOM_LEN, master, sizeof(master)) == -1;
	explicit_bzero(pm, sizeof(pm));
	if (st == 0 && q->finished != NULL)
		st = hs_hash(md, hs, q->hs_len, hash, &hlen) == -1 ||
		    tls12_prf(md, master, sizeof(master), "client finished",
		    hash, hlen, NULL, 0, finished, sizeof(finished)) == -1;
	if (st != 0) {
		explicit_bzero(master, sizeof(master));
		*why = "PRF failed";
		return TLS12_ST_UNDEFINED_ERROR;
	}
	/* the proof of the handshake: the client's Finished */
	if (q->finished != NULL && CRYPTO_memcmp(finished, q->finished,
	    sizeof(finished)) != 0) {
		explicit_bzero(master, sizeof(master));
		explicit_bzero(finished, sizeof(finished));
		*why = "client Finished does not match the handshake";
		return TLS12_ST_INVALID_FINISHED;
	}
	explicit_bzero(finished, sizeof(finished));
	lurk_wr_bytes(w, master, sizeof(master));
	explicit_bzero(master, sizeof(master));
	return 0;
}

/* One item of the proof's hash: a 4-byte length, then the bytes. */
static int
poo_item(EVP_MD_CTX *ctx, const void *p, size_t len)
{
	uint8_t	 l[4] = { len >> 24, len >> 16, len >> 8, len };

	return EVP_DigestUpdate(ctx, l, 4) == 1 &&
	    EVP_DigestUpdate(ctx, p, len) == 1;
}

/*
 * The proof of ownership of the ECDHE private key b (draft -05 §4.6, a
 * Schnorr NIZK as RFC 8235): the edge sends vG and r; with
 * c = poo_prf(G || vG || bG || UserID || OtherInfo), every item after a
 * 4-byte length, UserID = client_random || S, OtherInfo = key_id,
 * freshness_funct, sig_and_hash, ServerECDHParams, "tls12 poo", it holds
 * only if rG + c.bG = vG.  For the NIST curves; r is a scalar below the
 * order.
 */
static int
poo_check(struct key *k, const struct tls12_req *q, const char **why)
{
	const EC_GROUP	*g;
	EC_POINT	*bg = NULL, *vg = NULL, *rg = NULL;
	BIGNUM		*r = NULL, *c = NULL;
	BN_CTX		*bn = NULL;
	EVP_MD_CTX	*ctx = NULL;
	uint8_t		 gen[133], md[32], sh[2], fresh;
	size_t		 genlen, plen;
	int		 nid, st = TLS12_ST_INVALID_POO;

	if (q->poo_prf == TLS12_POO_NULL)
		return 0;
	if ((plen = group_point_len(q->group, &nid)) == 0 ||
	    nid == NID_undef || (g = curve_group(nid)) == NULL) {
		*why = "proof of ownership on a curve other than P-256, "
		    "P-384, P-521";
		return TLS12_ST_INVALID_POO_PRF;
	}
	sh[0] = q->sig_and_hash >> 8;
	sh[1] = q->sig_and_hash;
	fresh = q->freshness;
	if ((bn = BN_CTX_new()) == NULL || (bg = EC_POINT_new(g)) == NULL ||
	    (vg = EC_POINT_new(g)) == NULL || (rg = EC_POINT_new(g)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		*why = "out of memory";
		st = TLS12_ST_UNDEFINED_ERROR;
		goto done;
	}
	if (q->poo_v_len != plen || q->poo_v[0] != 0x04 ||
	    EC_POINT_oct2point(g, vg, q->poo_v, plen, bn) != 1 ||
	    EC_POINT_is_on_curve(g, vg, bn) != 1 ||
	    EC_POINT_oct2point(g, bg, q->point, q->point_len, bn) != 1 ||
	    EC_POINT_is_on_curve(g, bg, bn) != 1) {
		*why = "proof of ownership: vG or bG not a point of the curve";
		goto done;
	}
	if ((r = BN_bin2bn(q->poo_r, q->poo_r_len, NULL)) == NULL ||
	    BN_cmp(r, EC_GROUP_get0_order(g)) >= 0) {
		*why = "proof of ownership: r not below the order";
		goto done;
	}
	genlen = EC_POINT_point2oct(g, EC_GROUP_get0_generator(g),
	    POINT_CONVERSION_UNCOMPRESSED, gen, sizeof(gen), bn);
	if (genlen == 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    !poo_item(ctx, gen, genlen) ||
	    !poo_item(ctx, q->poo_v, q->poo_v_len) ||
	    !poo_item(ctx, q->point, q->point_len) ||
	    EVP_DigestUpdate(ctx, "\0\0\0\x40", 4) != 1 ||	/* UserID */
	    EVP_DigestUpdate(ctx, q->client_random, TLS12_RANDOM_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, q->server_random, TLS12_RANDOM_LEN) != 1 ||
	    !poo_item(ctx, q->key_id, 1 + TLS12_KEY_ID_LEN) ||
	    !poo_item(ctx, &fresh, 1) || !poo_item(ctx, sh, 2) ||
	    !poo_item(ctx, q->params, q->params_len) ||
	    !poo_item(ctx, TLS12_POO_LABEL, sizeof(TLS12_POO_LABEL) - 1) ||
	    EVP_DigestFinal_ex(ctx, md, NULL) != 1 ||
	    (c = BN_bin2bn(md, q->poo_prf == TLS12_POO_SHA256_128 ? 16 : 32,
	    NULL)) == NULL ||
	    EC_POINT_mul(g, rg, r, bg, c, bn) != 1) {
		*why = "proof of ownership: computation failed";
		st = TLS12_ST_UNDEFINED_ERROR;
		goto done;
	}
	if (EC_POINT_cmp(g, rg, vg, bn) != 0) {
		*why = "proof of ownership does not hold: rG + c.bG != vG";
		goto done;
	}
	st = 0;
 done:
	EVP_MD_CTX_free(ctx);
	EC_POINT_free(bg);
	EC_POINT_free(vg);
	EC_POINT_free(rg);
	BN_free(r);
	BN_free(c);
	BN_CTX_free(bn);
	return st;
}

/*
 * ecdhe: the signature of client_random || ServerHello.random ||
 * ServerECDHParams, after the same checks as the edge extension's
 * sign_tls12 (tlscheck.c): the group, the point, the scheme for the key
 * in TLS 1.2 (an ECDSA hash is not bound to the curve there).
 */
static int
ecdhe(struct key *k, const struct tls12_req *q, time_t now,
    struct lurk_wr *w, const char **why)
{
	struct keyop_req sreq;
	uint8_t		 tbs[2 * TLS12_RANDOM_LEN + 4 + 255], sig[1024];
	size_t		 siglen = sizeof(sig);
	int		 st, nid;

	if (group_point_len(q->group, &nid) == 0) {
		*why = "ServerECDHParams: group not supported";
		return TLS12_ST_INVALID_EC_CURVE;
	}
	if ((st = tls12_server_random(q->server_random, q->freshness, now,
	    drafts_conf()->tls12_window, tbs + TLS12_RANDOM_LEN, why)) != 0)
		return st;
	if ((st = poo_check(k, q, why)) != 0)
		return st;
	memcpy(tbs, q->client_random, TLS12_RANDOM_LEN);
	memcpy(tbs + 2 * TLS12_RANDOM_LEN, q->params, q->params_len);
	memset(&sreq, 0, sizeof(sreq));
	sreq.type = EDGE_TYPE_SIGN_TLS12;
	sreq.scheme = q->sig_and_hash;
	sreq.len = 2 * TLS12_RANDOM_LEN + q->params_len;
	switch (keyop_sign(k, &sreq, tbs, sig, &siglen, why)) {
	case LURK_ST_SUCCESS:
		break;
	case EDGE_ST_INVALID_SCHEME:
	case EDGE_ST_INVALID_CONTENT:
		return TLS12_ST_INVALID_PAYLOAD_FORMAT;
	default:
		return TLS12_ST_UNDEFINED_ERROR;
	}
	/* signed_params<2>, as keyop_sign wrote it */
	lurk_wr_bytes(w, sig, siglen);
	return 0;
}

/* One tls12 key operation for netproc; the tls12 status. */
int
lurk12_run(struct key *k, const struct keyop_req *req, const uint8_t *in,
    struct lurk_wr *w, const char **why)
{
	struct tls12_req q;
	const char	*perr;
	uint32_t	 op;
	time_t		 now = time(NULL);
	int		 st;

	if ((op = draft_op(LURK_DESIG_TLS12, req->type)) == 0 ||
	    tls12_parse(req->type, in, req->len, &q, &perr) != 0)
		fatalx("%s: a tls12 %s from netproc that does not parse: %s",
		    __func__, draft_type_name(LURK_DESIG_TLS12, req->type),
		    op == 0 ? "no such operation" : perr);
	if (memcmp(q.key_id + 1, k->id32, TLS12_KEY_ID_LEN) != 0)
		fatalx("%s: netproc chose key \"%s\" for another key_id",
		    __func__, k->pub.name);
	/* as pylurk-M: a key not configured for a type is not known to it */
	if ((k->operations & op) == 0) {
		*why = "operation not allowed for this key";
		return TLS12_ST_INVALID_KEY_ID;
	}
	if ((op & OP_TLS12_RSA) && k->pub.kind != KEY_RSA) {
		*why = "not an RSA key";
		return TLS12_ST_INVALID_KEY_ID;
	}
	if (req->type == TLS12_TYPE_RSA_MASTER)
		st = rsa_master(k, &q, now, w, why);
	else if (req->type == TLS12_TYPE_ECDHE)
		st = ecdhe(k, &q, now, w, why);
	else
		st = rsa_master_hs(k, &q, now, w, why);
	return st == 0 ? LURK_ST_SUCCESS : st;
}

/* The PRF and the curves' arithmetic, once, before the sandbox. */
int
lurk12_warmup(void)
{
	const EVP_MD	*mds[3] = { EVP_sha256(), EVP_sha384(), EVP_sha512() };
	uint8_t		 out[48];
	size_t		 i;

	memset(out, 0, sizeof(out));
	if (prf == NULL && (prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL)) ==
	    NULL)
		return -1;
	for (i = 0; i < 3; i++)
		if (tls12_prf(mds[i], out, 16, "warm-up", out, 16, NULL, 0, out,
		    sizeof(out)) == -1)
			return -1;
	if (curve_group(NID_X9_62_prime256v1) == NULL ||
	    curve_group(NID_secp384r1) == NULL ||
	    curve_group(NID_secp521r1) == NULL)
		return -1;
	return 0;
}
