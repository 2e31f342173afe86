/*
 * tls12 key operations on netproc's side: parse, find the key by its
 * sha256_32 id, check that the peer may use it and that its policy
 * allows the operation, then queue it for a keyproc like the edge
 * extension's (edge.c).  A key the peer may not use, or not for this,
 * is as unknown to it: invalid_key_id, as pylurk-M answers for a key
 * not configured for a type; the log says which.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "drafts.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

void
tls12_request(struct conn *c, const struct lurk_hdr *h, const uint8_t *payload,
    size_t len)
{
	struct tls12_req	 q;
	struct keyop_req	 req;
	struct netkey		*k;
	const char		*why;
	char			 buf[IDENT_NAME_MAX + 96], hex[2 * TLS12_KEY_ID_LEN + 1];
	uint32_t		 op = draft_op(LURK_DESIG_TLS12, h->type);
	int			 st;

	if ((st = tls12_parse(h->type, payload, len, &q, &why)) != 0) {
		drafts_refuse(c, h, NULL, st, REF_FORMAT, why);
		return;
	}
	if ((k = netkey_by_spki(q.key_id + 1, TLS12_KEY_ID_LEN)) == NULL) {
		snprintf(buf, sizeof(buf), "no such key: id %s",
		    lurk_hex(q.key_id + 1, TLS12_KEY_ID_LEN, hex, sizeof(hex)));
		drafts_refuse(c, h, NULL, TLS12_ST_INVALID_KEY_ID,
		    REF_UNKNOWN_KEY, buf);
		return;
	}
	if (!authorized(c, k)) {
		strlcpy(buf, "unauthorized: ", sizeof(buf));
		unauthorized_why(c, buf + strlen(buf), sizeof(buf) -
		    strlen(buf), "");
		drafts_refuse(c, h, k, TLS12_ST_INVALID_KEY_ID,
		    REF_UNAUTHORIZED, buf);
		return;
	}
	if ((k->operations & op) == 0) {
		/* keyproc would refuse too; no need to bother it */
		drafts_refuse(c, h, k, TLS12_ST_INVALID_KEY_ID, REF_OPERATION,
		    "operation not allowed for this key");
		return;
	}
	if ((why = edge_room(c)) != NULL) {
		drafts_refuse(c, h, k, TLS12_ST_UNDEFINED_ERROR, REF_IN_FLIGHT,
		    why);
		return;
	}
	/*
	 * The key's limit of the edge operation that does the same with
	 * it: a master secret without the client's Finished tells a
	 * ciphertext whose padding is right from one whose is not (two
	 * requests: the same master, or two random ones), a padding oracle
	 * as rsa-kex is (lurk(7)), so under limit rsa-kex rate; ecdhe signs
	 * a ServerKeyExchange, under limit sign-tls12 rate.
	 */
	if ((why = key_rate_take(k, kop_index(h->designation, h->type), buf,
	    sizeof(buf))) != NULL) {
		drafts_refuse(c, h, k, TLS12_ST_UNDEFINED_ERROR, REF_KEY_RATE,
		    why);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.index = k - np->keys;
	req.type = h->type;
	req.designation = LURK_DESIG_TLS12;
	req.len = len;
	if ((why = edge_enqueue(c, h, &req, payload, -1)) != NULL)
		drafts_refuse(c, h, k, TLS12_ST_UNDEFINED_ERROR, REF_FAILED,
		    why);
}
