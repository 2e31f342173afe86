/*
 * fuzz_drafts: the parsers of the drafts' payloads, which netproc runs on
 * what a peer sends and keyproc again on what netproc passes on
 * (liblurk/tls12.c, tls13.c, drafts.c).
 *
 * Input: designation(1) type(1) payload...
 *   designation 1: tls12_parse(type, payload); 2: tls13_parse; with type
 *   0x80: the handshake-message parser alone, tls12_hs_parse or
 *   tls13_hs_parse, on the payload.
 *
 * What must hold, besides no ASan/UBSan report:
 *  - a refusal is a status of the extension with a reason; an
 *    acceptance is 0;
 *  - what a parse that succeeded points to lies within the payload, the
 *    handshake messages tile the handshake field exactly (type and body,
 *    LURK's encoding for tls13), ServerHello.random and ClientKeyExchange
 *    lie within the TLS 1.2 handshake;
 *  - the helpers keyproc runs on an accepted request work on it: every
 *    hello parses again (tls13_hello_parse), the PSK lookup and the
 *    certificate entries stay within their bytes;
 *  - the same bytes parse to the same result twice (netproc's parse and
 *    keyproc's must agree).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drafts.h"
#include "lurk.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	*lo, *hi;	/* the payload */

static void
within(const uint8_t *p, size_t len)
{
	if (p == NULL) {
		if (len != 0)
			abort();
		return;
	}
	if (p < lo || p > hi || len > (size_t)(hi - p))
		abort();
}

static void
status_ok(int st, const char *why, int d)
{
	if (st == 0)
		return;
	if (why == NULL)
		abort();	/* a refusal says why */
	if (d == LURK_DESIG_TLS12 && (st < TLS12_ST_UNDEFINED_ERROR ||
	    st > TLS12_ST_INVALID_CIPHER_PRF))
		abort();
	if (d == LURK_DESIG_TLS13 && (st < TLS13_ST_UNDEFINED_ERROR ||
	    st > TLS13_ST_INVALID_STATUS))
		abort();
}

static void
hs12_check(const struct tls12_hs *h, const uint8_t *hs, size_t len)
{
	if (h->sh_random + 32 > len || h->cke_end > len ||
	    h->cke_end <= h->sh_random)
		abort();
	within(h->client_random, 32);
	within(h->epms, h->epms_len);
	if (h->epms + h->epms_len > hs + h->cke_end)
		abort();
}

static void
hs13_check(const struct tls13_hs *hs, const uint8_t *p, size_t len)
{
	struct tls13_hello h;
	size_t		 i, off = 0;

	for (i = 0; i < hs->n; i++) {
		/* type, then the body, one message after the other */
		if (hs->m[i].body != p + off + 1 || p[off] != hs->m[i].type)
			abort();
		within(hs->m[i].body, hs->m[i].len);
		off += 1 + hs->m[i].len;
		if ((hs->m[i].type == TLS_HS_CLIENT_HELLO ||
		    hs->m[i].type == TLS_HS_SERVER_HELLO) &&
		    tls13_hello_parse(&hs->m[i], &h) == -1)
			abort();
	}
	if (off != len)
		abort();
}

static void
tls12(uint8_t type, const uint8_t *p, size_t len)
{
	struct tls12_req q, q2;
	const char	*why = NULL, *why2 = NULL;
	int		 st;

	st = tls12_parse(type, p, len, &q, &why);
	status_ok(st, why, LURK_DESIG_TLS12);
	if (tls12_parse(type, p, len, &q2, &why2) != st ||
	    (st == 0 && memcmp(&q, &q2, sizeof(q)) != 0))
		abort();
	if (st != 0)
		return;
	within(q.key_id, 5);
	within(q.client_random, q.client_random ? 32 : 0);
	within(q.server_random, q.server_random ? 32 : 0);
	within(q.epms, q.epms_len);
	within(q.hs, q.hs_len);
	within(q.finished, q.finished ? TLS12_FINISHED_LEN : 0);
	within(q.params, q.params_len);
	within(q.point, q.point_len);
	within(q.poo_v, q.poo_v_len);
	within(q.poo_r, q.poo_r_len);
	if (q.hs != NULL)
		hs12_check(&q.h, q.hs, q.hs_len);
	if (type == TLS12_TYPE_ECDHE && (q.point < q.params ||
	    q.point + q.point_len > q.params + q.params_len))
		abort();
}

static void
tls13(uint8_t type, const uint8_t *p, size_t len)
{
	struct tls13_req q, q2;
	struct tls13_hello ch;
	const char	*why = NULL, *why2 = NULL;
	const uint8_t	*id, *binder, *d, *e;
	size_t		 idlen, blen, cut, dl, el, i;
	uint16_t	 count;
	int		 st;

	st = tls13_parse(type, p, len, &q, &why);
	status_ok(st, why, LURK_DESIG_TLS13);
	if (tls13_parse(type, p, len, &q2, &why2) != st ||
	    (st == 0 && memcmp(&q, &q2, sizeof(q)) != 0))
		abort();
	if (st != 0)
		return;
	within(q.session_id, q.session_id ? 4 : 0);
	within(q.eph.secret, q.eph.secret_len);
	within(q.hs, q.hs_len);
	within(q.cert.body, q.cert.len);
	within(q.cert.list, q.cert.list_len);
	hs13_check(&q.h, q.hs, q.hs_len);
	for (i = 0; tls13_cert_entry(&q.cert, i, &d, &dl, &e, &el) == 0; i++) {
		within(d, dl);
		within(e, el);
		if (i > len)
			abort();
	}
	if (q.h.n > 0 && q.h.m[0].type == TLS_HS_CLIENT_HELLO &&
	    tls13_hello_parse(&q.h.m[0], &ch) == 0 &&
	    tls13_psk(&ch, q.selected_identity, &id, &idlen, &binder, &blen,
	    &cut, &count) == 0) {
		within(id, idlen);
		within(binder, blen);
		if (cut > ch.ext_len)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls12_hs	 h12;
	struct tls13_hs	 h13;
	const char	*why = NULL;
	const uint8_t	*p;
	size_t		 len;
	int		 st;

	if (size < 2)
		return 0;
	/* a copy of its own size: ASan sees a read past the end */
	len = size - 2;
	if ((p = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy((uint8_t *)(uintptr_t)p, data + 2, len);
	lo = p;
	hi = p + len;
	if (data[0] == LURK_DESIG_TLS12 && data[1] == 0x80) {
		st = tls12_hs_parse(p, len, &h12, &why);
		status_ok(st, why, LURK_DESIG_TLS12);
		if (st == 0)
			hs12_check(&h12, p, len);
	} else if (data[0] == LURK_DESIG_TLS13 && data[1] == 0x80) {
		st = tls13_hs_parse(p, len, &h13, &why);
		status_ok(st, why, LURK_DESIG_TLS13);
		if (st == 0)
			hs13_check(&h13, p, len);
	} else if (data[0] == LURK_DESIG_TLS12)
		tls12(data[1], p, len);
	else if (data[0] == LURK_DESIG_TLS13)
		tls13(data[1], p, len);
	free((void *)(uintptr_t)p);
	return 0;
}
