/*
 * lurkctl: control and edge tool for lurkd(8).
 *
 *	lurkctl [-j] [-s control-socket] [-S socket] command [argument ...]
 *
 * show status|keys|clients|stats|metrics, reload, log verbose|brief and
 * health go to lurkd's control socket (liblurk/ctl.h); ping and keyref
 * talk LURK over a workload socket, as an edge does.  Commands and
 * their arguments are looked up in token tables and may be shortened
 * to any unique prefix ("lurkctl sh k"), as with relayctl(8) and
 * bgpctl(8); -j prints JSON instead of text (output.c).
 *
 * Exit: 0 ok, 1 the operation failed, 2 usage, 3 lurkd not reachable.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lurk.h"
#include "keyref.h"
#include "lurkctl.h"
#include "provider/client.h"

#define CTL_TIMEOUT_MS		10000	/* an answer from the control socket */
#define CTL_RELOAD_TIMEOUT_MS	70000	/* lurkd waits up to 60 s itself */

struct env {
	const char		*socket;	/* -S: workload, or NULL */
	struct lc_conn		*conn;		/* keyref -e: or NULL */
	const char		*where;		/* ... its endpoints, said */
	const char		*ctlsock;	/* -s: control, or NULL */
	int			 timeout_ms;	/* LURK_TIMEOUT_MS, or 0 */
	const struct output	*out;
};

enum action {
	NONE,
	SHOW_STATUS,
	SHOW_KEYS,
	SHOW_CLIENTS,
	SHOW_STATS,
	SHOW_METRICS,
	RELOAD,
	LOG_VERBOSE,
	LOG_BRIEF,
	HEALTH,
	PING,
	KEYREF,
};

/*
 * The token tables: a word selects the entry it is a unique prefix of
 * (or equals); an entry with a next table wants another word, one
 * without ends the command, and one that takes arguments hands the
 * rest to its command (ping, keyref).
 */
enum token_type {
	ENDTOKEN,
	KEYWORD,
	ARGS,		/* a keyword; the rest of the words are its own */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	enum action		 value;
	const struct token	*next;
};

static const struct token t_show[];
static const struct token t_log[];

static const struct token t_main[] = {
	{ KEYWORD,	"health",	HEALTH,		NULL },
	{ ARGS,		"keyref",	KEYREF,		NULL },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ ARGS,		"ping",		PING,		NULL },
	{ KEYWORD,	"reload",	RELOAD,		NULL },
	{ KEYWORD,	"show",		NONE,		t_show },
	{ ENDTOKEN,	NULL,		NONE,		NULL },
};

static const struct token t_show[] = {
	{ KEYWORD,	"clients",	SHOW_CLIENTS,	NULL },
	{ KEYWORD,	"keys",		SHOW_KEYS,	NULL },
	{ KEYWORD,	"metrics",	SHOW_METRICS,	NULL },
	{ KEYWORD,	"stats",	SHOW_STATS,	NULL },
	{ KEYWORD,	"status",	SHOW_STATUS,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL },
};

static const struct token t_log[] = {
	{ KEYWORD,	"brief",	LOG_BRIEF,	NULL },
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL },
};

static void	usage(const char *) __attribute__((__noreturn__));

static void
usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "lurkctl: %s\n", msg);
	fprintf(stderr,
	    "usage: lurkctl [-j] [-s control-socket] [-S socket] command "
	    "[argument ...]\n"
	    "       lurkctl show status|keys|clients|stats|metrics\n"
	    "       lurkctl reload\n"
	    "       lurkctl log verbose|brief\n"
	    "       lurkctl health\n"
	    "       lurkctl ping [-S socket]\n"
	    "       lurkctl keyref [-S socket | -e endpoint ...] "
	    "[-c client-certificate -k client-key -C ca]\n"
	    "                      [-n name] certificate.pem\n");
	exit(EXIT_USAGE);
}

static void __attribute__((__format__(printf, 1, 0)))
vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "lurkctl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
warnmsg(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
errx_usage(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(EXIT_FAILED);
}

/* "valid arguments: a b c" for a table, to stderr */
static void
valid_args(const struct token *table)
{
	int	 i;

	fprintf(stderr, "valid arguments:");
	for (i = 0; table[i].type != ENDTOKEN; i++)
		fprintf(stderr, " %s", table[i].keyword);
	fputc('\n', stderr);
}

/* The entry of table that word names: exactly, or as a unique prefix. */
static const struct token *
match_token(const char *word, const struct token *table)
{
	const struct token	*match = NULL;
	size_t			 len = strlen(word);
	int			 i, n = 0;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		if (strcmp(word, table[i].keyword) == 0)
			return &table[i];
		if (len > 0 && strncmp(word, table[i].keyword, len) == 0) {
			match = &table[i];
			n++;
		}
	}
	if (n == 1)
		return match;
	fprintf(stderr, "lurkctl: %s argument: %s\n", n > 1 ? "ambiguous" :
	    "unknown", word);
	valid_args(table);
	exit(EXIT_USAGE);
}

/* Walk the tables; *rest: the words an ARGS command takes. */
static enum action
parse(int argc, char *argv[], int *rest)
{
	const struct token	*table = t_main, *t;
	int			 i;

	for (i = 0; ; i++) {
		if (i == argc) {
			fprintf(stderr, "lurkctl: missing argument%s\n",
			    i == 0 ? ": a command" : "");
			valid_args(table);
			exit(EXIT_USAGE);
		}
		t = match_token(argv[i], table);
		if (t->type == ARGS) {
			*rest = i;
			return t->value;
		}
		if (t->next == NULL) {
			if (i + 1 < argc) {
				fprintf(stderr, "lurkctl: %s takes no more "
				    "arguments: %s\n", t->keyword,
				    argv[i + 1]);
				exit(EXIT_USAGE);
			}
			return t->value;
		}
		table = t->next;
	}
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

static const char *
control_path(const struct env *env)
{
	const char	*s;

	if (env->ctlsock != NULL)
		return env->ctlsock;
	if ((s = getenv("LURKCTL_SOCKET")) != NULL && *s != '\0')
		return s;
	return CTL_SOCKET;
}

/*
 * One request; exits with the right status on failure.  what names the
 * key asked for, for the message when lurkd does not hold it.
 */
static void
request(const struct env *env, uint8_t type, const uint8_t *req,
    size_t reqlen, uint8_t **resp, size_t *resplen, const char *what)
{
	struct lc_conn	*c = env->conn;
	struct lc_error	 e;
	const char	*path;

	path = env->conn != NULL ? env->where : socket_path(env);
	if (c == NULL && (c = lc_conn_open(path, LC_LEN_AUTO, NULL, &e)) ==
	    NULL) {
		warnmsg("%s", e.msg);
		exit(e.result == LC_ENOMEM ? EXIT_FAILED : EXIT_USAGE);
	}
	if (lc_request(c, env->timeout_ms ? env->timeout_ms :
	    LC_DEFAULT_TIMEOUT_MS, type, req, reqlen, resp, resplen, &e) ==
	    LC_OK)
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
		exit(EXIT_FAILED);
	default:
		warnmsg("%s", e.msg);
		exit(EXIT_FAILED);
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

/* keyref's -e, -c, -k, -C */
struct keyref_ep_args {
	const char	*arg[KEYREF_ENDPOINTS_MAX];	/* -e, as given */
	char		*canon[KEYREF_ENDPOINTS_MAX];	/* ... canonical */
	size_t		 n;
	char		*cert, *key, *ca;		/* absolute */
	/* the endpoints, for messages */
	char		 where[KEYREF_ENDPOINTS_MAX *
			    (KEYREF_ENDPOINT_MAX + 1)];
};

static void
keyref_ep_args_free(struct keyref_ep_args *ea)
{
	size_t	 i;

	for (i = 0; i < ea->n; i++)
		free(ea->canon[i]);
	free(ea->cert);
	free(ea->key);
	free(ea->ca);
	memset(ea, 0, sizeof(*ea));
}

static void
keyref_file(struct keyref_str *f, const char *path)
{
	f->s = path;
	f->len = path != NULL ? strlen(path) : 0;
}

/*
 * A TLS file of keyref: absolute, as the edge will open it from wherever
 * it runs.  Symbolic links are kept, not resolved: a renewed file is
 * often a link swapped to a new target (a Kubernetes Secret's ..data).
 * -1 (said why) if it cannot be, or cannot be read.
 */
static int
abs_file(const char *opt, const char *path, char **out)
{
	char	*cwd;
	int	 r;

	*out = NULL;
	if (path == NULL)
		return 0;
	if (access(path, R_OK) == -1) {
		warnmsg("%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	if (path[0] == '/')
		r = (*out = strdup(path)) == NULL ? -1 : 0;
	else {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			warnmsg("%s %s: %s", opt, path, strerror(errno));
			return -1;
		}
		r = asprintf(out, "%s/%s", cwd, path);
		free(cwd);
	}
	if (r == -1) {
		*out = NULL;
		die("out of memory");
	}
	if (strlen(*out) > KEYREF_PATH_MAX) {
		warnmsg("%s %s: path longer than %d bytes", opt, *out,
		    KEYREF_PATH_MAX);
		return -1;
	}
	return 0;
}

/*
 * keyref -e: the endpoints in eps (a bare absolute path is unix:), with
 * the TLS files of -c, -k, -C made absolute, and env->conn to them, for
 * key_info.  0 with no -e.  -1 (said why) if an endpoint is malformed or
 * repeated, if TLS files come without a tls:// endpoint, or if lurkctl
 * cannot load them.
 */
static int
keyref_endpoints(struct env *env, struct keyref_ep_args *ea,
    struct keyref_str *eps)
{
	struct keyref_endpoint	 kep;
	struct lc_tls_files	 tf;
	struct lc_error		 e;
	const char		*why, *a;
	const char		*cert, *key, *ca;
	size_t			 i, j, l;
	int			 tls = 0;

	cert = ea->cert;
	key = ea->key;
	ca = ea->ca;
	ea->cert = ea->key = ea->ca = NULL;
	if (ea->n == 0) {
		if (cert != NULL || key != NULL || ca != NULL) {
			warnmsg("-c, -k and -C go with a tls:// endpoint (-e)");
			return -1;
		}
		return 0;
	}
	for (i = 0; i < ea->n; i++) {
		a = ea->arg[i];
		if (asprintf(&ea->canon[i], "%s%s", a[0] == '/' ? "unix:" : "",
		    a) == -1) {
			ea->canon[i] = NULL;
			die("out of memory");
		}
		l = strlen(ea->canon[i]);
		if ((why = keyref_endpoint_parse(ea->canon[i], l, &kep)) !=
		    NULL) {
			warnmsg("-e %s: %s", a, why);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(ea->canon[j], ea->canon[i]) == 0) {
				warnmsg("-e %s: given twice", ea->canon[i]);
				return -1;
			}
		if (kep.kind == KEYREF_EP_TLS)
			tls = 1;
		eps[i].s = ea->canon[i];
		eps[i].len = l;
		if (i > 0)
			strlcat(ea->where, " ", sizeof(ea->where));
		strlcat(ea->where, ea->canon[i], sizeof(ea->where));
	}
	if (!tls && (cert != NULL || key != NULL || ca != NULL)) {
		warnmsg("-c, -k and -C go with a tls:// endpoint");
		return -1;
	}
	if (abs_file("-c", cert, &ea->cert) == -1 ||
	    abs_file("-k", key, &ea->key) == -1 ||
	    abs_file("-C", ca, &ea->ca) == -1)
		return -1;
	tf.certificate = ea->cert;
	tf.key = ea->key;
	tf.ca = ea->ca;
	if ((env->conn = lc_conn_open_list(eps, ea->n, LC_LEN_AUTO, &tf,
	    &e)) == NULL) {
		warnmsg("%s", e.msg);
		return -1;
	}
	env->where = ea->where;
	return 0;
}

static int
cmd_keyref(struct env *env, int argc, char *argv[])
{
	struct edge_keyinfo	 ki;
	struct keyref		 ref;
	struct keyref_out	 ko;
	X509			*x = NULL;
	BIO			*out;
	char			*pem;
	uint8_t			 req[2 + EDGE_KEY_ID_LEN], *resp = NULL;
	char			 what[PATH_MAX + 128];
	char			 hex[EDGE_KEY_ID_LEN * 2 + 1];
	uint8_t			*blob = NULL;
	unsigned char		*spki = NULL;
	struct keyref_str	 eps[KEYREF_ENDPOINTS_MAX];
	struct keyref_ep_args	 ea;
	const char		*name = NULL;
	size_t			 resplen = 0, bloblen, i;
	int			 ch, spkilen, rv = 1;

	memset(&ea, 0, sizeof(ea));
	optind = 0;	/* glibc: restart, and forget "+" */
	while ((ch = getopt(argc, argv, "C:c:e:k:n:S:")) != -1) {
		switch (ch) {
		case 'C':
			ea.ca = optarg;
			break;
		case 'c':
			ea.cert = optarg;
			break;
		case 'e':
			if (ea.n == KEYREF_ENDPOINTS_MAX) {
				warnmsg("at most %d endpoints",
				    KEYREF_ENDPOINTS_MAX);
				return EXIT_USAGE;
			}
			ea.arg[ea.n++] = optarg;
			break;
		case 'k':
			ea.key = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'S':
			env->socket = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(NULL);
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
	if (env->socket != NULL && ea.n > 0) {
		warnmsg("-S and -e: name the key servers one way");
		return EXIT_USAGE;
	}
	if (keyref_endpoints(env, &ea, eps) == -1) {
		rv = EXIT_USAGE;
		goto out;
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
	ref.nendpoints = ea.n;
	for (i = 0; i < ea.n; i++)
		ref.endpoints[i] = eps[i];
	keyref_file(&ref.tls_certificate, ea.cert);
	keyref_file(&ref.tls_key, ea.key);
	keyref_file(&ref.tls_ca, ea.ca);
	ref.spki = spki;
	ref.spkilen = spkilen;
	bloblen = keyref_len(&ref);
	if ((blob = malloc(bloblen)) == NULL ||
	    keyref_encode(&ref, blob, bloblen) != bloblen) {
		warnmsg("cannot encode the key reference");
		goto out;
	}
	/* the PEM text, then the output layer: as is, or in JSON */
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(out, KEYREF_PEM_LABEL, "", blob, bloblen) <= 0 ||
	    BIO_write(out, "", 1) != 1 ||
	    BIO_get_mem_data(out, &pem) <= 0) {
		warnmsg("cannot write the key reference");
		BIO_free(out);
		goto out;
	}
	ko.name = ref.name;
	ko.namelen = ref.namelen;
	ko.key_id = ref.key_id;
	ko.socket = env->socket;
	ko.nendpoints = ea.n;
	for (i = 0; i < ea.n; i++)
		ko.endpoints[i] = ea.canon[i];
	ko.tls_certificate = ea.cert;
	ko.tls_key = ea.key;
	ko.tls_ca = ea.ca;
	ko.pem = pem;
	env->out->keyref(&ko);
	BIO_free(out);
	if (fflush(stdout) == EOF || ferror(stdout))
		warnmsg("write: %s", strerror(errno));
	else
		rv = 0;
 out:
	free(blob);
	OPENSSL_free(spki);
	lc_free_response(resp, resplen);
	X509_free(x);
	keyref_ep_args_free(&ea);
	return rv;
}


/* ---- ping ------------------------------------------------------------ */

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* n bytes before the deadline (ms, now_ms()); exits 3 if they do not come */
static void
ping_io(int fd, int out, uint8_t *buf, size_t n, double deadline,
    const char *path)
{
	struct pollfd	 pfd;
	ssize_t		 r;
	size_t		 done = 0;
	int		 left;

	while (done < n) {
		if ((left = deadline - now_ms()) <= 0) {
			warnmsg("daemon not reachable: %s: no answer in time",
			    path);
			exit(EXIT_UNREACHABLE);
		}
		pfd.fd = fd;
		pfd.events = out ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		r = out ? send(fd, buf + done, n - done, MSG_NOSIGNAL) :
		    recv(fd, buf + done, n - done, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			warnmsg("daemon not reachable: %s: %s", path, r == 0 ?
			    "connection closed" : strerror(errno));
			exit(EXIT_UNREACHABLE);
		}
		done += r;
	}
}

/*
 * A lurk request of the given type; its answer's header and payload.
 * With probe, an answer whose length counts a header (the whole
 * message) returns -1 unread: lurkd counts whole messages.
 */
static ssize_t
ping_ask(int fd, uint8_t type, int mode, int probe, struct lurk_hdr *h,
    uint8_t *p, size_t max, double deadline, const char *path)
{
	uint8_t		 buf[LURK_HDR_LEN];
	uint32_t	 plen;

	memset(h, 0, sizeof(*h));
	h->designation = LURK_DESIG_LURK;
	h->version = LURK_V1;
	h->type = type;
	h->status = LURK_ST_REQUEST;
	h->id = type + 1;
	h->length = lurk_length_field(0, mode);
	lurk_hdr_encode(h, buf);
	ping_io(fd, 1, buf, sizeof(buf), deadline, path);
	ping_io(fd, 0, buf, sizeof(buf), deadline, path);
	lurk_hdr_decode(buf, h);
	if (probe && h->length >= LURK_HDR_LEN)
		return -1;
	if (lurk_payload_len(h, mode, &plen) == -1 || plen > max)
		die("%s: an answer of %u bytes", path, h->length);
	ping_io(fd, 0, p, plen, deadline, path);
	return plen;
}

/*
 * A LURK ping and capabilities over the workload socket, as an edge
 * sees lurkd: the framing is found as the provider finds it (a ping
 * counting the payload; lurkd counting the whole message refuses it
 * with a length of 20 and hangs up).
 */
static int
cmd_ping(struct env *env, int argc, char *argv[])
{
	struct ping_result	 pr;
	struct lurk_hdr		 h;
	uint8_t			 p[1024];
	const char		*path;
	double			 deadline, t0;
	ssize_t			 plen;
	size_t			 i, n;
	int			 ch, fd, mode = LURK_LEN_PAYLOAD;

	optind = 0;
	while ((ch = getopt(argc, argv, "S:")) != -1) {
		switch (ch) {
		case 'S':
			env->socket = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	if (optind != argc)
		usage("ping takes no arguments");
	path = socket_path(env);
	deadline = now_ms() + (env->timeout_ms ? env->timeout_ms :
	    LC_DEFAULT_TIMEOUT_MS);
	memset(&pr, 0, sizeof(pr));
	pr.socket = path;
	fd = unix_connect(path);
	t0 = now_ms();
	if ((plen = ping_ask(fd, LURK_TYPE_PING, mode, 1, &h, p, sizeof(p),
	    deadline, path)) == -1) {
		close(fd);
		mode = LURK_LEN_MESSAGE;
		fd = unix_connect(path);
		t0 = now_ms();
		plen = ping_ask(fd, LURK_TYPE_PING, mode, 0, &h, p, sizeof(p),
		    deadline, path);
	}
	pr.ping_ms = now_ms() - t0;
	pr.lenmode = mode;
	if (h.designation != LURK_DESIG_LURK || h.type != LURK_TYPE_PING ||
	    h.id != LURK_TYPE_PING + 1) {
		close(fd);
		die("%s: the answer to the ping is not one", path);
	}
	if (h.status != LURK_ST_SUCCESS || plen != 0) {
		close(fd);
		die("%s: the ping was answered with status %u", path,
		    h.status);
	}
	plen = ping_ask(fd, LURK_TYPE_CAPABILITIES, mode, 0, &h, p, sizeof(p),
	    deadline, path);
	close(fd);
	/* a 2-byte length, (designation, version) pairs, lurk_state */
	if (h.status != LURK_ST_SUCCESS || plen < 2 + LURK_STATE_LEN ||
	    (n = (size_t)p[0] << 8 | p[1]) % 2 != 0 ||
	    (size_t)plen != 2 + n + LURK_STATE_LEN || n / 2 > 64)
		die("%s: capabilities answered with status %u and %zd bytes",
		    path, h.status, plen);
	pr.has_caps = 1;
	for (i = 0; i < n / 2; i++) {
		pr.ext[i][0] = p[2 + 2 * i];
		pr.ext[i][1] = p[3 + 2 * i];
	}
	pr.next = n / 2;
	memcpy(pr.state, p + 2 + n, LURK_STATE_LEN);
	env->out->ping(&pr);
	return 0;
}

/* ---- the control socket ---------------------------------------------- */

static int
control(struct env *env, enum action a)
{
	struct ctl_answer	 ans;
	struct ctl_log		 lg;
	const char		*cmd = NULL;
	const void		*data = NULL;
	size_t			 len = 0;
	uint32_t		 type;
	int			 timeout = CTL_TIMEOUT_MS, rv = 0;

	switch (a) {
	case SHOW_STATUS:
		type = CTL_REQ_STATUS;
		break;
	case SHOW_KEYS:
		type = CTL_REQ_KEYS;
		break;
	case SHOW_CLIENTS:
		type = CTL_REQ_CLIENTS;
		break;
	case SHOW_STATS:
		type = CTL_REQ_STATS;
		break;
	case SHOW_METRICS:
		type = CTL_REQ_METRICS;
		break;
	case HEALTH:
		type = CTL_REQ_HEALTH;
		break;
	case RELOAD:
		type = CTL_REQ_RELOAD;
		cmd = "reload";
		timeout = CTL_RELOAD_TIMEOUT_MS;
		break;
	case LOG_VERBOSE:
	case LOG_BRIEF:
		type = CTL_REQ_LOG;
		cmd = "log";
		memset(&lg, 0, sizeof(lg));
		lg.verbose = a == LOG_VERBOSE;
		data = &lg;
		len = sizeof(lg);
		break;
	default:
		usage(NULL);
	}
	if (env->timeout_ms)
		timeout = env->timeout_ms;
	ctl_run(control_path(env), timeout, type, data, len, &ans);
	/* refused: denied, or a request lurkd does not take */
	if (ans.has_result && (ans.result.code == CTL_DENIED ||
	    ans.result.code == CTL_BADREQ || (ans.result.code != CTL_OK &&
	    cmd == NULL && type != CTL_REQ_HEALTH))) {
		warnmsg("%s: %s%s%s", control_path(env), cmd != NULL ? cmd :
		    "", cmd != NULL ? ": " : "", ans.result.message);
		ctl_answer_free(&ans);
		return EXIT_FAILED;
	}
	switch (a) {
	case SHOW_STATUS:
		env->out->status(&ans);
		break;
	case SHOW_KEYS:
		env->out->keys(&ans);
		break;
	case SHOW_CLIENTS:
		env->out->clients(&ans);
		break;
	case SHOW_STATS:
		env->out->stats(&ans);
		break;
	case SHOW_METRICS:
		env->out->metrics(&ans);
		break;
	case HEALTH:
		if (!ans.has_result || !ans.has_health)
			die("%s: health: no answer", control_path(env));
		env->out->health(&ans);
		rv = ans.result.code == CTL_OK ? 0 : EXIT_FAILED;
		break;
	default:
		if (!ans.has_result)
			die("%s: %s: no result", control_path(env), cmd);
		env->out->result(cmd, &ans);
		rv = ans.result.code == CTL_OK ? 0 : EXIT_FAILED;
		break;
	}
	ctl_answer_free(&ans);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("write: %s", strerror(errno));
	return rv;
}

int
main(int argc, char *argv[])
{
	struct env		 env;
	enum action		 a;
	const char		*s;
	char			*end;
	long			 l;
	int			 ch, rest = 0;

	memset(&env, 0, sizeof(env));
	env.out = &text_output;
	/* a peer gone is EPIPE: its answer may still be there to read */
	signal(SIGPIPE, SIG_IGN);
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
	while ((ch = getopt(argc, argv, "+js:S:")) != -1) {
		switch (ch) {
		case 'j':
			env.out = &json_output;
			break;
		case 's':
			env.ctlsock = optarg;
			break;
		case 'S':
			env.socket = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	a = parse(argc, argv, &rest);
	switch (a) {
	case KEYREF:
		return cmd_keyref(&env, argc - rest, argv + rest);
	case PING:
		return cmd_ping(&env, argc - rest, argv + rest);
	default:
		return control(&env, a);
	}
}
