/*
 * Drives the lurk provider the way stock servers do, for provider.t:
 *
 *	edgetest load KEY [CERT]	PEM_read_bio_PrivateKey (nginx,
 *					haproxy), then SSL_CTX_use_PrivateKey
 *					and SSL_CTX_check_private_key
 *	edgetest sign KEY CERT THREADS N
 *					N TLS 1.3 CertificateVerify signatures
 *					per thread, each verified with CERT
 *	edgetest fork KEY CERT N	sign, fork, then parent and child
 *					sign N times each at the same time
 *	edgetest premaster KEY CERT	TLS 1.2 RSA key exchange decryption
 *
 * OPENSSL_CONF must load the provider.  Prints one line; exit 0 on
 * success.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static EVP_PKEY	*key;
static EVP_PKEY	*pub;
static int	 count;

static EVP_PKEY *
load_key(const char *file)
{
	EVP_PKEY	*k;
	BIO		*b;

	if ((b = BIO_new_file(file, "r")) == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

static X509 *
load_cert(const char *file)
{
	X509	*x;
	BIO	*b;

	if ((b = BIO_new_file(file, "r")) == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

/* The digest libssl would pick for a TLS 1.3 signature with this key. */
static const char *
md_for(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	if (EVP_PKEY_is_a(k, "EC")) {
		switch (EVP_PKEY_get_bits(k)) {
		case 384:
			return "SHA384";
		case 521:
			return "SHA512";
		}
	}
	return "SHA256";
}

static int
is_rsa(EVP_PKEY *k)
{
	return EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS");
}

/* One CertificateVerify signature by key, checked with pub. */
static int
sign_one(void)
{
	EVP_MD_CTX	*mc = NULL, *vc = NULL;
	EVP_PKEY_CTX	*pc;
	unsigned char	 tbs[64 + 34 + 32], sig[1024];
	size_t		 siglen = 0;
	const char	*md = md_for(key);
	int		 ok = 0;

	memset(tbs, 0x20, 64);
	memcpy(tbs + 64, "TLS 1.3, server CertificateVerify", 34);
	if (RAND_bytes(tbs + 98, 32) != 1)
		return 0;
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    (vc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(mc, &pc, md, NULL, NULL, key, NULL) != 1)
		goto out;
	if (is_rsa(key) && (EVP_PKEY_CTX_set_rsa_padding(pc,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_DigestSign(mc, NULL, &siglen, tbs, sizeof(tbs)) != 1 ||
	    siglen > sizeof(sig) ||
	    EVP_DigestSign(mc, sig, &siglen, tbs, sizeof(tbs)) != 1)
		goto out;
	if (EVP_DigestVerifyInit_ex(vc, &pc, md, NULL, NULL, pub, NULL) != 1)
		goto out;
	if (is_rsa(pub) && (EVP_PKEY_CTX_set_rsa_padding(pc,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	ok = EVP_DigestVerify(vc, sig, siglen, tbs, sizeof(tbs)) == 1;
 out:
	EVP_MD_CTX_free(mc);
	EVP_MD_CTX_free(vc);
	return ok;
}

static void *
signer(void *arg)
{
	int	 i, *fails = arg;

	for (i = 0; i < count; i++)
		if (!sign_one())
			(*fails)++;
	return NULL;
}

static int
cmd_load(int argc, char *argv[])
{
	SSL_CTX	*ctx;

	if ((key = load_key(argv[2])) == NULL) {
		printf("PEM_read_bio_PrivateKey failed\n");
		return 1;
	}
	printf("%s %d bits", EVP_PKEY_get0_type_name(key),
	    EVP_PKEY_get_bits(key));
	if (argc > 3) {
		if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_file(ctx, argv[3],
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			printf(", certificate does not match\n");
			SSL_CTX_free(ctx);
			return 1;
		}
		printf(", matches its certificate");
		SSL_CTX_free(ctx);
	}
	printf("\n");
	return 0;
}

static int
setup(char *argv[])
{
	X509	*x;

	if ((key = load_key(argv[2])) == NULL ||
	    (x = load_cert(argv[3])) == NULL ||
	    (pub = X509_get_pubkey(x)) == NULL) {
		printf("cannot load key or certificate\n");
		return 0;
	}
	X509_free(x);
	return 1;
}

static int
cmd_sign(int argc, char *argv[])
{
	pthread_t	*t;
	int		*fails, n, i, total = 0;

	if (argc != 6 || !setup(argv))
		return 1;
	n = atoi(argv[4]);
	count = atoi(argv[5]);
	if (n < 1 || n > 64 || count < 1 ||
	    (t = calloc(n, sizeof(*t))) == NULL ||
	    (fails = calloc(n, sizeof(*fails))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, signer, &fails[i]) != 0)
			return 1;
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += fails[i];
	}
	free(t);
	free(fails);
	printf("%d signatures, %d failed\n", n * count, total);
	if (total > 0)
		ERR_print_errors_fp(stdout);
	return total != 0;
}

static int
cmd_fork(int argc, char *argv[])
{
	pid_t	 pid;
	int	 status, fails = 0;

	if (argc != 5 || !setup(argv))
		return 1;
	count = atoi(argv[4]);
	/* the parent connects before the fork */
	if (!sign_one()) {
		printf("parent: first signature failed\n");
		ERR_print_errors_fp(stdout);
		return 1;
	}
	if ((pid = fork()) == -1)
		return 1;
	signer(&fails);
	if (pid == 0)
		_exit(fails != 0);
	if (waitpid(pid, &status, 0) == -1)
		return 1;
	printf("parent: %d failed; child: %s\n", fails,
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
	return fails != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static int
cmd_premaster(int argc, char *argv[])
{
	EVP_PKEY_CTX	*ec, *dc;
	unsigned char	 pms[48], ct[1024], out[48];
	unsigned int	 ver = 0x0303;
	size_t		 ctlen = sizeof(ct), outlen = sizeof(out);
	OSSL_PARAM	 params[2];

	if (argc != 4 || !setup(argv))
		return 1;
	pms[0] = 0x03;
	pms[1] = 0x03;
	if (RAND_bytes(pms + 2, sizeof(pms) - 2) != 1 ||
	    (ec = EVP_PKEY_CTX_new(pub, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ec) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ec, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ec, ct, &ctlen, pms, sizeof(pms)) != 1)
		return 1;
	params[0] = OSSL_PARAM_construct_uint(
	    OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &ver);
	params[1] = OSSL_PARAM_construct_end();
	if ((dc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(dc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(dc, RSA_PKCS1_WITH_TLS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_params(dc, params) != 1 ||
	    EVP_PKEY_decrypt(dc, out, &outlen, ct, ctlen) != 1) {
		printf("decrypt failed\n");
		ERR_print_errors_fp(stdout);
		return 1;
	}
	if (outlen != 48 || memcmp(out, pms, 48) != 0) {
		printf("wrong premaster\n");
		return 1;
	}
	/* a tampered ciphertext: still 48 bytes, not the premaster */
	ct[ctlen / 2] ^= 1;
	outlen = sizeof(out);
	if (EVP_PKEY_decrypt(dc, out, &outlen, ct, ctlen) != 1 ||
	    outlen != 48 || memcmp(out, pms, 48) == 0) {
		printf("no implicit rejection\n");
		return 1;
	}
	EVP_PKEY_CTX_free(ec);
	EVP_PKEY_CTX_free(dc);
	printf("premaster ok, implicit rejection ok\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 3 && strcmp(argv[1], "load") == 0)
		return cmd_load(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "fork") == 0)
		return cmd_fork(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "premaster") == 0)
		return cmd_premaster(argc, argv);
	fprintf(stderr, "usage: edgetest load|sign|fork|premaster KEY ...\n");
	return 2;
}
