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

/* Counters per key and operation type (EDGE_TYPE_*). */
#define NTYPES			5
struct keystats {
	uint64_t		 ok[NTYPES];
	uint64_t		 refused[NTYPES];
};

/* A token bucket (limit.c): tokens in 1/1000, refilled at a rate. */
struct bucket {
	uint64_t		 tokens;
	uint64_t		 refill;	/* last refill, monotonic ms */
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
	uint32_t		 operations;		/* EDGE_OP_* */
	uint32_t		 rsakex_rate;		/* a second; 0: none */
	uint32_t		 rsakex_burst;
	struct bucket		 rsakex;
	uint64_t		 rsakex_refused;	/* over the rate */
	struct keystats		 stats;
};

struct conn;
struct pending;
TAILQ_HEAD(pendinglist, pending);
TAILQ_HEAD(connlist, conn);

/*
 * A client: a peer uid, the unit of the limits (limit.c) and of the
 * scheduling of key operations (edge.c).  Its operations wait on its own
 * queue; the clients with work take turns at the keyprocs.  An operation
 * is charged to its client until keyproc has answered it, even if its
 * connection has gone, so the client lives on until then.
 */
struct client {
	uid_t			 uid;
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
	int			 keyproc;	/* -1 while queued */
	int			 used;
	uint8_t			*msg;		/* keyop_req + data, queued */
	size_t			 msglen;	/* also its charge */
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

struct conn {
	struct evtag		 tag;		/* first: epoll data.ptr */
	int			 fd;
	uint64_t		 serial;
	struct client		*client;
	int			 over_limit;	/* refuse, then close */
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
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
	TAILQ_HEAD(, client)	 runq;		/* clients with queued work */
	uint64_t		 held_back;	/* times input was held back */
	uint64_t		 dropped;	/* operations of closed conns */
	struct ctl_status	 status;	/* the parent's, show status */
	unsigned		*kpload;	/* operations at each keyproc */
	int			 nkeyprocs;
	uint8_t			 rbuf[NETPROC_READ_SIZE + LURKD_MSG_MAX];
};

extern struct netproc	*np;

/* conn.c */
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
	    const char *, const char *);
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


/* limit.c */
uint64_t monotime_ms(void);
void	 bucket_init(struct bucket *, uint32_t);
void	 bucket_carry(struct bucket *, const struct bucket *, uint32_t);
int	 bucket_take(struct bucket *, uint32_t, uint32_t);
int	 client_attach(struct conn *);
void	 client_detach(struct conn *);
void	 client_gc(struct client *);
void	 client_charge(struct client *, size_t);
void	 client_discharge(struct client *, size_t);
int	 client_rate_ok(struct client *);
int	 client_log_ok(struct client *);
void	 client_tick(void);
void	 client_log_stats(void);
size_t	 client_count(void);

/* sandbox.c */
void	 netproc_sandbox(void);

#endif
