/*
 * netproc: the only process that reads bytes from the network.  It must be
 * assumed compromisable; it holds no secret.
 */
#ifndef NETPROC_H
#define NETPROC_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stdint.h>

#include "imsg.h"
#include "lurk.h"
#include "lurkd.h"

#define NETPROC_READ_SIZE	65536
#define CONN_OUT_HIGH		(256 * 1024)	/* stop reading above this */
#define CONN_OUT_LOW		(64 * 1024)	/* resume below this */

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
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	uint8_t			*in;		/* an incomplete message */
	size_t			 inlen;
	uint8_t			*out;		/* responses not yet written */
	size_t			 outoff, outlen, outcap;
	uint32_t		 events;	/* registered with epoll */
	int			 closing;	/* close once out is written */
	TAILQ_ENTRY(conn)	 entry;
};

struct netproc {
	int			 epfd;
	int			 lenmode;
	uint32_t		 max_message;
	uint8_t			 state[LURK_STATE_LEN];
	struct netkey		*keys;
	size_t			 nkeys;
	uint64_t		 nconns;
	uint64_t		 serial;
	TAILQ_HEAD(, conn)	 conns;
	uint8_t			 rbuf[NETPROC_READ_SIZE + LURKD_MSG_MAX];
};

extern struct netproc	*np;

/* conn.c */
void	 conn_accept(int);
void	 conn_event(struct conn *, uint32_t);
size_t	 lurk_respond(const uint8_t *, size_t, uint8_t *, size_t,
	    const struct conn *);
void	 netproc_update_events(struct conn *, uint32_t);
void	 netproc_pause_accept(void);


/* sandbox.c */
void	 netproc_sandbox(void);

#endif
