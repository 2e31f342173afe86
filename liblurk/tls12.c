/*
 * tls12 payloads (draft-mglt-lurk-tls12-05 §4; lurk-drafts.md §2) and the
 * TLS 1.2 handshake messages some of them carry.  Each parser reads the
 * whole payload, every length checked, nothing left over, and returns 0
 * or the tls12 status that says what is wrong, with a reason.
 */
#include <string.h>

#include "drafts.h"
#include "lurk.h"

#define BAD(s)	do { *why = (s); return TLS12_ST_INVALID_PAYLOAD_FORMAT; } \
		    while (0)

/* ClientHello or ServerHello body (RFC 5246 §7.4.1.2, §7.4.1.3). */
static int
hello_parse(const uint8_t *p, size_t len, int server, struct tls12_hs *h,
    size_t off, const char **why)
{
	struct lurk_rd	 r;
	const uint8_t	*ext = NULL;
	size_t		 n, extlen = 0;
	uint16_t	 version;
	int		 ems;

	lurk_rd_init(&r, p, len);
	version = lurk_rd_num(&r, 2);
	if (server)
		h->sh_random = off + 2;
	else
		h->client_random = r.p;
	(void)lurk_rd_get(&r, TLS12_RANDOM_LEN);
	if (lurk_rd_vec(&r, 1, &n) == NULL || n > 32)
		BAD("hello: bad session_id");
	if (server) {
		h->cipher_suite = lurk_rd_num(&r, 2);
		if (lurk_rd_num(&r, 1) != 0)
			BAD("ServerHello: compression");
	} else {
		if (lurk_rd_vec(&r, 2, &n) == NULL || n < 2 || n % 2 != 0)
			BAD("ClientHello: bad cipher_suites");
		if (lurk_rd_vec(&r, 1, &n) == NULL || n < 1)
			BAD("ClientHello: bad compression_methods");
	}
	if (r.left > 0)
		ext = lurk_rd_vec(&r, 2, &extlen);
	if (r.bad || r.left != 0)
		BAD(server ? "ServerHello truncated or too long" :
		    "ClientHello truncated or too long");
	if (ext != NULL && tls_exts_check(ext, extlen) == -1)
		BAD("hello: bad or repeated extension");
	ems = ext != NULL && tls_ext_find(ext, extlen,
	    TLS_EXT_EXTENDED_MASTER_SECRET, &n) != NULL;
	if (server) {
		if (version != TLS_VERSION_12)
			BAD("ServerHello: not TLS 1.2");
		h->sh_ems = ems;
	} else {
		if (version < 0x0300 || version > TLS_VERSION_12)
			BAD("ClientHello: not a TLS 1.0-1.2 client_version");
		h->client_version = version;
		h->ch_ems = ems;
	}
	return 0;
}

/* certificate_list<3> of cert<3>, exactly the body. */
static int
certificate_ok(const uint8_t *p, size_t len)
{
	struct lurk_rd	 r, l;
	const uint8_t	*list;
	size_t		 n;

	lurk_rd_init(&r, p, len);
	list = lurk_rd_vec(&r, 3, &n);
	if (list == NULL || r.left != 0)
		return 0;
	lurk_rd_init(&l, list, n);
	while (l.left > 0 && !l.bad)
		if (lurk_rd_vec(&l, 3, &n) == NULL || n == 0)
			return 0;
	return !l.bad;
}

/*
 * The messages of an RSA key exchange, up to ClientKeyExchange and an
 * optional client CertificateVerify, in their order and nothing else.
 */
int
tls12_hs_parse(const uint8_t *p, size_t len, struct tls12_hs *h,
    const char **why)
{
	struct lurk_rd	 r, b;
	const uint8_t	*body;
	size_t		 n, off;
	int		 type, step = 0, certreq = 0, clientcert = 0, st;

	memset(h, 0, sizeof(*h));
	lurk_rd_init(&r, p, len);
	while (r.left > 0) {
		off = len - r.left;
		type = lurk_rd_num(&r, 1);
		if ((body = lurk_rd_vec(&r, 3, &n)) == NULL)
			BAD("handshake message truncated");
		lurk_rd_init(&b, body, n);
		switch (step) {
		case 0:
			if (type != TLS_HS_CLIENT_HELLO)
				BAD("handshake: ClientHello must come first");
			st = hello_parse(body, n, 0, h, off + 4, why);
			if (st != 0)
				return st;
			break;
		case 1:
			if (type != TLS_HS_SERVER_HELLO)
				BAD("handshake: ServerHello must follow");
			st = hello_parse(body, n, 1, h, off + 4, why);
			if (st != 0)
				return st;
			break;
		case 2:
			if (type != TLS_HS_CERTIFICATE ||
			    !certificate_ok(body, n))
				BAD("handshake: no server Certificate");
			break;
		case 3:
			if (type == TLS_HS_CERTIFICATE_REQUEST && !certreq) {
				/* types<1>, signature_algorithms<2>, CAs<2> */
				(void)lurk_rd_vec(&b, 1, &n);
				(void)lurk_rd_vec(&b, 2, &n);
				(void)lurk_rd_vec(&b, 2, &n);
				if (b.bad || b.left != 0)
					BAD("handshake: bad "
					    "CertificateRequest");
				certreq = 1;
				continue;	/* still step 3 */
			}
			if (type != TLS_HS_SERVER_HELLO_DONE || n != 0)
				BAD("handshake: ServerHelloDone must "
				    "follow (no ServerKeyExchange in RSA "
				    "key exchange)");
			break;
		case 4:
			if (type == TLS_HS_CERTIFICATE && certreq &&
			    !clientcert) {
				if (!certificate_ok(body, n) &&
				    !(n == 3 && body[0] == 0 && body[1] == 0 &&
				    body[2] == 0))
					BAD("handshake: bad client "
					    "Certificate");
				clientcert = 1;
				continue;	/* still step 4 */
			}
			if (type != TLS_HS_CLIENT_KEY_EXCHANGE)
				BAD("handshake: ClientKeyExchange must follow");
			h->epms = lurk_rd_vec(&b, 2, &h->epms_len);
			if (h->epms == NULL || b.left != 0 || h->epms_len == 0)
				BAD("handshake: bad ClientKeyExchange");
			h->cke_end = len - r.left;
			break;
		case 5:
			if (type != TLS_HS_CERTIFICATE_VERIFY || !clientcert)
				BAD("handshake: nothing but a client "
				    "CertificateVerify after "
				    "ClientKeyExchange");
			(void)lurk_rd_num(&b, 2);
			if (lurk_rd_vec(&b, 2, &n) == NULL || b.left != 0)
				BAD("handshake: bad CertificateVerify");
			break;
		default:
			BAD("handshake: messages after CertificateVerify");
		}
		step++;
	}
	if (step < 5)
		BAD("handshake ends before ClientKeyExchange");
	return 0;
}

/*
 * ServerECDHParams (RFC 8422 §5.4) and the proof of ownership of draft
 * -05: poo_prf(1), then for sha256_128 and sha256_256 vG<1> and r<1>.
 */
static int
ecdhe_parse(struct lurk_rd *r, struct tls12_req *q, const char **why)
{
	const uint8_t	*start = r->p;

	if (lurk_rd_num(r, 1) != TLS12_CURVE_NAMED) {
		*why = "ServerECDHParams: curve_type is not named_curve";
		return r->bad ? TLS12_ST_INVALID_PAYLOAD_FORMAT :
		    TLS12_ST_INVALID_EC_TYPE;
	}
	q->group = lurk_rd_num(r, 2);
	q->point = lurk_rd_vec(r, 1, &q->point_len);
	if (q->point == NULL || q->point_len == 0)
		BAD("ServerECDHParams truncated");
	q->params = start;
	q->params_len = r->p - start;
	q->poo_prf = lurk_rd_num(r, 1);
	if (r->bad)
		BAD("poo_params missing");
	switch (q->poo_prf) {
	case TLS12_POO_NULL:
		break;
	case TLS12_POO_SHA256_128:
	case TLS12_POO_SHA256_256:
		q->poo_v = lurk_rd_vec(r, 1, &q->poo_v_len);
		q->poo_r = lurk_rd_vec(r, 1, &q->poo_r_len);
		if (q->poo_v == NULL || q->poo_r == NULL ||
		    q->poo_v_len == 0 || q->poo_r_len == 0)
			BAD("poo_params truncated");
		break;
	default:
		*why = "unknown poo_prf";
		return TLS12_ST_INVALID_POO_PRF;
	}
	return 0;
}

int
tls12_parse(uint8_t type, const uint8_t *p, size_t len, struct tls12_req *q,
    const char **why)
{
	struct lurk_rd	 r;
	int		 st, ext, poh;

	memset(q, 0, sizeof(*q));
	q->type = type;
	lurk_rd_init(&r, p, len);
	q->key_id = r.p;
	if (lurk_rd_num(&r, 1) != TLS12_KEY_ID_SHA256_32) {
		*why = "unknown key_id type";
		return r.bad ? TLS12_ST_INVALID_PAYLOAD_FORMAT :
		    TLS12_ST_INVALID_KEY_ID_TYPE;
	}
	(void)lurk_rd_get(&r, TLS12_KEY_ID_LEN);
	q->freshness = lurk_rd_num(&r, 1);
	switch (type) {
	case TLS12_TYPE_RSA_MASTER:
		q->prf_hash = lurk_rd_num(&r, 1);
		q->client_random = lurk_rd_get(&r, TLS12_RANDOM_LEN);
		q->server_random = lurk_rd_get(&r, TLS12_RANDOM_LEN);
		/* EncryptedPreMasterSecret: the rest (pylurk-M) */
		q->epms = r.p;
		q->epms_len = r.left;
		if (r.bad || r.left == 0)
			BAD("rsa_master truncated");
		return 0;
	case TLS12_TYPE_RSA_MASTER_POH:
	case TLS12_TYPE_RSA_EXT_MASTER:
	case TLS12_TYPE_RSA_EXT_MASTER_POH:
		q->hs = lurk_rd_vec(&r, 2, &q->hs_len);
		poh = type != TLS12_TYPE_RSA_EXT_MASTER;
		if (poh)
			q->finished = lurk_rd_get(&r, TLS12_FINISHED_LEN);
		if (q->hs == NULL || r.bad || r.left != 0)
			BAD("handshake_messages or finished truncated, or "
			    "bytes after them");
		if ((st = tls12_hs_parse(q->hs, q->hs_len, &q->h, why)) != 0)
			return st;
		ext = type != TLS12_TYPE_RSA_MASTER_POH;
		if (ext && (!q->h.ch_ems || !q->h.sh_ems))
			BAD("extended master secret not offered and agreed");
		if (!ext && q->h.sh_ems)
			BAD("extended master secret agreed: use "
			    "rsa_extended_master_with_poh");
		return 0;
	case TLS12_TYPE_ECDHE:
		q->client_random = lurk_rd_get(&r, TLS12_RANDOM_LEN);
		q->server_random = lurk_rd_get(&r, TLS12_RANDOM_LEN);
		q->sig_and_hash = lurk_rd_num(&r, 2);
		if (r.bad)
			BAD("ecdhe truncated");
		if ((st = ecdhe_parse(&r, q, why)) != 0)
			return st;
		if (r.left != 0)
			BAD("bytes after poo_params");
		return 0;
	}
	BAD("not a tls12 key operation");
}
