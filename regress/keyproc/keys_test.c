/*
 * Unit tests of keyproc's key loader and key operations:
 *  - key_parse_private() wipes the buffer it was given, on success and on
 *    every error path;
 *  - key_load() leaves no copy of the key file in memory it frees (the
 *    file read grows its buffer, or is too large): free() is wrapped
 *    (-Wl,--wrap=free) and looks for the key's bytes in every block
 *    keys.c gives back;
 *  - keyop_run() does only what the key's operations allow, and takes
 *    only TLS 1.0-1.2 versions for the RSA premaster.
 *
 * Usage: keys_test DIR    -- DIR holds p256.key/.crt, rsa.key/.crt (RSA
 * 2048), enc.key (p256.key encrypted), padded.key (p256.key, then 12 KiB
 * of text), huge.key (p256.key, then more than KEYFILE_MAX of text),
 * max.key (p256.key and text, KEYFILE_MAX bytes), over.key (one more).
 */
#include <sys/types.h>

#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "keyproc/keyproc.h"
#include "lurk.h"
#include "regress/test.h"

void	__real_free(void *);
void	__wrap_free(void *);

static const char	*dir;
static char		 needle[65];	/* a line of the key's base64 */
static size_t		 needlelen;
static int		 freed_key;	/* blocks freed holding it */
static void		(*volatile freep)(void *) = free;

void
__wrap_free(void *p)
{
	if (p != NULL && needlelen > 0 &&
	    memmem(p, malloc_usable_size(p), needle, needlelen) != NULL)
		freed_key++;
	__real_free(p);
}

static void	die(const char *) __attribute__((__noreturn__));

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static char *
path(const char *name)
{
	static char	 buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* A file's bytes in a buffer of exactly its size. */
static uint8_t *
slurp(const char *name, size_t *lenp)
{
	FILE	*f;
	uint8_t	*buf;
	long	 n;

	if ((f = fopen(path(name), "rb")) == NULL ||
	    fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (buf = malloc(n)) == NULL ||
	    fread(buf, 1, n, f) != (size_t)n)
		die(name);
	fclose(f);
	*lenp = n;
	return buf;
}

static int
all_zero(const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* key_parse_private() on a copy of buf[0..len): rc as expected, wiped. */
static void
parse_case(const char *what, const uint8_t *src, size_t len, int want)
{
	struct key	 k;
	uint8_t		*buf;
	char		 err[512], msg[600];
	int		 rc;

	memset(&k, 0, sizeof(k));
	strlcpy(k.privpath, what, sizeof(k.privpath));
	if ((buf = malloc(len)) == NULL)
		die("malloc");
	memcpy(buf, src, len);
	err[0] = '\0';
	rc = key_parse_private(&k, buf, len, err, sizeof(err));
	snprintf(msg, sizeof(msg), "key_parse_private %s: %s", what,
	    want == 0 ? "parsed" : "refused, saying why");
	CHECK(rc == want && (rc == 0) == (k.pkey != NULL) &&
	    (rc == 0 || err[0] != '\0'), msg);
	snprintf(msg, sizeof(msg), "key_parse_private %s: the buffer it "
	    "was given is zeroed", what);
	CHECK(all_zero(buf, len), msg);
	EVP_PKEY_free(k.pkey);
	__real_free(buf);
}

/* key_load() of DIR/keyname with DIR/p256.crt; no freed block held it */
static int
load(struct key *k, const char *keyname, const char *certname, char *err,
    size_t errlen)
{
	memset(k, 0, sizeof(*k));
	strlcpy(k->privpath, path(keyname), sizeof(k->privpath));
	strlcpy(k->certpath, path(certname), sizeof(k->certpath));
	if ((k->privfd = open(k->privpath, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (k->certfd = open(k->certpath, O_RDONLY | O_CLOEXEC)) == -1)
		die(keyname);
	err[0] = '\0';
	return key_load(k, err, errlen);
}

/* The first full base64 line of the p256 key: what must not be freed. */
static void
set_needle(void)
{
	uint8_t		*buf;
	size_t		 len;
	const char	*p, *nl;

	buf = slurp("p256.key", &len);
	if ((p = memmem(buf, len, "-----\n", 6)) == NULL ||
	    (nl = memchr(p + 6, '\n', len - (p + 6 - (char *)buf))) == NULL ||
	    nl - (p + 6) != 64)
		die("p256.key: no 64-character base64 line");
	memcpy(needle, p + 6, 64);
	needlelen = 64;
	explicit_bzero(buf, len);
	__real_free(buf);
}

static void
loader_tests(void)
{
	static const struct {
		const char	*file, *what;
		int		 rc;
	} loads[] = {
		{ "p256.key", "a P-256 key", 0 },
		{ "padded.key", "a key file larger than the first read buffer",
		    0 },
		{ "huge.key", "a key file larger than KEYFILE_MAX", -1 },
		{ "max.key", "a key file of exactly KEYFILE_MAX bytes", 0 },
		{ "over.key", "a key file of KEYFILE_MAX + 1 bytes", -1 },
		{ "enc.key", "an encrypted key", -1 },
	};
	struct key	 k;
	uint8_t		*key, *rsa, *crt, *enc, *big;
	size_t		 klen, rlen, clen, elen, i;
	char		 err[512], msg[200];
	int		 rc;

	key = slurp("p256.key", &klen);
	rsa = slurp("rsa.key", &rlen);
	crt = slurp("p256.crt", &clen);
	enc = slurp("enc.key", &elen);
	parse_case("a P-256 key", key, klen, 0);
	parse_case("an RSA 2048 key", rsa, rlen, 0);
	parse_case("a certificate", crt, clen, -1);
	parse_case("an encrypted key", enc, elen, -1);
	parse_case("half a key", key, klen / 2, -1);
	parse_case("a key whose base64 is cut short", key, klen - 80, -1);
	if ((big = calloc(1, KEYFILE_MAX + 1)) == NULL)
		die("calloc");
	memcpy(big, key, klen);
	parse_case("a key in more than KEYFILE_MAX bytes", big, KEYFILE_MAX + 1,
	    -1);
	__real_free(big);

	set_needle();
	/*
	 * the watch is not blind: a block with the key line is seen (a call
	 * the compiler cannot see through: it may drop a malloc/free pair)
	 */
	if ((big = malloc(klen)) == NULL)
		die("malloc");
	memcpy(big, key, klen);
	freep(big);
	CHECK(freed_key == 1, "control: the free() watch sees key bytes");

	for (i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		freed_key = 0;
		rc = load(&k, loads[i].file, "p256.crt", err, sizeof(err));
		snprintf(msg, sizeof(msg), "key_load of %s: %s", loads[i].what,
		    loads[i].rc == 0 ? "loaded" : "refused");
		CHECK(rc == loads[i].rc, msg);
		snprintf(msg, sizeof(msg), "key_load of %s: no block it freed "
		    "held key bytes", loads[i].what);
		CHECK(freed_key == 0, msg);
		key_free(&k);
	}
	needlelen = 0;

	explicit_bzero(key, klen);
	explicit_bzero(rsa, rlen);
	__real_free(key);
	__real_free(rsa);
	__real_free(crt);
	__real_free(enc);
}

/* An uncompressed point on P-256 (the generator) */
static const uint8_t	 p256pt[65] = {
	0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc,
	0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d,
	0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
	0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb,
	0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
	0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

static int
run(struct key *k, uint8_t type, uint16_t scheme, uint16_t cv, uint16_t nv,
    const uint8_t *in, size_t len, uint8_t *out, size_t *outlen)
{
	struct keyop_req	 req;
	const char		*why = NULL;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.scheme = scheme;
	req.client_version = cv;
	req.negotiated_version = nv;
	req.len = len;
	*outlen = 1024;
	return keyop_run(k, &req, in, out, outlen, &why);
}

/*
 * A TLS listener's key (listen on tls) signs netproc's handshakes only:
 * what a TLS server signs, named by its SPKI hash; never an edge's
 * operation.  An edge's key never signs a handshake of netproc's.
 */
static void
listener_tests(struct key *ec, const uint8_t *tls13, size_t len13,
    const uint8_t *tls12, size_t len12)
{
	uint8_t		 in[32 + 256], out[1024];
	size_t		 outlen;
	int		 st;

	memcpy(in, ec->pub.spki_sha256, 32);
	memcpy(in + 32, tls13, len13);
	ec->operations = EDGE_OP_SIGN_TLS13;
	ec->usage = KEY_USE_EDGE;
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == EDGE_ST_OPERATION_REFUSED,
	    "keyop_run: an edge's key signs no handshake of netproc's");
	ec->usage = KEY_USE_SERVER;
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == LURK_ST_SUCCESS && outlen > 2,
	    "keyop_run: a listener's key signs its TLS 1.3 CertificateVerify");
	st = run(ec, EDGE_TYPE_SIGN_TLS13, TLS_SS_ECDSA_SECP256R1_SHA256, 0,
	    0, tls13, len13, out, &outlen);
	CHECK(st == EDGE_ST_OPERATION_REFUSED,
	    "keyop_run: a listener's key does no edge's operation");
	in[0] ^= 1;
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == EDGE_ST_UNKNOWN_KEY,
	    "keyop_run: a handshake names its key by SPKI hash: another's "
	    "is refused");
	in[0] ^= 1;
	in[32 + 64] ^= 0x20;	/* "tLS 1.3, server ..." */
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == EDGE_ST_INVALID_CONTENT,
	    "keyop_run: a listener's key signs only CertificateVerify content");
	memcpy(in + 32, tls12, len12);
	st = run(ec, KEYOP_TLS_SIGN12, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len12, out, &outlen);
	CHECK(st == EDGE_ST_OPERATION_REFUSED,
	    "keyop_run: TLS 1.2 ServerKeyExchange refused unless the listener "
	    "allows TLS 1.2");
	ec->operations |= EDGE_OP_SIGN_TLS12;
	st = run(ec, KEYOP_TLS_SIGN12, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len12, out, &outlen);
	CHECK(st == LURK_ST_SUCCESS,
	    "keyop_run: ... and signed where it does (tls version 1.2)");

	/* an upstream's client key: this lurkd's client CertificateVerify */
	ec->usage = KEY_USE_CLIENT;
	ec->operations = EDGE_OP_SIGN_TLS13;
	memcpy(in + 32, tls13, len13);
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == EDGE_ST_INVALID_CONTENT,
	    "keyop_run: an upstream's client key signs no server's "
	    "CertificateVerify");
	memcpy(in + 32 + 64, TLS13_CV_CLIENT_CTX, 33);
	st = run(ec, KEYOP_TLS_SIGN13, TLS_SS_ECDSA_SECP256R1_SHA256, 0, 0,
	    in, 32 + len13, out, &outlen);
	CHECK(st == LURK_ST_SUCCESS && outlen > 2,
	    "keyop_run: ... but its own client CertificateVerify");
	st = run(ec, EDGE_TYPE_SIGN_TLS13, TLS_SS_ECDSA_SECP256R1_SHA256, 0,
	    0, tls13, len13, out, &outlen);
	CHECK(st == EDGE_ST_OPERATION_REFUSED,
	    "keyop_run: an upstream's client key does no edge's operation");
	ec->usage = KEY_USE_EDGE;
}

static void
keyop_tests(void)
{
	static const struct {
		const char	*name;
		uint32_t	 op;
		uint8_t		 type;
	} ops[] = {
		{ "sign_tls13", EDGE_OP_SIGN_TLS13, EDGE_TYPE_SIGN_TLS13 },
		{ "sign_tls12", EDGE_OP_SIGN_TLS12, EDGE_TYPE_SIGN_TLS12 },
		{ "rsa_premaster", EDGE_OP_RSA_PREMASTER,
		    EDGE_TYPE_RSA_PREMASTER },
	};
	static const struct {
		uint16_t	 cv, nv;
		int		 st;
	} versions[] = {
		{ 0x02ff, 0x0303, LURK_ST_INVALID_FORMAT },
		{ 0x0304, 0x0303, LURK_ST_INVALID_FORMAT },
		{ 0x0303, 0x02ff, LURK_ST_INVALID_FORMAT },
		{ 0x0303, 0x0304, LURK_ST_INVALID_FORMAT },
		{ 0x0300, 0x0300, LURK_ST_SUCCESS },
		{ 0x0303, 0x0303, LURK_ST_SUCCESS },
		{ 0x0301, 0x0302, LURK_ST_SUCCESS },
	};
	struct key	 ec, rsa, *k;
	EVP_PKEY_CTX	*ctx;
	uint8_t		 tls13[64 + 34 + 32], tls12[64 + 4 + 65];
	uint8_t		 pm[EDGE_PREMASTER_LEN], ct[256], out[1024];
	const uint8_t	*in;
	size_t		 i, j, len, outlen, ctlen = sizeof(ct);
	char		 err[512], what[200];
	uint16_t	 scheme;
	int		 st, want;

	if (load(&ec, "p256.key", "p256.crt", err, sizeof(err)) == -1 ||
	    load(&rsa, "rsa.key", "rsa.crt", err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	memset(tls13, ' ', 64);
	memcpy(tls13 + 64, TLS13_CV_SERVER_CTX, 34);
	memset(tls13 + 98, 0xa5, 32);
	memset(tls12, 0x11, 64);
	tls12[64] = 3;
	tls12[65] = 0;
	tls12[66] = TLS_GROUP_SECP256R1;
	tls12[67] = 65;
	memcpy(tls12 + 68, p256pt, 65);
	pm[0] = 3;
	pm[1] = 3;
	memset(pm + 2, 0x5c, sizeof(pm) - 2);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa.pkey, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, ct, &ctlen, pm, sizeof(pm)) != 1 ||
	    ctlen != sizeof(ct))
		die("RSA encrypt");
	EVP_PKEY_CTX_free(ctx);

	/* each operation with every policy: done only where allowed */
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		k = ops[i].type == EDGE_TYPE_RSA_PREMASTER ? &rsa : &ec;
		in = ops[i].type == EDGE_TYPE_SIGN_TLS13 ? tls13 :
		    ops[i].type == EDGE_TYPE_SIGN_TLS12 ? tls12 : ct;
		len = ops[i].type == EDGE_TYPE_SIGN_TLS13 ? sizeof(tls13) :
		    ops[i].type == EDGE_TYPE_SIGN_TLS12 ? sizeof(tls12) :
		    ctlen;
		scheme = ops[i].type == EDGE_TYPE_RSA_PREMASTER ? 0 :
		    TLS_SS_ECDSA_SECP256R1_SHA256;
		for (j = 0; j < 8; j++) {
			k->operations = j;
			want = j & ops[i].op ? LURK_ST_SUCCESS :
			    EDGE_ST_OPERATION_REFUSED;
			st = run(k, ops[i].type, scheme, 0x0303, 0x0303, in,
			    len, out, &outlen);
			snprintf(what, sizeof(what), "keyop_run %s, key "
			    "operations 0x%zx: %s", ops[i].name, j,
			    want == LURK_ST_SUCCESS ? "done" :
			    "operation_refused");
			CHECK(st == want, what);
		}
	}
	rsa.operations = EDGE_OP_RSA_PREMASTER;
	st = run(&rsa, EDGE_TYPE_RSA_PREMASTER, 0, 0x0303, 0x0303, ct, ctlen,
	    out, &outlen);
	CHECK(st == LURK_ST_SUCCESS && outlen == sizeof(pm) &&
	    memcmp(out, pm, sizeof(pm)) == 0,
	    "keyop_run rsa_premaster: the premaster, decrypted");
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		st = run(&rsa, EDGE_TYPE_RSA_PREMASTER, 0, versions[i].cv,
		    versions[i].nv, ct, ctlen, out, &outlen);
		snprintf(what, sizeof(what), "keyop_run rsa_premaster, client "
		    "version %04x, negotiated %04x: %s", versions[i].cv,
		    versions[i].nv, versions[i].st == LURK_ST_SUCCESS ?
		    "48 bytes" : "invalid_format");
		CHECK(st == versions[i].st && (st != LURK_ST_SUCCESS ||
		    outlen == EDGE_PREMASTER_LEN), what);
	}
	listener_tests(&ec, tls13, sizeof(tls13), tls12, sizeof(tls12));
	key_free(&ec);
	key_free(&rsa);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: keys_test DIR\n");
		return 2;
	}
	dir = argv[1];
	loader_tests();
	keyop_tests();
	TEST_EXIT();
}
