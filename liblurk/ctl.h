/*
 * The control protocol between lurkctl(8) and lurkd's netproc, over a
 * control socket (lurkd.conf(5): control socket): imsg framing, no
 * descriptors.  lurkctl sends one request at a time, with the protocol
 * version as the imsg peerid; lurkd answers a "show" with records and
 * CTL_END, a command with CTL_RESULT, and anything it refuses with
 * CTL_RESULT too.  Both ends are built from one tree: the records are
 * C structs in host layout, every field of fixed size, every string
 * NUL-terminated by its receiver, every message's size checked exactly.
 */
#ifndef LURK_CTL_H
#define LURK_CTL_H

#include <stdint.h>

#define CTL_PROTO_VERSION	1
#define CTL_SOCKET		"/run/lurkd-control/lurkd.sock"
#define CTL_MSG_MAX		8192	/* header included, either way */
#define CTL_TEXT_MAX		4096	/* bytes of text in one CTL_TEXT */

enum ctl_type {
	CTL_NONE,
	/* lurkctl -> lurkd */
	CTL_REQ_STATUS = 1,	/* -> CTL_STATUS KEYPROC* LISTENER* END */
	CTL_REQ_KEYS,		/* -> CTL_KEY* CTL_END */
	CTL_REQ_CLIENTS,	/* -> CTL_CLIENT* CTL_END */
	CTL_REQ_STATS,		/* -> CTL_STAT_OP* CTL_STAT* CTL_END */
	CTL_REQ_METRICS,	/* -> CTL_TEXT* CTL_END */
	CTL_REQ_HEALTH,		/* -> CTL_HEALTH CTL_RESULT */
	CTL_REQ_RELOAD,		/* -> CTL_RESULT, once the parent reloaded */
	CTL_REQ_LOG,		/* struct ctl_log -> CTL_RESULT */
	/* lurkd -> lurkctl */
	CTL_STATUS = 100,
	CTL_KEYPROC,
	CTL_LISTENER,
	CTL_KEY,
	CTL_CLIENT,
	CTL_STAT_OP,
	CTL_STAT,
	CTL_TEXT,		/* 1 to CTL_TEXT_MAX bytes of text */
	CTL_HEALTH,
	CTL_END,		/* no data */
	CTL_RESULT,
};

/* CTL_RESULT codes; lurkctl exits 0 for CTL_OK, 1 for the others */
enum ctl_code {
	CTL_OK,
	CTL_FAILED,		/* the command failed: the message says why */
	CTL_DENIED,		/* not for this peer, or this socket */
	CTL_BADREQ,		/* a request lurkd does not know or take */
	CTL_NOTREADY,		/* health: lurkd is not ready */
};

#define CTL_NAME_MAX		64	/* key names (LURKD_NAME_MAX) */
#define CTL_PATH_MAX		4096
#define CTL_STR_MAX		256	/* messages, certificate names */
#define CTL_ALLOW_MAX		16	/* uids and gids shown per key */
#define CTL_KEYPROCS_MAX	64	/* LURKD_KEYPROCS_MAX */

/*
 * Operations by index, in CTL_KEY's counters and limits: lurk.h's
 * KOP_*, the edge extension's then the drafts' (kop_name() names them).
 */
#define CTL_OP_KEY_INFO		0
#define CTL_OP_SIGN_TLS13	1
#define CTL_OP_SIGN_TLS12	2
#define CTL_OP_RSA_KEX		3
#define CTL_NOPS		13

struct ctl_result {
	int32_t		 code;		/* enum ctl_code */
	char		 message[CTL_STR_MAX];
};

struct ctl_log {
	int32_t		 verbose;	/* 0 brief, 1 verbose */
};

struct ctl_show_status {
	char		 version[32];
	int64_t		 started;	/* Unix time */
	int64_t		 now;		/* lurkd's clock, for the uptime */
	int32_t		 root;		/* privsep as root: chroot, setuid */
	int32_t		 ready;
	int32_t		 nkeyprocs;
	int32_t		 nkeys;
	uint32_t	 generation;	/* of the configuration */
	uint32_t	 last_reload_ok;
	int64_t		 last_reload;	/* Unix time; 0: never */
	uint64_t	 reloads_ok;
	uint64_t	 reloads_failed;
	uint8_t		 confhash[32];	/* SHA-256 of the file */
	char		 conffile[CTL_PATH_MAX];
	char		 last_reload_error[CTL_STR_MAX];
	int32_t		 parent_pid;
	int32_t		 netproc_pid;
	int32_t		 log_verbose;
	int32_t		 log_json;
};

struct ctl_keyproc {
	int32_t		 instance;
	int32_t		 pid;
	char		 state[16];	/* "running" */
};

struct ctl_listener {
	char		 kind[16];	/* unix, control, control-ro, http */
	char		 address[128];	/* a path, or ADDRESS port N */
	char		 state[16];	/* listening, paused */
};

struct ctl_key {
	char		 name[CTL_NAME_MAX];
	char		 type[16];	/* rsa, rsa-pss, ec, ed25519, ed448 */
	int32_t		 bits;
	char		 curve[16];	/* P-256, P-384, P-521; "" */
	uint8_t		 spki_sha256[32];
	char		 subject[CTL_STR_MAX];
	char		 issuer[CTL_STR_MAX];
	int64_t		 not_before;	/* Unix time */
	int64_t		 not_after;
	int32_t		 cert_ok;	/* the fields above could be read */
	uint32_t	 operations;	/* allowed: EDGE_OP_*, OP_TLS* */
	uint32_t	 rate[CTL_NOPS];	/* its limit's rate; 0: none */
	uint32_t	 burst[CTL_NOPS];
	uint32_t	 tls13_secrets;	/* TLS13_SECRET_BIT()s */
	uint32_t	 tls13_tickets;	/* a session's, at most */
	uint32_t	 nuids;		/* allowed, all of them */
	uint32_t	 ngids;
	uint32_t	 uids[CTL_ALLOW_MAX];	/* the first ones */
	uint32_t	 gids[CTL_ALLOW_MAX];
	uint64_t	 uses[CTL_NOPS];	/* answered with success */
	uint64_t	 refusals[CTL_NOPS];	/* refused or failed */
	uint64_t	 rate_refusals[CTL_NOPS];	/* of those, the rate */
};

struct ctl_client {
	char		 transport[16];
	char		 identity[64];	/* "uid 33" */
	uint32_t	 uid;
	uint32_t	 gid;		/* of its last connection */
	uint32_t	 connections;	/* open */
	uint32_t	 in_flight;	/* key operations queued or at work */
	uint64_t	 requests;
	uint64_t	 refusals;
	uint64_t	 backlog;	/* bytes kept for it */
	uint64_t	 held_back;
	uint64_t	 dropped;
};

struct ctl_stat_op {
	char		 key[CTL_NAME_MAX];
	char		 operation[32];	/* kop_name() */
	char		 result[32];	/* success, or the status */
	uint64_t	 count;
};

struct ctl_stat {
	char		 name[48];	/* refusals, connections_accepted... */
	char		 label[48];	/* a reason, a transport; or "" */
	uint64_t	 value;
};

struct ctl_health {
	int32_t		 ready;		/* the parent said every child is */
	int32_t		 keys;		/* loaded */
	int32_t		 listeners;	/* configured, all kinds */
	int32_t		 listening;	/* of those, accepting now */
};

/*
 * The size an answer must have: its struct's, 0 for CTL_END, -2 for
 * CTL_TEXT (1 to CTL_TEXT_MAX bytes), -1 for a type that is no answer.
 */
static inline long
ctl_answer_size(uint32_t type)
{
	switch (type) {
	case CTL_STATUS:
		return sizeof(struct ctl_show_status);
	case CTL_KEYPROC:
		return sizeof(struct ctl_keyproc);
	case CTL_LISTENER:
		return sizeof(struct ctl_listener);
	case CTL_KEY:
		return sizeof(struct ctl_key);
	case CTL_CLIENT:
		return sizeof(struct ctl_client);
	case CTL_STAT_OP:
		return sizeof(struct ctl_stat_op);
	case CTL_STAT:
		return sizeof(struct ctl_stat);
	case CTL_HEALTH:
		return sizeof(struct ctl_health);
	case CTL_RESULT:
		return sizeof(struct ctl_result);
	case CTL_END:
		return 0;
	case CTL_TEXT:
		return -2;
	}
	return -1;
}

#endif
