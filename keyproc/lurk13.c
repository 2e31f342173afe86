/*
 * The tls13 server operations (draft-mglt-lurk-tls13, pylurk-T's
 * numbers and encoding): s_init_cert_verify, s_new_ticket,
 * s_init_early_secret, s_hand_and_app_secret.  keyproc runs the TLS 1.3
 * key schedule over the handshake messages the edge sends, exactly as
 * received, after putting in the ServerHello the random it derives from
 * the edge's (the freshness function) and, with cs_generated, its own
 * key share: then the (EC)DHE private key and the handshake's secrets
 * exist only here, and the edge gets what the request asks for and the
 * key's policy allows.
 *
 * Sessions (a handshake's secrets between its exchanges) live in this
 * keyproc, in a table of fixed size (lurkd.conf: tls13 sessions), for a
 * time without a request; a session_id is this keyproc's number (1
 * byte), by which netproc sends the next exchange here, and a slot (3
 * bytes).  Session tickets are sealed with AES-256-GCM under a key this
 * keyproc makes at start and never hands out; the ticket's first bytes,
 * authenticated, name the keyproc and the key.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "drafts.h"
#include "keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"

#define CH_MAX		16384		/* the ClientHello a session keeps */
#define TICKET_VERSION	LURKD_TICKET_VERSION
#define TICKET_HDR_LEN	(1 + 1 + TLS12_KEY_ID_LEN + 12)	/* AAD */
#define TICKET_TAG_LEN	16
#define TICKET_PT_MAX	(8 + 4 + 4 + 2 + 1 + EVP_MAX_MD_SIZE)
#define TICKET_NONCE_LEN 8		/* NewSessionTicket.ticket_nonce */

enum sstate {
	ST_FREE,
	ST_CERT,	/* after s_init_cert_verify: s_new_ticket */
	ST_EARLY,	/* after s_init_early_secret: s_hand_and_app_secret */
	ST_HAND,	/* after s_hand_and_app_secret: s_new_ticket */
	ST_TICKETS,	/* the client's Finished seen: more s_new_ticket */
};

struct session {
	enum sstate	 state;
	time_t		 expires;
	uint32_t	 uid;		/* who opened it: it alone goes on */
	uint8_t		 id[TLS13_SESSION_ID_LEN];	/* lurkd's */
	uint8_t		 peer[TLS13_SESSION_ID_LEN];	/* the edge's */
	uint8_t		 key[32];	/* its key's SPKI SHA-256: no pointer */
	uint16_t	 suite;
	EVP_MD_CTX	*th;		/* the transcript so far */
	struct tls13_ks	 ks;		/* early secret, then master */
	uint8_t		 h_c[EVP_MAX_MD_SIZE];	/* for the client Finished */
	uint8_t		 r[EVP_MAX_MD_SIZE];	/* resumption_master_secret */
	int		 certreq;	/* a client Certificate follows */
	unsigned int	 tickets;	/* issued */
	uint8_t		 freshness;	/* s_init_early_secret's */
	uint16_t	 identity;	/* selected_identity */
	uint8_t		 psk_modes;	/* 1: psk_ke, 2: psk_dhe_ke */
	uint8_t		*ch;		/* the ClientHello's body */
	size_t		 chlen;
};

static struct session	*sessions;
static size_t		 nsessions, cursor;
static int		 instance;
static uint8_t		 ticket_key[32];
static EVP_CIPHER	*gcm;

/* One request's handshake: what it computes, wiped when done. */
struct hsctx {
	const EVP_MD	*md;
	size_t		 hlen;
	uint16_t	 suite;
	EVP_MD_CTX	*th;
	struct tls13_ks	 ks;
	uint8_t		 secret[TLS13_NSECRETS][EVP_MAX_MD_SIZE];
	uint16_t	 have;		/* secrets computed, as request bits */
	uint8_t		 ecdhe[66];
	size_t		 ecdhe_len;
	uint16_t	 group;
	uint8_t		 pub[133];	/* cs_generated: lurkd's share */
	size_t		 pub_len;
	struct lurk_wr	 sh;		/* the ServerHello, as lurkd sees it */
};

void
lurk13_init(int inst)
{
	const struct draftconf	*d = drafts_conf();

	instance = inst;
	if (sessions != NULL)
		return;
	nsessions = d->tls13_sessions;
	if ((sessions = calloc(nsessions, sizeof(*sessions))) == NULL)
		fatal("%s", __func__);
	if (RAND_priv_bytes(ticket_key, sizeof(ticket_key)) != 1)
		fatalx("%s: no random ticket key", __func__);
}

/* ---- sessions ---------------------------------------------------------- */

static void
session_free(struct session *s)
{
	EVP_MD_CTX_free(s->th);
	if (s->ch != NULL)
		freezero(s->ch, s->chlen);
	explicit_bzero(s, sizeof(*s));
}

/* A free slot (or one whose session timed out); NULL if none. */
static struct session *
session_new(uint32_t uid, const uint8_t *peer, time_t now)
{
	struct session	*s;
	size_t		 i, slot;

	for (i = 0; i < nsessions; i++) {
		slot = (cursor + i) % nsessions;
		s = &sessions[slot];
		if (s->state != ST_FREE && s->expires > now)
			continue;
		if (s->state != ST_FREE)
			session_free(s);
		cursor = slot + 1;
		s->uid = uid;
		if (peer != NULL)
			memcpy(s->peer, peer, sizeof(s->peer));
		s->id[0] = instance;
		s->id[1] = slot >> 16;
		s->id[2] = slot >> 8;
		s->id[3] = slot;
		s->expires = now + drafts_conf()->tls13_session_timeout;
		return s;
	}
	return NULL;
}

/*
 * A reload committed a new key table.  A session names its key by the
 * SHA-256 of its SPKI, never by a pointer or an index into a table: one
 * whose key is in the new table goes on with it (under its new policy,
 * checked at each exchange); one whose key is gone, or was replaced by
 * another (a rotation), ends here, wiped, and its next exchange gets
 * invalid_session_id as for any session that is no more.
 */
void
lurk13_commit(time_t now)
{
	struct session	*s;
	size_t		 i, kept = 0, dropped = 0;

	for (i = 0; i < nsessions; i++) {
		s = &sessions[i];
		if (s->state == ST_FREE)
			continue;
		if (s->expires > now &&
		    keyproc_key_byspki(s->key, sizeof(s->key)) != NULL) {
			kept++;
			continue;
		}
		session_free(s);
		dropped++;
	}
	if (kept > 0 || dropped > 0)
		log_debug("tls13 sessions: %zu go on with their keys, %zu "
		    "ended (key gone or timed out)", kept, dropped);
}

/* The session of a session_id, if it is alive and the uid's. */
static struct session *
session_get(const uint8_t *id, uint32_t uid, time_t now)
{
	struct session	*s;
	size_t		 slot;

	/* netproc sends a session's exchanges to the keyproc it names */
	if (id[0] != instance)
		fatalx("%s: session of keyproc[%u] sent here", __func__, id[0]);
	slot = (size_t)id[1] << 16 | id[2] << 8 | id[3];
	if (slot >= nsessions || (s = &sessions[slot])->state == ST_FREE)
		return NULL;
	if (s->expires <= now) {
		session_free(s);
		return NULL;
	}
	if (s->uid != uid)
		return NULL;
	s->expires = now + drafts_conf()->tls13_session_timeout;
	return s;
}

/* ---- tickets ------------------------------------------------------ */

/*
 * A ticket: version(1), keyproc(1), key_id(4), nonce(12), then sealed
 * issued(8) lifetime(4) age_add(4) suite(2) psk<1>, and the tag.
 */
int
lurk13_ticket_seal(const struct key *k, uint16_t suite, const uint8_t *psk,
    size_t psklen, uint32_t lifetime, uint32_t age_add, time_t now,
    struct lurk_wr *w)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 hdr[TICKET_HDR_LEN], pt[TICKET_PT_MAX];
	uint8_t		 ct[TICKET_PT_MAX], tag[TICKET_TAG_LEN];
	uint64_t	 t = now;
	size_t		 i, n = 0;
	int		 len, fin, ok;

	hdr[0] = TICKET_VERSION;
	hdr[1] = instance;
	memcpy(hdr + 2, k->id32, TLS12_KEY_ID_LEN);
	if (RAND_bytes(hdr + 6, 12) != 1)
		return -1;
	for (i = 0; i < 8; i++)
		pt[n++] = t >> (56 - 8 * i);
	for (i = 0; i < 4; i++)
		pt[n++] = lifetime >> (24 - 8 * i);
	for (i = 0; i < 4; i++)
		pt[n++] = age_add >> (24 - 8 * i);
	pt[n++] = suite >> 8;
	pt[n++] = suite;
	pt[n++] = psklen;
	memcpy(pt + n, psk, psklen);
	n += psklen;
	ok = (ctx = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_EncryptInit_ex2(ctx, gcm, ticket_key, hdr + 6, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &len, hdr, sizeof(hdr)) == 1 &&
	    EVP_EncryptUpdate(ctx, ct, &len, pt, n) == 1 &&
	    EVP_EncryptFinal_ex(ctx, ct + len, &fin) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, sizeof(tag),
	    tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(pt, sizeof(pt));
	if (!ok)
		return -1;
	lurk_wr_num(w, sizeof(hdr) + n + sizeof(tag), 2);	/* ticket<2> */
	lurk_wr_bytes(w, hdr, sizeof(hdr));
	lurk_wr_bytes(w, ct, n);
	lurk_wr_bytes(w, tag, sizeof(tag));
	return 0;
}

/*
 * A ticket this keyproc sealed, within its lifetime: 0, or a tls13
 * status and why (tampered, sealed by another lurkd or before a
 * restart, expired).
 */
int
lurk13_ticket_open(const uint8_t *p, size_t len, time_t now,
    struct tls13_ticket *t, const char **why)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		 pt[TICKET_PT_MAX];
	size_t		 ctlen, i;
	int		 n, fin, ok;

	memset(t, 0, sizeof(*t));
	if (len < TICKET_HDR_LEN + TICKET_TAG_LEN + 19 ||
	    len > TICKET_HDR_LEN + TICKET_PT_MAX + TICKET_TAG_LEN ||
	    p[0] != TICKET_VERSION) {
		*why = "not a ticket of lurkd's";
		return TLS13_ST_INVALID_PSK;
	}
	ctlen = len - TICKET_HDR_LEN - TICKET_TAG_LEN;
	ok = (ctx = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_DecryptInit_ex2(ctx, gcm, ticket_key, p + 6, NULL) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, p, TICKET_HDR_LEN) == 1 &&
	    EVP_DecryptUpdate(ctx, pt, &n, p + TICKET_HDR_LEN, ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TICKET_TAG_LEN,
	    (void *)(uintptr_t)(p + len - TICKET_TAG_LEN)) == 1 &&
	    EVP_DecryptFinal_ex(ctx, pt + n, &fin) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok || pt[18] != ctlen - 19) {
		explicit_bzero(pt, sizeof(pt));
		*why = "ticket does not open: tampered with, or sealed by "
		    "another lurkd or before a restart";
		return TLS13_ST_INVALID_PSK;
	}
	for (i = 0; i < 8; i++)
		t->issued = t->issued << 8 | pt[i];
	t->lifetime = (uint32_t)pt[8] << 24 | pt[9] << 16 | pt[10] << 8 |
	    pt[11];
	t->suite = pt[16] << 8 | pt[17];
	t->psklen = pt[18];
	memcpy(t->psk, pt + 19, t->psklen);
	explicit_bzero(pt, sizeof(pt));
	if (t->issued > (uint64_t)now ||
	    (uint64_t)now - t->issued > t->lifetime) {
		explicit_bzero(t, sizeof(*t));
		*why = "ticket past its lifetime";
		return TLS13_ST_INVALID_PSK;
	}
	return 0;
}

/* ---- handshake pieces -------------------------------------------------- */

/* ServerHello.random from S: SHA-256(S || label), or S (null). */
static int
fresh13(const struct draftconf *d, uint8_t f, const uint8_t *s, uint8_t *out,
    const char **why)
{
	EVP_MD_CTX	*ctx;
	int		 ok;

	if (!drafts_fresh_ok(d->tls13_freshness, f, TLS13_FRESH_NULL)) {
		*why = f == TLS13_FRESH_NULL ? "freshness null not allowed "
		    "(lurkd.conf: tls13 freshness)" :
		    "unknown freshness function";
		return TLS13_ST_INVALID_FRESHNESS;
	}
	if (f == TLS13_FRESH_NULL) {
		memcpy(out, s, 32);
		return 0;
	}
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, s, 32) == 1 &&
	    (d->tls13_label == LURKD_LABEL_PYLURK ||
	    EVP_DigestUpdate(ctx, TLS13_PFS_LABEL,
	    sizeof(TLS13_PFS_LABEL) - 1) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		*why = "sha256 failed";
		return TLS13_ST_UNDEFINED_ERROR;
	}
	return 0;
}

/* An extension of a hello; NULL if absent. */
static const uint8_t *
ext(const struct tls13_hello *h, uint16_t type, size_t *len)
{
	size_t	 n;

	return tls_ext_find(h->ext, h->ext_len, type, len != NULL ? len : &n);
}

/* The hellos of a TLS 1.3 handshake that agreed on a suite lurkd knows. */
static int
hellos_check(const struct tls13_hello *ch, const struct tls13_hello *sh,
    const char **why)
{
	const uint8_t	*v;
	size_t		 n, i;
	int		 offered = 0;

	if (ch->version != TLS_VERSION_12 || sh->version != TLS_VERSION_12) {
		*why = "hello: legacy_version is not 0x0303";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if ((v = ext(ch, TLS_EXT_SUPPORTED_VERSIONS, &n)) == NULL || n < 3 ||
	    v[0] != n - 1 || n % 2 == 0) {
		*why = "ClientHello: no supported_versions";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	for (i = 1; i < n; i += 2)
		offered |= v[i] == 3 && v[i + 1] == 4;
	if (!offered) {
		*why = "ClientHello: TLS 1.3 not offered";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if ((v = ext(sh, TLS_EXT_SUPPORTED_VERSIONS, &n)) == NULL || n != 2 ||
	    v[0] != 3 || v[1] != 4) {
		*why = "ServerHello: TLS 1.3 not selected";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (sh->sid_len != ch->sid_len ||
	    memcmp(sh->sid, ch->sid, ch->sid_len) != 0) {
		*why = "ServerHello: legacy_session_id_echo is not the "
		    "ClientHello's";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	for (i = 0, offered = 0; i < ch->suites_len; i += 2)
		offered |= (ch->suites[i] << 8 | ch->suites[i + 1]) ==
		    sh->suite;
	if (!offered || tls13_suite_md(sh->suite) == NULL) {
		*why = "ServerHello: a cipher suite not offered, or not TLS "
		    "1.3's";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	return 0;
}

/* ServerHello key_share: -1 malformed, 0 absent, 1 there. */
static int
sh_share(const struct tls13_hello *sh, uint16_t *group, const uint8_t **kx,
    size_t *kxlen)
{
	struct lurk_rd	 r;
	const uint8_t	*p;
	size_t		 n;

	if ((p = ext(sh, TLS_EXT_KEY_SHARE, &n)) == NULL)
		return 0;
	lurk_rd_init(&r, p, n);
	*group = lurk_rd_num(&r, 2);
	*kx = lurk_rd_vec(&r, 2, kxlen);
	return *kx == NULL || r.left != 0 ? -1 : 1;
}

/* The client's share of a group in its key_share; NULL if none. */
static const uint8_t *
ch_share(const struct tls13_hello *ch, uint16_t group, size_t *len)
{
	struct lurk_rd	 r, l;
	const uint8_t	*p, *list, *kx;
	size_t		 n, ln;

	if ((p = ext(ch, TLS_EXT_KEY_SHARE, &n)) == NULL)
		return NULL;
	lurk_rd_init(&r, p, n);
	if ((list = lurk_rd_vec(&r, 2, &ln)) == NULL || r.left != 0)
		return NULL;
	lurk_rd_init(&l, list, ln);
	while (l.left > 0) {
		uint16_t	 g = lurk_rd_num(&l, 2);

		if ((kx = lurk_rd_vec(&l, 2, len)) == NULL)
			return NULL;
		if (g == group)
			return kx;
	}
	return NULL;
}

/* The algorithm of a group for OpenSSL, and its public value's size. */
static const char *
group_alg(uint16_t group, const char **curve, size_t *publen)
{
	*curve = NULL;
	switch (group) {
	case TLS_GROUP_X25519:
		*publen = 32;
		return "X25519";
	case TLS_GROUP_X448:
		*publen = 56;
		return "X448";
	case TLS_GROUP_SECP256R1:
		*curve = "P-256";
		*publen = 65;
		return "EC";
	case TLS_GROUP_SECP384R1:
		*curve = "P-384";
		*publen = 97;
		return "EC";
	case TLS_GROUP_SECP521R1:
		*curve = "P-521";
		*publen = 133;
		return "EC";
	}
	return NULL;
}

/*
 * cs_generated: a key pair of the group, its public value in x->pub,
 * the secret shared with the client's share in x->ecdhe.  The private
 * key is freed (and wiped by OpenSSL) here.
 */
static int
cs_generate(struct hsctx *x, const uint8_t *peer, size_t peerlen,
    const char **why)
{
	EVP_PKEY_CTX	*kctx = NULL, *dctx = NULL, *pctx = NULL;
	EVP_PKEY	*mine = NULL, *theirs = NULL;
	OSSL_PARAM	 params[3];
	const char	*alg, *curve;
	size_t		 publen, len;
	int		 ok;

	if ((alg = group_alg(x->group, &curve, &publen)) == NULL ||
	    peerlen != publen || (curve != NULL && peer[0] != 0x04)) {
		*why = "the client's key share is not of its group's size";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	ok = (kctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) != NULL &&
	    EVP_PKEY_keygen_init(kctx) == 1 &&
	    (curve == NULL || EVP_PKEY_CTX_set_group_name(kctx, curve) == 1) &&
	    EVP_PKEY_generate(kctx, &mine) == 1;
	if (ok && curve == NULL)
		ok = (theirs = EVP_PKEY_new_raw_public_key_ex(NULL, alg, NULL,
		    peer, peerlen)) != NULL;
	else if (ok) {
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)curve, 0);
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)peer, peerlen);
		params[2] = OSSL_PARAM_construct_end();
		ok = (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL)) != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
		    EVP_PKEY_fromdata(pctx, &theirs, EVP_PKEY_PUBLIC_KEY,
		    params) == 1;
	}
	len = sizeof(x->ecdhe);
	/* validate the peer's value: on the curve, not a small order */
	ok = ok && (dctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine,
	    NULL)) != NULL && EVP_PKEY_derive_init(dctx) == 1 &&
	    EVP_PKEY_derive_set_peer_ex(dctx, theirs, 1) == 1 &&
	    EVP_PKEY_derive(dctx, x->ecdhe, &len) == 1 &&
	    len == tls13_group_secret_len(x->group) &&
	    EVP_PKEY_get_octet_string_param(mine,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, x->pub, sizeof(x->pub),
	    &x->pub_len) == 1 && x->pub_len == publen;
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	if (!ok) {
		explicit_bzero(x->ecdhe, sizeof(x->ecdhe));
		*why = "the client's key share is not a valid public value";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	x->ecdhe_len = len;
	return 0;
}

/*
 * The (EC)DHE of the ServerHello's key_share: given (e_generated), made
 * here (cs_generated: the ServerHello's share is empty), or none
 * (no_secret: no key_share, a PSK-only handshake).
 */
static int
ecdhe(const struct tls13_eph *e, const struct tls13_hello *ch,
    const struct tls13_hello *sh, struct hsctx *x, const char **why)
{
	const uint8_t	*kx, *peer;
	size_t		 kxlen, peerlen;
	int		 share;

	if ((share = sh_share(sh, &x->group, &kx, &kxlen)) == -1) {
		*why = "ServerHello: bad key_share";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (!share || e->method == TLS13_EPH_NO_SECRET) {
		if (share || e->method != TLS13_EPH_NO_SECRET) {
			*why = "ephemeral no_secret if, and only if, no "
			    "key_share";
			return TLS13_ST_INVALID_EPHEMERAL;
		}
		return 0;
	}
	if (tls13_group_secret_len(x->group) == 0) {
		*why = "ServerHello: a group lurkd does not support";
		return TLS13_ST_INVALID_EPHEMERAL;
	}
	if ((peer = ch_share(ch, x->group, &peerlen)) == NULL) {
		*why = "the ClientHello has no key share of the ServerHello's "
		    "group";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (e->method == TLS13_EPH_E_GENERATED) {
		if (e->group != x->group || kxlen == 0) {
			*why = "e_generated: another group than the "
			    "ServerHello's, or no server key share";
			return TLS13_ST_INVALID_EPHEMERAL;
		}
		memcpy(x->ecdhe, e->secret, e->secret_len);
		x->ecdhe_len = e->secret_len;
		return 0;
	}
	if (kxlen != 0) {
		*why = "cs_generated: the ServerHello's share must be empty";
		return TLS13_ST_INVALID_EPHEMERAL;
	}
	return cs_generate(x, peer, peerlen, why);
}

/*
 * The ServerHello with lurkd's random and (cs_generated) its key share:
 * the same fields, the other extensions as they came.
 */
static void
sh_rebuild(const struct tls13_hello *sh, const uint8_t *random,
    struct hsctx *x)
{
	struct lurk_rd	 r;
	struct lurk_wr	*w = &x->sh;
	const uint8_t	*d;
	size_t		 n, off, o2;
	uint16_t	 type;

	lurk_wr_num(w, sh->version, 2);
	lurk_wr_bytes(w, random, 32);
	lurk_wr_num(w, sh->sid_len, 1);
	lurk_wr_bytes(w, sh->sid, sh->sid_len);
	lurk_wr_num(w, sh->suite, 2);
	lurk_wr_num(w, 0, 1);
	off = lurk_wr_open(w, 2);
	lurk_rd_init(&r, sh->ext, sh->ext_len);
	while (r.left > 0) {
		type = lurk_rd_num(&r, 2);
		d = lurk_rd_vec(&r, 2, &n);
		lurk_wr_num(w, type, 2);
		if (type == TLS_EXT_KEY_SHARE && x->pub_len > 0) {
			o2 = lurk_wr_open(w, 2);
			lurk_wr_num(w, x->group, 2);
			lurk_wr_num(w, x->pub_len, 2);
			lurk_wr_bytes(w, x->pub, x->pub_len);
			lurk_wr_close(w, o2, 2);
		} else {
			lurk_wr_num(w, n, 2);
			lurk_wr_bytes(w, d, n);
		}
	}
	lurk_wr_close(w, off, 2);
}

/* No 0-RTT: lurkd computes no early traffic secret. */
static int
ee_check(const struct tls13_msg *m, const char **why)
{
	struct lurk_rd	 r;
	const uint8_t	*e;
	size_t		 n, k;

	lurk_rd_init(&r, m->body, m->len);
	e = lurk_rd_vec(&r, 2, &n);
	if (e != NULL && tls_ext_find(e, n, TLS_EXT_EARLY_DATA, &k) != NULL) {
		*why = "EncryptedExtensions accepts early data: lurkd does not "
		    "do 0-RTT";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	return 0;
}

/*
 * The secrets a request may ask for: those of its type (allowed) that
 * the key's policy lists.
 */
static int
secrets_check(uint16_t req, uint16_t allowed, const struct key *k,
    const char **why)
{
	if (req & ~allowed) {
		*why = "a secret this exchange does not give";
		return TLS13_ST_INVALID_SECRET_REQUEST;
	}
	if (req & ~k->tls13_secrets) {
		*why = "a secret the key's policy does not give (lurkd.conf: "
		    "tls13 secrets)";
		return TLS13_ST_INVALID_SECRET_REQUEST;
	}
	return 0;
}

/* secret_list<2>: each secret asked for that was computed. */
static void
put_secrets(struct lurk_wr *w, const struct hsctx *x, uint16_t req)
{
	size_t	 off = lurk_wr_open(w, 2);
	int	 t;

	for (t = 0; t < TLS13_NSECRETS; t++)
		if ((req | (x->have & TLS13_SECRET_BIT(TLS13_SECRET_B))) &
		    x->have & TLS13_SECRET_BIT(t)) {
			lurk_wr_num(w, t, 1);
			lurk_wr_num(w, x->hlen, 1);
			lurk_wr_bytes(w, x->secret[t], x->hlen);
		}
	lurk_wr_close(w, off, 2);
}

static int
derive(struct hsctx *x, int t, const char *label, const uint8_t *th)
{
	if (tls13_derive(&x->ks, label, th, x->secret[t]) == -1)
		return -1;
	x->have |= TLS13_SECRET_BIT(t);
	return 0;
}

/*
 * From the ServerHello on: the handshake secrets over CH..SH, then the
 * server's messages (EncryptedExtensions, [CertificateRequest],
 * [Certificate, CertificateVerify] given by the caller as msgs), the
 * server Finished, the master secret and the application secrets over
 * CH..server Finished.  x->th holds CH already, x->ks the early secret.
 */
static int
schedule(struct hsctx *x, const struct tls13_msg *msgs, size_t nmsgs,
    int (*sign)(struct hsctx *, void *), void *arg, const char **why)
{
	uint8_t		 th[EVP_MAX_MD_SIZE], fin[EVP_MAX_MD_SIZE];
	size_t		 i;
	int		 st;

	if (tls13_th_add(x->th, TLS_HS_SERVER_HELLO, x->sh.p, x->sh.len) ==
	    -1 || tls13_ks_next(&x->ks, x->ecdhe_len ? x->ecdhe : NULL,
	    x->ecdhe_len) == -1 || tls13_th_hash(x->th, th) == -1 ||
	    derive(x, TLS13_SECRET_H_C, "c hs traffic", th) == -1 ||
	    derive(x, TLS13_SECRET_H_S, "s hs traffic", th) == -1)
		goto fail;
	for (i = 0; i < nmsgs; i++)
		if (tls13_th_add(x->th, msgs[i].type, msgs[i].body,
		    msgs[i].len) == -1)
			goto fail;
	if (sign != NULL && (st = sign(x, arg)) != 0)
		return st;
	if (tls13_th_hash(x->th, th) == -1 ||
	    tls13_finished(x->md, x->secret[TLS13_SECRET_H_S], th, fin) == -1 ||
	    tls13_th_add(x->th, TLS_HS_FINISHED, fin, x->hlen) == -1 ||
	    tls13_ks_next(&x->ks, NULL, 0) == -1 ||
	    tls13_th_hash(x->th, th) == -1 ||
	    derive(x, TLS13_SECRET_A_C, "c ap traffic", th) == -1 ||
	    derive(x, TLS13_SECRET_A_S, "s ap traffic", th) == -1 ||
	    derive(x, TLS13_SECRET_X, "exp master", th) == -1)
		goto fail;
	explicit_bzero(fin, sizeof(fin));
	return 0;
 fail:
	*why = "key schedule failed";
	return TLS13_ST_UNDEFINED_ERROR;
}

/* ---- s_init_cert_verify ---------------------------------------------- */

struct cvarg {
	struct key		*k;
	const struct tls13_req	*q;
	const struct tls13_hello *ch;
	struct lurk_wr		*sig;	/* signature<2> */
};

/* 1 if a certificate's SHA-256 starts with fp. */
static int
fp_match(const uint8_t *cert, size_t len, const uint8_t *fp)
{
	uint8_t	 md[32];

	return EVP_Digest(cert, len, md, NULL, EVP_sha256(), NULL) == 1 &&
	    memcmp(md, fp, TLS13_FINGER_PRINT_LEN) == 0;
}

/* Certificate i of the key's chain (cert<3>...); NULL past the end. */
static const uint8_t *
chain_cert(const struct key *k, size_t i, size_t *len)
{
	struct lurk_rd	 r;
	const uint8_t	*c;
	size_t		 j;

	lurk_rd_init(&r, k->chain, k->chain_len);
	for (j = 0; (c = lurk_rd_vec(&r, 3, len)) != NULL; j++)
		if (j == i)
			return c;
	return NULL;
}

/*
 * The server Certificate message from the request's Cert: finger_print
 * entries replaced by the key's certificates they name, uncompressed
 * as given; the first must be the key's own.
 */
static int
cert_message(struct key *k, const struct tls13_cert *c, struct lurk_wr *w,
    const char **why)
{
	const uint8_t	*d, *e, *cert, *leaf;
	size_t		 dl, el, cl, ll, i, j, off;

	if (c->body[0] != 0) {
		*why = "a server certificate_request_context must be empty";
		return TLS13_ST_INVALID_CERTIFICATE;
	}
	if ((leaf = chain_cert(k, 0, &ll)) == NULL)
		fatalx("%s: key \"%s\" without its certificate", __func__,
		    k->pub.name);
	lurk_wr_num(w, 0, 1);
	off = lurk_wr_open(w, 3);
	for (i = 0; tls13_cert_entry(c, i, &d, &dl, &e, &el) == 0; i++) {
		if (c->type == TLS13_CERT_UNCOMPRESSED) {
			cert = d;
			cl = dl;
		} else {
			for (j = 0; (cert = chain_cert(k, j, &cl)) != NULL;
			    j++)
				if (fp_match(cert, cl, d))
					break;
			if (cert == NULL) {
				*why = "a finger_print of no certificate of "
				    "the key's chain";
				return TLS13_ST_INVALID_CERTIFICATE;
			}
		}
		/* netproc chose the key by this first certificate */
		if (i == 0 && (cl != ll || memcmp(cert, leaf, ll) != 0))
			fatalx("%s: netproc chose key \"%s\" for another "
			    "certificate", __func__, k->pub.name);
		lurk_wr_num(w, cl, 3);
		lurk_wr_bytes(w, cert, cl);
		lurk_wr_num(w, el, 2);
		lurk_wr_bytes(w, e, el);
	}
	if (i == 0)
		fatalx("%s: an empty certificate_list from netproc", __func__);
	lurk_wr_close(w, off, 3);
	return 0;
}

/* The scheme is one the client offered. */
static int
scheme_offered(const struct tls13_hello *ch, uint16_t scheme)
{
	const uint8_t	*p;
	size_t		 n, i;

	if ((p = ext(ch, TLS_EXT_SIGNATURE_ALGORITHMS, &n)) == NULL || n < 2 ||
	    ((size_t)p[0] << 8 | p[1]) != n - 2)
		return 0;
	for (i = 2; i + 1 < n; i += 2)
		if ((p[i] << 8 | p[i + 1]) == scheme)
			return 1;
	return 0;
}

/* Certificate, then CertificateVerify: signed here, added to the transcript. */
static int
cert_verify(struct hsctx *x, void *arg)
{
	struct cvarg	*a = arg;
	struct keyop_req sreq;
	struct lurk_wr	 cert;
	uint8_t		 tbs[TLS13_CV_PREFIX_LEN + EVP_MAX_MD_SIZE];
	uint8_t		 sig[1024], cv[2 + sizeof(sig)];
	size_t		 siglen = sizeof(sig);
	const char	*why = "";
	int		 st;

	memset(&cert, 0, sizeof(cert));
	if ((st = cert_message(a->k, &a->q->cert, &cert, &why)) != 0 ||
	    cert.bad || tls13_th_add(x->th, TLS_HS_CERTIFICATE, cert.p,
	    cert.len) == -1) {
		lurk_wr_free(&cert);
		log_debug("%s: %s", __func__, why);
		return st != 0 ? st : TLS13_ST_UNDEFINED_ERROR;
	}
	lurk_wr_free(&cert);
	memset(tbs, 0x20, TLS13_CV_PAD_LEN);
	memcpy(tbs + TLS13_CV_PAD_LEN, TLS13_CV_SERVER_CTX,
	    sizeof(TLS13_CV_SERVER_CTX));
	if (tls13_th_hash(x->th, tbs + TLS13_CV_PREFIX_LEN) == -1)
		return TLS13_ST_UNDEFINED_ERROR;
	memset(&sreq, 0, sizeof(sreq));
	sreq.type = EDGE_TYPE_SIGN_TLS13;
	sreq.scheme = a->q->sig_algo;
	sreq.len = TLS13_CV_PREFIX_LEN + x->hlen;
	switch (keyop_sign(a->k, &sreq, tbs, sig, &siglen, &why)) {
	case LURK_ST_SUCCESS:
		break;
	case EDGE_ST_INVALID_SCHEME:
		log_debug("%s: %s", __func__, why);
		return TLS13_ST_INVALID_SIG_SCHEME;
	default:
		return TLS13_ST_UNDEFINED_ERROR;
	}
	cv[0] = a->q->sig_algo >> 8;
	cv[1] = a->q->sig_algo;
	memcpy(cv + 2, sig, siglen);
	if (tls13_th_add(x->th, TLS_HS_CERTIFICATE_VERIFY, cv, 2 + siglen) ==
	    -1)
		return TLS13_ST_UNDEFINED_ERROR;
	lurk_wr_bytes(a->sig, sig, siglen);
	return 0;
}

/* Ephemeral, response form. */
static void
put_eph(struct lurk_wr *w, const struct tls13_eph *e, const struct hsctx *x)
{
	size_t	 off;

	lurk_wr_num(w, e->method, 1);
	if (e->method != TLS13_EPH_CS_GENERATED)
		return;
	off = lurk_wr_open(w, 2);	/* KeyShareEntry */
	lurk_wr_num(w, x->group, 2);
	lurk_wr_num(w, x->pub_len, 2);
	lurk_wr_bytes(w, x->pub, x->pub_len);
	lurk_wr_close(w, off, 2);
}

static void
hsctx_free(struct hsctx *x)
{
	EVP_MD_CTX_free(x->th);
	lurk_wr_free(&x->sh);
	explicit_bzero(x, sizeof(*x));
}

static int
hsctx_init(struct hsctx *x, uint16_t suite, const char **why)
{
	memset(x, 0, sizeof(*x));
	x->suite = suite;
	if ((x->md = tls13_suite_md(suite)) == NULL) {
		*why = "a cipher suite lurkd does not know";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	x->hlen = EVP_MD_get_size(x->md);
	if ((x->th = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(x->th, x->md, NULL) != 1) {
		*why = "out of memory";
		return TLS13_ST_UNDEFINED_ERROR;
	}
	return 0;
}

/* Keep what s_new_ticket needs of a handshake that just ended. */
static void
session_keep(struct session *s, struct key *k, struct hsctx *x, int certreq)
{
	memcpy(s->key, k->pub.spki_sha256, sizeof(s->key));
	s->suite = x->suite;
	s->th = x->th;
	x->th = NULL;
	s->ks = x->ks;
	memcpy(s->h_c, x->secret[TLS13_SECRET_H_C], x->hlen);
	s->certreq = certreq;
}

static int
s_init_cert_verify(struct key *k, const struct keyop_req *req,
    const struct tls13_req *q, time_t now, struct lurk_wr *w,
    const char **why)
{
	struct tls13_hello ch, sh;
	struct hsctx	 x;
	struct cvarg	 a;
	struct lurk_wr	 sig;
	struct session	*s = NULL;
	uint8_t		 random[32];
	const uint16_t	 allowed = TLS13_SECRET_BIT(TLS13_SECRET_H_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_H_S) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_S) |
	    TLS13_SECRET_BIT(TLS13_SECRET_X);
	int		 st, certreq = q->h.n == 4, keep;

	if ((k->operations & OP_TLS13_CERT_VERIFY) == 0) {
		*why = "operation not allowed for this key";
		return TLS13_ST_INVALID_CERTIFICATE;
	}
	if ((st = secrets_check(q->secret_request, allowed, k, why)) != 0)
		return st;
	if (tls13_hello_parse(&q->h.m[0], &ch) == -1 ||
	    tls13_hello_parse(&q->h.m[1], &sh) == -1)
		fatalx("%s: hellos that do not parse", __func__);
	if ((st = hellos_check(&ch, &sh, why)) != 0 ||
	    (st = ee_check(&q->h.m[2], why)) != 0)
		return st;
	if (ext(&sh, TLS_EXT_PRE_SHARED_KEY, NULL) != NULL) {
		*why = "ServerHello agrees on a PSK: s_init_early_secret";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (q->eph.method == TLS13_EPH_NO_SECRET) {
		*why = "a certificate handshake without (EC)DHE";
		return TLS13_ST_INVALID_EPHEMERAL;
	}
	if (certreq && q->h.m[3].body[0] != 0) {
		*why = "CertificateRequest: a context in the main handshake";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (!scheme_offered(&ch, q->sig_algo)) {
		*why = "sig_algo not among the ClientHello's "
		    "signature_algorithms";
		return TLS13_ST_INVALID_SIG_SCHEME;
	}
	if ((st = fresh13(drafts_conf(), q->freshness, sh.random, random,
	    why)) != 0)
		return st;
	if ((st = hsctx_init(&x, sh.suite, why)) != 0)
		goto done;
	if ((st = ecdhe(&q->eph, &ch, &sh, &x, why)) != 0)
		goto done;
	sh_rebuild(&sh, random, &x);
	memset(&sig, 0, sizeof(sig));
	a.k = k;
	a.q = q;
	a.ch = &ch;
	a.sig = &sig;
	if (x.sh.bad || tls13_ks_init(&x.ks, x.md, NULL, 0) == -1 ||
	    tls13_th_add(x.th, TLS_HS_CLIENT_HELLO, q->h.m[0].body,
	    q->h.m[0].len) == -1) {
		*why = "out of memory";
		st = TLS13_ST_UNDEFINED_ERROR;
	} else if ((st = schedule(&x, &q->h.m[2], q->h.n - 2, cert_verify, &a,
	    why)) != 0) {
		if (st == TLS13_ST_INVALID_SIG_SCHEME)
			*why = "signature scheme unfit for the key";
		else if (st == TLS13_ST_INVALID_CERTIFICATE)
			*why = "the certificate is not the key's";
	}
	if (st != 0) {
		lurk_wr_free(&sig);
		goto done;
	}
	/* a session only if asked, allowed (tickets follow) and room */
	keep = !(q->tag & TLS13_TAG_LAST_EXCHANGE) &&
	    (k->operations & OP_TLS13_NEW_TICKET) && k->tls13_tickets > 0 &&
	    (s = session_new(req->uid, q->session_id, now)) != NULL;
	if (!(q->tag & TLS13_TAG_LAST_EXCHANGE) && !keep)
		log_debug("s_init_cert_verify: no session kept (no tickets for "
		    "key \"%s\", or the table is full)", k->pub.name);
	lurk_wr_num(w, keep ? 0 : TLS13_TAG_LAST_EXCHANGE, 1);
	if (keep) {
		lurk_wr_bytes(w, s->id, sizeof(s->id));
		session_keep(s, k, &x, certreq);
		s->state = ST_CERT;
	}
	put_eph(w, &q->eph, &x);
	put_secrets(w, &x, q->secret_request);
	lurk_wr_bytes(w, sig.p, sig.len);
	lurk_wr_free(&sig);
 done:
	explicit_bzero(random, sizeof(random));
	hsctx_free(&x);
	return st;
}

/* ---- s_new_ticket ------------------------------------------------------ */

static int
s_new_ticket(const struct keyop_req *req, const struct tls13_req *q,
    time_t now, struct lurk_wr *w, struct key **kp, const char **why)
{
	struct session	*s;
	struct key	*k;
	struct hsctx	 x;
	const struct tls13_msg *fin;
	uint8_t		 th[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	uint8_t		 nonce[TICKET_NONCE_LEN], psk[EVP_MAX_MD_SIZE];
	uint32_t	 age_add, lifetime;
	size_t		 off, i, hlen;
	unsigned int	 n;
	int		 st = 0, last;

	lifetime = drafts_conf()->tls13_ticket_lifetime;
	if ((s = session_get(q->session_id, req->uid, now)) == NULL ||
	    (s->state != ST_CERT && s->state != ST_HAND &&
	    s->state != ST_TICKETS)) {
		*why = "no such session, or not one that gives tickets";
		return TLS13_ST_INVALID_SESSION_ID;
	}
	if ((k = keyproc_key_byspki(s->key, sizeof(s->key))) == NULL ||
	    (k->operations & OP_TLS13_NEW_TICKET) == 0) {
		session_free(s);
		*why = "the session's key no longer gives tickets";
		return TLS13_ST_INVALID_SESSION_ID;
	}
	*kp = k;
	if ((st = secrets_check(q->secret_request,
	    TLS13_SECRET_BIT(TLS13_SECRET_R), k, why)) != 0)
		return st;
	hlen = s->ks.hlen;
	if (s->state != ST_TICKETS) {
		/* the client's [Certificate, CertificateVerify] Finished */
		if (q->h.n == 0) {
			*why = "the client's Finished is missing";
			return TLS13_ST_INVALID_HANDSHAKE;
		}
		if (s->certreq != (q->cert.type != TLS13_CERT_NONE) ||
		    (s->certreq && q->cert.type != TLS13_CERT_UNCOMPRESSED)) {
			*why = "a client Certificate, uncompressed, if and "
			    "only if a CertificateRequest was sent";
			return TLS13_ST_INVALID_CERTIFICATE;
		}
		if (s->certreq &&
		    (q->cert.list_len > 0) != (q->h.n == 2)) {
			*why = "a client CertificateVerify if and only if a "
			    "client certificate";
			return TLS13_ST_INVALID_HANDSHAKE;
		}
		fin = &q->h.m[q->h.n - 1];
		if ((s->certreq && tls13_th_add(s->th, TLS_HS_CERTIFICATE,
		    q->cert.body, q->cert.len) == -1) || (q->h.n == 2 &&
		    tls13_th_add(s->th, TLS_HS_CERTIFICATE_VERIFY,
		    q->h.m[0].body, q->h.m[0].len) == -1) ||
		    tls13_th_hash(s->th, th) == -1 ||
		    tls13_finished(s->ks.md, s->h_c, th, want) == -1) {
			*why = "key schedule failed";
			return TLS13_ST_UNDEFINED_ERROR;
		}
		if (fin->len != hlen ||
		    CRYPTO_memcmp(want, fin->body, hlen) != 0) {
			session_free(s);
			*why = "client Finished does not match the handshake";
			return TLS13_ST_INVALID_HANDSHAKE;
		}
		if (tls13_th_add(s->th, TLS_HS_FINISHED, fin->body, hlen) ==
		    -1 || tls13_th_hash(s->th, th) == -1 ||
		    tls13_derive(&s->ks, "res master", th, s->r) == -1) {
			*why = "key schedule failed";
			return TLS13_ST_UNDEFINED_ERROR;
		}
		explicit_bzero(s->h_c, sizeof(s->h_c));
		s->state = ST_TICKETS;
	} else if (q->h.n != 0) {
		*why = "handshake messages on a repeated s_new_ticket";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	/* a reload may have lowered the key's tickets below those issued */
	n = q->ticket_nbr;
	if (s->tickets >= k->tls13_tickets)
		n = 0;
	else if (n > k->tls13_tickets - s->tickets)
		n = k->tls13_tickets - s->tickets;
	last = (q->tag & TLS13_TAG_LAST_EXCHANGE) ||
	    s->tickets + n >= k->tls13_tickets;
	lurk_wr_num(w, last ? TLS13_TAG_LAST_EXCHANGE : 0, 1);
	lurk_wr_bytes(w, s->peer, sizeof(s->peer));
	memset(&x, 0, sizeof(x));
	x.hlen = hlen;
	if (q->secret_request) {
		memcpy(x.secret[TLS13_SECRET_R], s->r, hlen);
		x.have = TLS13_SECRET_BIT(TLS13_SECRET_R);
	}
	put_secrets(w, &x, q->secret_request);
	explicit_bzero(&x, sizeof(x));
	off = lurk_wr_open(w, 2);	/* ticket_list<2> */
	for (; n > 0; n--, s->tickets++) {
		for (i = 0; i < TICKET_NONCE_LEN; i++)
			nonce[i] = (uint64_t)s->tickets >>
			    (8 * (TICKET_NONCE_LEN - 1 - i));
		if (RAND_bytes((uint8_t *)&age_add, sizeof(age_add)) != 1 ||
		    tls13_expand_label(s->ks.md, s->r, "resumption", nonce,
		    sizeof(nonce), psk, hlen) == -1) {
			st = TLS13_ST_UNDEFINED_ERROR;
			break;
		}
		lurk_wr_num(w, lifetime, 4);
		lurk_wr_num(w, age_add, 4);
		lurk_wr_num(w, sizeof(nonce), 1);
		lurk_wr_bytes(w, nonce, sizeof(nonce));
		st = lurk13_ticket_seal(k, s->suite, psk, hlen, lifetime,
		    age_add, now, w) == -1 ? TLS13_ST_UNDEFINED_ERROR : 0;
		explicit_bzero(psk, sizeof(psk));
		lurk_wr_num(w, 0, 2);	/* extensions<2>: no early_data */
		if (st != 0)
			break;
	}
	lurk_wr_close(w, off, 2);
	if (st != 0)
		*why = "could not seal a ticket";
	if (last || st != 0)
		session_free(s);
	return st;
}

/* ---- s_init_early_secret, s_hand_and_app_secret ------------------------ */

static int
s_init_early_secret(struct key *nk, const struct keyop_req *req,
    const struct tls13_req *q, time_t now, struct lurk_wr *w,
    struct key **kp, const char **why)
{
	struct tls13_hello ch;
	struct tls13_ticket t;
	struct hsctx	 x;
	struct session	*s;
	struct key	*k;
	EVP_MD_CTX	*th = NULL;
	const struct tls13_msg *m = &q->h.m[0];
	const uint8_t	*id, *binder, *modes;
	uint8_t		 empty[EVP_MAX_MD_SIZE], tr[EVP_MAX_MD_SIZE];
	uint8_t		 want[EVP_MAX_MD_SIZE];
	size_t		 idlen, blen, cut, n, i;
	uint16_t	 count;
	int		 st;

	memset(&x, 0, sizeof(x));
	if (tls13_hello_parse(m, &ch) == -1)
		fatalx("%s: a ClientHello that does not parse", __func__);
	if (!drafts_fresh_ok(drafts_conf()->tls13_freshness, q->freshness,
	    TLS13_FRESH_NULL)) {
		*why = "freshness function not allowed";
		return TLS13_ST_INVALID_FRESHNESS;
	}
	if (q->secret_request & ~TLS13_SECRET_BIT(TLS13_SECRET_B)) {
		*why = "a secret this exchange does not give (lurkd does not "
		    "do 0-RTT: no e_s, e_x)";
		return TLS13_ST_INVALID_SECRET_REQUEST;
	}
	if ((st = tls13_psk(&ch, q->selected_identity, &id, &idlen, &binder,
	    &blen, &cut, &count)) != 0 ||
	    (modes = ext(&ch, TLS_EXT_PSK_KEY_EXCHANGE_MODES, &n)) == NULL ||
	    n < 2 || modes[0] != n - 1) {
		*why = st == -2 ? "no identity of the selected index" :
		    "ClientHello: no pre_shared_key last, or no "
		    "psk_key_exchange_modes";
		return st == -2 ? TLS13_ST_INVALID_PSK :
		    TLS13_ST_INVALID_HANDSHAKE;
	}
	/* netproc chose the keyproc and the key by the ticket's first bytes */
	if (idlen < LURKD_TICKET_ROUTE_LEN || id[1] != instance ||
	    (k = keyproc_key_byspki(id + 2, TLS12_KEY_ID_LEN)) != nk)
		fatalx("%s: netproc sent a ticket of another key or keyproc",
		    __func__);
	*kp = k;
	if ((k->operations & OP_TLS13_PSK) == 0) {
		*why = "the ticket's key does not allow resumption";
		return TLS13_ST_INVALID_PSK;
	}
	if ((st = lurk13_ticket_open(id, idlen, now, &t, why)) != 0)
		return st;
	/* within tls13 ticket lifetime too: a reload may have shortened it */
	if ((uint64_t)now - t.issued > drafts_conf()->tls13_ticket_lifetime) {
		*why = "ticket past tls13 ticket lifetime (lurkd.conf)";
		st = TLS13_ST_INVALID_PSK;
		goto done;
	}
	if ((st = hsctx_init(&x, t.suite, why)) != 0)
		goto done;
	/* the binder: over the ClientHello up to the binders */
	cut += ch.ext - m->body;
	if (blen != x.hlen || EVP_Digest("", 0, empty, NULL, x.md, NULL) != 1 ||
	    tls13_ks_init(&x.ks, x.md, t.psk, t.psklen) == -1 ||
	    derive(&x, TLS13_SECRET_B, "res binder", empty) == -1 ||
	    (th = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(th, x.md, NULL) != 1 ||
	    EVP_DigestUpdate(th, (uint8_t [4]){ TLS_HS_CLIENT_HELLO,
	    m->len >> 16, m->len >> 8, m->len }, 4) != 1 ||
	    EVP_DigestUpdate(th, m->body, cut) != 1 ||
	    EVP_DigestFinal_ex(th, tr, NULL) != 1 ||
	    tls13_finished(x.md, x.secret[TLS13_SECRET_B], tr, want) == -1) {
		*why = blen != x.hlen ? "a binder not of the hash's size" :
		    "key schedule failed";
		st = blen != x.hlen ? TLS13_ST_INVALID_PSK :
		    TLS13_ST_UNDEFINED_ERROR;
		goto done;
	}
	if (CRYPTO_memcmp(want, binder, blen) != 0) {
		*why = "the PSK binder does not match";
		st = TLS13_ST_INVALID_PSK;
		goto done;
	}
	if (m->len > CH_MAX || (s = session_new(req->uid, q->session_id,
	    now)) == NULL) {
		*why = m->len > CH_MAX ? "a ClientHello too long to keep" :
		    "no room for a session (lurkd.conf: tls13 sessions)";
		st = TLS13_ST_UNDEFINED_ERROR;
		goto done;
	}
	if ((s->ch = malloc(m->len)) == NULL ||
	    tls13_th_add(x.th, TLS_HS_CLIENT_HELLO, m->body, m->len) == -1) {
		session_free(s);
		*why = "out of memory";
		st = TLS13_ST_UNDEFINED_ERROR;
		goto done;
	}
	memcpy(s->ch, m->body, m->len);
	s->chlen = m->len;
	memcpy(s->key, k->pub.spki_sha256, sizeof(s->key));
	s->suite = t.suite;
	s->th = x.th;
	x.th = NULL;
	s->ks = x.ks;
	s->freshness = q->freshness;
	s->identity = q->selected_identity;
	for (i = 1; i < n; i++)
		s->psk_modes |= modes[i] == 0 ? 1 : modes[i] == 1 ? 2 : 0;
	s->state = ST_EARLY;
	lurk_wr_bytes(w, s->id, sizeof(s->id));
	put_secrets(w, &x, q->secret_request);
	st = 0;
 done:
	EVP_MD_CTX_free(th);
	explicit_bzero(&t, sizeof(t));
	explicit_bzero(want, sizeof(want));
	hsctx_free(&x);
	return st;
}

static int
s_hand_and_app(const struct keyop_req *req, const struct tls13_req *q,
    time_t now, struct lurk_wr *w, struct key **kp, const char **why)
{
	struct tls13_hello ch, sh;
	struct tls13_msg chm;
	struct session	*s;
	struct key	*k;
	struct hsctx	 x;
	const uint8_t	*p;
	uint8_t		 random[32];
	size_t		 n;
	const uint16_t	 allowed = TLS13_SECRET_BIT(TLS13_SECRET_H_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_H_S) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_S) |
	    TLS13_SECRET_BIT(TLS13_SECRET_X);
	int		 st, keep;

	memset(&x, 0, sizeof(x));
	if ((s = session_get(q->session_id, req->uid, now)) == NULL ||
	    s->state != ST_EARLY) {
		*why = "no such session, or not after s_init_early_secret";
		return TLS13_ST_INVALID_SESSION_ID;
	}
	if ((k = keyproc_key_byspki(s->key, sizeof(s->key))) == NULL ||
	    (k->operations & OP_TLS13_PSK) == 0) {
		session_free(s);
		*why = "the session's key no longer allows resumption";
		return TLS13_ST_INVALID_SESSION_ID;
	}
	*kp = k;
	if ((st = secrets_check(q->secret_request, allowed, k, why)) != 0)
		goto end;
	chm.type = TLS_HS_CLIENT_HELLO;
	chm.body = s->ch;
	chm.len = s->chlen;
	if (tls13_hello_parse(&chm, &ch) == -1 ||
	    tls13_hello_parse(&q->h.m[0], &sh) == -1)
		fatalx("%s: hellos that do not parse", __func__);
	if ((st = hellos_check(&ch, &sh, why)) != 0 ||
	    (st = ee_check(&q->h.m[1], why)) != 0)
		goto end;
	if ((p = ext(&sh, TLS_EXT_PRE_SHARED_KEY, &n)) == NULL || n != 2 ||
	    (p[0] << 8 | p[1]) != s->identity) {
		*why = "ServerHello: not the PSK of s_init_early_secret";
		st = TLS13_ST_INVALID_HANDSHAKE;
		goto end;
	}
	if (tls13_suite_md(sh.suite) != tls13_suite_md(s->suite)) {
		*why = "ServerHello: a cipher suite of another hash than the "
		    "ticket's";
		st = TLS13_ST_INVALID_HANDSHAKE;
		goto end;
	}
	if (!(s->psk_modes & (q->eph.method == TLS13_EPH_NO_SECRET ? 1 : 2))) {
		*why = "a PSK key exchange mode the client did not offer";
		st = TLS13_ST_INVALID_HANDSHAKE;
		goto end;
	}
	if ((st = fresh13(drafts_conf(), s->freshness, sh.random, random,
	    why)) != 0 || (st = hsctx_init(&x, sh.suite, why)) != 0 ||
	    (st = ecdhe(&q->eph, &ch, &sh, &x, why)) != 0)
		goto end;
	sh_rebuild(&sh, random, &x);
	/* the schedule goes on from the session's early secret */
	EVP_MD_CTX_free(x.th);
	x.th = s->th;
	s->th = NULL;
	x.ks = s->ks;
	if (x.sh.bad || (st = schedule(&x, &q->h.m[1], 1, NULL, NULL,
	    why)) != 0) {
		st = st ? st : TLS13_ST_UNDEFINED_ERROR;
		goto end;
	}
	keep = !(q->tag & TLS13_TAG_LAST_EXCHANGE) &&
	    (k->operations & OP_TLS13_NEW_TICKET) && k->tls13_tickets > 0;
	lurk_wr_num(w, keep ? 0 : TLS13_TAG_LAST_EXCHANGE, 1);
	lurk_wr_bytes(w, s->peer, sizeof(s->peer));
	put_eph(w, &q->eph, &x);
	put_secrets(w, &x, q->secret_request);
	if (keep) {
		session_keep(s, k, &x, 0);
		freezero(s->ch, s->chlen);
		s->ch = NULL;
		s->chlen = 0;
		s->state = ST_HAND;
		s = NULL;
	}
 end:
	if (s != NULL)
		session_free(s);
	explicit_bzero(random, sizeof(random));
	hsctx_free(&x);
	return st;
}

/* ---- the entry point ---------------------------------------------------- */

/*
 * One tls13 operation for netproc; the tls13 status.  *kp: the key it
 * used, for the log.
 */
int
lurk13_run(const struct keyop_req *req, const uint8_t *in, struct lurk_wr *w,
    struct key **kp, const char **why)
{
	struct tls13_req q;
	struct key	*k = NULL;
	const char	*perr;
	time_t		 now = time(NULL);
	int		 st;

	if (tls13_parse(req->type, in, req->len, &q, &perr) != 0)
		fatalx("%s: a tls13 %s from netproc that does not parse: %s",
		    __func__, draft_type_name(LURK_DESIG_TLS13, req->type),
		    perr);
	*kp = NULL;
	switch (req->type) {
	case TLS13_TYPE_S_INIT_CERT_VERIFY:
		*kp = k = keyproc_key(req->index);
		st = s_init_cert_verify(k, req, &q, now, w, why);
		break;
	case TLS13_TYPE_S_NEW_TICKET:
		if (req->index != KEYOP_NO_KEY)
			fatalx("%s: a key for a session's exchange", __func__);
		st = s_new_ticket(req, &q, now, w, kp, why);
		break;
	case TLS13_TYPE_S_INIT_EARLY_SECRET:
		st = s_init_early_secret(keyproc_key(req->index), req, &q,
		    now, w, kp, why);
		break;
	case TLS13_TYPE_S_HAND_AND_APP:
		if (req->index != KEYOP_NO_KEY)
			fatalx("%s: a key for a session's exchange", __func__);
		st = s_hand_and_app(req, &q, now, w, kp, why);
		break;
	default:
		fatalx("%s: tls13 type %u from netproc", __func__, req->type);
	}
	return st == 0 ? LURK_ST_SUCCESS : st;
}

/* What the operations fetch, once, before the sandbox. */
int
lurk13_warmup(void)
{
	static const uint16_t	 groups[] = { TLS_GROUP_X25519, TLS_GROUP_X448,
		TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1, TLS_GROUP_SECP521R1 };
	static const int	 nids[] = { NID_undef, NID_undef,
		NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1 };
	struct tls13_ks		 ks;
	struct hsctx		 x;
	struct tls13_ticket	 t;
	struct lurk_wr		 w;
	struct key		 k;
	const EC_GROUP		*g;
	const char		*why, *curve;
	uint8_t			 out[64], psk[32], peer[133];
	size_t			 i, len;
	int			 ok;

	if (gcm == NULL && (gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM",
	    NULL)) == NULL)
		return -1;
	memset(psk, 0, sizeof(psk));
	memset(out, 0, sizeof(out));
	if (tls13_ks_init(&ks, EVP_sha256(), psk, 32) == -1 ||
	    tls13_ks_next(&ks, psk, 32) == -1 ||
	    tls13_finished(EVP_sha384(), out, out, out) == -1)
		return -1;
	explicit_bzero(&ks, sizeof(ks));
	/* each group's key generation and derivation, with its base point */
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		memset(&x, 0, sizeof(x));
		memset(peer, 0, sizeof(peer));
		x.group = groups[i];
		if (group_alg(groups[i], &curve, &len) == NULL)
			return -1;
		if (nids[i] == NID_undef)
			peer[0] = groups[i] == TLS_GROUP_X25519 ? 9 : 5;
		else if ((g = curve_group(nids[i])) == NULL ||
		    EC_POINT_point2oct(g, EC_GROUP_get0_generator(g),
		    POINT_CONVERSION_UNCOMPRESSED, peer, sizeof(peer),
		    NULL) != len)
			return -1;
		ok = cs_generate(&x, peer, len, &why) == 0;
		explicit_bzero(&x, sizeof(x));
		if (!ok)
			return -1;
	}
	/* a ticket, sealed and opened */
	memset(&k, 0, sizeof(k));
	memset(&w, 0, sizeof(w));
	ok = lurk13_ticket_seal(&k, TLS13_AES_128_GCM_SHA256, psk, sizeof(psk),
	    10, 0, time(NULL), &w) == 0 && !w.bad &&
	    lurk13_ticket_open(w.p + 2, w.len - 2, time(NULL), &t, &why) == 0;
	lurk_wr_free(&w);
	explicit_bzero(&t, sizeof(t));
	return ok ? 0 : -1;
}
