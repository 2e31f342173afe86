/*
 * lurkd: shared definitions of the parent, keyproc and netproc.
 */
#ifndef LURKD_H
#define LURKD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdint.h>

#define LURKD_VERSION		"0.1"
#define LURKD_CONF		"/etc/lurkd/lurkd.conf"
#define LURKD_SOCKET		"/run/lurkd/lurk.sock"
#define LURKD_USER		"_lurkd"
#define LURKD_CHROOT		"/var/lib/lurkd/empty"

#define LURKD_NAME_MAX		64	/* key names, user and group names */
#define LURKD_KEYPROCS_MAX	64
#define LURKD_KEYS_MAX		1024
#define LURKD_START_TIMEOUT	120	/* s for every child to be ready */
#define LURKD_LISTEN_MAX	16
#define LURKD_CONTROL_SOCKET	"/run/lurkd-control/lurkd.sock"
#define LURKD_CONTROL_MAX	4	/* control sockets */
#define LURKD_HTTP_MAX		4	/* listen on http */
#define LURKD_MSG_MIN		1024	/* smallest "max message size" */
#define LURKD_MSG_DEFAULT	16384
#define LURKD_MSG_MAX		(1024 * 1024)
#define LURKD_TIMEOUT_IDLE	300	/* seconds without a request */
#define LURKD_TIMEOUT_MESSAGE	10	/* to finish a message, or read ours */
#define LURKD_TIMEOUT_MAX	86400
#define LURKD_CONNS_DEFAULT	4096	/* connections, all peers together */
#define LURKD_USER_CONNS_DEFAULT 256	/* connections of one peer uid */
#define LURKD_CONNS_MAX		1000000
#define LURKD_RATE_MAX		10000000	/* requests a second */
#define LURKD_WATCH_QUIET	1000	/* ms without a change before reload */
#define LURKD_WATCH_MAX		5000	/* ms from the first change at most */
#define LURKD_TLS_MAX		8	/* listen on tls */
#define LURKD_IDENT_MAX		256	/* allow client subject|san: bytes */
#define LURKD_UPSTREAM_MAX	8	/* upstream blocks */
#define LURKD_ROUTE_MAX		64	/* routes of an upstream */
#define LURKD_UPADDR_MAX	4	/* addresses of an upstream's name */

/* The LURK header's length field: payload only (default) or whole message. */
enum lurk_lenmode {
	LENMODE_PAYLOAD = 0,
	LENMODE_MESSAGE = 1,
};

enum allow_type {
	ALLOW_UID,
	ALLOW_GID,
	ALLOW_USER,		/* name resolved to a uid when parsed */
	ALLOW_GROUP,		/* name resolved to a gid when parsed */
	/* TLS peers: their verified certificate (netproc/tls.c) */
	ALLOW_SUBJECT,		/* the subject, RFC 2253 as OpenSSL prints it */
	ALLOW_SAN,		/* a SAN: DNS name or URI (a SPIFFE ID) */
	ALLOW_SPKI,		/* SHA-256 of its SubjectPublicKeyInfo */
};

/* A rule that names a certificate, not a uid or gid. */
static inline int
allow_is_client(int t)
{
	return t == ALLOW_SUBJECT || t == ALLOW_SAN || t == ALLOW_SPKI;
}

struct allow {
	enum allow_type		 type;
	uint32_t		 id;
	char			 name[LURKD_NAME_MAX];	/* USER/GROUP only */
	char			 ident[LURKD_IDENT_MAX];	/* SUBJECT/SAN */
	uint8_t			 spki[32];		/* SPKI */
	TAILQ_ENTRY(allow)	 entry;
};
TAILQ_HEAD(allowlist, allow);

/*
 * The key operations that have a rate limit each (limit OP rate N), by
 * index: the EDGE_OP_* bit 1 << i (sign-tls13, sign-tls12, rsa-kex).
 * Each limit counts a use of the private key, whichever extension asks
 * for it: the drafts' operations count under the limit of the edge
 * operation that does the same with the key (key_rate_ops()).
 */
#define KEY_NOPS		3

/* TLS 1.3 CertificateVerify: sign-tls13, tls13-cert-verify */
#define KEY_OPS_SIGN13		(0x01 | 0x0100)
/* TLS 1.2 ServerKeyExchange: sign-tls12, tls12-ecdhe */
#define KEY_OPS_SIGN12		(0x02 | 0x0080)
/*
 * What "limit rsa-kex rate" caps: the RSA decryptions whose answer
 * tells a good padding from a bad one (rsa-kex, the drafts' masters
 * without the client's Finished): EDGE_OP_RSA_PREMASTER,
 * OP_TLS12_RSA_MASTER, OP_TLS12_RSA_EXT.
 */
#define KEY_OPS_DECRYPT		(0x04 | 0x08 | 0x20)

/* The operations (EDGE_OP_*, OP_TLS* bits) that count under limit i. */
static inline uint32_t
key_rate_ops(int i)
{
	return i == 0 ? KEY_OPS_SIGN13 : i == 1 ? KEY_OPS_SIGN12 :
	    i == 2 ? KEY_OPS_DECRYPT : 0;
}

/* The limit an operation (one policy bit) counts under; -1 if none. */
static inline int
key_op_index(uint32_t op)
{
	int	 i;

	if (op == 0 || (op & (op - 1)) != 0)
		return -1;
	for (i = 0; i < KEY_NOPS; i++)
		if (key_rate_ops(i) & op)
			return i;
	return -1;
}

struct keyconf {
	char			 name[LURKD_NAME_MAX];
	uint32_t		 operations;	/* EDGE_OP_*, OP_TLS*; lurk.h */
	uint32_t		 rate[KEY_NOPS];	/* a second; 0: none */
	uint32_t		 burst[KEY_NOPS];
	uint32_t		 tls13_secrets;	/* TLS13_SECRET_BIT()s */
	uint32_t		 tls13_tickets;	/* a session's, at most */
	char			 private[PATH_MAX];
	char			 certificate[PATH_MAX];
	struct allowlist	 allows;
	char			 file[PATH_MAX];	/* where the block begins */
	int			 line;
	int			 usage;		/* enum key_usage */
	TAILQ_ENTRY(keyconf)	 entry;
};
TAILQ_HEAD(keylist, keyconf);

/*
 * The drafts' tls12 and tls13 extensions (lurk(7)): what keyproc
 * accepts and keeps.  Sent to the children as is, in conf_global.
 */
#define LURKD_FRESH_SHA256	0x01	/* freshness functions accepted */
#define LURKD_FRESH_NULL	0x02
#define LURKD_LABEL_DRAFT	0	/* tls13 freshness: S || label */
#define LURKD_LABEL_PYLURK	1	/* S alone, as pylurk does */
#define LURKD_WINDOW_DEFAULT	5	/* s either side of S's time */
#define LURKD_WINDOW_MAX	3600
#define LURKD_SESSIONS_DEFAULT	1024	/* tls13 sessions a keyproc */
#define LURKD_SESSIONS_MAX	100000
#define LURKD_SESSION_TIMEOUT	30	/* s */
#define LURKD_TICKET_LIFETIME	7200	/* s */
#define LURKD_TICKET_LIFETIME_MAX 604800	/* RFC 8446: 7 days */
#define LURKD_TICKETS_DEFAULT	2	/* a session's tickets */
#define LURKD_TICKETS_MAX	16
/* h_c h_s a_c a_s x: what s_init_cert_verify gives by default */
#define LURKD_SECRETS_DEFAULT	0x1f00

struct draftconf {
	uint32_t		 tls12_freshness;	/* LURKD_FRESH_* */
	uint32_t		 tls12_window;		/* seconds */
	uint32_t		 tls13_freshness;	/* LURKD_FRESH_* */
	uint32_t		 tls13_label;		/* LURKD_LABEL_* */
	uint32_t		 tls13_sessions;	/* a keyproc's */
	uint32_t		 tls13_session_timeout;	/* seconds */
	uint32_t		 tls13_ticket_lifetime;	/* seconds */
};

/* A Unix socket: a workload listener, or a control socket. */
struct listenconf {
	char			 path[PATH_MAX];
	mode_t			 mode;		/* default 0660 */
	int			 has_group;
	char			 group[LURKD_NAME_MAX];
	gid_t			 gid;		/* resolved when parsed */
	int			 restricted;	/* control: show only */
	TAILQ_ENTRY(listenconf)	 entry;
};
TAILQ_HEAD(listenlist, listenconf);

/*
 * listen on tls: a TCP listener whose peers present a certificate of the
 * CA (netproc/tls.c).  Its private key goes to the keyprocs as a key of
 * its own (enum key_usage); netproc gets its certificate chain from
 * them, and the CA and CRL files from the parent.
 */
struct tlsconf {
	int			 family;	/* AF_INET, AF_INET6 */
	char			 addr[48];	/* as inet_ntop(3) writes it */
	uint16_t		 port;
	int			 tls12;		/* tls version 1.2 allowed */
	char			 certificate[PATH_MAX];
	char			 private[PATH_MAX];
	char			 ca[PATH_MAX];
	char			 crl[PATH_MAX];	/* "": none */
	char			 file[PATH_MAX];	/* where the block begins */
	int			 line;
	TAILQ_ENTRY(tlsconf)	 entry;
};
TAILQ_HEAD(tlslist, tlsconf);

/*
 * upstream NAME { ... }: another lurkd that holds keys this one does not
 * (netproc/relay.c).  Its client certificate and key, and the rules of
 * who may use it through this lurkd, are a key block's (key, usage
 * KEY_USE_CLIENT); the name or address is resolved by the parent.
 */
enum route_type {
	ROUTE_DEFAULT,
	ROUTE_NAME,		/* a key name */
	ROUTE_SPKI,		/* a key's SPKI SHA-256 */
};
struct routeconf {
	int			 type;
	char			 name[LURKD_NAME_MAX];
	uint8_t			 spki[32];
};
struct upstreamconf {
	char			 name[LURKD_NAME_MAX];
	char			 host[256];	/* a name or an address */
	uint16_t		 port;
	char			 ca[PATH_MAX];	/* verifies the upstream */
	struct keyconf		*key;
	int			 nroutes;
	struct routeconf	 routes[LURKD_ROUTE_MAX];
	char			 file[PATH_MAX];
	int			 line;
	TAILQ_ENTRY(upstreamconf) entry;
};
TAILQ_HEAD(upstreamlist, upstreamconf);

/* listen on http: metrics and health (netproc/http.c) */
struct httpconf {
	int			 family;	/* AF_INET, AF_INET6 */
	char			 addr[48];	/* as inet_ntop(3) writes it */
	uint16_t		 port;
	TAILQ_ENTRY(httpconf)	 entry;
};
TAILQ_HEAD(httplist, httpconf);

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

struct lurkd_conf {
	struct listenlist	 listeners;
	struct keylist		 keys;
	int			 keyprocs;	/* 0: one per online CPU */
	enum lurk_lenmode	 lenmode;
	uint32_t		 max_message;	/* header + payload, bytes */
	uint32_t		 timeout_idle;	/* seconds; 0: never */
	uint32_t		 timeout_message;	/* seconds */
	uint32_t		 limit_conns;	/* all peers */
	uint32_t		 limit_user_conns;	/* one peer uid */
	uint32_t		 limit_user_rate;	/* requests/s; 0: none */
	uint32_t		 limit_user_burst;	/* requests */
	int			 watch;		/* reload when key files change */
	char			 user[LURKD_NAME_MAX];
	char			 chroot[PATH_MAX];
	char			 pidfile[PATH_MAX];	/* "": none */
	struct listenlist	 controls;	/* control sockets */
	struct httplist		 https;		/* listen on http */
	int			 log_format;	/* enum log_format */
	struct draftconf	 drafts;
	struct tlslist		 tlss;		/* listen on tls */
	struct upstreamlist	 upstreams;
};

/* keyproc/keys.c: a whole file, from a descriptor (pread) */
uint8_t			*read_fd(int, size_t *, char *, size_t, const char *);

/* parse.y */
struct lurkd_conf	*parse_config(const char *filename, int opts);
const char		*parse_config_error(void);
void			 free_config(struct lurkd_conf *);
int			 cmdline_symset(char *);
/* printconf.c */
void			 print_config(struct lurkd_conf *);
uint32_t		 secret_byname(const char *);
int			 drafts_conf_ok(const struct draftconf *);

/* a key signs for TLS 1.3 and 1.2 unless told otherwise; rsa-kex is opt-in */
#define KEY_OPS_DEFAULT		(0x01 | 0x02)	/* EDGE_OP_SIGN_TLS13|12 */

#define LURKD_OPT_VERBOSE	0x01
#define LURKD_OPT_NOACTION	0x02

/*
 * imsg types.  Every receiver accepts only the types listed for its
 * channel and treats anything else as fatal (closed by default).
 */
enum imsg_type {
	IMSG_NONE,
	/* child -> parent */
	IMSG_LOG,		/* int priority, then the line, NUL-terminated */
	IMSG_READY,		/* child finished its start-up */
	/* parent -> child */
	IMSG_CONF_SANDBOX,	/* struct conf_sandbox: lock down now */
	IMSG_CTL_PROCFD,	/* fd: channel to another child; struct procfd */
	IMSG_CONF_GLOBAL,	/* struct conf_global */
	IMSG_CONF_KEY,		/* keyproc: struct conf_key, fd: private key */
	IMSG_CONF_KEYCERT,	/* keyproc: struct conf_key, fd: certificate */
	IMSG_CONF_POLICY,	/* netproc: struct conf_key */
	IMSG_CONF_ALLOW,	/* netproc: struct conf_allow */
	IMSG_CONF_LISTEN,	/* netproc: struct conf_listen, fd: socket */
	IMSG_CONF_END,
	/* keyproc -> netproc */
	IMSG_KEY_PUBLIC,	/* struct key_public + SPKI DER + chain DER */
	IMSG_KEY_END,		/* u_int32 number of keys loaded */
	/* netproc <-> keyproc, peerid = netproc's request number */
	IMSG_KEYOP_REQ,		/* struct keyop_req + tbs or ciphertext */
	IMSG_KEYOP_RES,		/* struct keyop_res + signature or premaster */
	/* parent -> netproc */
	IMSG_CTL_STATS,		/* log the counters */
	/* parent -> keyproc: lurkd -n, load the keys, report, exit */
	IMSG_CONF_CHECK,
	/* keyproc[0] -> parent */
	IMSG_KEY_LOADED,	/* struct key_loaded */
	/* operations (lurkctl, control socket in netproc) */
	IMSG_CTL_STATUS,	/* parent -> netproc: struct ctl_status */
				/* netproc -> parent, empty: send it now */
	IMSG_CTL_RELOAD,	/* netproc -> parent: reload, as SIGHUP */
	IMSG_CTL_VERBOSE,	/* netproc -> parent -> children: int level */
	IMSG_CONF_CONTROL,	/* netproc: struct conf_control, fd: socket */
	IMSG_CONF_HTTP,		/* netproc: struct conf_http, fd: socket */
	/*
	 * Reload: the parent stages generation G in every keyproc (BEGIN,
	 * CONF_KEY/KEYCERT, END), each answers RESULT; only if all loaded
	 * it stages G in netproc (BEGIN, CONF_POLICY/ALLOW, END; netproc
	 * answers STAGED) and has keyproc[0] PUBLISH the public data to
	 * netproc, which then commits and sends COMMIT to every keyproc on
	 * the channel of the requests; each one says DONE to the parent.
	 */
	IMSG_RELOAD_BEGIN,	/* parent -> keyproc, netproc: conf_reload */
	IMSG_RELOAD_END,	/* parent -> keyproc, netproc: u_int32 gen */
	IMSG_RELOAD_RESULT,	/* keyproc -> parent: struct reload_result */
	IMSG_RELOAD_ABORT,	/* parent -> keyproc: u_int32 gen */
	IMSG_RELOAD_STAGED,	/* netproc -> parent: u_int32 gen */
	IMSG_RELOAD_PUBLISH,	/* parent -> keyproc[0]: u_int32 gen */
	IMSG_RELOAD_PUBLIC,	/* keyproc[0] -> netproc: as IMSG_KEY_PUBLIC */
	IMSG_RELOAD_PUBLIC_END,	/* keyproc[0] -> netproc: reload_public_end */
	IMSG_RELOAD_COMMIT,	/* netproc -> keyproc: u_int32 gen */
	IMSG_RELOAD_DONE,	/* keyproc, netproc -> parent: u_int32 gen */
	/* listen on tls (netproc/tls.c) */
	IMSG_CONF_TLS,		/* netproc: struct conf_tls, fd: socket */
	IMSG_CONF_TLSFILE,	/* netproc: struct conf_tlsfile, fd: the file */
	/* upstream (netproc/relay.c) */
	IMSG_CONF_UPSTREAM,	/* netproc: struct conf_upstream */
	IMSG_CONF_ROUTE,	/* netproc: struct conf_route */
};

/*
 * What the parent tells netproc of itself, for lurkctl show status: once
 * every child is ready, and again after each reload.
 */
struct ctl_status {
	int64_t			 started;	/* time(3) */
	int32_t			 root;		/* privsep as root */
	int32_t			 nkeyprocs;
	uint32_t		 generation;	/* of the configuration */
	uint32_t		 last_reload_ok;
	int64_t			 last_reload;	/* time(3); 0: never */
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
	uint8_t			 confhash[32];	/* SHA-256 of the file */
	char			 conffile[PATH_MAX];
	char			 last_reload_error[256];
	/* appended: lurkctl show status|stats, /metrics */
	char			 version[32];
	int32_t			 parent_pid;
	int32_t			 netproc_pid;
	int32_t			 keyproc_pid[LURKD_KEYPROCS_MAX];
	uint64_t		 log_dropped;	/* the parent's, so far */
	int32_t			 log_verbose;
	int32_t			 log_format;	/* enum log_format */
	int32_t			 ready;		/* every child said so */
};

/* How a peer reaches lurkd: for the logs and the counters. */
enum transport {
	TRANSPORT_UNIX,
	TRANSPORT_TLS,
	TRANSPORT_UPSTREAM,	/* lurkd's own connections to an upstream */
	TRANSPORT_MAX,
};

static inline const char *
transport_name(int t)
{
	return t == TRANSPORT_UNIX ? "unix" : t == TRANSPORT_TLS ? "tls" :
	    t == TRANSPORT_UPSTREAM ? "upstream" : "unknown";
}

/*
 * What a key of keyproc's table is for.  The key blocks are edges' keys;
 * a TLS listener's own key signs only its handshakes' CertificateVerify
 * (and ServerKeyExchange where it allows TLS 1.2), never for a peer.
 */
enum key_usage {
	KEY_USE_EDGE,
	KEY_USE_SERVER,		/* listen on tls */
	KEY_USE_CLIENT,		/* upstream: its client certificate's */
};

/*
 * keyop_req.type of netproc's own handshakes (never an edge's): data is
 * the key's SPKI SHA-256 (32 bytes), then the bytes to sign, checked as
 * TLS 1.3 server CertificateVerify content, or
 * TLS 1.2 ServerKeyExchange params.
 */
#define KEYOP_TLS_SIGN13	0xe0
#define KEYOP_TLS_SIGN12	0xe1
/*
 * A keyproc's answer to a staged generation: loaded or not, and if not
 * which key (index, or -1) and why.  tablehash is the SHA-256 of the
 * keys' SPKI hashes in order: every keyproc must have loaded the same
 * keys (a file rewritten while they read it would differ).
 */
#define RELOAD_ERROR_MAX	512
struct reload_result {
	uint32_t		 generation;
	int32_t			 ok;
	int32_t			 index;
	uint8_t			 tablehash[32];
	char			 error[RELOAD_ERROR_MAX];
};

struct reload_public_end {
	uint32_t		 generation;
	uint32_t		 nkeys;
};

/* A key operation netproc asks of keyproc. */
struct keyop_req {
	uint32_t		 index;		/* key */
	uint8_t			 type;		/* EDGE_TYPE_*, or the draft's */
	uint8_t			 designation;	/* 0: edge, else tls12/tls13 */
	uint8_t			 transport;	/* the peer's, for the log */
	uint16_t		 scheme;	/* TLS SignatureScheme */
	uint16_t		 client_version;	/* RSA premaster */
	uint16_t		 negotiated_version;
	uint32_t		 uid;		/* the peer, for the log */
	uint32_t		 len;		/* bytes that follow */
};

/* keyop_req.index of a tls13 session's exchange: the session knows */
#define KEYOP_NO_KEY		UINT32_MAX

/*
 * keyproc's answer.  key: the index of the key it used in the table of
 * generation, KEYOP_NO_KEY if none (a tls13 session's exchange names
 * no key: netproc learns its key here, for the counters and the rules).
 */
struct keyop_res {
	uint8_t			 status;	/* in the request's extension */
	uint32_t		 key;
	uint32_t		 generation;
	uint32_t		 len;		/* bytes that follow */
};

/* A key keyproc[0] loaded: the parent finds two blocks of one key. */
struct key_loaded {
	uint32_t		 index;
	uint8_t			 spki_sha256[32];
};

enum proc_id {
	PROC_PARENT,
	PROC_KEYPROC,
	PROC_NETPROC,
	PROC_MAX,
};

struct procfd {
	enum proc_id		 proc;
	int			 instance;
};

struct conf_global {
	int			 keyprocs;
	int			 lenmode;
	uint32_t		 max_message;
	uint32_t		 timeout_idle;
	uint32_t		 timeout_message;
	uint32_t		 limit_conns;
	uint32_t		 limit_user_conns;
	uint32_t		 limit_user_rate;
	uint32_t		 limit_user_burst;
	int			 nkeys;
	int			 nlisten;
	int			 ncontrol;
	int			 nhttp;
	struct draftconf	 drafts;
	int			 ntls;		/* listen on tls */
	int			 nupstream;	/* upstream blocks */
	/* keys of keyproc after nkeys: ntls listeners', nupstream upstreams' */
	int			 ntlskeys;
};

/* What a reload stages: its generation and the global settings. */
struct conf_reload {
	uint32_t		 generation;
	struct conf_global	 g;
};

struct conf_key {
	uint32_t		 index;
	uint32_t		 usage;		/* enum key_usage */
	uint32_t		 operations;	/* EDGE_OP_* the key may do */
	uint32_t		 rate[KEY_NOPS];	/* a second; 0: none */
	uint32_t		 burst[KEY_NOPS];
	uint32_t		 tls13_secrets;	/* TLS13_SECRET_BIT()s */
	uint32_t		 tls13_tickets;
	char			 name[LURKD_NAME_MAX];
	char			 path[PATH_MAX];	/* for messages only */
};

struct conf_allow {
	uint32_t		 index;
	int			 type;		/* enum allow_type */
	uint32_t		 id;
	char			 ident[LURKD_IDENT_MAX];	/* SUBJECT, SAN */
	uint8_t			 spki[32];		/* SPKI */
};

struct conf_listen {
	char			 path[PATH_MAX];
};

/* A control socket, and who may use it besides root (control.c). */
struct conf_control {
	char			 path[PATH_MAX];
	int32_t			 restricted;	/* show, health only */
	uint32_t		 uid;		/* lurkd's */
	uint32_t		 gid;		/* the socket's group */
};

/*
 * A TLS listener for netproc; its key is keyproc's key nkeys + index.
 * Its CA file (and CRL) follow as IMSG_CONF_TLSFILE, at start and at
 * every reload.
 */
struct conf_tls {
	uint32_t		 index;
	int32_t			 tls12;		/* TLS 1.2 allowed */
	int32_t			 family;
	uint16_t		 port;
	char			 addr[48];
};

#define TLSFILE_CA		0
#define TLSFILE_CRL		1
#define TLSFILE_UPCA		2	/* index: the upstream's */
struct conf_tlsfile {
	uint32_t		 index;		/* the listener */
	int32_t			 kind;		/* TLSFILE_* */
	char			 path[PATH_MAX];	/* for messages only */
};

/*
 * An upstream for netproc, at start and at every reload (its name then
 * resolved again): its key is keyproc's key nkeys + ntls + index, its
 * CA file follows as IMSG_CONF_TLSFILE (TLSFILE_UPCA), its routes as
 * IMSG_CONF_ROUTE.
 */
struct conf_upstream {
	uint32_t		 index;
	uint16_t		 port;
	int32_t			 naddrs;
	char			 name[LURKD_NAME_MAX];
	char			 host[256];
	struct sockaddr_storage	 addrs[LURKD_UPADDR_MAX];
};

struct conf_route {
	uint32_t		 index;		/* the upstream */
	int32_t			 type;		/* enum route_type */
	char			 name[LURKD_NAME_MAX];
	uint8_t			 spki[32];
};

struct conf_http {
	char			 addr[48];
	uint16_t		 port;
	int32_t			 family;
};

enum key_kind {
	KEY_RSA,
	KEY_RSA_PSS,
	KEY_EC,
	KEY_ED25519,
	KEY_ED448,
};

struct key_public {
	uint32_t		 index;
	char			 name[LURKD_NAME_MAX];
	int			 kind;		/* enum key_kind */
	int			 bits;
	int			 curve_nid;	/* KEY_EC only */
	uint8_t			 spki_sha256[32];
	uint32_t		 spki_len;
	uint32_t		 chain_len;
	/* followed by spki_len bytes of SPKI DER, then the chain */
};

#define PARENT_SOCK_FILENO	3	/* a child's channel to the parent */

#endif
