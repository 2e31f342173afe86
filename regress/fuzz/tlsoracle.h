/*
 * What keyproc agrees to sign (DESIGN.md), read independently of
 * keyproc/tlscheck.c: the oracles of fuzz_tlscheck and fuzz_keyop.
 */
#ifndef FUZZ_TLSORACLE_H
#define FUZZ_TLSORACLE_H

/* includers define OPENSSL_SUPPRESS_DEPRECATED first: DH_new_by_nid */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/dh.h>
#include <openssl/obj_mac.h>

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

/*
 * client_random server_random ServerDHParams (RFC 5246 §7.4.3) of one of
 * the well-known groups, 2048 bits and up (RFC 3526 MODP, RFC 7919
 * FFDHE), generator 2, 1 < Ys < p - 1, nothing after.  The primes come
 * from OpenSSL's own tables, not the way keyproc makes them.
 */
static inline int
tls12_dh_ok(const uint8_t *p, size_t len)
{
	static BIGNUM	*primes[10];
	static int	 n;
	const uint8_t	*q = p + 64;
	size_t		 rest, plen, glen, ylen;
	BIGNUM		*bp, *by, *pm1;
	int		 i, ok;

	if (n == 0) {
		static const int nids[] = { NID_ffdhe2048, NID_ffdhe3072,
		    NID_ffdhe4096, NID_ffdhe6144, NID_ffdhe8192 };
		DH	*dh;

		primes[n++] = BN_get_rfc3526_prime_2048(NULL);
		primes[n++] = BN_get_rfc3526_prime_3072(NULL);
		primes[n++] = BN_get_rfc3526_prime_4096(NULL);
		primes[n++] = BN_get_rfc3526_prime_6144(NULL);
		primes[n++] = BN_get_rfc3526_prime_8192(NULL);
		for (i = 0; i < 5; i++) {
			dh = DH_new_by_nid(nids[i]);
			primes[n++] = BN_dup(DH_get0_p(dh));
			DH_free(dh);
		}
	}
	if (len < 64 + 2)
		return 0;
	rest = len - 64;
	plen = q[0] << 8 | q[1];
	if (plen == 0 || rest < 2 + plen + 2)
		return 0;
	glen = q[2 + plen] << 8 | q[3 + plen];
	if (glen != 1 || rest < 2 + plen + 2 + 1 + 2 || q[4 + plen] != 2)
		return 0;
	ylen = q[5 + plen] << 8 | q[6 + plen];
	if (ylen == 0 || rest != 2 + plen + 2 + 1 + 2 + ylen)
		return 0;
	bp = BN_bin2bn(q + 2, plen, NULL);
	by = BN_bin2bn(q + 7 + plen, ylen, NULL);
	pm1 = BN_dup(bp);
	BN_sub_word(pm1, 1);
	ok = 0;
	for (i = 0; i < n; i++)
		if (BN_cmp(bp, primes[i]) == 0 &&
		    (size_t)BN_num_bytes(primes[i]) == plen)
			ok = 1;
	ok = ok && BN_cmp(by, BN_value_one()) > 0 && BN_cmp(by, pm1) < 0;
	BN_free(bp);
	BN_free(by);
	BN_free(pm1);
	return ok;
}

#endif
