/*
 * tls13 server operations on netproc's side: parse, find the key (by the
 * certificate for s_init_cert_verify, by the ticket's first bytes for
 * s_init_early_secret), check that the peer may use it and that its
 * policy allows the operation, and queue the request for a keyproc: the
 * one that holds the session (its number is the session_id's first
 * byte) or sealed the ticket.  The later exchanges of a session name no
 * key: the keyproc checks that they come from the uid that opened it.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "drafts.h"
#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"

/* The key of the certificate a s_init_cert_verify carries. */
static int
cert_key(const struct tls13_cert *c, struct netkey **kp, const char **why)
{
	const uint8_t	*d, *e, *leaf, *fp;
	size_t		 dl, el, ll, i;

	*kp = NULL;
	switch (c->type) {
	case TLS13_CERT_FINGER_PRINT:
	case TLS13_CERT_UNCOMPRESSED:
		break;
	case TLS13_CERT_NONE:
		*why = "no_certificate: nothing to sign for";
		return TLS13_ST_INVALID_CERTIFICATE;
	default:
		*why = "compressed certificates are not supported";
		return TLS13_ST_INVALID_CERT_TYPE;
	}
	if (tls13_cert_entry(c, 0, &d, &dl, &e, &el) == -1) {
		*why = "an empty certificate_list";
		return TLS13_ST_INVALID_CERTIFICATE;
	}
	for (i = 0; i < np->nkeys; i++) {
		if (c->type == TLS13_CERT_FINGER_PRINT) {
			if ((fp = netkey_fp(&np->keys[i])) != NULL &&
			    memcmp(fp, d, dl) == 0)
				break;
		} else if ((leaf = netkey_leaf(&np->keys[i], &ll)) != NULL &&
		    ll == dl && memcmp(leaf, d, dl) == 0)
			break;
	}
	if (i == np->nkeys) {
		*why = "no key of this certificate";
		return TLS13_ST_INVALID_CERTIFICATE;
	}
	*kp = &np->keys[i];
	return 0;
}

/* The key and keyproc of the ticket s_init_early_secret resumes with. */
static int
ticket_key(const struct tls13_req *q, struct netkey **kp, int *pin,
    const char **why)
{
	struct tls13_hello ch;
	const uint8_t	*id, *binder;
	size_t		 idlen, blen, cut;
	uint16_t	 count;
	int		 rc;

	*kp = NULL;
	if (tls13_hello_parse(&q->h.m[0], &ch) == -1 ||
	    (rc = tls13_psk(&ch, q->selected_identity, &id, &idlen, &binder,
	    &blen, &cut, &count)) == -1) {
		*why = "ClientHello: no pre_shared_key, or not the last "
		    "extension, or malformed";
		return TLS13_ST_INVALID_HANDSHAKE;
	}
	if (rc == -2) {
		*why = "no identity of the selected index";
		return TLS13_ST_INVALID_PSK;
	}
	if (idlen < LURKD_TICKET_ROUTE_LEN || id[0] != LURKD_TICKET_VERSION ||
	    id[1] >= np->nkeyprocs) {
		*why = "not a ticket of this lurkd";
		return TLS13_ST_INVALID_PSK;
	}
	if ((*kp = netkey_by_spki(id + 2, TLS12_KEY_ID_LEN)) == NULL) {
		*why = "the ticket's key is not here";
		return TLS13_ST_INVALID_PSK;
	}
	*pin = id[1];
	return 0;
}

void
tls13_request(struct conn *c, const struct lurk_hdr *h, const uint8_t *payload,
    size_t len)
{
	struct tls13_req	 q;
	struct keyop_req	 req;
	struct netkey		*k = NULL;
	const char		*why;
	char			 buf[IDENT_NAME_MAX + 96];
	uint32_t		 op = draft_op(LURK_DESIG_TLS13, h->type);
	uint8_t			 denied;
	int			 st, pin = -1;

	if ((st = tls13_parse(h->type, payload, len, &q, &why)) != 0) {
		drafts_refuse(c, h, NULL, st, REF_FORMAT, why);
		return;
	}
	switch (h->type) {
	case TLS13_TYPE_S_INIT_CERT_VERIFY:
		st = cert_key(&q.cert, &k, &why);
		denied = drafts_denied(h);
		break;
	case TLS13_TYPE_S_INIT_EARLY_SECRET:
		st = ticket_key(&q, &k, &pin, &why);
		denied = drafts_denied(h);
		break;
	default:
		/* a session's: its keyproc checks its owner */
		if (q.session_id[0] >= np->nkeyprocs) {
			st = TLS13_ST_INVALID_SESSION_ID;
			why = "no such session";
		}
		pin = q.session_id[0];
		denied = 0;
		break;
	}
	if (st != 0) {
		drafts_refuse(c, h, NULL, st, k == NULL && denied != 0 ?
		    REF_UNKNOWN_KEY : REF_FORMAT, why);
		return;
	}
	if (k != NULL && !authorized(c, k)) {
		strlcpy(buf, "unauthorized: ", sizeof(buf));
		unauthorized_why(c, buf + strlen(buf), sizeof(buf) -
		    strlen(buf), "");
		drafts_refuse(c, h, k, denied, REF_UNAUTHORIZED, buf);
		return;
	}
	if (k != NULL && (k->operations & op) == 0) {
		/* keyproc would refuse too; no need to bother it */
		drafts_refuse(c, h, k, denied, REF_OPERATION,
		    "operation not allowed for this key");
		return;
	}
	if ((why = edge_room(c)) != NULL) {
		drafts_refuse(c, h, k, TLS13_ST_UNDEFINED_ERROR, REF_IN_FLIGHT,
		    why);
		return;
	}
	/* s_init_cert_verify signs: under limit sign-tls13 rate */
	if (k != NULL && (why = key_rate_take(k, kop_index(h->designation,
	    h->type), buf, sizeof(buf))) != NULL) {
		drafts_refuse(c, h, k, TLS13_ST_UNDEFINED_ERROR, REF_KEY_RATE,
		    why);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.index = k != NULL ? (uint32_t)(k - np->keys) : KEYOP_NO_KEY;
	req.type = h->type;
	req.designation = LURK_DESIG_TLS13;
	req.len = len;
	if ((why = edge_enqueue(c, h, &req, payload, pin)) != NULL)
		drafts_refuse(c, h, k, TLS13_ST_UNDEFINED_ERROR, REF_FAILED,
		    why);
}
