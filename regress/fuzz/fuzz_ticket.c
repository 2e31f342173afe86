/*
 * fuzz_ticket: the session tickets keyproc seals and opens
 * (keyproc/lurk13.c), with the real AES-256-GCM key of a keyproc.  At
 * start it seals one ticket (a known PSK, lifetime 100 s, issued now).
 *
 * Input: mode(1) then
 *   mode 0: bytes offered as a ticket;
 *   mode 1: a mask XORed over the sealed ticket (repeated over it);
 *   mode 2: 4 bytes, a signed offset of the time of opening, in seconds.
 *
 * What must hold, besides no ASan/UBSan report:
 *  - bytes not sealed by this keyproc never open: a ticket opens only if
 *    it is the sealed one (mode 0: equal to it; mode 1: a mask of zeros),
 *    and then gives back its PSK and suite; a refusal is invalid_psk with
 *    a reason;
 *  - the sealed ticket opens exactly while 0 <= now - issued <= lifetime.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drafts.h"
#include "keyproc.h"
#include "lurk.h"
#include "lurkd.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t		 ticket[256], psk[32];
static size_t		 ticketlen;
static time_t		 issued;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct draftconf	 d;
	struct lurk_wr		 w;
	struct key		 k;

	memset(&d, 0, sizeof(d));
	d.tls12_freshness = d.tls13_freshness = LURKD_FRESH_SHA256;
	d.tls12_window = 5;
	d.tls13_sessions = 4;
	d.tls13_session_timeout = 30;
	d.tls13_ticket_lifetime = 100;
	drafts_init(&d, 0);
	if (drafts_warmup() == -1)
		abort();
	memset(&k, 0, sizeof(k));
	memcpy(k.id32, "\xe0\xe0\xe0\xe0", 4);
	memset(psk, 0x5a, sizeof(psk));
	memset(&w, 0, sizeof(w));
	issued = time(NULL);
	if (lurk13_ticket_seal(&k, TLS13_AES_128_GCM_SHA256, psk, sizeof(psk),
	    100, 7, issued, &w) == -1 || w.bad || w.len - 2 > sizeof(ticket))
		abort();
	ticketlen = w.len - 2;	/* after its 2-byte length */
	memcpy(ticket, w.p + 2, ticketlen);
	lurk_wr_free(&w);
	return 0;
}

static void
open_check(const uint8_t *p, size_t len, time_t when, int want)
{
	struct tls13_ticket	 t;
	const char		*why = NULL;
	int			 st;

	st = lurk13_ticket_open(p, len, when, &t, &why);
	if (st != 0 && (st != TLS13_ST_INVALID_PSK || why == NULL))
		abort();
	if ((st == 0) != want)
		abort();
	if (st == 0 && (t.psklen != sizeof(psk) || memcmp(t.psk, psk,
	    sizeof(psk)) != 0 || t.suite != TLS13_AES_128_GCM_SHA256 ||
	    t.lifetime != 100 || t.issued != (uint64_t)issued))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		 buf[sizeof(ticket)], *p;
	size_t		 i;
	int32_t		 off;
	int		 zero = 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if ((p = malloc(size - 1 ? size - 1 : 1)) == NULL)
			abort();
		memcpy(p, data + 1, size - 1);
		open_check(p, size - 1, issued, size - 1 == ticketlen &&
		    memcmp(p, ticket, ticketlen) == 0);
		free(p);
		break;
	case 1:
		if (size < 2)
			return 0;
		for (i = 0; i < ticketlen; i++) {
			buf[i] = ticket[i] ^ data[1 + i % (size - 1)];
			zero &= data[1 + i % (size - 1)] == 0;
		}
		open_check(buf, ticketlen, issued, zero);
		break;
	default:
		if (size < 5)
			return 0;
		off = (int32_t)((uint32_t)data[1] << 24 | data[2] << 16 |
		    data[3] << 8 | data[4]);
		open_check(ticket, ticketlen, issued + off,
		    off >= 0 && off <= 100);
		break;
	}
	return 0;
}
