/*
 * evpsign: how many TLS 1.3 CertificateVerify signatures per second this
 * machine makes in-process, the way libssl makes them (a fresh
 * EVP_DigestSignInit per signature), with one or several processes.
 *
 *	evpsign -a rsa-pss|ecdsa|ed25519 (-k key.pem | -e engine -K uri)
 *	    [-p procs] [-t seconds]
 *
 * Each worker loads the key itself after fork (an ENGINE is never shared
 * across fork), signs and verifies once, waits for the common start, then
 * signs for the given time.  Prints one line:
 *	ok alg=... procs=N ops=... secs=... ops_per_s=... us_per_op=...
 * where ops_per_s is the sum over the workers.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* ENGINE: the PKCS#11 comparison */

#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common.h"

enum alg { ALG_RSA_PSS, ALG_ECDSA, ALG_ED25519 };

struct result {
	uint64_t	 ops;
	double		 secs;
	int		 ok;
};

static enum alg	 alg;
static const char *keyfile, *engine_id, *key_uri;

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: evpsign -a rsa-pss|ecdsa|ed25519 "
	    "(-k key.pem | -e engine -K uri) [-p procs] [-t seconds]\n");
	exit(2);
}

static void
xwrite(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		_exit(1);
}

static EVP_PKEY *
load_key(void)
{
	EVP_PKEY	*pkey = NULL;
	ENGINE		*e;
	FILE		*f;
	int		 try;

	if (engine_id != NULL) {
		/* the engine's settings (MODULE_PATH, PIN) are in OPENSSL_CONF */
		OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
		if ((e = ENGINE_by_id(engine_id)) == NULL ||
		    ENGINE_init(e) != 1)
			return NULL;
		/*
		 * Workers logging in to the same token at the same moment
		 * through p11-kit's server sometimes see CKR_GENERAL_ERROR:
		 * try again a little later.
		 */
		for (try = 0; try < 20 && pkey == NULL; try++) {
			if (try > 0)
				usleep(50000);
			pkey = ENGINE_load_private_key(e, key_uri, NULL, NULL);
		}
		if (pkey != NULL)
			ERR_clear_error();
		return pkey;
	}
	if ((f = fopen(keyfile, "r")) == NULL)
		return NULL;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return pkey;
}

static int
sign_once(EVP_PKEY *pkey, const uint8_t *tbs, size_t tbslen, uint8_t *sig,
    size_t *siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	const EVP_MD	*md = alg == ALG_ED25519 ? NULL : EVP_sha256();
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) == 1;
	if (ok && alg == ALG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	if (ok)
		ok = EVP_DigestSign(ctx, sig, siglen, tbs, tbslen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static int
verify_once(EVP_PKEY *pkey, const uint8_t *tbs, size_t tbslen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	const EVP_MD	*md = alg == ALG_ED25519 ? NULL : EVP_sha256();
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
	if (ok && alg == ALG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1;
	if (ok)
		ok = EVP_DigestVerify(ctx, sig, siglen, tbs, tbslen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* workers load their keys one at a time: a token passed through a pipe */
static int	 mutex[2];

static void __attribute__((__noreturn__))
worker(int ready_fd, int start_fd, int res_fd, double secs)
{
	struct result	 r = { 0, 0, 0 };
	EVP_PKEY	*pkey;
	uint8_t		 tbs[CV_LEN], sig[1024];
	size_t		 siglen;
	double		 t0, t;
	char		 c;
	ssize_t		 n;

	cv_content(tbs, getpid());
	siglen = sizeof(sig);
	while ((n = read(mutex[0], &c, 1)) == -1 && errno == EINTR)
		;
	pkey = load_key();
	xwrite(mutex[1], "m", 1);
	if (pkey == NULL ||
	    !sign_once(pkey, tbs, sizeof(tbs), sig, &siglen) ||
	    !verify_once(pkey, tbs, sizeof(tbs), sig, siglen)) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "evpsign: worker %d: cannot load the key or "
		    "make a valid signature\n", (int)getpid());
		xwrite(ready_fd, "x", 1);
		xwrite(res_fd, &r, sizeof(r));
		_exit(1);
	}
	xwrite(ready_fd, "r", 1);
	close(ready_fd);
	/* the start: the parent closes the pipe */
	while ((n = read(start_fd, &c, 1)) == -1 && errno == EINTR)
		;
	t0 = now_s();
	do {
		int	 i;

		for (i = 0; i < 4; i++) {
			siglen = sizeof(sig);
			tbs[CV_LEN - 1]++;
			if (!sign_once(pkey, tbs, sizeof(tbs), sig, &siglen)) {
				ERR_print_errors_fp(stderr);
				xwrite(res_fd, &r, sizeof(r));
				_exit(1);
			}
			r.ops++;
		}
		t = now_s();
	} while (t - t0 < secs);
	r.secs = t - t0;
	r.ok = 1;
	xwrite(res_fd, &r, sizeof(r));
	_exit(0);
}

int
main(int argc, char *argv[])
{
	struct result	 r;
	const char	*alg_name = NULL;
	double		 secs = 3, rate = 0;
	uint64_t	 ops = 0;
	pid_t		*pids;
	int		 procs = 1, ch, i, ready[2], start[2], res[2];
	int		 failed = 0, status;
	char		 c;

	while ((ch = getopt(argc, argv, "a:e:k:K:p:t:")) != -1) {
		switch (ch) {
		case 'a':
			alg_name = optarg;
			break;
		case 'e':
			engine_id = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'K':
			key_uri = optarg;
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (alg_name == NULL || procs < 1 || procs > 256 || secs <= 0 ||
	    (keyfile == NULL) == (engine_id == NULL) ||
	    (engine_id != NULL && key_uri == NULL))
		usage();
	if (strcmp(alg_name, "rsa-pss") == 0)
		alg = ALG_RSA_PSS;
	else if (strcmp(alg_name, "ecdsa") == 0)
		alg = ALG_ECDSA;
	else if (strcmp(alg_name, "ed25519") == 0)
		alg = ALG_ED25519;
	else
		usage();

	if (pipe(ready) == -1 || pipe(start) == -1 || pipe(res) == -1 ||
	    pipe(mutex) == -1 || write(mutex[1], "m", 1) != 1)
		err(1, "pipe");
	if ((pids = calloc(procs, sizeof(*pids))) == NULL)
		err(1, "calloc");
	for (i = 0; i < procs; i++) {
		switch (pids[i] = fork()) {
		case -1:
			err(1, "fork");
		case 0:
			close(ready[0]);
			close(start[1]);
			close(res[0]);
			worker(ready[1], start[0], res[1], secs);
		}
	}
	close(ready[1]);
	close(start[0]);
	close(res[1]);
	for (i = 0; i < procs; i++) {
		if (read(ready[0], &c, 1) != 1 || c != 'r') {
			failed = 1;
			break;
		}
	}
	close(start[1]);		/* go */
	for (i = 0; i < procs && !failed; i++) {
		if (read(res[0], &r, sizeof(r)) != (ssize_t)sizeof(r) ||
		    !r.ok || r.secs <= 0) {
			failed = 1;
			continue;
		}
		ops += r.ops;
		rate += r.ops / r.secs;
	}
	for (i = 0; i < procs; i++) {
		if (failed)
			kill(pids[i], SIGTERM);
		waitpid(pids[i], &status, 0);
	}
	if (failed) {
		printf("fail alg=%s procs=%d\n", alg_name, procs);
		return 1;
	}
	printf("ok alg=%s procs=%d ops=%llu secs=%.3f ops_per_s=%.1f "
	    "us_per_op=%.2f\n", alg_name, procs, (unsigned long long)ops, secs,
	    rate, rate > 0 ? 1e6 * procs / rate : 0);
	return 0;
}
