/*
 * What keyproc agrees to sign (DESIGN.md), read independently of
 * keyproc/tlscheck.c: the oracles of fuzz_tlscheck and fuzz_keyop.
 */
#ifndef FUZZ_TLSORACLE_H
#define FUZZ_TLSORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 8446 §4.4.3, server side, SHA-256 or SHA-384 transcript hash */
static inline int
tls13_ok(const uint8_t *p, size_t len)
{
	static const char	 ctx[] = "TLS 1.3, server CertificateVerify";
	size_t			 i;

	if (len != 64 + 33 + 1 + 32 && len != 64 + 33 + 1 + 48)
		return 0;
	for (i = 0; i < 64; i++)
		if (p[i] != ' ')
			return 0;
	return memcmp(p + 64, ctx, 33) == 0 && p[97] == 0;
}

/* client_random server_random ServerECDHParams, RFC 8422 §5.4 */
static inline int
tls12_form(const uint8_t *p, size_t len, int *ec)
{
	unsigned	 group;
	size_t		 plen;

	if (len < 68 || p[64] != 3)
		return 0;
	group = p[65] << 8 | p[66];
	*ec = 1;
	switch (group) {
	case 23:
		plen = 65;
		break;
	case 24:
		plen = 97;
		break;
	case 25:
		plen = 133;
		break;
	case 29:
		plen = 32;
		*ec = 0;
		break;
	case 30:
		plen = 56;
		*ec = 0;
		break;
	default:
		return 0;
	}
	return p[67] == plen && len == 68 + plen;
}

#endif
