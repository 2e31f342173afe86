/*
 * What keyproc agrees to sign (DESIGN.md): the exact TLS structures a
 * server handshake signs, nothing else.  Pure functions over bytes, so
 * that they can be fuzzed; each refusal names its reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "keyproc.h"
#include "lurk.h"

/*
 * TLS 1.3 server CertificateVerify content (RFC 8446 §4.4.3): 64 spaces,
 * the server context string, a zero byte, a 32- or 48-byte transcript
 * hash.  The hash length follows the cipher suite, not the signature.
 */
int
tls13_check(const uint8_t *tbs, size_t len, const char **why)
{
	static const uint8_t	 ctx[] = TLS13_CV_SERVER_CTX;
	static const uint8_t	 cctx[] = TLS13_CV_CLIENT_CTX;
	size_t			 i, hlen;

	if (len < TLS13_CV_PREFIX_LEN) {
		*why = "too short for TLS 1.3 CertificateVerify content";
		return EDGE_ST_INVALID_CONTENT;
	}
	for (i = 0; i < TLS13_CV_PAD_LEN; i++)
		if (tbs[i] != 0x20) {
			*why = "not TLS 1.3 CertificateVerify content (padding)";
			return EDGE_ST_INVALID_CONTENT;
		}
	if (memcmp(tbs + TLS13_CV_PAD_LEN, cctx, sizeof(cctx)) == 0) {
		*why = "TLS 1.3 client CertificateVerify context";
		return EDGE_ST_INVALID_CONTENT;
	}
	/* sizeof(ctx) counts the NUL, which is the separator byte */
	if (memcmp(tbs + TLS13_CV_PAD_LEN, ctx, sizeof(ctx)) != 0) {
		*why = "not the TLS 1.3 server CertificateVerify context";
		return EDGE_ST_INVALID_CONTENT;
	}
	hlen = len - TLS13_CV_PREFIX_LEN;
	if (hlen != 32 && hlen != 48) {
		*why = "TLS 1.3 transcript hash is neither 32 nor 48 bytes";
		return EDGE_ST_INVALID_CONTENT;
	}
	return 0;
}

/* The size of the public value of a named group, 0 if not allowed. */
static size_t
group_point_len(unsigned group, int *nid)
{
	*nid = NID_undef;
	switch (group) {
	case TLS_GROUP_SECP256R1:
		*nid = NID_X9_62_prime256v1;
		return 65;
	case TLS_GROUP_SECP384R1:
		*nid = NID_secp384r1;
		return 97;
	case TLS_GROUP_SECP521R1:
		*nid = NID_secp521r1;
		return 133;
	case TLS_GROUP_X25519:
		return 32;
	case TLS_GROUP_X448:
		return 56;
	}
	return 0;
}

/* The group of a curve, made once: it costs more than the check. */
static const EC_GROUP *
curve_group(int nid)
{
	static EC_GROUP	*groups[3];
	int		 i;

	switch (nid) {
	case NID_X9_62_prime256v1:
		i = 0;
		break;
	case NID_secp384r1:
		i = 1;
		break;
	case NID_secp521r1:
		i = 2;
		break;
	default:
		return NULL;
	}
	if (groups[i] == NULL)
		groups[i] = EC_GROUP_new_by_curve_name(nid);
	return groups[i];
}

/* An uncompressed point that lies on the curve. */
static int
point_on_curve(int nid, const uint8_t *p, size_t len)
{
	const EC_GROUP	*g;
	EC_POINT	*pt;
	int		 ok = 0;

	if (p[0] != 0x04 || (g = curve_group(nid)) == NULL)
		return 0;
	if ((pt = EC_POINT_new(g)) != NULL &&
	    EC_POINT_oct2point(g, pt, p, len, NULL) == 1 &&
	    EC_POINT_is_on_curve(g, pt, NULL) == 1)
		ok = 1;
	EC_POINT_free(pt);
	return ok;
}

/*
 * TLS 1.2 ServerKeyExchange content for ECDHE (RFC 5246 §7.4.3, RFC 8422
 * §5.4): client_random, server_random, then ServerECDHParams: curve_type
 * named_curve (3), a group from the allow-list, a point of exactly that
 * group's size, and not one byte more.
 */
int
tls12_check(const uint8_t *tbs, size_t len, const char **why)
{
	const uint8_t	*p = tbs + 64;
	size_t		 rest, plen;
	unsigned	 group;
	int		 nid;

	if (len < 64 + 4) {
		*why = "too short for TLS 1.2 ServerKeyExchange content";
		return EDGE_ST_INVALID_CONTENT;
	}
	rest = len - 64;
	if (p[0] != 3) {
		*why = "ServerECDHParams curve_type is not named_curve";
		return EDGE_ST_INVALID_CONTENT;
	}
	group = (unsigned)p[1] << 8 | p[2];
	if ((plen = group_point_len(group, &nid)) == 0) {
		*why = "ServerECDHParams group not allowed";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (p[3] != plen) {
		*why = "ECDHE public value of the wrong size for its group";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (rest != 4 + plen) {
		*why = rest < 4 + plen ? "ECDHE public value truncated" :
		    "trailing bytes after ServerECDHParams";
		return EDGE_ST_INVALID_CONTENT;
	}
	if (nid != NID_undef && !point_on_curve(nid, p + 4, plen)) {
		*why = "ECDHE public value is not a point on its curve";
		return EDGE_ST_INVALID_CONTENT;
	}
	return 0;
}

/*
 * Which signature schemes a key may use for each TLS version: RSA only
 * with PSS in TLS 1.3, ECDSA with the hash of its curve, EdDSA pure, no
 * SHA-1 anywhere.  Fills in the digest (NULL for EdDSA) and padding.
 */
int
scheme_check(int kind, int curve_nid, int type, unsigned scheme,
    const EVP_MD **md, int *pss, const char **why)
{
	int	 tls13 = type == EDGE_TYPE_SIGN_TLS13;

	*md = NULL;
	*pss = 0;
	switch (scheme) {
	case TLS_SS_RSA_PKCS1_SHA1:
	case TLS_SS_ECDSA_SHA1:
		*why = "SHA-1 signature scheme";
		return EDGE_ST_INVALID_SCHEME;
	case TLS_SS_RSA_PKCS1_SHA256:
	case TLS_SS_RSA_PKCS1_SHA384:
	case TLS_SS_RSA_PKCS1_SHA512:
		if (kind != KEY_RSA)
			break;
		if (tls13) {
			*why = "RSA PKCS#1 v1.5 signature in TLS 1.3";
			return EDGE_ST_INVALID_SCHEME;
		}
		*md = scheme == TLS_SS_RSA_PKCS1_SHA256 ? EVP_sha256() :
		    scheme == TLS_SS_RSA_PKCS1_SHA384 ? EVP_sha384() :
		    EVP_sha512();
		return 0;
	case TLS_SS_RSA_PSS_RSAE_SHA256:
	case TLS_SS_RSA_PSS_RSAE_SHA384:
	case TLS_SS_RSA_PSS_RSAE_SHA512:
		if (kind != KEY_RSA)
			break;
		*pss = 1;
		*md = scheme == TLS_SS_RSA_PSS_RSAE_SHA256 ? EVP_sha256() :
		    scheme == TLS_SS_RSA_PSS_RSAE_SHA384 ? EVP_sha384() :
		    EVP_sha512();
		return 0;
	case TLS_SS_RSA_PSS_PSS_SHA256:
	case TLS_SS_RSA_PSS_PSS_SHA384:
	case TLS_SS_RSA_PSS_PSS_SHA512:
		if (kind != KEY_RSA_PSS)
			break;
		*pss = 1;
		*md = scheme == TLS_SS_RSA_PSS_PSS_SHA256 ? EVP_sha256() :
		    scheme == TLS_SS_RSA_PSS_PSS_SHA384 ? EVP_sha384() :
		    EVP_sha512();
		return 0;
	case TLS_SS_ECDSA_SECP256R1_SHA256:
		if (kind != KEY_EC || curve_nid != NID_X9_62_prime256v1)
			break;
		*md = EVP_sha256();
		return 0;
	case TLS_SS_ECDSA_SECP384R1_SHA384:
		if (kind != KEY_EC || curve_nid != NID_secp384r1)
			break;
		*md = EVP_sha384();
		return 0;
	case TLS_SS_ECDSA_SECP521R1_SHA512:
		if (kind != KEY_EC || curve_nid != NID_secp521r1)
			break;
		*md = EVP_sha512();
		return 0;
	case TLS_SS_ED25519:
		if (kind != KEY_ED25519)
			break;
		return 0;
	case TLS_SS_ED448:
		if (kind != KEY_ED448)
			break;
		return 0;
	default:
		*why = "unknown signature scheme";
		return EDGE_ST_INVALID_SCHEME;
	}
	*why = "signature scheme does not fit the key";
	return EDGE_ST_INVALID_SCHEME;
}
