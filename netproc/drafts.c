/*
 * The drafts' extensions, tls12 (designation 1) and tls13 (2), on
 * netproc's side: what is common to both (the type and status checks,
 * ping, capabilities, the keys by their drafts' ids, counters); the
 * operations themselves are in tls12.c and tls13.c.  As for the edge
 * extension, netproc decides who may use a key and hands the request,
 * once it parses, to a keyproc, which decides what the key may be used
 * for and does the rest (the freshness function, the time window, the
 * key schedule): nothing secret is ever here but what an operation
 * returns to the edge by definition.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "drafts.h"
#include "keyproc/keyproc.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

/*
 * An error answer in the extension's numbering, and one log line with
 * the fields of the edge's; counted by key, operation and status, and
 * by reason, as the edge's are.
 */
void
drafts_refuse(struct conn *c, const struct lurk_hdr *h, struct netkey *k,
    uint8_t status, enum refusal reason, const char *why)
{
	char	 what[160];
	int	 op = kop_index(h->designation, h->type);

	stats_count(k, op, status);
	stats_refusal(reason);
	snprintf(what, sizeof(what), "%s %s key \"%s\"",
	    draft_status_name(h->designation, status),
	    draft_type_name(h->designation, h->type),
	    k != NULL ? k->pub.name : "-");
	conn_refuse(c, h, status, what, why, k != NULL ? k->pub.name : NULL,
	    op != -1 ? kop_name(op) : NULL);
}

/*
 * The status of a key the peer may not use, or not for this, as if it
 * were not there: tls12's invalid_key_id (as pylurk-M answers for a key
 * not configured for a type), tls13's for the key's certificate or the
 * ticket that named it.
 */
uint8_t
drafts_denied(const struct lurk_hdr *h)
{
	if (h->designation == LURK_DESIG_TLS12)
		return TLS12_ST_INVALID_KEY_ID;
	return h->type == TLS13_TYPE_S_INIT_EARLY_SECRET ?
	    TLS13_ST_INVALID_PSK : TLS13_ST_INVALID_CERTIFICATE;
}

/* The key's own certificate, the first of its chain (cert<3>...). */
const uint8_t *
netkey_leaf(const struct netkey *k, size_t *len)
{
	const uint8_t	*ch = k->chain;

	if (k->pub.chain_len < 3)
		return NULL;
	*len = (size_t)ch[0] << 16 | (size_t)ch[1] << 8 | ch[2];
	if (*len == 0 || *len > k->pub.chain_len - 3)
		return NULL;
	return ch + 3;
}

/*
 * The tls13 finger_print of a key: SHA-256 of its certificate, 4 bytes;
 * NULL if it has none.
 */
const uint8_t *
netkey_fp(struct netkey *k)
{
	const uint8_t	*leaf;
	uint8_t		 md[EVP_MAX_MD_SIZE];
	size_t		 len;

	if (!k->fp_ok) {
		if ((leaf = netkey_leaf(k, &len)) == NULL ||
		    !EVP_Digest(leaf, len, md, NULL, EVP_sha256(), NULL))
			return NULL;
		memcpy(k->fp, md, sizeof(k->fp));
		k->fp_ok = 1;
	}
	return k->fp;
}

/* ---- capabilities ---------------------------------------------------- */

static const uint8_t	 tls12_ecdhe_groups[] = {
	0, TLS_GROUP_SECP256R1, 0, TLS_GROUP_SECP384R1, 0, TLS_GROUP_SECP521R1,
	0, TLS_GROUP_X25519, 0, TLS_GROUP_X448,
};

/* The ECDHE suites a TLS 1.2 server signs for. */
static const uint16_t	 ecdhe_suites[] = {
	0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9,
	0xc023, 0xc024, 0xc027, 0xc028, 0xc009, 0xc00a, 0xc013, 0xc014,
};

static void
put_freshness(struct lurk_wr *w, uint32_t fresh, uint8_t nullcode)
{
	size_t	 off = lurk_wr_open(w, 1);

	if (fresh & LURKD_FRESH_SHA256)
		lurk_wr_num(w, 0, 1);	/* sha256: 0 in both drafts */
	if (fresh & LURKD_FRESH_NULL)
		lurk_wr_num(w, nullcode, 1);
	lurk_wr_close(w, off, 1);
}

/*
 * The peer capabilities are for, and whether they list certificates
 * (they do unless the answer would be over the maximum message size).
 */
static const struct conn	*capconn;
static int			 capcerts;

/* certificate_list<3>: the certificate of each key allowed op, the peer's. */
static void
put_certificates(struct lurk_wr *w, uint32_t op, int rsa_only)
{
	const uint8_t	*leaf;
	size_t		 i, len, off = lurk_wr_open(w, 3);

	for (i = 0; i < np->nkeys && capcerts; i++) {
		if ((np->keys[i].operations & op) == 0 ||
		    (rsa_only && np->keys[i].pub.kind != KEY_RSA) ||
		    !authorized(capconn, &np->keys[i]) ||
		    (leaf = netkey_leaf(&np->keys[i], &len)) == NULL)
			continue;
		lurk_wr_num(w, len, 3);
		lurk_wr_bytes(w, leaf, len);
	}
	lurk_wr_close(w, off, 3);
}

/* The union of the signature schemes of the keys allowed op. */
static void
put_schemes(struct lurk_wr *w, uint32_t op, int tls13)
{
	uint16_t	 s[32], all[64];
	size_t		 i, j, k, n, nall = 0, off;

	for (i = 0; i < np->nkeys; i++) {
		if ((np->keys[i].operations & op) == 0)
			continue;
		n = scheme_list(np->keys[i].pub.kind, np->keys[i].pub.curve_nid,
		    tls13, s, 32);
		for (j = 0; j < n; j++) {
			for (k = 0; k < nall && all[k] != s[j]; k++)
				;
			if (k == nall && nall < 64)
				all[nall++] = s[j];
		}
	}
	off = lurk_wr_open(w, 2);
	for (i = 0; i < nall; i++)
		lurk_wr_num(w, all[i], 2);
	lurk_wr_close(w, off, 2);
}

/* 1 if some key's policy allows op. */
static int
some_key(uint32_t op)
{
	size_t	 i;

	for (i = 0; i < np->nkeys; i++)
		if (np->keys[i].operations & op)
			return 1;
	return 0;
}

/*
 * tls12 capabilities: a record per operation that a key allows, as in
 * pylurk-M (length(4), type(1), then lists), and lurk_state (lurk(7)).
 */
static void
tls12_capabilities(struct lurk_wr *w)
{
	const uint16_t	*suites;
	size_t		 i, j, n, rec, off;
	uint8_t		 type;
	uint32_t	 op;

	for (type = TLS12_TYPE_RSA_MASTER; type < TLS12_NTYPES; type++) {
		if (!some_key(op = draft_op(LURK_DESIG_TLS12, type)))
			continue;
		rec = lurk_wr_open(w, 4);
		lurk_wr_num(w, type, 1);
		lurk_wr_num(w, 1, 1);		/* key_id_type_list<1> */
		lurk_wr_num(w, TLS12_KEY_ID_SHA256_32, 1);
		put_certificates(w, op, type != TLS12_TYPE_ECDHE);
		put_freshness(w, np->drafts.tls12_freshness, TLS12_FRESH_NULL);
		off = lurk_wr_open(w, 2);	/* cipher_suites<2> */
		if (type == TLS12_TYPE_ECDHE)
			for (i = 0; i < sizeof(ecdhe_suites) /
			    sizeof(ecdhe_suites[0]); i++)
				lurk_wr_num(w, ecdhe_suites[i], 2);
		else
			for (i = 0, n = tls12_rsa_suites(&suites); i < n; i++)
				lurk_wr_num(w, suites[i], 2);
		lurk_wr_close(w, off, 2);
		if (type != TLS12_TYPE_ECDHE) {
			/* prf_hash_list<1>: SHA-512 only where it is asked */
			off = lurk_wr_open(w, 1);
			lurk_wr_num(w, TLS12_PRF_SHA256, 1);
			lurk_wr_num(w, TLS12_PRF_SHA384, 1);
			if (type == TLS12_TYPE_RSA_MASTER)
				lurk_wr_num(w, TLS12_PRF_SHA512, 1);
			lurk_wr_close(w, off, 1);
		} else {
			put_schemes(w, op, 0);
			off = lurk_wr_open(w, 1);	/* ecdsa_curve_list */
			for (i = 0; i < np->nkeys; i++) {
				uint16_t g;

				if ((np->keys[i].operations & op) == 0 ||
				    np->keys[i].pub.kind != KEY_EC)
					continue;
				g = tls_group(np->keys[i].pub.curve_nid);
				for (j = off + 1; j < w->len && !w->bad;
				    j += 2)
					if ((w->p[j] << 8 | w->p[j + 1]) == g)
						break;
				if (w->bad || j >= w->len)
					lurk_wr_num(w, g, 2);
			}
			lurk_wr_close(w, off, 1);
			off = lurk_wr_open(w, 1);	/* ecdhe_curve_list */
			lurk_wr_bytes(w, tls12_ecdhe_groups,
			    sizeof(tls12_ecdhe_groups));
			lurk_wr_close(w, off, 1);
			off = lurk_wr_open(w, 1);	/* poo_prf_list */
			lurk_wr_num(w, TLS12_POO_NULL, 1);
			lurk_wr_num(w, TLS12_POO_SHA256_128, 1);
			lurk_wr_num(w, TLS12_POO_SHA256_256, 1);
			lurk_wr_close(w, off, 1);
		}
		lurk_wr_close(w, rec, 4);
	}
}

/* The secrets some key allowed op may give. */
static uint32_t
secrets_of(uint32_t op)
{
	uint32_t	 s = 0;
	size_t		 i;

	for (i = 0; i < np->nkeys; i++)
		if (np->keys[i].operations & op)
			s |= np->keys[i].tls13_secrets;
	return s;
}

/*
 * tls13 capabilities: the drafts define none (pylurk-T answers lurk's
 * capabilities instead); lurkd's records are alike those of tls12:
 * length(4), type(1), then what that type takes (lurk(7)).
 */
static void
tls13_capabilities(struct lurk_wr *w)
{
	static const uint8_t	 groups[] = {
		0, TLS_GROUP_SECP256R1, 0, TLS_GROUP_SECP384R1,
		0, TLS_GROUP_SECP521R1, 0, TLS_GROUP_X25519, 0, TLS_GROUP_X448,
	};
	size_t			 i, rec, off;
	uint32_t		 tickets;
	uint8_t			 type;
	uint32_t		 op;

	for (type = TLS13_TYPE_S_INIT_CERT_VERIFY; type < TLS13_NTYPES;
	    type++) {
		if (!some_key(op = draft_op(LURK_DESIG_TLS13, type)))
			continue;
		rec = lurk_wr_open(w, 4);
		lurk_wr_num(w, type, 1);
		switch (type) {
		case TLS13_TYPE_S_INIT_CERT_VERIFY:
			put_freshness(w, np->drafts.tls13_freshness,
			    TLS13_FRESH_NULL);
			lurk_wr_num(w, 2, 1);	/* ephemeral methods<1> */
			lurk_wr_num(w, TLS13_EPH_E_GENERATED, 1);
			lurk_wr_num(w, TLS13_EPH_CS_GENERATED, 1);
			off = lurk_wr_open(w, 1);
			lurk_wr_bytes(w, groups, sizeof(groups));
			lurk_wr_close(w, off, 1);
			lurk_wr_num(w, 4, 1);	/* cert types<1>, 2 bytes */
			lurk_wr_num(w, TLS13_CERT_FINGER_PRINT, 2);
			lurk_wr_num(w, TLS13_CERT_UNCOMPRESSED, 2);
			put_schemes(w, op, 1);
			lurk_wr_num(w, secrets_of(op) &
			    ~TLS13_SECRET_BIT(TLS13_SECRET_R), 2);
			put_certificates(w, op, 0);
			break;
		case TLS13_TYPE_S_NEW_TICKET:
			for (i = 0, tickets = 0; i < np->nkeys; i++)
				if ((np->keys[i].operations & op) &&
				    np->keys[i].tls13_tickets > tickets)
					tickets = np->keys[i].tls13_tickets;
			lurk_wr_num(w, tickets, 1);
			lurk_wr_num(w, np->drafts.tls13_ticket_lifetime, 4);
			lurk_wr_num(w, secrets_of(op) &
			    TLS13_SECRET_BIT(TLS13_SECRET_R), 2);
			break;
		case TLS13_TYPE_S_INIT_EARLY_SECRET:
			put_freshness(w, np->drafts.tls13_freshness,
			    TLS13_FRESH_NULL);
			lurk_wr_num(w, TLS13_SECRET_BIT(TLS13_SECRET_B), 2);
			break;
		case TLS13_TYPE_S_HAND_AND_APP:
			lurk_wr_num(w, 3, 1);	/* ephemeral methods<1> */
			lurk_wr_num(w, TLS13_EPH_NO_SECRET, 1);
			lurk_wr_num(w, TLS13_EPH_E_GENERATED, 1);
			lurk_wr_num(w, TLS13_EPH_CS_GENERATED, 1);
			off = lurk_wr_open(w, 1);
			lurk_wr_bytes(w, groups, sizeof(groups));
			lurk_wr_close(w, off, 1);
			lurk_wr_num(w, secrets_of(op) &
			    ~TLS13_SECRET_BIT(TLS13_SECRET_R), 2);
			break;
		}
		lurk_wr_close(w, rec, 4);
	}
}

/*
 * The certificates listed are those of the keys the peer may use; if
 * they would make the answer larger than a message may be, none is
 * listed (the edge extension's key_info gives them one at a time).
 */
static void
capabilities(struct conn *c, const struct lurk_hdr *h)
{
	struct lurk_wr	 w;
	struct iovec	 iov;

	memset(&w, 0, sizeof(w));
	capconn = c;
	for (capcerts = 1; capcerts >= 0; capcerts--) {
		lurk_wr_free(&w);
		if (h->designation == LURK_DESIG_TLS12)
			tls12_capabilities(&w);
		else
			tls13_capabilities(&w);
		lurk_wr_bytes(&w, np->state, LURK_STATE_LEN);
		if (w.bad || w.len <= np->max_message - LURK_HDR_LEN)
			break;
	}
	if (w.bad) {
		lurk_wr_free(&w);
		drafts_refuse(c, h, NULL, lurk_status(h->designation,
		    LURK_ERR_UNDEFINED), REF_FAILED, "out of memory");
		return;
	}
	iov.iov_base = w.p;
	iov.iov_len = w.len;
	conn_reply(c, h, LURK_ST_SUCCESS, &iov, 1);
	lurk_wr_free(&w);
}

/*
 * A tls12 or tls13 request, in the drafts' order: type, status, then the
 * payload (drafts §1.3).
 */
void
drafts_request(struct conn *c, const struct lurk_hdr *h, const uint8_t *payload,
    size_t len)
{
	uint8_t	 d = h->designation;
	int	 ntypes = d == LURK_DESIG_TLS12 ? TLS12_NTYPES : TLS13_NTYPES;

	if (h->type >= ntypes) {
		drafts_refuse(c, h, NULL, lurk_status(d, LURK_ERR_TYPE),
		    REF_TYPE, d == LURK_DESIG_TLS13 && h->type <= 12 ?
		    "a client-side type: lurkd serves TLS servers" :
		    "unknown type");
		return;
	}
	if (h->status != LURK_ST_REQUEST) {
		drafts_refuse(c, h, NULL, lurk_status(d, LURK_ERR_STATUS),
		    REF_STATUS, "not a request");
		return;
	}
	if (h->type == TLS12_TYPE_PING || h->type == TLS12_TYPE_CAPABILITIES) {
		struct iovec	 iov = { np->state, 0 };

		if (len != 0)
			drafts_refuse(c, h, NULL, lurk_status(d,
			    LURK_ERR_FORMAT), REF_FORMAT,
			    "payload must be empty");
		else if (h->type == TLS12_TYPE_CAPABILITIES)
			capabilities(c, h);
		else
			conn_reply(c, h, LURK_ST_SUCCESS, &iov, 1);
		return;
	}
	if (d == LURK_DESIG_TLS12)
		tls12_request(c, h, payload, len);
	else
		tls13_request(c, h, payload, len);
}
