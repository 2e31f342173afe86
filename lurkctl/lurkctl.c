/*
 * lurkctl: control and edge tool for lurkd(8).
 *
 * Commands are looked up in a token table and may be abbreviated to any
 * unique prefix, as with relayctl(8) and bgpctl(8).  For now:
 *
 *	keyref [-S socket] [-n name] certificate.pem
 *		write the key reference (PEM "LURK KEY REFERENCE") that
 *		lets the lurk OpenSSL provider use the certificate's key,
 *		after asking lurkd that it holds that key.
 *
 * Exit: 0 ok, 1 failure, 2 usage, 3 lurkd not reachable.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lurk.h"
#include "keyref.h"
#include "provider/client.h"

#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3

struct env {
	const char	*socket;	/* -S, or NULL */
	int		 timeout_ms;
};

struct cmd {
	const char	*name;
	const char	*usage;
	int		(*fn)(struct env *, int, char *[]);
};

static int	cmd_keyref(struct env *, int, char *[]);

static const struct cmd cmds[] = {
	{ "keyref", "keyref [-S socket] [-n name] certificate.pem",
	    cmd_keyref },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void	usage(void) __attribute__((__noreturn__));

static void
usage(void)
{
	size_t	 i;

	fprintf(stderr, "usage: lurkctl [-S socket] command [argument ...]\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(stderr, "       lurkctl %s\n", cmds[i].usage);
	exit(EXIT_USAGE);
}

static void
warnmsg(const char *fmt, ...) __attribute__((__format__(printf, 1, 2)));

static void
warnmsg(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "lurkctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The command a word names: exact, or the only one it is a prefix of. */
static const struct cmd *
lookup(const char *word)
{
	const struct cmd	*match = NULL;
	size_t			 i, len = strlen(word);

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(word, cmds[i].name) == 0)
			return &cmds[i];
		if (len > 0 && strncmp(word, cmds[i].name, len) == 0) {
			if (match != NULL)
				return NULL;	/* ambiguous */
			match = &cmds[i];
		}
	}
	return match;
}

static const char *
socket_path(const struct env *env)
{
	const char	*s;

	if (env->socket != NULL)
		return env->socket;
	if ((s = getenv("LURK_SOCKET")) != NULL && *s != '\0')
		return s;
	return LC_DEFAULT_SOCKET;
}

/*
 * One request; exits with the right status on failure.  what names the
 * key asked for, for the message when lurkd does not hold it.
 */
static void
request(const struct env *env, uint8_t type, const uint8_t *req,
    size_t reqlen, uint8_t **resp, size_t *resplen, const char *what)
{
	struct lc_conn	*c;
	struct lc_error	 e;
	const char	*path = socket_path(env);

	if ((c = lc_conn_get(path)) == NULL) {
		warnmsg("out of memory");
		exit(1);
	}
	if (lc_request(c, env->timeout_ms, type, req, reqlen, resp, resplen,
	    &e) == LC_OK)
		return;
	switch (e.result) {
	case LC_ECONNECT:
	case LC_ETIMEOUT:
	case LC_EIO:
		warnmsg("daemon not reachable: %s", e.msg);
		exit(EXIT_UNREACHABLE);
	case LC_ESTATUS:
		if (e.status == EDGE_ST_UNKNOWN_KEY)
			warnmsg("%s: %s: lurkd does not hold %s", path, e.msg,
			    what);
		else
			warnmsg("%s: %s", path, e.msg);
		exit(1);
	default:
		warnmsg("%s", e.msg);
		exit(1);
	}
}

static X509 *
read_cert(const char *file)
{
	X509	*x;
	BIO	*b;

	if ((b = BIO_new_file(file, "r")) == NULL) {
		warnmsg("%s: %s", file, strerror(errno));
		return NULL;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		warnmsg("%s: no PEM certificate", file);
	return x;
}

/*
 * keyref -n NAME for a certificate whose key lurkd calls otherwise: say
 * whether lurkd holds NAME at all, or holds it for another key.
 */
static void
check_name(const struct env *env, const char *name, const uint8_t *key_id,
    const char *cert, const struct edge_keyinfo *mine)
{
	struct edge_keyinfo	 ki;
	uint8_t			 req[2 + KEYREF_NAME_MAX], *resp = NULL;
	char			 what[KEYREF_NAME_MAX + 32];
	size_t			 len = strlen(name), resplen = 0;

	req[0] = EDGE_SEL_NAME;
	req[1] = len;
	memcpy(req + 2, name, len);
	snprintf(what, sizeof(what), "a key named \"%s\"", name);
	request(env, EDGE_TYPE_KEY_INFO, req, 2 + len, &resp, &resplen, what);
	if (edge_keyinfo_decode(resp, resplen, &ki) == -1)
		warnmsg("%s: malformed key_info answer", socket_path(env));
	else
		warnmsg("key \"%s\" in lurkd is another key than the one of "
		    "%s, which lurkd calls \"%.*s\"", name, cert,
		    (int)mine->namelen, mine->name);
	lc_free_response(resp, resplen);
}

static int
cmd_keyref(struct env *env, int argc, char *argv[])
{
	struct edge_keyinfo	 ki;
	struct keyref		 ref;
	X509			*x;
	BIO			*out;
	uint8_t			 req[2 + EDGE_KEY_ID_LEN], *resp = NULL;
	char			 what[PATH_MAX + 128];
	char			 hex[EDGE_KEY_ID_LEN * 2 + 1];
	uint8_t			*blob = NULL;
	unsigned char		*spki = NULL;
	const char		*name = NULL;
	size_t			 resplen = 0, bloblen;
	int			 ch, spkilen, rv = 1;

	optind = 0;	/* glibc: restart, and forget "+" */
	while ((ch = getopt(argc, argv, "n:S:")) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'S':
			env->socket = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if (name != NULL && (strlen(name) == 0 ||
	    strlen(name) > KEYREF_NAME_MAX)) {
		warnmsg("key name must have 1 to %d bytes", KEYREF_NAME_MAX);
		return EXIT_USAGE;
	}
	if (env->socket != NULL && (env->socket[0] != '/' ||
	    strlen(env->socket) > KEYREF_SOCKET_MAX)) {
		warnmsg("socket path must be absolute and at most %d bytes",
		    KEYREF_SOCKET_MAX);
		return EXIT_USAGE;
	}

	if ((x = read_cert(argv[0])) == NULL)
		return 1;
	if ((spkilen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0 ||
	    spkilen > KEYREF_SPKI_MAX) {
		warnmsg("%s: cannot encode the public key", argv[0]);
		goto out;
	}
	memset(&ref, 0, sizeof(ref));
	keyref_key_id(spki, spkilen, ref.key_id);

	req[0] = EDGE_SEL_SPKI_SHA256;
	req[1] = EDGE_KEY_ID_LEN;
	memcpy(req + 2, ref.key_id, EDGE_KEY_ID_LEN);
	snprintf(what, sizeof(what), "the key of %s (key id %s)", argv[0],
	    lurk_hex(ref.key_id, EDGE_KEY_ID_LEN, hex, sizeof(hex)));
	request(env, EDGE_TYPE_KEY_INFO, req, sizeof(req), &resp, &resplen,
	    what);
	if (edge_keyinfo_decode(resp, resplen, &ki) == -1 ||
	    memcmp(ki.key_id, ref.key_id, EDGE_KEY_ID_LEN) != 0 ||
	    ki.spkilen != (size_t)spkilen ||
	    memcmp(ki.spki, spki, spkilen) != 0) {
		warnmsg("%s: malformed key_info answer", socket_path(env));
		goto out;
	}
	/* -n: the name lurkd knows this very key by, nothing else */
	if (name != NULL && (strlen(name) != ki.namelen ||
	    memcmp(name, ki.name, ki.namelen) != 0)) {
		check_name(env, name, ref.key_id, argv[0], &ki);
		goto out;
	}

	if (name != NULL) {
		ref.name = name;
		ref.namelen = strlen(name);
	} else {
		ref.name = ki.name;
		ref.namelen = ki.namelen;
	}
	if (env->socket != NULL) {
		ref.socket = env->socket;
		ref.socketlen = strlen(env->socket);
	}
	ref.spki = spki;
	ref.spkilen = spkilen;
	bloblen = keyref_len(&ref);
	if ((blob = malloc(bloblen)) == NULL ||
	    keyref_encode(&ref, blob, bloblen) != bloblen) {
		warnmsg("cannot encode the key reference");
		goto out;
	}
	if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL)
		goto out;
	if (PEM_write_bio(out, KEYREF_PEM_LABEL, "", blob, bloblen) <= 0 ||
	    BIO_flush(out) <= 0)
		warnmsg("write: %s", strerror(errno));
	else
		rv = 0;
	BIO_free(out);
 out:
	free(blob);
	OPENSSL_free(spki);
	lc_free_response(resp, resplen);
	X509_free(x);
	return rv;
}

int
main(int argc, char *argv[])
{
	const struct cmd	*cmd;
	struct env		 env;
	const char		*s;
	char			*end;
	long			 l;
	int			 ch;

	memset(&env, 0, sizeof(env));
	env.timeout_ms = LC_DEFAULT_TIMEOUT_MS;
	if ((s = getenv("LURK_TIMEOUT_MS")) != NULL && *s != '\0') {
		errno = 0;
		l = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || l < 1 || l > 600000) {
			warnmsg("LURK_TIMEOUT_MS \"%s\": want 1 to 600000", s);
			return EXIT_USAGE;
		}
		env.timeout_ms = (int)l;
	}
	/* options before the command; "+" stops at the command word */
	while ((ch = getopt(argc, argv, "+S:")) != -1) {
		switch (ch) {
		case 'S':
			env.socket = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((cmd = lookup(argv[0])) == NULL) {
		warnmsg("unknown or ambiguous command \"%s\"", argv[0]);
		usage();
	}
	return cmd->fn(&env, argc, argv);
}
