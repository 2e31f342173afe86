/*
 * What netproc counts, and what it says of itself: counters by key,
 * operation and result, refusals by reason, latency histograms, the
 * keys' certificates, health, and the Prometheus text (format 0.0.4)
 * that GET /metrics (http.c) and lurkctl show metrics (control.c)
 * answer with.  Every label has a bounded set of values: keys come from
 * the configuration, operations, results and reasons from fixed lists.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"
#include "netproc.h"
#include "proc.h"

static const char *const refusal_names[REF_MAX] = {
	[REF_CONNECTIONS] = "connections",
	[REF_USER_CONNECTIONS] = "user_connections",
	[REF_USER_RATE] = "user_rate",
	[REF_KEY_RATE] = "key_rate",
	[REF_IN_FLIGHT] = "in_flight",
	[REF_FORMAT] = "invalid_format",
	[REF_EXTENSION] = "invalid_extension",
	[REF_TYPE] = "invalid_type",
	[REF_STATUS] = "invalid_status",
	[REF_UNKNOWN_KEY] = "unknown_key",
	[REF_UNAUTHORIZED] = "unauthorized",
	[REF_OPERATION] = "operation_refused",
	[REF_CONTENT] = "invalid_content",
	[REF_SCHEME] = "invalid_scheme",
	[REF_FAILED] = "failed",
	[REF_HANDSHAKE] = "tls_handshake",
};


/* The upper bounds of the latency buckets, in ns and as Prometheus says */
static const uint64_t bucket_ns[LATENCY_BUCKETS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
	2500000000ULL, 5000000000ULL, 10000000000ULL,
};
static const char *const bucket_le[LATENCY_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

static const int http_codes[HTTP_NCODES] = {
	200, 400, 404, 405, 431, 503, 505,
};

void
stats_http(int code)
{
	int	 i;

	for (i = 0; i < HTTP_NCODES; i++)
		if (http_codes[i] == code)
			np->stats.http_responses[i]++;
}

const char *
refusal_name(int r)
{
	return r >= 0 && r < REF_MAX ? refusal_names[r] : "unknown";
}

/* ping, capabilities, a key operation's name (kop_name()), other */
const char *
reqkind_name(int r)
{
	if (r == REQ_PING)
		return "ping";
	if (r == REQ_CAPABILITIES)
		return "capabilities";
	if (r >= REQ_OP && r < REQ_OTHER)
		return kop_name(r - REQ_OP);
	return r == REQ_OTHER ? "other" : "unknown";
}

void
stats_refusal(enum refusal r)
{
	if (r < REF_MAX)
		np->stats.refusals[r]++;
}

/* keyproc's refusals of operation kop (KOP_*) by their status */
enum refusal
stats_status_refusal(int kop, uint8_t status)
{
	if (kop >= KOP_TLS12) {
		/* the drafts' numbering: tls12 and tls13 share these */
		if (status == TLS12_ST_UNDEFINED_ERROR)
			return REF_FAILED;
		if (status == TLS12_ST_INVALID_PAYLOAD_FORMAT)
			return REF_FORMAT;
		if (kop >= KOP_TLS13 && status == TLS13_ST_INVALID_SIG_SCHEME)
			return REF_SCHEME;
		return REF_CONTENT;
	}
	switch (status) {
	case EDGE_ST_INVALID_CONTENT:
		return REF_CONTENT;
	case EDGE_ST_INVALID_SCHEME:
		return REF_SCHEME;
	case EDGE_ST_OPERATION_REFUSED:
		return REF_OPERATION;
	case LURK_ST_INVALID_FORMAT:
		return REF_FORMAT;
	case LURK_ST_INVALID_TYPE:
		return REF_TYPE;
	}
	return REF_FAILED;
}

/* A request whose framing was good: what it asks. */
void
stats_request(const struct lurk_hdr *h)
{
	int	 r = REQ_OTHER, op;

	if (h->version != LURK_V1)
		;
	else if (h->designation == LURK_DESIG_LURK)
		r = h->type == LURK_TYPE_PING ? REQ_PING :
		    h->type == LURK_TYPE_CAPABILITIES ? REQ_CAPABILITIES :
		    REQ_OTHER;
	else if (h->designation == LURK_DESIG_TLS12 ||
	    h->designation == LURK_DESIG_TLS13) {
		/* tls12 and tls13 number ping and capabilities alike */
		if (h->type == TLS12_TYPE_PING)
			r = REQ_PING;
		else if (h->type == TLS12_TYPE_CAPABILITIES)
			r = REQ_CAPABILITIES;
		else if ((op = kop_index(h->designation, h->type)) != -1)
			r = REQ_OP + op;
	} else if ((op = kop_index(h->designation, h->type)) != -1)
		r = REQ_OP + op;
	np->stats.requests[r]++;
}

uint64_t
monotime_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Key operation kop (KOP_*) answered: from t0 (parsed) to now (answer
 * queued).
 */
void
stats_latency(int kop, uint64_t t0)
{
	struct histogram	*hg;
	uint64_t		 ns, now = monotime_ns();
	int			 i;

	if (kop < 0 || kop >= KOP_MAX)
		return;
	hg = &np->stats.latency[kop];
	ns = now > t0 ? now - t0 : 0;
	for (i = 0; i < LATENCY_BUCKETS; i++)
		if (ns <= bucket_ns[i]) {
			hg->bucket[i]++;
			break;
		}
	hg->count++;
	hg->sum_ns += ns;
}

/* An answer of key k to operation kop (KOP_*): its status counted. */
void
stats_count(struct netkey *k, int kop, uint8_t status)
{
	if (k == NULL || kop < 0 || kop >= KOP_MAX)
		return;
	k->stats.n[kop][status < NSTATUS ? status : NSTATUS - 1]++;
}

const char *
key_curve_name(const struct netkey *k)
{
	if (k->pub.kind != KEY_EC)
		return "";
	switch (k->pub.curve_nid) {
	case NID_X9_62_prime256v1:
		return "P-256";
	case NID_secp384r1:
		return "P-384";
	case NID_secp521r1:
		return "P-521";
	}
	return "unknown";
}

static void
x509_name(X509_NAME *name, char *buf, size_t len)
{
	BIO	*b;
	int	 n;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	/* RFC 2253, bytes past ASCII escaped: the string is ASCII */
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(b, buf, len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
}

static int
asn1_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/*
 * The leaf of the chain keyproc sent (a TLS certificate_list): subject,
 * issuer and validity, for show keys and the certificate metrics.  Read
 * with OpenSSL here, when first asked for, under netproc's seccomp
 * filter (it needs memory only): the chain is public, already in
 * netproc for key_info, and keyproc does no work of display.
 */
void
netkey_cert(struct netkey *k)
{
	const uint8_t	*p;
	X509		*x;
	size_t		 len;

	if (k->cert_read)
		return;
	k->cert_read = 1;
	if (k->chain == NULL || k->pub.chain_len < 3)
		return;
	len = (size_t)k->chain[0] << 16 | k->chain[1] << 8 | k->chain[2];
	if (len > k->pub.chain_len - 3)
		return;
	p = k->chain + 3;
	if ((x = d2i_X509(NULL, &p, len)) == NULL)
		return;
	x509_name(X509_get_subject_name(x), k->subject, sizeof(k->subject));
	x509_name(X509_get_issuer_name(x), k->issuer, sizeof(k->issuer));
	k->cert_ok = asn1_unix(X509_get0_notBefore(x), &k->not_before) == 0 &&
	    asn1_unix(X509_get0_notAfter(x), &k->not_after) == 0;
	X509_free(x);
}

/*
 * Healthy: the parent said every child is ready (the keys are loaded)
 * and every listener accepts.  Says why not in msg.
 */
int
netproc_healthy(char *msg, size_t len)
{
	if (!np->ready) {
		snprintf(msg, len, "not ready: lurkd is starting");
		return 0;
	}
	if (np->accept_paused) {
		snprintf(msg, len, "not accepting: out of file descriptors");
		return 0;
	}
	snprintf(msg, len, "ready: %zu keys, %d listeners", np->nkeys,
	    np->nlisteners);
	return 1;
}

/* ---- text ---------------------------------------------------------- */

void
tb_init(struct textbuf *tb, size_t max)
{
	memset(tb, 0, sizeof(*tb));
	tb->max = max;
}

void
tb_free(struct textbuf *tb)
{
	free(tb->p);
	memset(tb, 0, sizeof(*tb));
}

void
tb_printf(struct textbuf *tb, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 cap;
	char	*p;
	int	 n;

	if (tb->full)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(tb->p == NULL ? NULL : tb->p + tb->len,
		    tb->cap - tb->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			tb->full = 1;
			return;
		}
		if ((size_t)n < tb->cap - tb->len) {
			tb->len += n;
			return;
		}
		cap = tb->cap ? tb->cap * 2 : 8192;
		while (cap - tb->len <= (size_t)n)
			cap *= 2;
		if (cap > tb->max || (p = realloc(tb->p, cap)) == NULL) {
			tb->full = 1;
			if (tb->p != NULL)
				tb->p[tb->len] = '\0';
			return;
		}
		tb->p = p;
		tb->cap = cap;
	}
}

/* A label value: \, " and newline escaped (text format 0.0.4). */
static const char *
label(const char *s, char *buf, size_t len)
{
	size_t	 n = 0;

	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : *s;
		} else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

static void
head(struct textbuf *tb, const char *name, const char *type,
    const char *help)
{
	tb_printf(tb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric of one sample, without labels. */
static void
metric1(struct textbuf *tb, const char *name, const char *type,
    const char *help, long long v)
{
	head(tb, name, type, help);
	tb_printf(tb, "%s %lld\n", name, v);
}

static void
histogram(struct textbuf *tb, const char *op, const struct histogram *hg)
{
	uint64_t	 cum = 0;
	int		 i;

	for (i = 0; i < LATENCY_BUCKETS; i++) {
		cum += hg->bucket[i];
		tb_printf(tb, "lurkd_operation_duration_seconds_bucket{"
		    "operation=\"%s\",le=\"%s\"} %llu\n", op, bucket_le[i],
		    (unsigned long long)cum);
	}
	tb_printf(tb, "lurkd_operation_duration_seconds_bucket{operation="
	    "\"%s\",le=\"+Inf\"} %llu\n", op, (unsigned long long)hg->count);
	tb_printf(tb, "lurkd_operation_duration_seconds_sum{operation=\"%s\"} "
	    "%llu.%09llu\n", op, (unsigned long long)(hg->sum_ns / 1000000000),
	    (unsigned long long)(hg->sum_ns % 1000000000));
	tb_printf(tb, "lurkd_operation_duration_seconds_count{operation="
	    "\"%s\"} %llu\n", op, (unsigned long long)hg->count);
}

/* Each key's certificate not-after (or not-before) time. */
static void
cert_time(struct textbuf *tb, const char *name, const char *help, int after)
{
	struct netkey	*k;
	char		 kn[2 * LURKD_NAME_MAX];
	size_t		 i;

	head(tb, name, "gauge", help);
	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		netkey_cert(k);
		if (k->cert_ok)
			tb_printf(tb, "%s{key=\"%s\"} %lld\n", name,
			    label(k->pub.name, kn, sizeof(kn)),
			    (long long)(after ? k->not_after : k->not_before));
	}
}

/* Whether a key counts operation op (KOP_*): key-info, and its own. */
static int
key_counts_op(const struct netkey *k, int op)
{
	return op == KOP_KEY_INFO || (k->operations & kop_policy(op)) != 0;
}

/*
 * Whether op (KOP_*) is worth a line of its own where every operation
 * has one (requests, latency): the edge's always, the drafts' if some
 * key has it or it was counted.
 */
static int
some_key_op(int op)
{
	size_t	 i;

	if (op < KOP_TLS12 || np->stats.latency[op].count > 0)
		return 1;
	for (i = 0; i < np->nkeys; i++)
		if (np->keys[i].operations & kop_policy(op))
			return 1;
	return 0;
}

/* Whether requests of kind r are shown (metrics, lurkctl show stats). */
int
reqkind_shown(int r)
{
	return r < REQ_OP || r >= REQ_OTHER || np->stats.requests[r] > 0 ||
	    some_key_op(r - REQ_OP);
}

static void
metrics_keys(struct textbuf *tb)
{
	struct netkey	*k;
	char		 name[2 * LURKD_NAME_MAX];
	size_t		 i;
	int		 t, st, op;

	head(tb, "lurkd_operations_total", "counter", "Key operations of "
	    "every extension by key, operation and result (success, or the "
	    "status in the operation's extension).");
	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		label(k->pub.name, name, sizeof(name));
		for (op = 0; op < KOP_MAX; op++)
			for (st = 0; st < NSTATUS; st++) {
				/* success always, for the key's operations */
				if (k->stats.n[op][st] == 0 &&
				    (st != LURK_ST_SUCCESS ||
				    !key_counts_op(k, op)))
					continue;
				tb_printf(tb, "lurkd_operations_total{"
				    "key=\"%s\",operation=\"%s\",result="
				    "\"%s\"} %llu\n",
				    name, kop_name(op),
				    kop_status_name(op, st),
				    (unsigned long long)k->stats.n[op][st]);
			}
	}
	head(tb, "lurkd_key_rate_limit", "gauge", "limit OPERATION rate of "
	    "a key, operations a second.");
	for (i = 0; i < np->nkeys; i++)
		for (t = 0; t < KEY_NOPS; t++)
			if (np->keys[i].rate[t] > 0)
				tb_printf(tb, "lurkd_key_rate_limit{key=\"%s\","
				    "operation=\"%s\"} %u\n",
				    label(np->keys[i].pub.name, name,
				    sizeof(name)), kop_name(KOP_SIGN_TLS13 + t),
				    np->keys[i].rate[t]);
	head(tb, "lurkd_key_rate_refusals_total", "counter", "Operations "
	    "refused over a key's limit OPERATION rate (the drafts' count "
	    "under the limit of the edge operation alike).");
	for (i = 0; i < np->nkeys; i++) {
		k = &np->keys[i];
		for (op = 0; op < KOP_MAX; op++) {
			t = key_op_index(kop_policy(op));
			if (t == -1 || k->rate[t] == 0 ||
			    !key_counts_op(k, op))
				continue;
			tb_printf(tb, "lurkd_key_rate_refusals_total{"
			    "key=\"%s\",operation=\"%s\"} %llu\n",
			    label(k->pub.name, name, sizeof(name)),
			    kop_name(op),
			    (unsigned long long)k->rate_refused[op]);
		}
	}
	cert_time(tb, "lurkd_certificate_not_after_timestamp_seconds",
	    "When a key's certificate expires, as a Unix time.", 1);
	cert_time(tb, "lurkd_certificate_not_before_timestamp_seconds",
	    "When a key's certificate becomes valid, as a Unix time.", 0);
}

/*
 * The metrics, as GET /metrics and lurkctl show metrics give them.
 * The parent's part (start, reloads, its log) is as of its last
 * IMSG_CTL_STATUS, which the caller asked for just before.
 */
void
stats_metrics(struct textbuf *tb)
{
	struct stats		*s = &np->stats;
	const struct ctl_status	*ps = &np->status;
	int			 t;

	head(tb, "lurkd_build_info", "gauge", "lurkd's version.");
	tb_printf(tb, "lurkd_build_info{version=\"%s\"} 1\n", LURKD_VERSION);
	metric1(tb, "lurkd_start_time_seconds", "gauge",
	    "When lurkd started, as a Unix time.", ps->started);
	metric1(tb, "lurkd_ready", "gauge", "1 once every process is ready "
	    "and every listener accepts.", np->ready && !np->accept_paused);
	metric1(tb, "lurkd_keyprocs", "gauge", "Key processes.",
	    np->nkeyprocs);
	metric1(tb, "lurkd_keyproc_restarts_total", "counter", "Key processes "
	    "restarted (none: lurkd exits when a process dies).", 0);
	metric1(tb, "lurkd_keys", "gauge", "Keys loaded.", np->nkeys);
	metric1(tb, "lurkd_config_generation", "gauge", "The configuration's "
	    "generation: 1 at start, one more each reload that took.",
	    ps->generation);
	head(tb, "lurkd_reloads_total", "counter", "Reloads, by result.");
	tb_printf(tb, "lurkd_reloads_total{result=\"ok\"} %llu\n",
	    (unsigned long long)ps->reloads_ok);
	tb_printf(tb, "lurkd_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)ps->reloads_failed);
	metric1(tb, "lurkd_last_reload_timestamp_seconds", "gauge", "When "
	    "the last reload was, as a Unix time; 0: never.",
	    ps->last_reload);
	metric1(tb, "lurkd_last_reload_success", "gauge", "1 if the last "
	    "reload took (or there was none).",
	    ps->last_reload == 0 || ps->last_reload_ok);

	head(tb, "lurkd_requests_total", "counter", "Requests, by what they "
	    "ask.");
	for (t = 0; t < REQ_MAX; t++)
		if (reqkind_shown(t))
			tb_printf(tb, "lurkd_requests_total{operation=\"%s\"} "
			    "%llu\n", reqkind_name(t),
			    (unsigned long long)s->requests[t]);
	metrics_keys(tb);
	head(tb, "lurkd_refusals_total", "counter", "Requests and "
	    "connections refused, and operations failed, by reason.");
	for (t = 0; t < REF_MAX; t++)
		tb_printf(tb, "lurkd_refusals_total{reason=\"%s\"} %llu\n",
		    refusal_names[t], (unsigned long long)s->refusals[t]);
	head(tb, "lurkd_operation_duration_seconds", "histogram", "Key "
	    "operations, from the request parsed to the answer queued.");
	for (t = KOP_SIGN_TLS13; t < KOP_MAX; t++)
		if (some_key_op(t))
			histogram(tb, kop_name(t), &s->latency[t]);

	head(tb, "lurkd_connections", "gauge", "Edge connections open, by "
	    "transport.");
	for (t = 0; t < TRANSPORT_MAX; t++)
		tb_printf(tb, "lurkd_connections{transport=\"%s\"} %llu\n",
		    transport_name(t), (unsigned long long)s->conns_open[t]);
	head(tb, "lurkd_connections_accepted_total", "counter", "Edge "
	    "connections accepted, by transport.");
	for (t = 0; t < TRANSPORT_MAX; t++)
		tb_printf(tb, "lurkd_connections_accepted_total{transport="
		    "\"%s\"} %llu\n", transport_name(t),
		    (unsigned long long)s->conns_accepted[t]);
	metric1(tb, "lurkd_clients", "gauge", "Peers (uids) with "
	    "connections or recent activity.", client_count());
	metric1(tb, "lurkd_operations_in_flight", "gauge", "Key operations "
	    "queued in netproc or at a keyproc.", np->npending);
	metric1(tb, "lurkd_input_held_back_total", "counter", "Times a "
	    "connection's input waited for its answers to be read.",
	    np->held_back);
	metric1(tb, "lurkd_operations_dropped_total", "counter", "Operations "
	    "of closed connections dropped before a keyproc had them.",
	    np->dropped);
	metric1(tb, "lurkd_limit_connections", "gauge",
	    "limit connections.", np->limit_conns);
	metric1(tb, "lurkd_limit_user_connections", "gauge",
	    "limit user connections.", np->limit_user_conns);
	metric1(tb, "lurkd_limit_user_rate", "gauge", "limit user rate, "
	    "requests a second; 0: none.", np->limit_user_rate);

	metric1(tb, "lurkd_control_connections_total", "counter", "Control "
	    "socket connections accepted.", s->ctl_conns);
	metric1(tb, "lurkd_control_denied_total", "counter", "Control socket "
	    "connections of peers not allowed.", s->ctl_denied);
	head(tb, "lurkd_http_responses_total", "counter", "HTTP requests "
	    "answered, by status code.");
	for (t = 0; t < HTTP_NCODES; t++)
		tb_printf(tb, "lurkd_http_responses_total{code=\"%d\"} %llu\n",
		    http_codes[t], (unsigned long long)s->http_responses[t]);
	metric1(tb, "lurkd_log_lines_dropped_total", "counter", "Log lines "
	    "that could not be written (the parent's) or sent to the parent "
	    "(netproc's).", ps->log_dropped + proc_log_dropped_total());
}
