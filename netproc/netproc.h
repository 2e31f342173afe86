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

#define NETPROC_READ_SIZE	65536
#define CONN_OUT_HIGH		(256 * 1024)	/* stop reading above this */
#define CONN_PENDING_MAX	256		/* key operations in flight */
#define NETPROC_PENDING_MAX	65536
#define CLIENT_PENDING_MAX	(NETPROC_PENDING_MAX / 4)	/* one uid */
#define PEER_GROUPS_MAX		64

/* Counters per key and operation type (EDGE_TYPE_*). */
#define NTYPES			5
struct keystats {
	uint64_t		 ok[NTYPES];
	uint64_t		 refused[NTYPES];
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
	struct keystats		 stats;
};

struct conn;

/* A client: the connections of one peer uid, for the limits (limit.c). */
struct client {
	uid_t			 uid;
	unsigned		 nconns;	/* served */
	unsigned		 nrefusing;	/* over the limit, being told */
	unsigned		 npending;	/* key operations in flight */
	uint64_t		 tokens;	/* requests, in 1/1000 */
	uint64_t		 refill;	/* last refill, monotonic ms */
	time_t			 logsec;	/* the second loglines counts */
	unsigned		 loglines;
	uint64_t		 suppressed;	/* refusals not logged */
	uint64_t		 conns_refused;
	uint64_t		 rate_refused;
	LIST_ENTRY(client)	 entry;
};

/* A key operation sent to a keyproc, waiting for its answer. */
struct pending {
	struct conn		*c;		/* NULL once the peer is gone */
	struct lurk_hdr		 hdr;		/* of the request */
	uint32_t		 key;
	int			 keyproc;
	int			 used;
	TAILQ_ENTRY(pending)	 entry;		/* on its conn, or free */
};
TAILQ_HEAD(pendinglist, pending);

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
	struct client		*client;	/* NULL in the fuzz target */
	int			 over_limit;	/* refuse, then close */
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	gid_t			*groups;	/* supplementary, SO_PEERGROUPS */
	int			 ngroups;
	uint8_t			*in;		/* an incomplete message */
	size_t			 inlen;
	uint8_t			*out;		/* responses not yet written */
	size_t			 outoff, outlen, outcap;
	uint32_t		 events;	/* registered with epoll */
	int			 closing;	/* close once out is written */
	int			 dirty;		/* on the flush list */
	time_t			 last_in;	/* last bytes read (monotonic s) */
	time_t			 in_since;	/* an incomplete message since */
	time_t			 out_since;	/* output waiting, no progress */
	unsigned		 npending;
	struct pendinglist	 pending;
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 dentry;	/* flush list */
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
	time_t			 now;		/* monotonic seconds */
	uint8_t			 state[LURK_STATE_LEN];
	struct netkey		*keys;
	size_t			 nkeys;
	uint64_t		 nconns;
	uint64_t		 serial;
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, conn)	 dirty;		/* output to flush */
	struct pending		*pending;	/* NETPROC_PENDING_MAX slots */
	struct pendinglist	 freepending;
	unsigned		*kpload;	/* requests per keyproc */
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
void	 netproc_update_events(struct conn *, uint32_t);
void	 netproc_pause_accept(void);
void	 netproc_send_keyproc(int, uint32_t, const struct iovec *, int);

/* edge.c */
void	 edge_init(void);
void	 edge_request(struct conn *, const struct lurk_hdr *,
	    const uint8_t *, size_t);
void	 edge_keyop_done(int, struct imsg *);
void	 edge_conn_gone(struct conn *);
void	 edge_log_stats(void);


/* limit.c */
uint64_t monotime_ms(void);
int	 client_attach(struct conn *);
void	 client_detach(struct conn *);
int	 client_rate_ok(struct client *);
int	 client_log_ok(struct client *);
void	 client_tick(void);
void	 client_log_stats(void);
size_t	 client_count(void);

/* sandbox.c */
void	 netproc_sandbox(void);

#endif
