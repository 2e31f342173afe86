/*
 * Known answers of keyproc's tls12 and tls13 cryptography, unit by unit:
 *  - tls12: the freshness function and the master secret of
 *    lurk-drafts.md §2.4 (computed with an independent implementation
 *    whose PRF was checked against the TLS 1.2 PRF test vector); the
 *    freshness function null only where allowed; the time window on S,
 *    at its edges;
 *  - tls13: the key schedule against RFC 8448's simple 1-RTT handshake
 *    (early, handshake and master secrets, the traffic secrets, the
 *    exporter and resumption master secrets, both Finished, a ticket's
 *    PSK) and the binder of its resumed handshake, found in the
 *    ClientHello by liblurk's parser as lurkd finds it;
 *  - keyproc's own checks of a tls12 request that netproc let through:
 *    the key's policy (each operation with every policy), the key's kind,
 *    and the key netproc chose against the request's key_id.
 *
 * Usage: drafts_test DIR    -- DIR holds rsa.key/.crt (RSA 2048) and
 * p256.key/.crt
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "drafts.h"
#include "keyproc/keyproc.h"
#include "lurk.h"
#include "regress/keyproc/rfc8448.h"
#include "regress/test.h"

static void
unhex(const char *h, uint8_t *out, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (sscanf(h + 2 * i, "%2hhx", &out[i]) != 1)
			abort();
}

static void
conf(uint32_t fresh12, uint32_t window)
{
	struct draftconf	 d;

	memset(&d, 0, sizeof(d));
	d.tls12_freshness = fresh12;
	d.tls12_window = window;
	d.tls13_freshness = LURKD_FRESH_SHA256;
	d.tls13_label = LURKD_LABEL_DRAFT;
	d.tls13_sessions = 16;
	d.tls13_session_timeout = 30;
	d.tls13_ticket_lifetime = 7200;
	drafts_init(&d, 0);
}

static void
tls12_tests(void)
{
	uint8_t		 s[32], cr[32], pm[48], sr[32], master[48], want[48];
	const char	*why;
	time_t		 t;
	size_t		 i;

	for (i = 0; i < 32; i++) {
		s[i] = i;
		cr[i] = 0x20 + i;
	}
	pm[0] = 3;
	pm[1] = 3;
	for (i = 2; i < 48; i++)
		pm[i] = i - 1;
	t = 0x00010203;		/* S's gmt_unix_time */
	conf(LURKD_FRESH_SHA256, 5);

	CHECK(tls12_server_random(s, TLS12_FRESH_SHA256, t, 5, sr, &why) ==
	    0, "tls12: S within the window, freshness sha256");
	unhex("00010203359340b88896ebab0105176e"
	    "3e37320aedacc894b57ef4fd1afc24e1", want, 32);
	CHECK(memcmp(sr, want, 32) == 0,
	    "tls12: ServerHello.random of lurk-drafts.md 2.4");
	CHECK(tls12_prf(EVP_sha256(), pm, 48, "master secret", cr, 32, sr, 32,
	    master, 48) == 0, "tls12: PRF sha256");
	unhex("291a5800f9e3daa71e2a87c787b505495151b5866c14ee861c1b0bc1f315f8d1"
	    "89c02fea86e7632ae6a69201fcbe627f", want, 48);
	CHECK(memcmp(master, want, 48) == 0,
	    "tls12: master secret of lurk-drafts.md 2.4");

	CHECK(tls12_server_random(s, TLS12_FRESH_NULL, t, 5, sr, &why) ==
	    TLS12_ST_INVALID_FRESHNESS,
	    "tls12: freshness null refused unless configured");
	CHECK(tls12_server_random(s, 7, t, 5, sr, &why) ==
	    TLS12_ST_INVALID_FRESHNESS, "tls12: freshness function 7 refused");
	conf(LURKD_FRESH_SHA256 | LURKD_FRESH_NULL, 5);
	CHECK(tls12_server_random(s, TLS12_FRESH_NULL, t, 5, sr, &why) == 0 &&
	    memcmp(sr, s, 32) == 0, "tls12: freshness null, configured: S");
	CHECK(tls12_prf(EVP_sha256(), pm, 48, "master secret", cr, 32, sr, 32,
	    master, 48) == 0, "tls12: PRF sha256, null freshness");
	unhex("fb26ece5e4884812c468a8d7e621e266e3a3ea4c88b662ec1e8c31d8689fca59"
	    "b11239c259dc6c4e94d0eaac7d9c7473", want, 48);
	CHECK(memcmp(master, want, 48) == 0,
	    "tls12: master secret of lurk-drafts.md 2.4, freshness null");

	CHECK(tls12_server_random(s, 0, t + 5, 5, sr, &why) == 0 &&
	    tls12_server_random(s, 0, t - 5, 5, sr, &why) == 0,
	    "tls12: S exactly 5 s before or after now, window 5: accepted");
	CHECK(tls12_server_random(s, 0, t + 6, 5, sr, &why) ==
	    TLS12_ST_INVALID_TLS_RANDOM,
	    "tls12: S 6 s old, window 5: invalid_tls_random");
	CHECK(tls12_server_random(s, 0, t - 6, 5, sr, &why) ==
	    TLS12_ST_INVALID_TLS_RANDOM,
	    "tls12: S 6 s ahead, window 5: invalid_tls_random");
}

/* A message of rfc8448.h: its bytes (with the header) in buf. */
static size_t
msg(const char *hex, uint8_t *buf)
{
	size_t	 len = strlen(hex) / 2;

	unhex(hex, buf, len);
	return len;
}

static int
same(const uint8_t *p, const char *hex)
{
	uint8_t	 want[64];
	size_t	 len = strlen(hex) / 2;

	unhex(hex, want, len);
	return memcmp(p, want, len) == 0;
}

static void
tls13_tests(void)
{
	struct tls13_ks	 ks;
	struct tls13_hs	 hs;
	struct tls13_hello ch;
	EVP_MD_CTX	*th;
	const EVP_MD	*md = EVP_sha256();
	const char	*msgs[] = { R8448_CH, R8448_SH, R8448_EE, R8448_CERT,
	    R8448_CV };
	const char	*why;
	const uint8_t	*id, *binder;
	uint8_t		 m[600], lurk[600], t[32], hc[32], hsec[32], out[32];
	uint8_t		 empty[32];
	size_t		 len, i, idlen, blen, cut;
	uint16_t	 count;

	CHECK(tls13_ks_init(&ks, md, NULL, 0) == 0 && same(ks.secret,
	    "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"),
	    "tls13: RFC 8448 early secret (no PSK)");
	unhex("8bd4054fb55b9d63fdfbacf9f04b9f0d"
	    "35e6d63f537563efd46272900f89492d", out, 32);
	CHECK(tls13_ks_next(&ks, out, 32) == 0 && same(ks.secret,
	    "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"),
	    "tls13: RFC 8448 handshake secret");
	th = EVP_MD_CTX_new();
	EVP_DigestInit_ex(th, md, NULL);
	for (i = 0; i < 2; i++) {
		len = msg(msgs[i], m);
		tls13_th_add(th, m[0], m + 4, len - 4);
	}
	CHECK(tls13_th_hash(th, t) == 0 && tls13_derive(&ks, "c hs traffic",
	    t, hc) == 0 && tls13_derive(&ks, "s hs traffic", t, hsec) == 0 &&
	    same(hc, "b3eddb126e067f35a780b3abf45e2d8f"
	    "3b1a950738f52e9600746a0e27a55a21")
	    && same(hsec,
	    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"),
	    "tls13: RFC 8448 client and server handshake traffic secrets");
	for (i = 2; i < 5; i++) {
		len = msg(msgs[i], m);
		tls13_th_add(th, m[0], m + 4, len - 4);
	}
	CHECK(tls13_th_hash(th, t) == 0 &&
	    tls13_finished(md, hsec, t, out) == 0 && same(out,
	    "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"),
	    "tls13: RFC 8448 server Finished");
	len = msg(R8448_SF, m);
	tls13_th_add(th, m[0], m + 4, len - 4);
	CHECK(tls13_ks_next(&ks, NULL, 0) == 0 && same(ks.secret,
	    "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919"),
	    "tls13: RFC 8448 master secret");
	tls13_th_hash(th, t);
	CHECK(tls13_derive(&ks, "c ap traffic", t, out) == 0 && same(out,
	    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"),
	    "tls13: RFC 8448 client application traffic secret");
	CHECK(tls13_derive(&ks, "s ap traffic", t, out) == 0 && same(out,
	    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"),
	    "tls13: RFC 8448 server application traffic secret");
	CHECK(tls13_derive(&ks, "exp master", t, out) == 0 && same(out,
	    "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50"),
	    "tls13: RFC 8448 exporter master secret");
	CHECK(tls13_finished(md, hc, t, out) == 0 && same(out,
	    "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61"),
	    "tls13: RFC 8448 client Finished");
	len = msg(R8448_CF, m);
	tls13_th_add(th, m[0], m + 4, len - 4);
	tls13_th_hash(th, t);
	CHECK(tls13_derive(&ks, "res master", t, out) == 0 && same(out,
	    "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c"),
	    "tls13: RFC 8448 resumption master secret");
	CHECK(tls13_expand_label(md, out, "resumption", (uint8_t *)"\0\0",
	    2, t, 32) == 0 && same(t,
	    "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3"),
	    "tls13: RFC 8448 the PSK of the ticket of nonce 0000");
	EVP_MD_CTX_free(th);

	/* section 4: the binder, over the ClientHello up to the binders */
	len = msg(R8448_CH2, m);
	lurk[0] = m[0];		/* LURK's encoding: no uint24 length */
	memcpy(lurk + 1, m + 4, len - 4);
	CHECK(tls13_hs_parse(lurk, len - 3, &hs, &why) == 0 && hs.n == 1 &&
	    tls13_hello_parse(&hs.m[0], &ch) == 0 &&
	    tls13_psk(&ch, 0, &id, &idlen, &binder, &blen, &cut, &count) ==
	    0 && count == 1 && blen == 32 && idlen == 178,
	    "tls13: liblurk finds the PSK identity and binder of RFC 8448 4");
	cut += ch.ext - hs.m[0].body;
	unhex("4ecd0eb6ec3b4d87f5d6028f922ca4c5"
	    "851a277fd41311c9e62d2c9492e1c4f3", t, 32);
	EVP_Digest("", 0, empty, NULL, md, NULL);
	th = EVP_MD_CTX_new();
	EVP_DigestInit_ex(th, md, NULL);
	EVP_DigestUpdate(th, m, 4);	/* the header: the whole length */
	EVP_DigestUpdate(th, hs.m[0].body, cut);
	EVP_DigestFinal_ex(th, t + 0, NULL);
	EVP_MD_CTX_free(th);
	unhex("4ecd0eb6ec3b4d87f5d6028f922ca4c5"
	    "851a277fd41311c9e62d2c9492e1c4f3", out, 32);
	CHECK(tls13_ks_init(&ks, md, out, 32) == 0 && same(ks.secret,
	    "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c"),
	    "tls13: RFC 8448 4 early secret of the PSK");
	CHECK(tls13_derive(&ks, "res binder", empty, hc) == 0 &&
	    tls13_finished(md, hc, t, out) == 0 && memcmp(out, binder, 32) ==
	    0 && same(out,
	    "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d"),
	    "tls13: RFC 8448 4 binder");
	CHECK(tls13_psk(&ch, 1, &id, &idlen, &binder, &blen, &cut, &count) ==
	    -2, "tls13: identity 1 of 1: none (-2)");
	explicit_bzero(&ks, sizeof(ks));
}

static const char	*dir;

static void
load(struct key *k, const char *name)
{
	char	 err[512];

	memset(k, 0, sizeof(*k));
	snprintf(k->privpath, sizeof(k->privpath), "%s/%s.key", dir, name);
	snprintf(k->certpath, sizeof(k->certpath), "%s/%s.crt", dir, name);
	if ((k->privfd = open(k->privpath, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (k->certfd = open(k->certpath, O_RDONLY | O_CLOEXEC)) == -1 ||
	    key_load(k, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", name, err);
		exit(2);
	}
}

/* lurk12_run on a payload that parses: the status (-1: no answer). */
static int
run12(struct key *k, uint8_t type, const uint8_t *p, size_t len)
{
	struct keyop_req	 req;
	struct lurk_wr		 w;
	const char		*why;
	int			 st;

	memset(&req, 0, sizeof(req));
	memset(&w, 0, sizeof(w));
	req.designation = LURK_DESIG_TLS12;
	req.type = type;
	req.len = len;
	st = lurk12_run(k, &req, p, &w, &why);
	if (st == LURK_ST_SUCCESS && (w.len == 0 || w.bad))
		st = -1;	/* success must come with an answer */
	lurk_wr_free(&w);
	return st;
}

static void
policy_tests(void)
{
	struct key	 rsa, ec;
	EVP_PKEY_CTX	*ctx;
	uint8_t		 rm[5 + 2 + 64 + 256];
	uint8_t		 ecdhe[5 + 1 + 64 + 2 + 4 + 65 + 1];
	uint8_t		 pm[48];
	uint32_t	 ops;
	size_t		 ctlen = 256, i;
	time_t		 now = time(NULL);
	char		 what[160];
	int		 st, want;

	load(&rsa, "rsa");
	load(&ec, "p256");
	conf(LURKD_FRESH_SHA256, 5);
	/* rsa_master: key_id, sha256, prf sha256, cr, S (now), ciphertext */
	rm[0] = 0;
	memcpy(rm + 1, rsa.id32, 4);
	rm[5] = 0;
	rm[6] = 0;
	memset(rm + 7, 0x11, 32);
	rm[39] = now >> 24;
	rm[40] = now >> 16;
	rm[41] = now >> 8;
	rm[42] = now;
	memset(rm + 43, 0x22, 28);
	pm[0] = 3;
	pm[1] = 3;
	memset(pm + 2, 0x5c, 46);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa.pkey, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, rm + 71, &ctlen, pm, sizeof(pm)) != 1 ||
	    ctlen != 256)
		abort();
	EVP_PKEY_CTX_free(ctx);
	/* ecdhe: key_id, sha256, cr, S, 0x0403, P-256 params, poo null */
	ecdhe[0] = 0;
	memcpy(ecdhe + 1, ec.id32, 4);
	ecdhe[5] = 0;
	memcpy(ecdhe + 6, rm + 7, 64);
	ecdhe[70] = 0x04;
	ecdhe[71] = 0x03;
	ecdhe[72] = 3;
	ecdhe[73] = 0;
	ecdhe[74] = 23;
	ecdhe[75] = 65;
	memcpy(ecdhe + 76, ec.spki + ec.spki_len - 65, 65);
	ecdhe[141] = 0;

	for (i = 0; i < 2; i++) {
		struct key	*k = i == 0 ? &rsa : &ec;
		uint32_t	 op = i == 0 ? OP_TLS12_RSA_MASTER :
		    OP_TLS12_ECDHE;

		for (ops = 0; ops < 0x100; ops += 8) {
			k->operations = ops;
			st = i == 0 ? run12(k, TLS12_TYPE_RSA_MASTER, rm,
			    sizeof(rm)) : run12(k, TLS12_TYPE_ECDHE, ecdhe,
			    sizeof(ecdhe));
			want = ops & op ? LURK_ST_SUCCESS :
			    TLS12_ST_INVALID_KEY_ID;
			snprintf(what, sizeof(what), "lurk12_run %s, key "
			    "operations 0x%x: %s", i == 0 ? "rsa_master" :
			    "ecdhe", ops, want == LURK_ST_SUCCESS ? "done" :
			    "invalid_key_id");
			CHECK(st == want, what);
		}
	}
	/* an EC key whose policy says tls12-rsa-master: not RSA */
	ec.operations = OP_TLS12_RSA_MASTER;
	memcpy(rm + 1, ec.id32, 4);
	CHECK(run12(&ec, TLS12_TYPE_RSA_MASTER, rm, sizeof(rm)) ==
	    TLS12_ST_INVALID_KEY_ID,
	    "lurk12_run rsa_master with an EC key: invalid_key_id");
	key_free(&rsa);
	key_free(&ec);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: drafts_test DIR\n");
		return 2;
	}
	dir = argv[1];
	if (lurk12_warmup() == -1) {
		printf("not ok - lurk12_warmup\n");
		return 1;
	}
	conf(LURKD_FRESH_SHA256, 5);
	if (lurk13_warmup() == -1) {
		printf("not ok - lurk13_warmup\n");
		return 1;
	}
	tls12_tests();
	tls13_tests();
	policy_tests();
	TEST_EXIT();
}
