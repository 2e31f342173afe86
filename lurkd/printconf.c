/*
 * Print a parsed configuration in canonical lurkd.conf(5) form, every
 * default spelled out: what "lurkd -nv" shows.  The output parses again
 * to the same configuration.  Settings that came later are printed only
 * when they are not the default, so that older configurations print as
 * they always did: log format json, limit sign-tls13|sign-tls12 rate;
 * control sockets and HTTP listeners have no default.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lurk.h"
#include "lurkd.h"

static void
print_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
print_listen(const struct listenconf *l, const char *what)
{
	printf("%s ", what);
	print_string(l->path);
	printf(" mode %04o", (unsigned int)(l->mode & 0777));
	if (l->has_group) {
		printf(" group ");
		if (l->group[0] != '\0')
			print_string(l->group);
		else
			printf("%u", (unsigned int)l->gid);
	}
	if (l->restricted)
		printf(" restricted");
	putchar('\n');
}

static void	 print_spki(const uint8_t *);

static void
print_allow(const struct allow *a)
{
	printf("\tallow ");
	switch (a->type) {
	case ALLOW_UID:
		printf("uid %u", a->id);
		break;
	case ALLOW_GID:
		printf("gid %u", a->id);
		break;
	case ALLOW_USER:
		printf("user ");
		print_string(a->name);
		break;
	case ALLOW_GROUP:
		printf("group ");
		print_string(a->name);
		break;
	case ALLOW_SUBJECT:
		printf("client subject ");
		print_string(a->ident);
		break;
	case ALLOW_SAN:
		printf("client san ");
		print_string(a->ident);
		break;
	case ALLOW_SPKI:
		printf("client spki ");
		print_spki(a->spki);
		break;
	}
	putchar('\n');
}

static void
print_path(const char *what, const char *path)
{
	printf("\t%s ", what);
	print_string(path);
	putchar('\n');
}

static void
print_tls(const struct tlsconf *t)
{
	printf("listen on tls %s port %u {\n", t->addr, t->port);
	print_path("certificate", t->certificate);
	print_path("private", t->private);
	print_path("ca", t->ca);
	if (t->crl[0] != '\0')
		print_path("crl", t->crl);
	printf("\ttls version %s\n", t->tls12 ? "1.2" : "1.3");
	printf("}\n");
}

static void
print_spki(const uint8_t *spki)
{
	size_t	 i;

	printf("\"sha256:");
	for (i = 0; i < 32; i++)
		printf("%02x", spki[i]);
	putchar('"');
}

static void
print_upstream(const struct upstreamconf *u)
{
	const struct allow	*a;
	int			 i;

	printf("upstream ");
	print_string(u->name);
	printf(" {\n\taddress ");
	print_string(u->host);
	printf(" port %u\n", u->port);
	print_path("certificate", u->key->certificate);
	print_path("private", u->key->private);
	print_path("ca", u->ca);
	for (i = 0; i < u->nroutes; i++) {
		printf("\troute ");
		if (u->routes[i].type == ROUTE_DEFAULT)
			printf("default");
		else if (u->routes[i].type == ROUTE_NAME) {
			printf("name ");
			print_string(u->routes[i].name);
		} else {
			printf("spki ");
			print_spki(u->routes[i].spki);
		}
		putchar('\n');
	}
	TAILQ_FOREACH(a, &u->key->allows, entry)
		print_allow(a);
	printf("}\n");
}

/* The secrets a key's tls13 policy may allow, the drafts' names. */
static const int	 secrets[] = {
	TLS13_SECRET_H_C, TLS13_SECRET_H_S, TLS13_SECRET_A_C,
	TLS13_SECRET_A_S, TLS13_SECRET_X, TLS13_SECRET_R,
};

/* The secret_request bit of a secret a policy may list; 0 if none. */
uint32_t
secret_byname(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strcmp(name, tls13_secret_name(secrets[i])) == 0)
			return TLS13_SECRET_BIT(secrets[i]);
	return 0;
}

static void
print_key(const struct keyconf *k)
{
	const struct allow	*a;
	size_t			 i;
	uint32_t		 bit;

	printf("key ");
	print_string(k->name);
	printf(" {\n\tprivate ");
	print_string(k->private);
	printf("\n\tcertificate ");
	print_string(k->certificate);
	putchar('\n');
	printf("\toperations {");
	for (bit = 1; bit <= OP_TLS13_PSK; bit <<= 1)
		if (k->operations & bit)
			printf(" %s", operation_name(bit));
	printf(" }\n");
	for (i = 0; i < KEY_NOPS; i++) {
		if (k->rate[i] > 0)
			printf("\tlimit %s rate %u burst %u\n",
			    operation_name(1U << i), k->rate[i], k->burst[i]);
		else if ((1U << i) == EDGE_OP_RSA_PREMASTER &&
		    (k->operations & KEY_OPS_DECRYPT))
			printf("\tlimit rsa-kex rate none\n");
	}
	if (k->operations & OP_TLS13) {
		printf("\ttls13 secrets {");
		for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
			if (k->tls13_secrets &
			    TLS13_SECRET_BIT(secrets[i]))
				printf(" %s", tls13_secret_name(secrets[i]));
		printf(" }\n");
		printf("\ttls13 tickets %u\n", k->tls13_tickets);
	}
	TAILQ_FOREACH(a, &k->allows, entry)
		print_allow(a);
	printf("}\n");
}

/* What a configuration sent over imsg may hold (parse.y's bounds). */
int
drafts_conf_ok(const struct draftconf *d)
{
	const uint32_t	 fresh = LURKD_FRESH_SHA256 | LURKD_FRESH_NULL;

	return d->tls12_freshness != 0 && (d->tls12_freshness & ~fresh) == 0 &&
	    d->tls13_freshness != 0 && (d->tls13_freshness & ~fresh) == 0 &&
	    d->tls12_window >= 1 && d->tls12_window <= LURKD_WINDOW_MAX &&
	    (d->tls13_label == LURKD_LABEL_DRAFT ||
	    d->tls13_label == LURKD_LABEL_PYLURK) &&
	    d->tls13_sessions >= 1 && d->tls13_sessions <= LURKD_SESSIONS_MAX &&
	    d->tls13_session_timeout >= 1 &&
	    d->tls13_session_timeout <= LURKD_TIMEOUT_MAX &&
	    d->tls13_ticket_lifetime >= 1 &&
	    d->tls13_ticket_lifetime <= LURKD_TICKET_LIFETIME_MAX;
}

static void
print_freshness(const char *ext, uint32_t fresh)
{
	printf("%s freshness {%s%s }\n", ext,
	    fresh & LURKD_FRESH_SHA256 ? " sha256" : "",
	    fresh & LURKD_FRESH_NULL ? " null" : "");
}

static void
print_drafts(const struct draftconf *d)
{
	print_freshness("tls12", d->tls12_freshness);
	printf("tls12 window %u\n", d->tls12_window);
	print_freshness("tls13", d->tls13_freshness);
	printf("tls13 freshness label %s\n",
	    d->tls13_label == LURKD_LABEL_PYLURK ? "pylurk" : "draft");
	printf("tls13 sessions %u timeout %u\n", d->tls13_sessions,
	    d->tls13_session_timeout);
	printf("tls13 ticket lifetime %u\n", d->tls13_ticket_lifetime);
}

void
print_config(struct lurkd_conf *conf)
{
	const struct listenconf	*l;
	const struct httpconf	*h;
	const struct keyconf	*k;
	const struct tlsconf	*t;
	const struct upstreamconf *u;

	printf("user ");
	print_string(conf->user);
	printf("\nchroot ");
	print_string(conf->chroot);
	putchar('\n');
	printf("watch %s\n", conf->watch ? "yes" : "no");
	if (conf->pidfile[0] != '\0') {
		printf("pidfile ");
		print_string(conf->pidfile);
		putchar('\n');
	}
	if (conf->keyprocs == 0)
		printf("keyprocs auto\n");
	else
		printf("keyprocs %d\n", conf->keyprocs);
	printf("lurk length %s\n",
	    conf->lenmode == LENMODE_MESSAGE ? "message" : "payload");
	printf("max message size %u\n", conf->max_message);
	printf("timeout idle %u\n", conf->timeout_idle);
	printf("timeout message %u\n", conf->timeout_message);
	printf("limit connections %u\n", conf->limit_conns);
	printf("limit user connections %u\n", conf->limit_user_conns);
	if (conf->limit_user_rate == 0)
		printf("limit user rate none\n");
	else
		printf("limit user rate %u burst %u\n", conf->limit_user_rate,
		    conf->limit_user_burst);
	if (conf->log_format == LOG_FORMAT_JSON)
		printf("log format json\n");
	print_drafts(&conf->drafts);

	if (!TAILQ_EMPTY(&conf->listeners))
		putchar('\n');
	TAILQ_FOREACH(l, &conf->listeners, entry)
		print_listen(l, "listen on unix");
	TAILQ_FOREACH(h, &conf->https, entry)
		printf("listen on http %s port %u\n", h->addr, h->port);
	TAILQ_FOREACH(l, &conf->controls, entry)
		print_listen(l, "control socket");
	TAILQ_FOREACH(t, &conf->tlss, entry) {
		putchar('\n');
		print_tls(t);
	}
	TAILQ_FOREACH(u, &conf->upstreams, entry) {
		putchar('\n');
		print_upstream(u);
	}

	TAILQ_FOREACH(k, &conf->keys, entry) {
		putchar('\n');
		print_key(k);
	}
	fflush(stdout);
}
