/*
 * Limits per client, a client being a peer identity (a uid, or a TLS
 * peer's certificate, netproc.h): how many connections it
 * may hold, how many requests a second it may send (a token bucket), how
 * many lines of the log its refusals may take, and how many bytes its
 * connections may keep waiting in netproc (its backlog, see netproc.h).
 *
 * A client's state exists while it has connections or key operations
 * not yet answered, and after that only until its bucket has filled up
 * again and its log summary is out: a client cannot reset its rate or
 * its share of the operations in flight by reconnecting, and the table
 * holds no more entries than there are clients with recent activity.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "log.h"
#include "lurkd.h"
#include "netproc.h"

#define CLIENT_BUCKETS		1024
#define CLIENT_LOG_PER_SEC	10	/* refusal lines a client may cause */
#define CLIENT_REFUSING_MAX	4	/* over-limit conns told why, at once */
#define MILLI			1000ULL	/* tokens are kept in 1/1000 */

LIST_HEAD(clientlist, client);
static struct clientlist	 table[CLIENT_BUCKETS];
static size_t			 nclients;
static time_t			 conns_logsec;	/* global limit, log once/s */
static uint64_t			 conns_refused;	/* by limit connections */
static uint64_t			 user_conns_refused, rate_refused;

uint64_t
monotime_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct clientlist *
hashbucket(const struct ident *id)
{
	uint32_t	 h = id->kind;
	size_t		 i;

	if (id->kind == IDENT_UID)
		h = h * 31 + id->uid;
	else
		for (i = 0; i < sizeof(id->id); i++)
			h = h * 31 + id->id[i];
	return &table[(h * 2654435761U) % CLIENT_BUCKETS];
}

static int
ident_eq(const struct ident *a, const struct ident *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == IDENT_UID)
		return a->uid == b->uid;
	return memcmp(a->id, b->id, sizeof(a->id)) == 0;
}

/* A full bucket of burst tokens. */
void
bucket_init(struct bucket *b, uint32_t burst)
{
	b->tokens = (uint64_t)burst * MILLI;
	b->refill = monotime_ms();
}

/* A reload keeps a bucket's tokens, up to its new burst. */
void
bucket_carry(struct bucket *to, const struct bucket *from, uint32_t burst)
{
	*to = *from;
	if (to->tokens > (uint64_t)burst * MILLI)
		to->tokens = (uint64_t)burst * MILLI;
}

/* Refill at rate tokens a second, up to burst; 1 if it is full. */
static int
bucket_refill(struct bucket *b, uint32_t rate, uint32_t burst, uint64_t now)
{
	uint64_t	 full = (uint64_t)burst * MILLI;
	uint64_t	 ms;

	if (rate == 0)
		return 1;
	if (now > b->refill) {
		ms = now - b->refill;
		/* no overflow: ms is capped where the bucket is full anyway */
		if (ms > full / rate + 1)
			ms = full / rate + 1;
		b->tokens += ms * rate;
		if (b->tokens > full)
			b->tokens = full;
		b->refill = now;
	}
	return b->tokens == full;
}

/* Take a token if there is one: 1 if the rate allows one more. */
int
bucket_take(struct bucket *b, uint32_t rate, uint32_t burst)
{
	if (rate == 0)
		return 1;
	bucket_refill(b, rate, burst, monotime_ms());
	if (b->tokens < MILLI)
		return 0;
	b->tokens -= MILLI;
	return 1;
}

static struct client *
client_get(const struct ident *id, const char *name)
{
	struct clientlist	*b = hashbucket(id);
	struct client		*cl;

	LIST_FOREACH(cl, b, entry)
		if (ident_eq(&cl->id, id))
			return cl;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->id = *id;
	strlcpy(cl->name, name, sizeof(cl->name));
	TAILQ_INIT(&cl->queue);
	TAILQ_INIT(&cl->held);
	bucket_init(&cl->bucket, np->limit_user_burst);
	LIST_INSERT_HEAD(b, cl, entry);
	nclients++;
	return cl;
}

static void
client_flush_log(struct client *cl)
{
	if (cl->suppressed == 0)
		return;
	log_warnx("%s: %llu more refusals not logged (at most %d a "
	    "second)", cl->name, (unsigned long long)cl->suppressed,
	    CLIENT_LOG_PER_SEC);
	cl->suppressed = 0;
}

static void
client_free_if_unused(struct client *cl, uint64_t now)
{
	if (cl->nconns > 0 || cl->nrefusing > 0 || cl->npending > 0 ||
	    !bucket_refill(&cl->bucket, np->limit_user_rate,
	    np->limit_user_burst, now))
		return;
	if (cl->backlog != 0 || cl->onrunq || !TAILQ_EMPTY(&cl->held))
		fatalx("%s: %s: %zu bytes of backlog without a "
		    "connection", __func__, cl->name, cl->backlog);
	client_flush_log(cl);
	LIST_REMOVE(cl, entry);
	nclients--;
	free(cl);
}

/* The client may have no more use: forget it if so. */
void
client_gc(struct client *cl)
{
	client_free_if_unused(cl, monotime_ms());
}

/* n more bytes of backlog for the client. */
void
client_charge(struct client *cl, size_t n)
{
	if (cl != NULL)
		cl->backlog += n;
}

/*
 * n bytes of backlog fewer.  Once the client is under its limit again,
 * its connections whose input waits get another look.
 */
void
client_discharge(struct client *cl, size_t n)
{
	struct conn	*c;
	int		 over;

	if (cl == NULL)
		return;
	if (n > cl->backlog)
		fatalx("%s: %s: backlog %zu, %zu taken off", __func__,
		    cl->name, cl->backlog, n);
	over = cl->backlog >= np->client_out_high;
	cl->backlog -= n;
	if (over && cl->backlog < np->client_out_high)
		TAILQ_FOREACH(c, &cl->held, hentry)
			conn_mark_dirty(c);
}

/*
 * A new connection of c->ident.  0: serve it; 1: it is over its
 * client's limit and gets temporary_failure for its first request; -1:
 * close it now.  Sets c->client on 0 and 1.
 */
int
client_attach(struct conn *c)
{
	time_t		 now = monotime();

	if (np->nconns >= np->limit_conns) {
		conns_refused++;
		stats_refusal(REF_CONNECTIONS);
		if (now != conns_logsec) {
			conns_logsec = now;
			log_op(LOG_ERR, &(struct log_op){ -1, conn_uid(c),
			    conn_gid(c), transport_name(c->transport), NULL,
			    NULL, NULL, "limit connections", conn_peer(c) },
			    "%s: connection refused: %llu connections open "
			    "(limit connections %u); %llu refused so far",
			    c->who,
			    (unsigned long long)np->nconns, np->limit_conns,
			    (unsigned long long)conns_refused);
		}
		return -1;
	}
	return client_join(c);
}

/*
 * c joins the client of c->ident (client_attach, and a TLS peer once
 * its certificate is verified, tls.c): 0, 1, -1 as client_attach.
 */
int
client_join(struct conn *c)
{
	struct client	*cl;

	if ((cl = client_get(&c->ident, c->who)) == NULL) {
		log_warn("%s: connection refused: calloc", c->who);
		return -1;
	}
	cl->gid = c->gid;
	cl->transport = c->transport;
	if (cl->nconns < np->limit_user_conns) {
		cl->nconns++;
		c->client = cl;
		return 0;
	}
	cl->conns_refused++;
	user_conns_refused++;
	stats_refusal(REF_USER_CONNECTIONS);
	if (client_log_ok(cl))
		log_op(LOG_ERR, &(struct log_op){ -1, conn_uid(c),
		    conn_gid(c), transport_name(c->transport), NULL, NULL,
		    NULL, "limit user connections", conn_peer(c) },
		    "%s: %u connections open (limit user connections %u): "
		    "connection refused", c->who, cl->nconns,
		    np->limit_user_conns);
	if (cl->nrefusing >= CLIENT_REFUSING_MAX)
		return -1;	/* cl has its connections: it stays */
	cl->nrefusing++;
	c->client = cl;
	c->over_limit = 1;
	return 1;
}

void
client_detach(struct conn *c)
{
	struct client	*cl = c->client;

	if (cl == NULL)
		return;
	if (c->over_limit)
		cl->nrefusing--;
	else
		cl->nconns--;
	c->client = NULL;
	client_gc(cl);
}

/* One request from the client: 1 if its rate allows it. */
int
client_rate_ok(struct client *cl)
{
	if (cl == NULL || bucket_take(&cl->bucket, np->limit_user_rate,
	    np->limit_user_burst))
		return 1;
	cl->rate_refused++;
	rate_refused++;
	return 0;
}

/* May one more refusal of this client be logged? */
int
client_log_ok(struct client *cl)
{
	time_t	 now;

	if (cl == NULL)
		return 1;
	now = monotime();
	if (now != cl->logsec) {
		client_flush_log(cl);
		cl->logsec = now;
		cl->loglines = 0;
	}
	if (cl->loglines < CLIENT_LOG_PER_SEC) {
		cl->loglines++;
		return 1;
	}
	cl->suppressed++;
	return 0;
}

/* Once a second: summaries of what was not logged, and the table's gc. */
void
client_tick(void)
{
	struct client	*cl, *next;
	uint64_t	 now = monotime_ms();
	time_t		 sec = monotime();
	size_t		 i;

	if (nclients == 0)
		return;
	for (i = 0; i < CLIENT_BUCKETS; i++)
		for (cl = LIST_FIRST(&table[i]); cl != NULL; cl = next) {
			next = LIST_NEXT(cl, entry);
			if (cl->logsec != sec)
				client_flush_log(cl);
			client_free_if_unused(cl, now);
		}
}

/* For SIGUSR1: what the limits refused or held back, per client known. */
void
client_log_stats(void)
{
	struct client	*cl;
	size_t		 i;

	log_info("limits: %zu clients known; refused: %llu connections by "
	    "limit connections %u, %llu by limit user connections %u, %llu "
	    "requests by limit user rate %u; input held back %llu times; "
	    "%llu operations of closed connections dropped", nclients,
	    (unsigned long long)conns_refused, np->limit_conns,
	    (unsigned long long)user_conns_refused, np->limit_user_conns,
	    (unsigned long long)rate_refused, np->limit_user_rate,
	    (unsigned long long)np->held_back,
	    (unsigned long long)np->dropped);
	for (i = 0; i < CLIENT_BUCKETS; i++)
		LIST_FOREACH(cl, &table[i], entry)
			if (cl->conns_refused > 0 || cl->rate_refused > 0 ||
			    cl->held_back > 0 || cl->dropped > 0)
				log_info("limits: %s: %u connections, "
				    "%llu refused; %llu requests over the "
				    "rate; input held back %llu times; %llu "
				    "operations dropped; %u in flight, %zu "
				    "bytes of backlog", cl->name,
				    cl->nconns,
				    (unsigned long long)cl->conns_refused,
				    (unsigned long long)cl->rate_refused,
				    (unsigned long long)cl->held_back,
				    (unsigned long long)cl->dropped,
				    cl->npending, cl->backlog);
}

/* The client after cl in the table (the first for NULL), or NULL. */
struct client *
client_next(struct client *cl)
{
	size_t	 i = 0;

	if (cl != NULL) {
		if (LIST_NEXT(cl, entry) != NULL)
			return LIST_NEXT(cl, entry);
		i = hashbucket(&cl->id) - table + 1;
	}
	for (; i < CLIENT_BUCKETS; i++)
		if (!LIST_EMPTY(&table[i]))
			return LIST_FIRST(&table[i]);
	return NULL;
}

/* Clients whose state is kept: for the tests of the table's bounds. */
size_t
client_count(void)
{
	return nclients;
}
