/*
 * netproc: the only process that reads bytes from the network.  It must be
 * assumed compromisable; it holds no secret.
 */
#ifndef NETPROC_H
#define NETPROC_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stdint.h>
#include <time.h>

#include "imsg.h"
#include "lurk.h"
#include "lurkd.h"

/*
 * A connection's backlog is what it holds in netproc: answers not yet
 * written to the peer, and key operations taken and not yet answered
 * (each counted as the size of its request).  Past CONN_OUT_HIGH, or
 * while its uid's backlog is past CLIENT_OUT_HIGH and it has some of its
 * own, netproc parses no more of its input and reads no more from it.
 */
#define NETPROC_READ_SIZE	65536
#define CONN_OUT_HIGH		(256 * 1024)	/* a connection's backlog */
#define CLIENT_OUT_HIGH		(4 * 1024 * 1024)	/* a uid's backlog */
#define CONN_PENDING_MAX	256		/* key operations in flight */
#define NETPROC_PENDING_MAX	65536
#define CLIENT_PENDING_MAX	(NETPROC_PENDING_MAX / 4)	/* one uid */
#define KEYPROC_INFLIGHT	8	/* operations handed to one keyproc */
#define PEER_GROUPS_MAX		64

/*
 * Counters per key, operation (KOP_*, of every extension) and result
 * (the status in the operation's extension; past the last, the last).
 */
#define NSTATUS			16
struct keystats {
	uint64_t		 n[KOP_MAX][NSTATUS];
};

/* Why a request or a connection was refused (stats.c: their names). */
enum refusal {
	REF_CONNECTIONS,	/* limit connections */
	REF_USER_CONNECTIONS,	/* limit user connections */
	REF_USER_RATE,		/* limit user rate */
	REF_KEY_RATE,		/* limit OP rate of the key */
	REF_IN_FLIGHT,		/* too many operations in flight */
	REF_FORMAT,
	REF_EXTENSION,
	REF_TYPE,
	REF_STATUS,
	REF_UNKNOWN_KEY,
	REF_UNAUTHORIZED,
	REF_OPERATION,		/* not among the key's operations */
	REF_CONTENT,		/* keyproc: not the TLS structure it signs */
	REF_SCHEME,		/* keyproc: scheme unfit for key or version */
	REF_FAILED,		/* keyproc or netproc could not do it */
	REF_HANDSHAKE,		/* a TLS handshake failed (tls.c) */
	REF_MAX
};

/* Requests by what they ask (stats.c: their names). */
enum reqkind {
	REQ_PING,		/* of any extension */
	REQ_CAPABILITIES,
	REQ_OP,			/* a key operation: REQ_OP + its KOP_* */
	REQ_OTHER = REQ_OP + KOP_MAX,
	REQ_MAX
};

/* The HTTP statuses http.c answers with, counted (stats.c). */
#define HTTP_NCODES		7

/* A latency histogram: request parsed to answer queued. */
#define LATENCY_BUCKETS		16
struct histogram {
	uint64_t		 bucket[LATENCY_BUCKETS];	/* each its own */
	uint64_t		 count;
	uint64_t		 sum_ns;
};

struct stats {
	uint64_t		 requests[REQ_MAX];
	uint64_t		 refusals[REF_MAX];
	struct histogram	 latency[KOP_MAX];	/* by KOP_* */
	uint64_t		 conns_accepted[TRANSPORT_MAX];
	uint64_t		 conns_open[TRANSPORT_MAX];
	uint64_t		 ctl_conns;		/* control, accepted */
	uint64_t		 ctl_denied;		/* peer not allowed */
	uint64_t		 ctl_requests;
	uint64_t		 http_requests;
	uint64_t		 http_responses[HTTP_NCODES];	/* stats.c */
};

/* A token bucket (limit.c): tokens in 1/1000, refilled at a rate. */
struct bucket {
	uint64_t		 tokens;
	uint64_t		 refill;	/* last refill, monotonic ms */
};

/* allow client subject|san|spki: a rule for TLS peers (edge.c) */
struct certrule {
	int			 type;		/* ALLOW_SUBJECT, _SAN, _SPKI */
	char			*value;		/* SUBJECT, SAN */
	uint8_t			 spki[32];	/* SPKI */
};

/* What netproc knows of a key: public data and who may use it. */
struct netkey {
	char			 name[LURKD_NAME_MAX];	/* from the parent */
	struct key_public	 pub;			/* from keyproc */
	uint8_t			*spki;
	uint8_t			*chain;
	uint32_t		*uids;
	size_t			 nuids;
	uint32_t		*gids;
	size_t			 ngids;
	struct certrule		*certs;
	size_t			 ncerts;
	uint32_t		 operations;		/* EDGE_OP_*, OP_TLS* */
	/* limit OP rate, by key_op_index() */
	uint32_t		 rate[KEY_NOPS];	/* a second; 0: none */
	uint32_t		 burst[KEY_NOPS];
	struct bucket		 bucket[KEY_NOPS];
	uint64_t		 rate_refused[KOP_MAX];	/* over its rate */
	struct keystats		 stats;
	uint32_t		 tls13_secrets;		/* TLS13_SECRET_BIT()s */
	uint32_t		 tls13_tickets;
	int			 fp_ok;			/* fp is computed */
	uint8_t			 fp[TLS13_FINGER_PRINT_LEN];	/* the leaf's */
	/* the leaf certificate, read when first asked for (stats.c) */
	int			 cert_read;
	int			 cert_ok;
	char			 subject[256];
	char			 issuer[256];
	int64_t			 not_before;
	int64_t			 not_after;
};

struct conn;
struct pending;
struct tlslistener;
struct upstream;
struct ctlconn;
struct httpconn;
TAILQ_HEAD(pendinglist, pending);
TAILQ_HEAD(connlist, conn);

/*
 * Who a peer is, for the limits and the scheduling: its uid (Unix
 * socket), its certificate's SPKI SHA-256 (TLS, once verified), or its
 * address while its TLS handshake goes on (the handshake's signature is
 * work for a keyproc too).
 */
enum ident_kind {
	IDENT_UID,
	IDENT_CERT,
	IDENT_ADDR,
	IDENT_UPSTREAM,		/* lurkd's connections to upstream uid */
};
struct ident {
	int			 kind;
	uint32_t		 uid;		/* IDENT_UID */
	uint8_t			 id[32];	/* SPKI hash; IPv6 address */
};
#define IDENT_NAME_MAX		160

/*
 * A client: a peer identity, the unit of the limits (limit.c) and of
 * the scheduling of key operations (edge.c).  Its operations wait on
 * its own queue; the clients with work take turns at the keyprocs.  An
 * operation is charged to its client until keyproc has answered it,
 * even if its connection has gone, so the client lives on until then.
 */
struct client {
	struct ident		 id;
	char			 name[IDENT_NAME_MAX];	/* "uid 33", ... */
	unsigned		 nconns;	/* served */
	unsigned		 nrefusing;	/* over the limit, being told */
	unsigned		 npending;	/* key operations queued or sent */
	size_t			 backlog;	/* of all its connections */
	struct pendinglist	 queue;		/* not yet sent to a keyproc */
	int			 onrunq;	/* queue not empty: on np->runq */
	TAILQ_ENTRY(client)	 runentry;
	struct connlist		 held;		/* input waiting for backlog */
	struct bucket		 bucket;	/* limit user rate */
	time_t			 logsec;	/* the second loglines counts */
	unsigned		 loglines;
	uint64_t		 suppressed;	/* refusals not logged */
	uint64_t		 conns_refused;
	uint64_t		 rate_refused;
	uint64_t		 requests;	/* parsed */
	uint64_t		 refusals;	/* refused or failed */
	gid_t			 gid;		/* of its last connection */
	int			 transport;	/* of its last connection */
	uint64_t		 held_back;	/* times input was held back */
	uint64_t		 dropped;	/* operations of closed conns */
	LIST_ENTRY(client)	 entry;
};

/*
 * A key operation: queued on its client, or sent to a keyproc.  key is
 * an index into np->keys: a reload remaps it (PENDING_NOKEY: the key
 * is gone, an operation sent before is answered all the same).
 */
#define PENDING_NOKEY		UINT32_MAX
struct pending {
	struct conn		*c;		/* NULL once the peer is gone */
	struct client		*cl;		/* charged until answered */
	struct lurk_hdr		 hdr;		/* of the request */
	uint32_t		 key;
	int			 kop;		/* KOP_*: what it is */
	int			 keyproc;	/* -1 while queued */
	int			 pin;		/* the keyproc it must go to, or -1 */
	int			 used;
	int			 tls;		/* a handshake of c's (tls.c) */
	uint8_t			*msg;		/* keyop_req + data, queued */
	size_t			 msglen;	/* also its charge */
	uint64_t		 t0;		/* parsed, monotonic ns */
	TAILQ_ENTRY(pending)	 entry;		/* on its conn, or free */
	TAILQ_ENTRY(pending)	 qentry;	/* on its client's queue */
};

/* epoll tags: listeners and channels are told apart from connections */
struct evtag {
	int	 kind;
	int	 fd;
	int	 index;
};
#define EV_LISTEN	1
#define EV_PARENT	2
#define EV_KEYPROC	3
#define EV_CONN		4
#define EV_CTL_LISTEN	5
#define EV_CTL		6
#define EV_HTTP_LISTEN	7
#define EV_HTTP		8
#define EV_TLS_LISTEN	9

/* A listening socket: workload, control, http or tls. */
struct listener {
	struct evtag		 tag;		/* first: epoll data.ptr */
	char			 kind[16];	/* unix, control(-ro), http, tls */
	char			 address[128];	/* path, or "ADDR port N" */
	int			 restricted;	/* control: show only */
	uid_t			 uid;		/* control: lurkd's */
	gid_t			 gid;		/* control: the socket's */
};

/* A TLS peer's verified certificate: what the rules match (edge.c). */
#define PEER_SANS_MAX		16
struct peercert {
	uint8_t			 spki[32];	/* SHA-256 of its SPKI */
	char			 subject[LURKD_IDENT_MAX];	/* RFC 2253 */
	int			 nsans;
	struct {
		int		 uri;		/* else a DNS name */
		char		*value;
	}			 sans[PEER_SANS_MAX];
};

enum tls_state {
	TLS_NONE,		/* a Unix socket's */
	TLS_HANDSHAKE,
	TLS_OPEN,
	TLS_CONNECTING,		/* to an upstream, before its handshake */
};

/*
 * A request relayed to an upstream (relay.c): on the upstream
 * connection under an id of its own, and on the edge's connection,
 * charged to the edge's client until the upstream answers.
 */
struct relayop {
	uint64_t		 id;		/* the upstream connection's */
	struct conn		*edge;		/* NULL once it has gone */
	struct conn		*up;
	struct client		*cl;
	struct lurk_hdr		 hdr;		/* the edge's request */
	size_t			 charge;
	uint64_t		 t0;
	TAILQ_ENTRY(relayop)	 eentry;	/* edge->relays */
	TAILQ_ENTRY(relayop)	 uentry;	/* up->upops */
};
TAILQ_HEAD(relaylist, relayop);

struct conn {
	struct evtag		 tag;		/* first: epoll data.ptr */
	int			 fd;
	uint64_t		 serial;
	struct client		*client;
	int			 over_limit;	/* refuse, then close */
	int			 transport;	/* enum transport */
	uid_t			 uid;		/* (uid_t)-1 for TLS */
	gid_t			 gid;
	pid_t			 pid;
	char			 who[IDENT_NAME_MAX];	/* for the logs */
	struct ident		 ident;		/* its client's */
	/* TLS (tls.c) */
	void			*ssl;		/* SSL * */
	int			 tls;		/* enum tls_state */
	struct peercert		*peer;		/* once verified */
	int			 sign_wait;	/* a signature at keyproc */
	int			 zombie;	/* closed while it waits */
	int			 sign_ok;
	uint8_t			*sig;		/* libssl's buffer */
	size_t			 siglen, sigmax;
	char			 verify_err[160];	/* why, if it failed */
	int			 tlsidx;	/* its listener, or ntls + upstream */
	struct relaylist	 relays;	/* edge: forwarded, unanswered */
	struct relaylist	 upops;		/* upstream: in flight on it */
	struct upstream		*upstream;	/* upstream: whose */
	uint64_t		 upseq;		/* upstream: the last id */
	int			 upattempt;	/* upstream: its address, nth */
	TAILQ_ENTRY(conn)	 upentry;	/* upstream->conns */
	gid_t			*groups;	/* supplementary, SO_PEERGROUPS */
	int			 ngroups;
	uint8_t			*in;		/* read, not parsed yet */
	size_t			 inlen;
	int			 held;		/* input waits: on client->held */
	uint8_t			*out;		/* responses not yet written */
	size_t			 outoff, outlen, outcap;
	uint32_t		 events;	/* registered with epoll */
	int			 closing;	/* close once out is written */
	int			 dirty;		/* on the flush list */
	time_t			 last_in;	/* last bytes read (monotonic s) */
	time_t			 in_since;	/* an incomplete message since */
	time_t			 out_since;	/* output waiting, no progress */
	unsigned		 npending;	/* queued or sent */
	size_t			 qbytes;	/* their charge */
	struct pendinglist	 pending;
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 dentry;	/* flush list */
	TAILQ_ENTRY(conn)	 hentry;	/* client->held */
};

struct netproc {
	int			 epfd;
	int			 lenmode;
	uint32_t		 max_message;
	uint32_t		 timeout_idle;
	uint32_t		 timeout_message;
	uint32_t		 limit_conns;
	uint32_t		 limit_user_conns;
	uint32_t		 limit_user_rate;
	uint32_t		 limit_user_burst;
	struct draftconf	 drafts;
	size_t			 conn_out_high;		/* CONN_OUT_HIGH */
	size_t			 client_out_high;	/* CLIENT_OUT_HIGH */
	unsigned		 keyproc_inflight;	/* KEYPROC_INFLIGHT */
	time_t			 now;		/* monotonic seconds */
	uint8_t			 state[LURK_STATE_LEN];
	struct netkey		*keys;
	size_t			 nkeys;
	uint32_t		 generation;	/* of keys and settings */
	uint64_t		 nconns;
	uint64_t		 serial;
	struct connlist		 conns;
	struct connlist		 dirty;		/* output to flush */
	struct pending		*pending;	/* NETPROC_PENDING_MAX slots */
	struct pendinglist	 freepending;
	size_t			 npending;	/* slots in use */
	TAILQ_HEAD(, client)	 runq;		/* clients with queued work */
	uint64_t		 held_back;	/* times input was held back */
	uint64_t		 dropped;	/* operations of closed conns */
	struct ctl_status	 status;	/* the parent's, show status */
	uint64_t		 status_seq;	/* IMSG_CTL_STATUS received */
	int			 status_asked;	/* one asked for, not in yet */
	int			 ready;		/* the parent said so */
	struct listener		*listeners;
	int			 nlisteners;
	size_t			 ntlskeys;	/* np->keys[nkeys...]: tls.c */
	struct tlslistener	*tls;
	int			 ntls;
	struct upstream		*up;		/* relay.c */
	int			 nupstream;
	int			 accept_paused;
	struct stats		 stats;
	unsigned		*kpload;	/* operations at each keyproc */
	int			 nkeyprocs;
	uint8_t			 rbuf[NETPROC_READ_SIZE + LURKD_MSG_MAX];
};

extern struct netproc	*np;

/* The log fields of a connection's peer: -1 and NULL where none. */
static inline int64_t
conn_uid(const struct conn *c)
{
	return c->transport == TRANSPORT_UNIX ? (int64_t)c->uid : -1;
}

static inline int64_t
conn_gid(const struct conn *c)
{
	return c->transport == TRANSPORT_UNIX ? (int64_t)c->gid : -1;
}

static inline const char *
conn_peer(const struct conn *c)
{
	return c->transport == TRANSPORT_TLS ? c->who : NULL;
}

/* conn.c */
int	 conn_add(struct conn *);
void	 conn_close(struct conn *);
void	 conn_accept(int);
void	 conn_event(struct conn *, uint32_t);
void	 conn_flush_dirty(void);
void	 conn_timeouts(void);
time_t	 monotime(void);
int	 conn_input(struct conn *, const uint8_t *, size_t);
void	 conn_request(struct conn *, const uint8_t *, size_t);
int	 conn_reply(struct conn *, const struct lurk_hdr *, uint8_t,
	    const struct iovec *, int);
void	 conn_refuse(struct conn *, const struct lurk_hdr *, uint8_t,
	    const char *, const char *, const char *, const char *);
void	 conn_mark_dirty(struct conn *);
size_t	 conn_backlog(const struct conn *);
void	 netproc_update_events(struct conn *, uint32_t);
void	 netproc_pause_accept(void);
void	 netproc_send_keyproc(int, uint32_t, const struct iovec *, int);

/* edge.c */
void	 edge_init(void);
void	 edge_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
void	 edge_dispatch(void);
void	 edge_keyop_done(int, struct imsg *);
void	 edge_conn_gone(struct conn *);
void	 edge_log_stats(void);
void	 edge_swap_keys(struct netkey *, size_t);
void	 netkey_free(struct netkey *);
int	 authorized(const struct conn *, const struct netkey *);
void	 unauthorized_why(const struct conn *, char *, size_t, const char *);
struct netkey *netkey_by_spki(const uint8_t *, size_t);
uint16_t tls_group(int);
const char *edge_room(struct conn *);
const char *key_rate_take(struct netkey *, int, char *, size_t);
const char *edge_enqueue(struct conn *, const struct lurk_hdr *,
	    struct keyop_req *, const uint8_t *, int);
void	 pending_queue(struct pending *, struct conn *,
	    const struct lurk_hdr *, uint32_t, uint8_t *, size_t);
void	 pending_unqueue(struct pending *);
void	 pending_free(struct pending *);

/* tls.c */
void	 tls_conf_global(int);
int	 tls_conf_done(void);
void	 tls_listener_conf(struct imsg *);
void	 tls_file_conf(struct imsg *);
struct x509_store_ctx_st;
struct ssl_ctx_st;
int	 tls_ctx_chain(struct ssl_ctx_st *, const struct netkey *);
int	 tls_verify_cb(int, struct x509_store_ctx_st *);
void	 tls_init(void);
void	 tls_reload_commit(void);
void	 tls_zombie_end(struct conn *);
void	 tls_accept(struct listener *);
int	 tls_conn_close(struct conn *);
int	 tls_conn_read(struct conn *, uint8_t *, size_t);
int	 tls_conn_write(struct conn *, const uint8_t *, size_t);
int	 tls_conn_step(struct conn *);
int	 tls_sign(const uint8_t *, uint16_t, const uint8_t *, size_t,
	    uint8_t *, size_t *, size_t);
void	 tls_sign_done(struct pending *, uint8_t, const uint8_t *, size_t);
void	 tls_pending_index(struct pending *);
void	 tls_conn_free(struct conn *);

/* relay.c */
void	 relay_conf_global(int);
void	 relay_upstream_conf(struct imsg *, int);
void	 relay_route_conf(struct imsg *, int);
int	 relay_file_conf(uint32_t, int, const char *);
int	 relay_conf_done(void);
void	 relay_init(void);
void	 relay_reload_commit(void);
int	 relay_edge_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
void	 relay_response(struct conn *, const uint8_t *, size_t);
void	 relay_connected(struct conn *);
void	 relay_conn_gone(struct conn *);
void	 relay_upconn_closed(struct conn *);
void	 relay_verified(struct conn *);
void	 relay_timeouts(time_t);
int	 edge_authorized(const struct conn *, const struct netkey *);
void	 conn_forward(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);

/* tlskey.c */
#include <openssl/types.h>
OSSL_LIB_CTX	*tlskey_libctx(void);
EVP_PKEY	*tlskey_pkey(const uint8_t *, size_t, const uint8_t *);

/* drafts.c, tls12.c, tls13.c: the drafts' extensions */
void	 drafts_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
void	 drafts_refuse(struct conn *, const struct lurk_hdr *, struct netkey *,
	    uint8_t, enum refusal, const char *);
uint8_t	 drafts_denied(const struct lurk_hdr *);
void	 tls12_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
void	 tls13_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
const uint8_t *netkey_leaf(const struct netkey *, size_t *);
const uint8_t *netkey_fp(struct netkey *);

/* limit.c */
uint64_t monotime_ms(void);
void	 bucket_init(struct bucket *, uint32_t);
void	 bucket_carry(struct bucket *, const struct bucket *, uint32_t);
int	 bucket_take(struct bucket *, uint32_t, uint32_t);
int	 client_attach(struct conn *);
int	 client_join(struct conn *);
void	 client_detach(struct conn *);
void	 client_gc(struct client *);
void	 client_charge(struct client *, size_t);
void	 client_discharge(struct client *, size_t);
int	 client_rate_ok(struct client *);
int	 client_log_ok(struct client *);
void	 client_tick(void);
void	 client_log_stats(void);
size_t	 client_count(void);
struct client *client_next(struct client *);

/* stats.c */
void	 stats_refusal(enum refusal);
enum refusal stats_status_refusal(int, uint8_t);
void	 stats_request(const struct lurk_hdr *);
uint64_t monotime_ns(void);
void	 stats_latency(int, uint64_t);
void	 stats_count(struct netkey *, int, uint8_t);
void	 stats_http(int);
void	 netkey_cert(struct netkey *);
const char *refusal_name(int);
const char *reqkind_name(int);
int	 reqkind_shown(int);
const char *key_curve_name(const struct netkey *);
struct textbuf;
void	 stats_metrics(struct textbuf *);
int	 netproc_healthy(char *, size_t);

/* text.c: a growing buffer of text, bounded */
struct textbuf {
	char			*p;
	size_t			 len, cap, max;
	int			 full;		/* something did not fit */
};
void	 tb_init(struct textbuf *, size_t);
void	 tb_free(struct textbuf *);
void	 tb_printf(struct textbuf *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));

/* control.c */
void	 ctl_accept(struct listener *);
void	 ctl_event(struct ctlconn *, uint32_t);
void	 ctl_status_in(void);
void	 ctl_tick(void);
size_t	 ctl_count(void);

/* http.c */
#define HTTP_REQ_MAX		4096	/* request line and headers */
enum http_route {
	HTTP_NONE,
	HTTP_METRICS,
	HTTP_LIVEZ,
	HTTP_READYZ,
};
struct http_req {
	int			 get;		/* the method is GET */
	int			 minor;		/* HTTP/1.minor */
	int			 route;		/* enum http_route */
};
int	 http_parse(const char *, size_t, struct http_req *);
void	 http_accept(struct listener *);
void	 http_event(struct httpconn *, uint32_t);
void	 http_status_in(void);
void	 http_tick(void);
size_t	 http_count(void);

/* netproc.c, for control.c, http.c and tls.c */
struct listener *netproc_listener_add(int, int, const char *, const char *);
void	 netproc_ep_add(int, uint32_t, void *);
void	 netproc_ep_mod(int, uint32_t, void *);
void	 netproc_send_parent(uint32_t, const void *, size_t);
void	 netproc_ask_status(void);

/* sandbox.c */
void	 netproc_sandbox(void);

#endif
