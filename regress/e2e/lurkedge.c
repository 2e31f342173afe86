/*
 * lurkedge: a LURK-aware TLS 1.3 edge for the tests (not shipped).  It
 * serves HTTPS to unmodified TLS clients (openssl s_client, curl) while
 * holding neither the private key nor the (EC)DHE secret: one
 * s_init_cert_verify with cs_generated per handshake gives it lurkd's
 * key share, the CertificateVerify signature and the handshake and
 * application traffic secrets; it does the record layer (AES-GCM) and
 * the Finished messages itself.  One connection at a time.
 *
 * Usage: lurkedge -p port -S lurk.sock -c cert.pem [-n connections]
 *
 * It logs one line per connection on stderr: what it negotiated, or why
 * it gave up.  No HelloRetryRequest, no session tickets, no client
 * certificates, no ALPN: what the clients of the tests do not need.
 * The key schedule's primitives are keyproc/tls13ks.c's (the client
 * computes its own: a mistake in them fails the handshake).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "drafts.h"
#include "keyproc/keyproc.h"
#include "lurk.h"

#define REC_MAX		(16384 + 256)
#define BODY		"hello from a lurkd edge\n"

static const char	*sockpath;
static uint8_t		*certder;
static int		 certlen;
static uint16_t		 scheme;	/* the key's, from the certificate */

/* the record layer of one direction */
struct dir {
	EVP_CIPHER_CTX	*ctx;
	const EVP_CIPHER *cipher;
	uint8_t		 key[32];
	uint8_t		 iv[12];
	uint64_t	 seq;
	int		 on;		/* encrypted */
};

struct tls {
	int		 fd;
	const EVP_MD	*md;
	size_t		 hlen;
	uint16_t	 suite;
	struct dir	 rd, wr;
	uint8_t		 in[REC_MAX];	/* a record's plaintext */
	size_t		 inlen, inoff;
	uint8_t		 intype;
	EVP_MD_CTX	*th;
};

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "lurkedge: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int
readn(int fd, uint8_t *p, size_t n)
{
	ssize_t	 r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= r;
	}
	return 0;
}

static int
writen(int fd, const uint8_t *p, size_t n)
{
	ssize_t	 r;

	while (n > 0) {
		if ((r = write(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= r;
	}
	return 0;
}

/* ---- LURK ---------------------------------------------------------------- */

/* One request to lurkd; the answer's payload (malloc'd), its status. */
static int
lurk_call(uint8_t type, const uint8_t *payload, size_t len, uint8_t **out,
    size_t *outlen)
{
	struct sockaddr_un	 sun;
	struct lurk_hdr		 h;
	uint8_t			 hdr[LURK_HDR_LEN];
	int			 fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fail("socket: %s", strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fail("connect %s: %s", sockpath, strerror(errno));
	memset(&h, 0, sizeof(h));
	h.designation = LURK_DESIG_TLS13;
	h.version = LURK_V1;
	h.type = type;
	h.id = 0x6c75726b65646765ULL;
	h.length = len;
	lurk_hdr_encode(&h, hdr);
	if (writen(fd, hdr, sizeof(hdr)) == -1 ||
	    writen(fd, payload, len) == -1 || readn(fd, hdr, sizeof(hdr)) == -1)
		fail("lurkd: %s", strerror(errno));
	lurk_hdr_decode(hdr, &h);
	if ((*out = malloc(h.length + 1)) == NULL ||
	    readn(fd, *out, h.length) == -1)
		fail("lurkd: short answer");
	*outlen = h.length;
	close(fd);
	return h.status;
}

/* ---- records ------------------------------------------------------ */

static void
dir_keys(struct tls *t, struct dir *d, const uint8_t *secret)
{
	size_t	 klen = t->suite == TLS13_AES_256_GCM_SHA384 ? 32 : 16;

	d->cipher = klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	if (tls13_expand_label(t->md, secret, "key", NULL, 0, d->key,
	    klen) == -1 ||
	    tls13_expand_label(t->md, secret, "iv", NULL, 0, d->iv, 12) == -1)
		fail("expand_label");
	d->seq = 0;
	d->on = 1;
}

static void
nonce(const struct dir *d, uint8_t *n)
{
	int	 i;

	memcpy(n, d->iv, 12);
	for (i = 0; i < 8; i++)
		n[11 - i] ^= d->seq >> (8 * i);
}

static int
rec_write(struct tls *t, uint8_t type, const uint8_t *p, size_t len)
{
	uint8_t		 rec[5 + REC_MAX], n[12];
	int		 l, f;
	size_t		 clen;

	if (!t->wr.on) {
		rec[0] = type;
		rec[1] = 3;
		rec[2] = 3;
		rec[3] = len >> 8;
		rec[4] = len;
		memcpy(rec + 5, p, len);
		return writen(t->fd, rec, 5 + len);
	}
	clen = len + 1 + 16;
	rec[0] = 23;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = clen >> 8;
	rec[4] = clen;
	memcpy(rec + 5, p, len);
	rec[5 + len] = type;		/* TLSInnerPlaintext */
	nonce(&t->wr, n);
	if (EVP_EncryptInit_ex(t->wr.ctx, t->wr.cipher, NULL, t->wr.key, n) !=
	    1 || EVP_EncryptUpdate(t->wr.ctx, NULL, &l, rec, 5) != 1 ||
	    EVP_EncryptUpdate(t->wr.ctx, rec + 5, &l, rec + 5, len + 1) != 1 ||
	    EVP_EncryptFinal_ex(t->wr.ctx, rec + 5 + l, &f) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->wr.ctx, EVP_CTRL_AEAD_GET_TAG, 16,
	    rec + 5 + len + 1) != 1)
		fail("encrypt");
	t->wr.seq++;
	return writen(t->fd, rec, 5 + clen);
}

/* The next record's plaintext in t->in; its content type in t->intype. */
static int
rec_read(struct tls *t)
{
	uint8_t		 hdr[5], rec[REC_MAX], n[12];
	size_t		 len;
	int		 l, f;

	for (;;) {
		if (readn(t->fd, hdr, 5) == -1)
			return -1;
		len = hdr[3] << 8 | hdr[4];
		if (len > sizeof(rec) || readn(t->fd, rec, len) == -1)
			return -1;
		/* the client's change_cipher_spec: middlebox compatibility */
		if (hdr[0] == 20 && len == 1)
			continue;
		break;
	}
	t->inoff = 0;
	if (!t->rd.on) {
		memcpy(t->in, rec, len);
		t->inlen = len;
		t->intype = hdr[0];
		return 0;
	}
	if (hdr[0] != 23 || len < 17)
		return -1;
	nonce(&t->rd, n);
	if (EVP_DecryptInit_ex(t->rd.ctx, t->rd.cipher, NULL, t->rd.key, n) !=
	    1 || EVP_DecryptUpdate(t->rd.ctx, NULL, &l, hdr, 5) != 1 ||
	    EVP_DecryptUpdate(t->rd.ctx, t->in, &l, rec, len - 16) != 1 ||
	    EVP_CIPHER_CTX_ctrl(t->rd.ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    rec + len - 16) != 1 ||
	    EVP_DecryptFinal_ex(t->rd.ctx, t->in + l, &f) != 1)
		return -1;
	t->rd.seq++;
	t->inlen = len - 16;
	while (t->inlen > 0 && t->in[t->inlen - 1] == 0)
		t->inlen--;
	if (t->inlen == 0)
		return -1;
	t->intype = t->in[--t->inlen];
	return 0;
}

/* One whole handshake message (header and body) into m; its length. */
static int
hs_read(struct tls *t, uint8_t *m, size_t max, size_t *mlen)
{
	size_t	 have = 0, need = 4;

	while (have < need) {
		if (t->inoff == t->inlen && rec_read(t) == -1)
			return -1;
		if (t->intype != 22)
			return -1;
		while (t->inoff < t->inlen && have < need) {
			m[have++] = t->in[t->inoff++];
			if (have == 4) {
				need = 4 + ((size_t)m[1] << 16 | m[2] << 8 |
				    m[3]);
				if (need > max)
					return -1;
			}
		}
	}
	*mlen = need;
	return 0;
}

/* A handshake message: to the peer and to the transcript. */
static int
hs_write(struct tls *t, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t	 m[8192];

	if (4 + len > sizeof(m))
		return -1;
	m[0] = type;
	m[1] = len >> 16;
	m[2] = len >> 8;
	m[3] = len;
	memcpy(m + 4, body, len);
	if (tls13_th_add(t->th, type, body, len) == -1)
		return -1;
	return rec_write(t, 22, m, 4 + len);
}

static void
alert(struct tls *t, uint8_t desc)
{
	uint8_t	 a[2] = { desc == 0 ? 1 : 2, desc };

	(void)rec_write(t, 21, a, 2);
}

/* ---- the handshake ------------------------------------------------ */

static const uint8_t *
ext(const struct tls13_hello *h, uint16_t type, size_t *len)
{
	return tls_ext_find(h->ext, h->ext_len, type, len);
}

/* The first client share of a group lurkd does; -1 if none. */
static int
pick_group(const struct tls13_hello *ch)
{
	struct lurk_rd	 r;
	const uint8_t	*p;
	size_t		 n;
	uint16_t	 g;

	if ((p = ext(ch, TLS_EXT_KEY_SHARE, &n)) == NULL)
		return -1;
	lurk_rd_init(&r, p + 2, n - 2);
	while (r.left > 0 && !r.bad) {
		g = lurk_rd_num(&r, 2);
		(void)lurk_rd_vec(&r, 2, &n);
		if (tls13_group_secret_len(g) > 0)
			return g;
	}
	return -1;
}

static int
offered(const uint8_t *list, size_t len, size_t width, uint16_t v)
{
	size_t	 i;

	for (i = 0; i + width <= len; i += width)
		if ((width == 1 ? list[i] : list[i] << 8 | list[i + 1]) == v)
			return 1;
	return 0;
}

static int
handshake(struct tls *t, const char **why)
{
	struct tls13_hello ch;
	struct tls13_msg m;
	struct lurk_wr	 sh, req, shreal;
	uint8_t		 chm[8192], s[32], sr[32], *ans = NULL, fin[64];
	uint8_t		 th[64], cfin[64], hc[64], hs[64], ac[64], as[64];
	uint8_t		 certbody[8192];
	const uint8_t	*p, *sig = NULL, *kx = NULL;
	size_t		 chlen, n, anslen, off, kxlen = 0, siglen = 0, i;
	struct lurk_rd	 r;
	int		 group, st;

	memset(&sh, 0, sizeof(sh));
	memset(&req, 0, sizeof(req));
	memset(&shreal, 0, sizeof(shreal));
	if (hs_read(t, chm, sizeof(chm), &chlen) == -1 || chm[0] != 1) {
		*why = "no ClientHello";
		return -1;
	}
	m.type = 1;
	m.body = chm + 4;
	m.len = chlen - 4;
	if (tls13_hello_parse(&m, &ch) == -1) {
		*why = "a ClientHello that does not parse";
		return -1;
	}
	p = ext(&ch, TLS_EXT_SUPPORTED_VERSIONS, &n);
	if (p == NULL || !offered(p + 1, n - 1, 2, TLS_VERSION_13)) {
		*why = "TLS 1.3 not offered";
		return -1;
	}
	if (offered(ch.suites, ch.suites_len, 2, TLS13_AES_128_GCM_SHA256))
		t->suite = TLS13_AES_128_GCM_SHA256;
	else if (offered(ch.suites, ch.suites_len, 2,
	    TLS13_AES_256_GCM_SHA384))
		t->suite = TLS13_AES_256_GCM_SHA384;
	else {
		*why = "no AES-GCM suite offered";
		return -1;
	}
	if ((group = pick_group(&ch)) == -1) {
		*why = "no key share of a group lurkd does (and no "
		    "HelloRetryRequest)";
		return -1;
	}
	p = ext(&ch, TLS_EXT_SIGNATURE_ALGORITHMS, &n);
	if (p == NULL || !offered(p + 2, n - 2, 2, scheme)) {
		*why = "the key's signature scheme not offered";
		return -1;
	}
	t->md = tls13_suite_md(t->suite);
	t->hlen = EVP_MD_get_size(t->md);
	if ((t->th = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(t->th, t->md, NULL) != 1)
		fail("transcript");

	/* the ServerHello lurkd sees: S, and an empty share of the group */
	if (RAND_bytes(s, sizeof(s)) != 1)
		fail("RAND_bytes");
	lurk_wr_num(&sh, TLS_VERSION_12, 2);
	lurk_wr_bytes(&sh, s, 32);
	lurk_wr_num(&sh, ch.sid_len, 1);
	lurk_wr_bytes(&sh, ch.sid, ch.sid_len);
	lurk_wr_num(&sh, t->suite, 2);
	lurk_wr_num(&sh, 0, 1);
	off = lurk_wr_open(&sh, 2);
	lurk_wr_num(&sh, TLS_EXT_SUPPORTED_VERSIONS, 2);
	lurk_wr_num(&sh, 2, 2);
	lurk_wr_num(&sh, TLS_VERSION_13, 2);
	lurk_wr_num(&sh, TLS_EXT_KEY_SHARE, 2);
	lurk_wr_num(&sh, 4, 2);
	lurk_wr_num(&sh, group, 2);
	lurk_wr_num(&sh, 0, 2);
	lurk_wr_close(&sh, off, 2);

	/* s_init_cert_verify: stateless, sha256, cs_generated */
	lurk_wr_num(&req, TLS13_TAG_LAST_EXCHANGE, 1);
	lurk_wr_num(&req, TLS13_FRESH_SHA256, 1);
	lurk_wr_num(&req, TLS13_EPH_CS_GENERATED, 1);
	off = lurk_wr_open(&req, 4);
	lurk_wr_num(&req, TLS_HS_CLIENT_HELLO, 1);
	lurk_wr_bytes(&req, chm + 4, chlen - 4);
	lurk_wr_num(&req, TLS_HS_SERVER_HELLO, 1);
	lurk_wr_bytes(&req, sh.p, sh.len);
	lurk_wr_num(&req, TLS_HS_ENCRYPTED_EXTENSIONS, 1);
	lurk_wr_num(&req, 0, 2);
	lurk_wr_close(&req, off, 4);
	lurk_wr_num(&req, TLS13_CERT_FINGER_PRINT, 2);
	lurk_wr_num(&req, 0, 1);		/* context */
	lurk_wr_num(&req, 4 + 2, 3);
	EVP_Digest(certder, certlen, th, NULL, EVP_sha256(), NULL);
	lurk_wr_bytes(&req, th, 4);
	lurk_wr_num(&req, 0, 2);
	lurk_wr_num(&req, TLS13_SECRET_BIT(TLS13_SECRET_H_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_H_S) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_C) |
	    TLS13_SECRET_BIT(TLS13_SECRET_A_S), 2);
	lurk_wr_num(&req, scheme, 2);
	if (sh.bad || req.bad)
		fail("out of memory");
	if ((st = lurk_call(TLS13_TYPE_S_INIT_CERT_VERIFY, req.p, req.len,
	    &ans, &anslen)) != LURK_ST_SUCCESS) {
		fprintf(stderr, "lurkedge: lurkd: status %d\n", st);
		*why = "lurkd refused s_init_cert_verify";
		free(ans);
		return -1;
	}
	/* tag, ephemeral (cs_generated: KeyShareEntry<2>), secrets, sig */
	lurk_rd_init(&r, ans, anslen);
	if (lurk_rd_num(&r, 1) != TLS13_TAG_LAST_EXCHANGE ||
	    lurk_rd_num(&r, 1) != TLS13_EPH_CS_GENERATED)
		fail("lurkd: not the answer asked for");
	p = lurk_rd_vec(&r, 2, &n);
	if (p == NULL || n < 4 || (p[0] << 8 | p[1]) != group)
		fail("lurkd: no key share");
	kx = p + 4;
	kxlen = n - 4;
	p = lurk_rd_vec(&r, 2, &n);
	for (i = 0; p != NULL && i + 2 <= n; i += 2 + p[i + 1]) {
		uint8_t	*dst = p[i] == TLS13_SECRET_H_C ? hc :
		    p[i] == TLS13_SECRET_H_S ? hs :
		    p[i] == TLS13_SECRET_A_C ? ac :
		    p[i] == TLS13_SECRET_A_S ? as : NULL;

		if (dst == NULL || p[i + 1] != t->hlen)
			fail("lurkd: a secret not asked for");
		memcpy(dst, p + i + 2, t->hlen);
	}
	sig = lurk_rd_vec(&r, 2, &siglen);
	if (sig == NULL || r.left != 0)
		fail("lurkd: bad answer");

	/* the ServerHello the client sees: F(S), lurkd's share */
	{
		EVP_MD_CTX	*c = EVP_MD_CTX_new();

		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		EVP_DigestUpdate(c, s, 32);
		EVP_DigestUpdate(c, TLS13_PFS_LABEL,
		    sizeof(TLS13_PFS_LABEL) - 1);
		EVP_DigestFinal_ex(c, sr, NULL);
		EVP_MD_CTX_free(c);
	}
	memcpy(sh.p + 2, sr, 32);
	lurk_wr_bytes(&shreal, sh.p, sh.len - 8);	/* up to key_share */
	lurk_wr_num(&shreal, TLS_EXT_KEY_SHARE, 2);
	lurk_wr_num(&shreal, 4 + kxlen, 2);
	lurk_wr_num(&shreal, group, 2);
	lurk_wr_num(&shreal, kxlen, 2);
	lurk_wr_bytes(&shreal, kx, kxlen);
	/* the extensions' length */
	n = shreal.len - (2 + 32 + 1 + ch.sid_len + 2 + 1 + 2);
	shreal.p[2 + 32 + 1 + ch.sid_len + 3] = n >> 8;
	shreal.p[2 + 32 + 1 + ch.sid_len + 4] = n;
	if (shreal.bad || tls13_th_add(t->th, 1, chm + 4, chlen - 4) == -1 ||
	    hs_write(t, TLS_HS_SERVER_HELLO, shreal.p, shreal.len) == -1 ||
	    rec_write(t, 20, (const uint8_t *)"\1", 1) == -1)
		goto io;

	/* the server's flight, under h_s */
	dir_keys(t, &t->wr, hs);
	dir_keys(t, &t->rd, hc);
	n = 0;
	certbody[n++] = 0;
	certbody[n++] = (3 + certlen + 2) >> 16;
	certbody[n++] = (3 + certlen + 2) >> 8;
	certbody[n++] = 3 + certlen + 2;
	certbody[n++] = certlen >> 16;
	certbody[n++] = certlen >> 8;
	certbody[n++] = certlen;
	memcpy(certbody + n, certder, certlen);
	n += certlen;
	certbody[n++] = 0;
	certbody[n++] = 0;
	{
		uint8_t	 cv[2 + 2 + 1024];

		cv[0] = scheme >> 8;
		cv[1] = scheme;
		cv[2] = siglen >> 8;
		cv[3] = siglen;
		memcpy(cv + 4, sig, siglen);
		if (hs_write(t, TLS_HS_ENCRYPTED_EXTENSIONS,
		    (const uint8_t *)"\0\0", 2) == -1 ||
		    hs_write(t, TLS_HS_CERTIFICATE, certbody, n) == -1 ||
		    hs_write(t, TLS_HS_CERTIFICATE_VERIFY, cv, 4 + siglen) ==
		    -1)
			goto io;
	}
	if (tls13_th_hash(t->th, th) == -1 ||
	    tls13_finished(t->md, hs, th, fin) == -1 ||
	    hs_write(t, TLS_HS_FINISHED, fin, t->hlen) == -1)
		goto io;

	/* the client's Finished, under h_c */
	if (tls13_th_hash(t->th, th) == -1 ||
	    tls13_finished(t->md, hc, th, cfin) == -1)
		fail("finished");
	if (hs_read(t, chm, sizeof(chm), &n) == -1 || chm[0] != 20 ||
	    n != 4 + t->hlen || memcmp(chm + 4, cfin, t->hlen) != 0) {
		*why = "the client's Finished does not match";
		alert(t, 51);	/* decrypt_error */
		goto done;
	}
	dir_keys(t, &t->wr, as);
	dir_keys(t, &t->rd, ac);
	free(ans);
	lurk_wr_free(&sh);
	lurk_wr_free(&req);
	lurk_wr_free(&shreal);
	explicit_bzero(hc, sizeof(hc));
	explicit_bzero(hs, sizeof(hs));
	explicit_bzero(ac, sizeof(ac));
	explicit_bzero(as, sizeof(as));
	fprintf(stderr, "lurkedge: handshake: suite %04x group %d scheme "
	    "%04x\n", t->suite, group, scheme);
	return 0;
 io:
	*why = "write failed";
 done:
	free(ans);
	lurk_wr_free(&sh);
	lurk_wr_free(&req);
	lurk_wr_free(&shreal);
	return -1;
}

/* An HTTP request in, the answer out, close_notify. */
static void
serve(struct tls *t)
{
	char	 req[4096], resp[512];
	size_t	 have = 0, n;

	for (;;) {
		if (rec_read(t) == -1) {
			fprintf(stderr, "lurkedge: no request\n");
			return;
		}
		if (t->intype == 21)
			return;		/* an alert: the client left */
		if (t->intype != 23)
			continue;	/* a post-handshake message */
		n = t->inlen < sizeof(req) - 1 - have ? t->inlen :
		    sizeof(req) - 1 - have;
		memcpy(req + have, t->in, n);
		have += n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL || have == sizeof(req) - 1)
			break;
	}
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n"
	    "%s", strlen(BODY), BODY);
	if (rec_write(t, 23, (uint8_t *)resp, n) == -1)
		return;
	alert(t, 0);
	fprintf(stderr, "lurkedge: served %.*s\n", (int)strcspn(req, "\r\n"),
	    req);
}

static void
load_cert(const char *path)
{
	FILE		*f;
	X509		*x;
	EVP_PKEY	*pk;
	char		 name[64];
	size_t		 len;

	if ((f = fopen(path, "r")) == NULL ||
	    (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		fail("%s: no certificate", path);
	fclose(f);
	certder = NULL;
	if ((certlen = i2d_X509(x, &certder)) <= 0)
		fail("%s: i2d_X509", path);
	pk = X509_get0_pubkey(x);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		scheme = TLS_SS_RSA_PSS_RSAE_SHA256;
		break;
	case EVP_PKEY_ED25519:
		scheme = TLS_SS_ED25519;
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pk, name, sizeof(name), &len))
			fail("%s: EC key without a curve", path);
		scheme = strcmp(name, "prime256v1") == 0 ||
		    strcmp(name, "P-256") == 0 ? TLS_SS_ECDSA_SECP256R1_SHA256 :
		    strcmp(name, "secp384r1") == 0 ||
		    strcmp(name, "P-384") == 0 ? TLS_SS_ECDSA_SECP384R1_SHA384 :
		    TLS_SS_ECDSA_SECP521R1_SHA512;
		break;
	default:
		fail("%s: a key type the edge does not do", path);
	}
	X509_free(x);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct tls		 t;
	const char		*why;
	int			 ch, lfd, port = 0, count = -1, one = 1;

	while ((ch = getopt(argc, argv, "c:n:p:S:")) != -1)
		switch (ch) {
		case 'c':
			load_cert(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'S':
			sockpath = optarg;
			break;
		default:
			fail("usage: lurkedge -p port -S lurk.sock -c cert.pem "
			    "[-n connections]");
		}
	if (port == 0 || sockpath == NULL || certder == NULL)
		fail("usage: lurkedge -p port -S lurk.sock -c cert.pem "
		    "[-n connections]");
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fail("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 16) == -1)
		fail("bind 127.0.0.1:%d: %s", port, strerror(errno));
	fprintf(stderr, "lurkedge: listening on 127.0.0.1:%d\n", port);
	while (count == -1 || count-- > 0) {
		memset(&t, 0, sizeof(t));
		if ((t.fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		if ((t.rd.ctx = EVP_CIPHER_CTX_new()) == NULL ||
		    (t.wr.ctx = EVP_CIPHER_CTX_new()) == NULL)
			fail("EVP_CIPHER_CTX_new");
		why = "";
		if (handshake(&t, &why) == 0)
			serve(&t);
		else
			fprintf(stderr, "lurkedge: handshake failed: %s\n",
			    why);
		EVP_CIPHER_CTX_free(t.rd.ctx);
		EVP_CIPHER_CTX_free(t.wr.ctx);
		EVP_MD_CTX_free(t.th);
		close(t.fd);
		explicit_bzero(&t, sizeof(t));
	}
	return 0;
}
