/*
 * lurkctl's one output layer: each command hands what lurkd answered to
 * the back end chosen by -j, aligned text tables for people or JSON with
 * stable snake_case names for scripts (lurkctl(8) shows both).
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lurk.h"
#include "lurkctl.h"

/* An operation's name (CTL_OP_*: KOP_*) as a JSON object key: snake_case */
static const char *
opkey(int op, char *buf, size_t len)
{
	char	*p;

	strlcpy(buf, kop_name(op), len);
	for (p = buf; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

/*
 * The key's operations as lurkd.conf names them (its policy), from the
 * counted ones (tls13-psk is two of those), each with its limit if any.
 */
static void
policy_list(const struct ctl_key *k, char *buf, size_t len, int limits)
{
	uint32_t	 bit, done = 0;
	size_t		 n = 0;
	int		 op;

	buf[0] = '\0';
	for (op = CTL_OP_SIGN_TLS13; op < CTL_NOPS; op++) {
		bit = kop_policy(op);
		if (!(k->operations & bit) || (done & bit))
			continue;
		done |= bit;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    n ? ", " : "", operation_name(bit));
		if (limits && k->rate[op] > 0)
			n += snprintf(buf + n, n < len ? len - n : 0,
			    " (limit %u/s burst %u)", k->rate[op],
			    k->burst[op]);
	}
}

/* "h_c h_s a_c a_s x r": the tls13 secrets a key's sessions may give */
static void
secrets_list(uint32_t bits, char *buf, size_t len)
{
	size_t	 n = 0;
	int	 t;

	buf[0] = '\0';
	for (t = 0; t < TLS13_NSECRETS; t++)
		if (bits & TLS13_SECRET_BIT(t))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			    n ? " " : "", tls13_secret_name(t));
}

/* ---- helpers ------------------------------------------------------- */

static const char *
hex(const uint8_t *p, size_t len, char *buf, size_t size)
{
	return lurk_hex(p, len, buf, size);
}

/* "2026-11-29 20:17:51 UTC", or ISO 8601 "2026-11-29T20:17:51Z" */
static const char *
utc(int64_t t, int iso, char *buf, size_t len)
{
	time_t		 tt = t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "%lld", (long long)t);
	else
		strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" :
		    "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static const char *
duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm",
		    (long long)(s / 86400), (long long)(s % 86400 / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldh%02lldm%02llds", (long long)(s / 3600),
		    (long long)(s % 3600 / 60), (long long)(s % 60));
	return buf;
}

/* Whole days from now to t, rounded down (negative once past). */
static long long
days_left(int64_t t, int64_t now)
{
	int64_t	 d = t - now;

	return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* ---- text tables --------------------------------------------------- */

#define TB_COLS		10

struct table {
	int	 ncols;
	int	 right;			/* bit i: column i right-aligned */
	size_t	 width[TB_COLS];
	char	**cells;		/* nrows * ncols */
	char	**details;		/* lines printed under a row, or NULL */
	size_t	 nrows;
};

static void
tb_row(struct table *t, ...)
{
	va_list	 ap;
	char	*s;
	int	 i;

	if ((t->cells = reallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(char *))) == NULL ||
	    (t->details = reallocarray(t->details, t->nrows + 1,
	    sizeof(char *))) == NULL)
		die("out of memory");
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		if ((s = strdup(va_arg(ap, const char *))) == NULL)
			die("out of memory");
		t->cells[t->nrows * t->ncols + i] = s;
		if (strlen(s) > t->width[i])
			t->width[i] = strlen(s);
	}
	va_end(ap);
	t->details[t->nrows++] = NULL;
}

/* Lines to print under the last row, each indented. */
static void
tb_detail(struct table *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*line, *old, *s;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		die("out of memory");
	va_end(ap);
	old = t->details[t->nrows - 1];
	if (asprintf(&s, "%s    %s\n", old != NULL ? old : "", line) == -1)
		die("out of memory");
	free(old);
	free(line);
	t->details[t->nrows - 1] = s;
}

static void
tb_print(struct table *t)
{
	size_t	 r;
	int	 i;
	char	*c;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			c = t->cells[r * t->ncols + i];
			if (t->right & (1 << i))
				printf("%*s", (int)t->width[i], c);
			else if (i == t->ncols - 1)
				printf("%s", c);
			else
				printf("%-*s", (int)t->width[i], c);
			if (i < t->ncols - 1)
				fputs("  ", stdout);
			free(c);
		}
		putchar('\n');
		if (t->details[r] != NULL)
			fputs(t->details[r], stdout);
		free(t->details[r]);
	}
	free(t->cells);
	free(t->details);
	memset(t, 0, sizeof(*t));
}

static const char *
num(unsigned long long v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", v);
	return buf;
}

/* ---- text ---------------------------------------------------------- */

static void
text_status(const struct ctl_answer *a)
{
	const struct ctl_show_status	*s = &a->status;
	struct table			 t;
	char				 b1[64], b2[64], h[65], pid[16];
	size_t				 i;

	printf("lurkd %s, pid %d: %s\n", s->version, (int)s->parent_pid,
	    s->ready ? "ready" : "starting");
	printf("mode           %s\n", s->root ? "root (chroot, setuid)" :
	    "unprivileged");
	printf("uptime         %s (since %s)\n",
	    duration(s->now - s->started, b1, sizeof(b1)),
	    utc(s->started, 0, b2, sizeof(b2)));
	printf("configuration  %s\n", s->conffile);
	printf("sha256         %s\n", hex(s->confhash, sizeof(s->confhash), h,
	    sizeof(h)));
	printf("generation     %u\n", s->generation);
	printf("reloads        %llu ok, %llu failed\n",
	    (unsigned long long)s->reloads_ok,
	    (unsigned long long)s->reloads_failed);
	if (s->last_reload == 0)
		printf("last reload    never\n");
	else
		printf("last reload    %s: %s%s%s\n", utc(s->last_reload, 0, b1,
		    sizeof(b1)), s->last_reload_ok ? "ok" : "failed",
		    s->last_reload_ok ? "" : ": ",
		    s->last_reload_ok ? "" : s->last_reload_error);
	printf("log            %s, %s\n", s->log_verbose ? "verbose" : "brief",
	    s->log_json ? "json" : "text");
	printf("keys           %d\n", (int)s->nkeys);

	memset(&t, 0, sizeof(t));
	t.ncols = 3;
	t.right = 0;
	tb_row(&t, "Process", "Pid", "State");
	snprintf(pid, sizeof(pid), "%d", (int)s->netproc_pid);
	tb_row(&t, "netproc", pid, "running");
	for (i = 0; i < a->nkeyprocs; i++) {
		snprintf(b1, sizeof(b1), "keyproc[%d]",
		    (int)a->keyprocs[i].instance);
		snprintf(pid, sizeof(pid), "%d", (int)a->keyprocs[i].pid);
		tb_row(&t, b1, pid, a->keyprocs[i].state);
	}
	putchar('\n');
	tb_print(&t);

	memset(&t, 0, sizeof(t));
	t.ncols = 3;
	tb_row(&t, "Listener", "Address", "State");
	for (i = 0; i < a->nlisteners; i++)
		tb_row(&t, a->listeners[i].kind, a->listeners[i].address,
		    a->listeners[i].state);
	putchar('\n');
	tb_print(&t);
}

static void
allow_list(const struct ctl_key *k, char *buf, size_t len)
{
	size_t	 i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < k->nuids && i < CTL_ALLOW_MAX; i++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%suid %u",
		    n ? ", " : "", k->uids[i]);
	for (i = 0; i < k->ngids && i < CTL_ALLOW_MAX; i++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%sgid %u",
		    n ? ", " : "", k->gids[i]);
	if (k->nuids > CTL_ALLOW_MAX || k->ngids > CTL_ALLOW_MAX)
		snprintf(buf + n, n < len ? len - n : 0, " and %u more",
		    (k->nuids > CTL_ALLOW_MAX ? k->nuids - CTL_ALLOW_MAX : 0) +
		    (k->ngids > CTL_ALLOW_MAX ? k->ngids - CTL_ALLOW_MAX : 0));
	if (buf[0] == '\0')
		strlcpy(buf, "nobody", len);
}

static void
text_keys(const struct ctl_answer *a)
{
	const struct ctl_key	*k;
	struct table		 t;
	char			 type[48], id[16], na[64], days[24], uses[24];
	char			 ref[24], h[65], allow[1024], ops[1024];
	uint64_t		 nu, nr;
	time_t			 now = time(NULL);
	size_t			 i;
	int			 op;

	memset(&t, 0, sizeof(t));
	t.ncols = 7;
	t.right = 1 << 4 | 1 << 5 | 1 << 6;
	tb_row(&t, "Name", "Type", "Id", "Not after", "Days", "Uses",
	    "Refusals");
	for (i = 0; i < a->nkeys; i++) {
		k = &a->keys[i];
		snprintf(type, sizeof(type), "%s %s", k->type,
		    k->curve[0] != '\0' ? k->curve : "");
		if (k->curve[0] == '\0')
			snprintf(type, sizeof(type), "%s %d", k->type,
			    (int)k->bits);
		hex(k->spki_sha256, 4, id, sizeof(id));
		for (nu = nr = 0, op = 0; op < CTL_NOPS; op++) {
			nu += k->uses[op];
			nr += k->refusals[op];
		}
		if (k->cert_ok) {
			utc(k->not_after, 0, na, sizeof(na));
			snprintf(days, sizeof(days), "%lld",
			    days_left(k->not_after, now));
		} else {
			strlcpy(na, "-", sizeof(na));
			strlcpy(days, "-", sizeof(days));
		}
		tb_row(&t, k->name, type, id, na, days,
		    num(nu, uses, sizeof(uses)), num(nr, ref, sizeof(ref)));
		tb_detail(&t, "spki sha256  %s", hex(k->spki_sha256,
		    sizeof(k->spki_sha256), h, sizeof(h)));
		if (k->cert_ok) {
			tb_detail(&t, "subject      %s", k->subject);
			tb_detail(&t, "issuer       %s", k->issuer);
			tb_detail(&t, "not before   %s", utc(k->not_before, 0,
			    na, sizeof(na)));
		} else
			tb_detail(&t, "certificate  could not be read");
		allow_list(k, allow, sizeof(allow));
		tb_detail(&t, "allow        %s", allow);
		policy_list(k, ops, sizeof(ops), 1);
		tb_detail(&t, "operations   %s", ops[0] != '\0' ? ops : "none");
		if (k->operations & OP_TLS13) {
			secrets_list(k->tls13_secrets, ops, sizeof(ops));
			tb_detail(&t, "tls13        secrets %s; %u tickets a "
			    "session", ops[0] != '\0' ? ops : "none",
			    k->tls13_tickets);
		}
		for (op = 0; op < CTL_NOPS; op++) {
			if (k->uses[op] == 0 && k->refusals[op] == 0)
				continue;
			if (k->rate[op] > 0)
				tb_detail(&t, "%-12s %llu uses, %llu refusals "
				    "(%llu over the rate)", kop_name(op),
				    (unsigned long long)k->uses[op],
				    (unsigned long long)k->refusals[op],
				    (unsigned long long)k->rate_refusals[op]);
			else
				tb_detail(&t, "%-12s %llu uses, %llu refusals",
				    kop_name(op),
				    (unsigned long long)k->uses[op],
				    (unsigned long long)k->refusals[op]);
		}
	}
	tb_print(&t);
}

static void
text_clients(const struct ctl_answer *a)
{
	const struct ctl_client	*c;
	struct table		 t;
	char			 b[8][24];
	size_t			 i;

	memset(&t, 0, sizeof(t));
	t.ncols = 9;
	t.right = 0x1fc;
	tb_row(&t, "Transport", "Identity", "Gid", "Conns", "Requests",
	    "Refusals", "In flight", "Backlog", "Held back");
	for (i = 0; i < a->nclients; i++) {
		c = &a->clients[i];
		tb_row(&t, c->transport, c->identity, num(c->gid, b[0], 24),
		    num(c->connections, b[1], 24), num(c->requests, b[2], 24),
		    num(c->refusals, b[3], 24), num(c->in_flight, b[4], 24),
		    num(c->backlog, b[5], 24), num(c->held_back, b[6], 24));
	}
	tb_print(&t);
}

static void
text_stats(const struct ctl_answer *a)
{
	struct table	 t;
	char		 b[24];
	size_t		 i;

	memset(&t, 0, sizeof(t));
	t.ncols = 4;
	t.right = 1 << 3;
	tb_row(&t, "Key", "Operation", "Result", "Count");
	for (i = 0; i < a->nops; i++)
		tb_row(&t, a->ops[i].key, a->ops[i].operation,
		    a->ops[i].result, num(a->ops[i].count, b, sizeof(b)));
	tb_print(&t);
	memset(&t, 0, sizeof(t));
	t.ncols = 3;
	t.right = 1 << 2;
	tb_row(&t, "Counter", "Of", "Value");
	for (i = 0; i < a->nstats; i++)
		tb_row(&t, a->stats[i].name, a->stats[i].label,
		    num(a->stats[i].value, b, sizeof(b)));
	putchar('\n');
	tb_print(&t);
}

static void
text_metrics(const struct ctl_answer *a)
{
	if (a->textlen > 0)
		fwrite(a->text, 1, a->textlen, stdout);
}

static void
text_health(const struct ctl_answer *a)
{
	printf("%s: %s\n", a->result.code == CTL_OK ? "ok" : "not ok",
	    a->result.message);
}

static void
text_result(const char *cmd, const struct ctl_answer *a)
{
	if (a->result.code == CTL_OK)
		printf("%s\n", a->result.message);
	else
		warnmsg("%s: %s", cmd, a->result.message);
}

static const char *
ext_name(uint8_t des)
{
	return des == LURK_DESIG_LURK ? "lurk" : des == LURK_DESIG_TLS12 ?
	    "tls12" : des == LURK_DESIG_TLS13 ? "tls13" :
	    des == LURK_DESIG_EDGE ? "edge" : "unknown";
}

static void
text_ping(const struct ping_result *p)
{
	char	 h[16];
	size_t	 i;

	printf("%s: ping %.3f ms, the length counts the %s\n", p->socket,
	    p->ping_ms, p->lenmode == LURK_LEN_MESSAGE ? "whole message" :
	    "payload");
	if (!p->has_caps)
		return;
	printf("capabilities:");
	for (i = 0; i < p->next; i++)
		printf("%s %s (%u) version %u", i ? "," : "",
		    ext_name(p->ext[i][0]), p->ext[i][0], p->ext[i][1]);
	printf("; lurk_state %s\n", hex(p->state, 4, h, sizeof(h)));
}

static void
text_keyref(const struct keyref_out *k)
{
	fputs(k->pem, stdout);
}

const struct output text_output = {
	text_status, text_keys, text_clients, text_stats, text_metrics,
	text_health, text_result, text_ping, text_keyref,
};

/* ---- JSON ---------------------------------------------------------- */

static void
json_time(const char *name, int64_t t)
{
	char	 b[64];

	json_string(name, utc(t, 1, b, sizeof(b)));
}

static void
json_status(const struct ctl_answer *a)
{
	const struct ctl_show_status	*s = &a->status;
	char				 h[65];
	size_t				 i;

	json_object(NULL);
	json_string("version", s->version);
	json_bool("ready", s->ready);
	json_string("mode", s->root ? "root" : "unprivileged");
	json_time("started", s->started);
	json_int("started_unix", s->started);
	json_int("uptime_seconds", s->now - s->started);
	json_int("parent_pid", s->parent_pid);
	json_int("netproc_pid", s->netproc_pid);
	json_string("config_file", s->conffile);
	json_string("config_sha256", hex(s->confhash, sizeof(s->confhash), h,
	    sizeof(h)));
	json_uint("generation", s->generation);
	json_uint("reloads_ok", s->reloads_ok);
	json_uint("reloads_failed", s->reloads_failed);
	if (s->last_reload == 0)
		json_null("last_reload");
	else {
		json_object("last_reload");
		json_time("time", s->last_reload);
		json_int("time_unix", s->last_reload);
		json_bool("ok", s->last_reload_ok);
		if (s->last_reload_ok)
			json_null("error");
		else
			json_string("error", s->last_reload_error);
		json_end();
	}
	json_string("log_level", s->log_verbose ? "verbose" : "brief");
	json_string("log_format", s->log_json ? "json" : "text");
	json_int("keys", s->nkeys);
	json_array("keyprocs");
	for (i = 0; i < a->nkeyprocs; i++) {
		json_object(NULL);
		json_int("instance", a->keyprocs[i].instance);
		json_int("pid", a->keyprocs[i].pid);
		json_string("state", a->keyprocs[i].state);
		json_end();
	}
	json_end();
	json_array("listeners");
	for (i = 0; i < a->nlisteners; i++) {
		json_object(NULL);
		json_string("kind", a->listeners[i].kind);
		json_string("address", a->listeners[i].address);
		json_string("state", a->listeners[i].state);
		json_end();
	}
	json_end();
	json_end();
}

/* {"sign-tls13": n, ...} over the operations the key counts */
static void
json_per_op(const char *name, const uint64_t *v)
{
	char	 key[48];
	int	 op;

	json_object(name);
	for (op = 0; op < CTL_NOPS; op++)
		json_uint(opkey(op, key, sizeof(key)), v[op]);
	json_end();
}

static void
json_keys(const struct ctl_answer *a)
{
	const struct ctl_key	*k;
	char			 h[65], key[48];
	time_t			 now = time(NULL);
	size_t			 i, j;
	uint32_t		 done;
	int			 op, t;

	json_object(NULL);
	json_array("keys");
	for (i = 0; i < a->nkeys; i++) {
		k = &a->keys[i];
		json_object(NULL);
		json_string("name", k->name);
		json_string("type", k->type);
		json_int("bits", k->bits);
		if (k->curve[0] != '\0')
			json_string("curve", k->curve);
		else
			json_null("curve");
		json_string("spki_sha256", hex(k->spki_sha256,
		    sizeof(k->spki_sha256), h, sizeof(h)));
		json_string("sha256_32", hex(k->spki_sha256, 4, h,
		    sizeof(h)));
		if (k->cert_ok) {
			json_string("subject", k->subject);
			json_string("issuer", k->issuer);
			json_time("not_before", k->not_before);
			json_time("not_after", k->not_after);
			json_int("not_after_unix", k->not_after);
			json_int("days_left", days_left(k->not_after, now));
		} else {
			json_null("subject");
			json_null("issuer");
			json_null("not_before");
			json_null("not_after");
			json_null("not_after_unix");
			json_null("days_left");
		}
		json_array("allowed_uids");
		for (j = 0; j < k->nuids && j < CTL_ALLOW_MAX; j++)
			json_uint(NULL, k->uids[j]);
		json_end();
		json_array("allowed_gids");
		for (j = 0; j < k->ngids && j < CTL_ALLOW_MAX; j++)
			json_uint(NULL, k->gids[j]);
		json_end();
		json_bool("allowed_truncated", k->nuids > CTL_ALLOW_MAX ||
		    k->ngids > CTL_ALLOW_MAX);
		json_array("operations");
		for (done = 0, op = CTL_OP_SIGN_TLS13; op < CTL_NOPS; op++)
			if ((k->operations & kop_policy(op)) &&
			    !(done & kop_policy(op))) {
				done |= kop_policy(op);
				json_string(NULL,
				    operation_name(kop_policy(op)));
			}
		json_end();
		if (k->operations & OP_TLS13) {
			json_object("tls13");
			json_array("secrets");
			for (t = 0; t < TLS13_NSECRETS; t++)
				if (k->tls13_secrets & TLS13_SECRET_BIT(t))
					json_string(NULL, tls13_secret_name(t));
			json_end();
			json_uint("tickets", k->tls13_tickets);
			json_end();
		} else
			json_null("tls13");
		/* the limits as configured: the drafts' count under these */
		json_object("limits");
		for (op = CTL_OP_SIGN_TLS13; op <= CTL_OP_RSA_KEX; op++) {
			if (k->rate[op] == 0)
				continue;
			json_object(opkey(op, key, sizeof(key)));
			json_uint("rate", k->rate[op]);
			json_uint("burst", k->burst[op]);
			json_end();
		}
		json_end();
		json_per_op("uses", k->uses);
		json_per_op("refusals", k->refusals);
		json_per_op("rate_refusals", k->rate_refusals);
		json_end();
	}
	json_end();
	json_end();
}

static void
json_clients(const struct ctl_answer *a)
{
	const struct ctl_client	*c;
	size_t			 i;

	json_object(NULL);
	json_array("clients");
	for (i = 0; i < a->nclients; i++) {
		c = &a->clients[i];
		json_object(NULL);
		json_string("transport", c->transport);
		json_string("identity", c->identity);
		json_uint("uid", c->uid);
		json_uint("gid", c->gid);
		json_uint("connections", c->connections);
		json_uint("requests", c->requests);
		json_uint("refusals", c->refusals);
		json_uint("in_flight", c->in_flight);
		json_uint("backlog_bytes", c->backlog);
		json_uint("held_back", c->held_back);
		json_uint("dropped", c->dropped);
		json_end();
	}
	json_end();
	json_end();
}

static void
json_stats(const struct ctl_answer *a)
{
	char	 key[sizeof(a->stats->label)], *p;
	size_t	 i, j;

	json_object(NULL);
	json_array("operations");
	for (i = 0; i < a->nops; i++) {
		json_object(NULL);
		json_string("key", a->ops[i].key);
		json_string("operation", a->ops[i].operation);
		json_string("result", a->ops[i].result);
		json_uint("count", a->ops[i].count);
		json_end();
	}
	json_end();
	/* counters: name: value, or name: { label: value, ... } */
	json_object("counters");
	for (i = 0; i < a->nstats; i = j) {
		if (a->stats[i].label[0] == '\0') {
			json_uint(a->stats[i].name, a->stats[i].value);
			j = i + 1;
			continue;
		}
		json_object(a->stats[i].name);
		for (j = i; j < a->nstats &&
		    strcmp(a->stats[j].name, a->stats[i].name) == 0 &&
		    a->stats[j].label[0] != '\0'; j++) {
			/* labels become keys: snake_case (sign-tls13) */
			strlcpy(key, a->stats[j].label, sizeof(key));
			for (p = key; *p != '\0'; p++)
				if (*p == '-' || *p == ' ')
					*p = '_';
			json_uint(key, a->stats[j].value);
		}
		json_end();
	}
	json_end();
	json_end();
}

/* Is s a number as JSON writes one? */
static int
json_numeric(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* One sample line: name{label="value",...} value */
static void
json_sample(char *line)
{
	char	*v, *p, *lv, *q, *w;

	if ((v = strrchr(line, ' ')) == NULL)
		return;
	*v++ = '\0';
	json_object(NULL);
	if ((p = strchr(line, '{')) != NULL)
		*p++ = '\0';
	json_string("name", line);
	json_object("labels");
	while (p != NULL && *p != '\0' && *p != '}') {
		if ((lv = strstr(p, "=\"")) == NULL)
			break;
		*lv = '\0';
		lv += 2;
		/* the value ends at the first quote not escaped */
		for (q = w = lv; *q != '\0' && *q != '"'; q++) {
			if (*q == '\\' && q[1] != '\0') {
				q++;
				*w++ = *q == 'n' ? '\n' : *q;
			} else
				*w++ = *q;
		}
		if (*q == '\0')
			break;
		*w = '\0';
		json_string(p, lv);
		p = q + 1;
		if (*p == ',')
			p++;
	}
	json_end();
	if (json_numeric(v))
		json_number("value", v);
	else
		json_string("value", v);
	json_end();
}

static void
json_metrics(const struct ctl_answer *a)
{
	char	*text, *line, *next;

	json_object(NULL);
	json_string("format", "prometheus 0.0.4");
	json_array("samples");
	if (a->textlen > 0 && (text = strdup(a->text)) != NULL) {
		for (line = text; line != NULL && *line != '\0'; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if (*line != '#' && *line != '\0')
				json_sample(line);
		}
		free(text);
	}
	json_end();
	json_end();
}

static void
json_health(const struct ctl_answer *a)
{
	json_object(NULL);
	json_bool("healthy", a->result.code == CTL_OK);
	json_bool("ready", a->health.ready);
	json_int("keys", a->health.keys);
	json_int("listeners", a->health.listeners);
	json_int("listening", a->health.listening);
	json_string("message", a->result.message);
	json_end();
}

static const char *
code_name(int code)
{
	switch (code) {
	case CTL_OK:
		return "ok";
	case CTL_FAILED:
		return "failed";
	case CTL_DENIED:
		return "denied";
	case CTL_BADREQ:
		return "bad_request";
	case CTL_NOTREADY:
		return "not_ready";
	}
	return "unknown";
}

static void
json_result(const char *cmd, const struct ctl_answer *a)
{
	json_object(NULL);
	json_string("command", cmd);
	json_string("result", code_name(a->result.code));
	json_string("message", a->result.message);
	json_end();
}

static void
json_ping(const struct ping_result *p)
{
	char	 h[16], ms[32];
	size_t	 i;

	json_object(NULL);
	json_string("socket", p->socket);
	snprintf(ms, sizeof(ms), "%.3f", p->ping_ms);
	json_number("ping_ms", ms);
	json_string("length", p->lenmode == LURK_LEN_MESSAGE ? "message" :
	    "payload");
	if (p->has_caps) {
		json_array("extensions");
		for (i = 0; i < p->next; i++) {
			json_object(NULL);
			json_uint("designation", p->ext[i][0]);
			json_uint("version", p->ext[i][1]);
			json_string("name", ext_name(p->ext[i][0]));
			json_end();
		}
		json_end();
		json_string("lurk_state", hex(p->state, 4, h, sizeof(h)));
	} else {
		json_null("extensions");
		json_null("lurk_state");
	}
	json_end();
}

static void
json_opt_string(const char *name, const char *v)
{
	if (v != NULL)
		json_string(name, v);
	else
		json_null(name);
}

static void
json_keyref(const struct keyref_out *k)
{
	char	 h[65], *name;
	size_t	 i;

	if ((name = strndup(k->name, k->namelen)) == NULL)
		die("out of memory");
	json_object(NULL);
	json_string("name", name);
	json_string("key_id", hex(k->key_id, EDGE_KEY_ID_LEN, h, sizeof(h)));
	if (k->socket != NULL)
		json_string("socket", k->socket);
	else
		json_null("socket");
	json_array("endpoints");
	for (i = 0; i < k->nendpoints; i++)
		json_string(NULL, k->endpoints[i]);
	json_end();
	json_opt_string("tls_certificate", k->tls_certificate);
	json_opt_string("tls_key", k->tls_key);
	json_opt_string("tls_ca", k->tls_ca);
	json_string("pem", k->pem);
	json_end();
	free(name);
}

const struct output json_output = {
	json_status, json_keys, json_clients, json_stats, json_metrics,
	json_health, json_result, json_ping, json_keyref,
};
