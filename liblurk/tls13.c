/*
 * tls13 payloads (draft-mglt-lurk-tls13, the encoding of pylurk-T;
 * lurk-drafts.md §3) and the TLS 1.3 handshake messages they carry.
 * Every length is checked, nothing may be left over; a parser returns 0
 * or the tls13 status that says what is wrong, with a reason.  The
 * messages are kept as the bytes received, so that the transcript is
 * the hash of exactly those (with the uint24 lengths put back).
 */
#include <string.h>

#include "drafts.h"
#include "lurk.h"

#define BAD(s)	do { *why = (s); return TLS13_ST_INVALID_FORMAT; } while (0)
#define SHAPE(s) do { *why = (s); return TLS13_ST_INVALID_HANDSHAKE; } \
		    while (0)

/* The size of the shared secret of a NamedGroup; 0 if not one of ours. */
size_t
tls13_group_secret_len(uint16_t group)
{
	switch (group) {
	case TLS_GROUP_SECP256R1:
	case TLS_GROUP_X25519:
		return 32;
	case TLS_GROUP_SECP384R1:
		return 48;
	case TLS_GROUP_SECP521R1:
		return 66;
	case TLS_GROUP_X448:
		return 56;
	}
	return 0;
}

/* extensions<2> whose contents are well formed, none twice */
static int
exts(struct lurk_rd *r)
{
	const uint8_t	*e;
	size_t		 n;

	if ((e = lurk_rd_vec(r, 2, &n)) == NULL)
		return -1;
	return tls_exts_check(e, n);
}

/* ClientHello or ServerHello fields, from a reader over the body. */
static int
hello_fields(struct lurk_rd *r, int server, struct tls13_hello *h)
{
	size_t	 n;

	memset(h, 0, sizeof(*h));
	h->version = lurk_rd_num(r, 2);
	h->random = lurk_rd_get(r, 32);
	if ((h->sid = lurk_rd_vec(r, 1, &h->sid_len)) == NULL ||
	    h->sid_len > 32)
		return -1;
	if (server) {
		h->suite = lurk_rd_num(r, 2);
		if (lurk_rd_num(r, 1) != 0)
			return -1;
	} else {
		h->suites = lurk_rd_vec(r, 2, &h->suites_len);
		if (h->suites == NULL || h->suites_len < 2 ||
		    h->suites_len % 2 != 0 ||
		    lurk_rd_vec(r, 1, &n) == NULL || n < 1)
			return -1;
	}
	if ((h->ext = lurk_rd_vec(r, 2, &h->ext_len)) == NULL ||
	    tls_exts_check(h->ext, h->ext_len) == -1)
		return -1;
	return r->bad ? -1 : 0;
}

/* A message's fields again (tls13_hs_parse found where it ends). */
int
tls13_hello_parse(const struct tls13_msg *m, struct tls13_hello *h)
{
	struct lurk_rd	 r;

	if (m->type != TLS_HS_CLIENT_HELLO && m->type != TLS_HS_SERVER_HELLO)
		return -1;
	lurk_rd_init(&r, m->body, m->len);
	if (hello_fields(&r, m->type == TLS_HS_SERVER_HELLO, h) == -1 ||
	    r.left != 0)
		return -1;
	return 0;
}

/*
 * Handshake messages in LURK's encoding: each body is parsed as far as
 * it takes to find its end; a Finished, whose length only the cipher
 * suite gives, is the rest and comes last.
 */
int
tls13_hs_parse(const uint8_t *p, size_t len, struct tls13_hs *hs,
    const char **why)
{
	struct tls13_hello h;
	struct lurk_rd	 r;
	const uint8_t	*start;
	size_t		 n;
	uint8_t		 type;

	memset(hs, 0, sizeof(*hs));
	lurk_rd_init(&r, p, len);
	while (r.left > 0) {
		if (hs->n == TLS13_HS_MAX)
			BAD("handshake: too many messages");
		type = lurk_rd_num(&r, 1);
		start = r.p;
		switch (type) {
		case TLS_HS_CLIENT_HELLO:
		case TLS_HS_SERVER_HELLO:
			if (hello_fields(&r, type == TLS_HS_SERVER_HELLO,
			    &h) == -1)
				BAD("handshake: bad ClientHello or "
				    "ServerHello");
			break;
		case TLS_HS_ENCRYPTED_EXTENSIONS:
			if (exts(&r) == -1)
				BAD("handshake: bad EncryptedExtensions");
			break;
		case TLS_HS_CERTIFICATE_REQUEST:
			if (lurk_rd_vec(&r, 1, &n) == NULL || exts(&r) == -1)
				BAD("handshake: bad CertificateRequest");
			break;
		case TLS_HS_CERTIFICATE_VERIFY:
			(void)lurk_rd_num(&r, 2);
			if (lurk_rd_vec(&r, 2, &n) == NULL || n == 0)
				BAD("handshake: bad CertificateVerify");
			break;
		case TLS_HS_FINISHED:
			if (r.left != 32 && r.left != 48)
				BAD("handshake: a Finished must be last, of "
				    "32 or 48 bytes");
			(void)lurk_rd_get(&r, r.left);
			break;
		default:
			BAD("handshake: a message of a type not expected");
		}
		hs->m[hs->n].type = type;
		hs->m[hs->n].body = start;
		hs->m[hs->n].len = r.p - start;
		hs->n++;
	}
	return 0;
}

/* The messages of a request, in the order its type takes. */
static int
hs_shape(uint8_t type, const struct tls13_hs *hs, const char **why)
{
	static const uint8_t	 cv[] = { TLS_HS_CLIENT_HELLO,
		TLS_HS_SERVER_HELLO, TLS_HS_ENCRYPTED_EXTENSIONS,
		TLS_HS_CERTIFICATE_REQUEST };
	static const uint8_t	 ha[] = { TLS_HS_SERVER_HELLO,
		TLS_HS_ENCRYPTED_EXTENSIONS };
	const uint8_t		*want;
	size_t			 i, min, max;

	switch (type) {
	case TLS13_TYPE_S_INIT_CERT_VERIFY:
		want = cv;
		min = 3;
		max = 4;
		break;
	case TLS13_TYPE_S_INIT_EARLY_SECRET:
		want = cv;
		min = max = 1;
		break;
	case TLS13_TYPE_S_HAND_AND_APP:
		want = ha;
		min = max = 2;
		break;
	default:	/* s_new_ticket: [CertificateVerify] Finished, none */
		if (hs->n == 0 || (hs->n == 1 && hs->m[0].type ==
		    TLS_HS_FINISHED) || (hs->n == 2 && hs->m[0].type ==
		    TLS_HS_CERTIFICATE_VERIFY && hs->m[1].type ==
		    TLS_HS_FINISHED))
			return 0;
		SHAPE("handshake: s_new_ticket takes the client's "
		    "[CertificateVerify] Finished, or nothing");
	}
	if (hs->n < min || hs->n > max)
		SHAPE("handshake: not the messages this type takes");
	for (i = 0; i < hs->n; i++)
		if (hs->m[i].type != want[i])
			SHAPE("handshake: not the messages this type takes");
	return 0;
}

/*
 * Ephemeral, request form: method(1); e_generated: SharedSecret<2>,
 * the group and a secret of that group's size.
 */
static int
eph_parse(struct lurk_rd *r, struct tls13_eph *e, const char **why)
{
	struct lurk_rd	 s;
	const uint8_t	*p;
	size_t		 n;

	e->method = lurk_rd_num(r, 1);
	switch (e->method) {
	case TLS13_EPH_NO_SECRET:
	case TLS13_EPH_CS_GENERATED:
		if (r->bad)
			BAD("ephemeral missing");
		return 0;
	case TLS13_EPH_E_GENERATED:
		if ((p = lurk_rd_vec(r, 2, &n)) == NULL || n < 2)
			BAD("ephemeral truncated");
		lurk_rd_init(&s, p, n);
		e->group = lurk_rd_num(&s, 2);
		e->secret = s.p;
		e->secret_len = s.left;
		if (tls13_group_secret_len(e->group) != e->secret_len) {
			*why = "ephemeral: a shared secret not of its group's "
			    "size, or a group not supported";
			return TLS13_ST_INVALID_EPHEMERAL;
		}
		return 0;
	}
	*why = r->bad ? "ephemeral missing" : "unknown ephemeral method";
	return r->bad ? TLS13_ST_INVALID_FORMAT : TLS13_ST_INVALID_EPHEMERAL;
}

/*
 * Cert: cert_type(2), then no_certificate: nothing; finger_print:
 * context<1>, list<3> of { finger_print(4), extensions<2> };
 * uncompressed (RFC 8446 Certificate): context<1>, list<3> of
 * { cert_data<3>, extensions<2> }; zlib, brotli, zstd (RFC 8879):
 * algorithm(2), uncompressed_length(3), compressed<3>.
 */
static int
cert_parse(struct lurk_rd *r, struct tls13_cert *c, const char **why)
{
	struct lurk_rd	 l;
	size_t		 n;

	c->type = lurk_rd_num(r, 2);
	c->body = r->p;
	switch (c->type) {
	case TLS13_CERT_NONE:
		c->body = NULL;
		if (r->bad)
			BAD("certificate missing");
		return 0;
	case TLS13_CERT_FINGER_PRINT:
	case TLS13_CERT_UNCOMPRESSED:
		(void)lurk_rd_vec(r, 1, &n);
		if ((c->list = lurk_rd_vec(r, 3, &c->list_len)) == NULL)
			BAD("certificate truncated");
		lurk_rd_init(&l, c->list, c->list_len);
		while (l.left > 0 && !l.bad) {
			if (c->type == TLS13_CERT_FINGER_PRINT)
				(void)lurk_rd_get(&l, TLS13_FINGER_PRINT_LEN);
			else if (lurk_rd_vec(&l, 3, &n) == NULL || n == 0)
				BAD("certificate: an empty cert_data");
			if (exts(&l) == -1)
				BAD("certificate: bad entry");
		}
		break;
	case TLS13_CERT_ZLIB:
	case TLS13_CERT_BROTLI:
	case TLS13_CERT_ZSTD:
		(void)lurk_rd_num(r, 2);
		(void)lurk_rd_num(r, 3);
		if (lurk_rd_vec(r, 3, &n) == NULL)
			BAD("compressed certificate truncated");
		break;
	default:
		*why = r->bad ? "certificate missing" : "unknown cert_type";
		return r->bad ? TLS13_ST_INVALID_FORMAT :
		    TLS13_ST_INVALID_CERT_TYPE;
	}
	c->len = r->p - c->body;
	return 0;
}

/*
 * Entry i of a finger_print or uncompressed certificate_list: its data
 * (4 bytes, or a certificate) and its extensions.  0, or -1 past the end.
 */
int
tls13_cert_entry(const struct tls13_cert *c, size_t i, const uint8_t **data,
    size_t *len, const uint8_t **ext, size_t *extlen)
{
	struct lurk_rd	 l;
	size_t		 k;

	if (c->list == NULL)
		return -1;
	lurk_rd_init(&l, c->list, c->list_len);
	for (k = 0; l.left > 0 && !l.bad; k++) {
		if (c->type == TLS13_CERT_FINGER_PRINT) {
			*len = TLS13_FINGER_PRINT_LEN;
			*data = lurk_rd_get(&l, *len);
		} else
			*data = lurk_rd_vec(&l, 3, len);
		*ext = lurk_rd_vec(&l, 2, extlen);
		if (k == i)
			return l.bad ? -1 : 0;
	}
	return -1;
}

int
tls13_parse(uint8_t type, const uint8_t *p, size_t len, struct tls13_req *q,
    const char **why)
{
	struct lurk_rd	 r;
	int		 st, tag = type != TLS13_TYPE_S_INIT_EARLY_SECRET;

	memset(q, 0, sizeof(*q));
	q->type = type;
	lurk_rd_init(&r, p, len);
	if (tag) {
		q->tag = lurk_rd_num(&r, 1);
		if (q->tag & ~TLS13_TAG_LAST_EXCHANGE)
			BAD("tag: reserved bits set");
	}
	/* s_init_cert_verify: no session_id when stateless */
	if (!(type == TLS13_TYPE_S_INIT_CERT_VERIFY &&
	    (q->tag & TLS13_TAG_LAST_EXCHANGE)))
		q->session_id = lurk_rd_get(&r, TLS13_SESSION_ID_LEN);
	switch (type) {
	case TLS13_TYPE_S_INIT_CERT_VERIFY:
		q->freshness = lurk_rd_num(&r, 1);
		if (r.bad)
			BAD("s_init_cert_verify truncated");
		if ((st = eph_parse(&r, &q->eph, why)) != 0)
			return st;
		q->hs = lurk_rd_vec(&r, 4, &q->hs_len);
		if (r.bad)
			BAD("s_init_cert_verify truncated");
		if ((st = cert_parse(&r, &q->cert, why)) != 0)
			return st;
		q->secret_request = lurk_rd_num(&r, 2);
		q->sig_algo = lurk_rd_num(&r, 2);
		break;
	case TLS13_TYPE_S_NEW_TICKET:
		q->hs = lurk_rd_vec(&r, 4, &q->hs_len);
		if (r.bad)
			BAD("s_new_ticket truncated");
		if ((st = cert_parse(&r, &q->cert, why)) != 0)
			return st;
		q->ticket_nbr = lurk_rd_num(&r, 1);
		q->secret_request = lurk_rd_num(&r, 2);
		break;
	case TLS13_TYPE_S_INIT_EARLY_SECRET:
		q->freshness = lurk_rd_num(&r, 1);
		q->selected_identity = lurk_rd_num(&r, 2);
		q->hs = lurk_rd_vec(&r, 4, &q->hs_len);
		q->secret_request = lurk_rd_num(&r, 2);
		break;
	case TLS13_TYPE_S_HAND_AND_APP:
		if (r.bad)
			BAD("s_hand_and_app_secret truncated");
		if ((st = eph_parse(&r, &q->eph, why)) != 0)
			return st;
		q->hs = lurk_rd_vec(&r, 4, &q->hs_len);
		q->secret_request = lurk_rd_num(&r, 2);
		break;
	default:
		BAD("not a tls13 operation");
	}
	if (r.bad || r.left != 0)
		BAD(r.bad ? "request truncated" : "bytes after the request");
	if (q->secret_request & TLS13_SECRET_RESERVED)
		BAD("secret_request: reserved bits set");
	if ((st = tls13_hs_parse(q->hs, q->hs_len, &q->h, why)) != 0)
		return st;
	return hs_shape(type, &q->h, why);
}

/*
 * The PSK of index idx in a ClientHello's pre_shared_key (RFC 8446
 * §4.2.11), which must be its last extension: the identity, its binder,
 * where the binders<2> start, from the start of the extensions' contents
 * (what the binder's transcript leaves out), and how many identities
 * there are.  0; -1 if the extension is missing or malformed, -2 if
 * there is no identity idx.
 */
int
tls13_psk(const struct tls13_hello *ch, uint16_t idx, const uint8_t **id,
    size_t *idlen, const uint8_t **binder, size_t *blen, size_t *cut,
    uint16_t *count)
{
	struct lurk_rd	 r, e, l;
	const uint8_t	*ext = NULL, *ids, *binders;
	size_t		 n, extlen = 0, idslen, bslen;
	uint16_t	 i;

	*id = *binder = NULL;
	lurk_rd_init(&r, ch->ext, ch->ext_len);
	while (r.left > 0) {
		if (lurk_rd_num(&r, 2) == TLS_EXT_PRE_SHARED_KEY)
			ext = lurk_rd_vec(&r, 2, &extlen);
		else if (lurk_rd_vec(&r, 2, &n) != NULL && ext != NULL)
			return -1;	/* not the last */
		if (r.bad)
			return -1;
	}
	if (ext == NULL)
		return -1;
	lurk_rd_init(&e, ext, extlen);
	ids = lurk_rd_vec(&e, 2, &idslen);
	*cut = e.p - ch->ext;	/* binders<2>, from the extensions' start */
	binders = lurk_rd_vec(&e, 2, &bslen);
	if (ids == NULL || binders == NULL || e.left != 0)
		return -1;
	lurk_rd_init(&l, ids, idslen);
	for (i = 0; l.left > 0; i++) {
		const uint8_t	*d = lurk_rd_vec(&l, 2, &n);

		(void)lurk_rd_num(&l, 4);	/* obfuscated_ticket_age */
		if (d == NULL || n == 0 || l.bad)
			return -1;
		if (i == idx) {
			*id = d;
			*idlen = n;
		}
	}
	*count = i;
	lurk_rd_init(&l, binders, bslen);
	for (i = 0; l.left > 0; i++) {
		const uint8_t	*b = lurk_rd_vec(&l, 1, &n);

		if (b == NULL || n < 32)
			return -1;
		if (i == idx) {
			*binder = b;
			*blen = n;
		}
	}
	if (i != *count)
		return -1;
	return *id != NULL ? 0 : -2;
}
