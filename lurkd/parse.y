/*
 * lurkd.conf(5) parser.
 *
 * An OpenBSD-style configuration grammar: keywords, quoted or bare
 * strings, numbers, "#" comments, newline-terminated statements, "{ }"
 * blocks, "\" line continuation, macros ("name = value", expanded by the
 * lexer where a bare token stands, $name) and nested include files.
 *
 * Every error is reported as one line "FILE:LINE: message" through
 * log_emit(); parsing goes on after an error so that one run reports
 * them all (up to MAXERRORS), and the configuration is rejected.
 */

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lurk.h"
#include "lurkd.h"

#define MAXERRORS	10	/* give up after this many */
#define INCLUDE_DEPTH	16	/* nested include files */
#define STRING_MAX	8192	/* longest string or word */
#define UNGET_MAX	8
#define PENDING_MAX	4
#define TEXT_MAX	48	/* token text quoted in error messages */
#define ID_MAX		((long long)UINT32_MAX - 1)	/* uid/gid; -1 is no id */

#define SUN_PATH_MAX	sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* One input file; included files stack on top of the including one. */
struct file {
	struct file	*parent;
	FILE		*stream;
	const char	*name;		/* as given or resolved; in the arena */
	dev_t		 dev;		/* for include loop detection */
	ino_t		 ino;
	int		 lineno;
	int		 lastc;		/* last character read */
	int		 depth;		/* "{" not yet closed in this file */
	int		 eof;		/* reached the end of the stream */
	int		 eofdone;	/* end-of-file tokens queued */
	int		 ungetbuf[UNGET_MAX];
	int		 nunget;
	int		 incdepth;
};

/* Macros.  Those set with -D are persistent and win over the file's. */
struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 persist;
	char			*name;
	char			*val;
};
TAILQ_HEAD(symhead, sym);

/* Strings that live until the end of parse_config(): tokens, names. */
struct astr {
	struct astr	*next;
	char		 s[];
};

typedef struct {
	union {
		char	*string;
	} v;
	int		 lineno;
	const char	*fname;
} YYSTYPE;

static struct symhead		 symhead = TAILQ_HEAD_INITIALIZER(symhead);
static struct lurkd_conf	*conf;
static struct file		*curfile;
static struct astr		*arena;
static int			 nerrors;
static int			 stopped;	/* too many errors */
static unsigned int		 nkeys, nlisten, ncontrol, nhttp;

/* Where each control socket was given, for the check at the end. */
static struct {
	const char	*fname;
	int		 lineno;
} ctlwhere[LURKD_CONTROL_MAX];

/* Tokens queued by the lexer (end of file, start of an include). */
static struct pending {
	int		 tok;
	int		 lineno;
	const char	*fname;
} pending[PENDING_MAX];
static int			 npending;

/* What the lexer saw last, for the messages about syntax errors. */
static struct {
	int		 reset;		/* the last token ended a statement */
	int		 idx;		/* tokens of this statement so far */
	int		 firsttok;
	char		 firsttext[TEXT_MAX];
	int		 firstline;
	const char	*firstfile;
	int		 tok;
	char		 text[TEXT_MAX];
	int		 line;
	const char	*fname;
	int		 lexerr;	/* the lexer reported this token */
} lx;

/* Global settings given so far: each may be given once. */
static struct {
	int		 user, chroot, keyprocs, lenmode, maxmsg;
	int		 tidle, tmsg, lconns, luconns, lurate, pidfile;
	int		 logformat;
	int		 watch;
	int		 fresh12, window12, fresh13, label13, sessions13;
	int		 lifetime13;
} seen;

/* The first error of the last parse, for a failed reload's report. */
static char			 firsterr[256];

/* The freshness list being parsed: tls12's or tls13's. */
static uint32_t		*curfresh;

/* The listen or control statement and the key block being parsed. */
static struct {
	struct listenconf	 l;
	const char		*what;	/* "listen", "control socket" */
	int			 control;
	int			 has_mode;
	int			 bad;
	int			 lineno;
	const char		*fname;
} curlisten;

/* The listen on tls block being parsed. */
static struct {
	struct tlsconf		 t;
	int			 has_private, has_certificate, has_ca;
	int			 has_crl, has_version;
	int			 bad;
	int			 lineno;
	const char		*fname;
} curtls;

static struct {
	struct keyconf		*k;
	int			 has_private, has_certificate;
	int			 has_operations;
	int			 has_secrets, has_tickets;
	int			 rate_line[KEY_NOPS];	/* limit OP rate */
	int			 bad;
	int			 syntaxerr;	/* a line we could not read */
	int			 lineno;
	const char		*fname;
} curkey;

/* The upstream block being parsed; its key is curkey's meanwhile. */
static struct {
	struct upstreamconf	*u;
	int			 has_address, has_ca, has_default;
	int			 bad;
	int			 lineno;
	const char		*fname;
} curup;

int		 yylex(void);
static void	 yyerror(const char *);
static void	 conferr(const char *, int, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	 fileerr(const char *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	 do_include(const char *, const char *, int);
static void	 do_varset(const char *, const char *, const char *, int);
static int	 getnum(const char *, long long, long long, long long *);
static void	 listen_begin(const char *, int, const char *, int);
static void	 listen_restricted(const char *, int);
static void	 listen_http(const char *, const char *, const char *, int);
static void	 log_format(const char *, const char *, int);
static void	 listen_mode(const char *, const char *, int);
static void	 listen_group(const char *, int, const char *, int);
static void	 listen_end(void);
static void	 tls_begin(const char *, const char *, const char *, int);
static void	 tls_path(int, const char *, const char *, int);
static void	 tls_version(const char *, const char *, int);
static void	 tls_end(void);
static void	 tls_keys_check(void);
static void	 up_begin(const char *, const char *, int);
static void	 up_address(const char *, const char *, const char *, int);
static void	 up_ca(const char *, const char *, int);
static void	 up_route(int, const char *, const char *, int);
static void	 up_end(void);
static void	 up_keys_check(void);
static int	 spki_parse(const char *, uint8_t *);
static void	 key_begin(const char *, const char *, int);
static void	 key_path(int, const char *, const char *, int);
static void	 key_allow(enum allow_type, const char *, const char *, int);
static void	 key_operations_begin(const char *, int);
static void	 key_operation(const char *, const char *, int);
static const char	*rated_ops(int);
static void	 key_rate(const char *, const char *, const char *,
		    const char *, int);
static void	 key_end(void);
static void	 fresh_begin(uint32_t *, int *, const char *, const char *,
		    int);
static void	 fresh_name(const char *, const char *, int);
static void	 draft_number(uint32_t *, int *, const char *, long long,
		    long long, const char *, const char *, int);
static void	 key_secrets_begin(const char *, int);
static void	 key_secret(const char *, const char *, int);
static void	 key_tickets(const char *, const char *, int);
static void	 user_rate(const char *, const char *, const char *, int);
static void	 key_abandon(void);
static void	 key_syntaxerr(void);
static void	 set_string(char *, size_t, int *, const char *, const char *,
		    const char *, const char *, int, int);
%}

%token	<v.string>	ALLOW AUTO CERTIFICATE CHROOT GID GROUP INCLUDE KEY
%token	<v.string>	KEYPROCS LENGTH LISTEN LURK MAX MESSAGE MODE ON OPERATIONS
%token	<v.string>	PAYLOAD PIDFILE TIMEOUT IDLE LIMIT CONNECTIONS RATE BURST
%token	<v.string>	NONE
%token	<v.string>	TLS12 TLS13 FRESHNESS WINDOW LABEL SESSIONS TICKET
%token	<v.string>	TICKETS LIFETIME SECRETS
%token	<v.string>	PRIVATE SIZE UID UNIX USER WATCH
%token	<v.string>	CONTROL SOCKET RESTRICTED HTTP PORT LOG FORMAT
%token	<v.string>	TLS CA CRL VERSION CLIENT SUBJECT SAN SPKI
%token	<v.string>	UPSTREAM ADDRESS ROUTE DEFAULT NAME
%token	LEXERROR
%token	<v.string>	STRING WORD NUMBER
%type	<v.string>	string value keyword

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar varset '\n'
		| grammar global '\n'
		| grammar listen '\n'
		| grammar control '\n'
		| grammar key '\n'
		| grammar upstream '\n'
		| grammar error '\n'		{ yyerrok; }
		;

string		: STRING
		| WORD
		;

value		: STRING
		| WORD
		| NUMBER
		| keyword
		;

keyword		: ALLOW | AUTO | CERTIFICATE | CHROOT | GID | GROUP | INCLUDE
		| KEY | KEYPROCS | LENGTH | LISTEN | LURK | MAX | MESSAGE | MODE
		| ON | PAYLOAD | PIDFILE | PRIVATE | SIZE | UID | UNIX | USER
		| TIMEOUT | IDLE | LIMIT | CONNECTIONS | RATE | BURST | NONE
		| TLS12 | TLS13 | FRESHNESS | WINDOW | LABEL | SESSIONS
		| TICKET | TICKETS | LIFETIME | SECRETS
		| CONTROL | SOCKET | RESTRICTED | HTTP | PORT | LOG | FORMAT
		| WATCH | TLS | CA | CRL | VERSION | CLIENT | SUBJECT | SAN
		| SPKI | UPSTREAM | ADDRESS | ROUTE | DEFAULT | NAME
		;

include		: INCLUDE string {
			do_include($2, $<fname>1, $<lineno>1);
		}
		;

varset		: WORD '=' value {
			do_varset($1, $3, $<fname>1, $<lineno>1);
		}
		;

global		: USER string {
			set_string(conf->user, sizeof(conf->user), &seen.user,
			    "user", "user name", $2, $<fname>1, $<lineno>1, 0);
		}
		| CHROOT string {
			set_string(conf->chroot, sizeof(conf->chroot),
			    &seen.chroot, "chroot", "directory", $2,
			    $<fname>1, $<lineno>1, 1);
		}
		| PIDFILE string {
			set_string(conf->pidfile, sizeof(conf->pidfile),
			    &seen.pidfile, "pidfile", "path", $2,
			    $<fname>1, $<lineno>1, 1);
		}
		| WATCH string {
			if (seen.watch++)
				conferr($<fname>1, $<lineno>1,
				    "watch given twice");
			if (strcmp($2, "yes") == 0)
				conf->watch = 1;
			else if (strcmp($2, "no") == 0)
				conf->watch = 0;
			else
				conferr($<fname>1, $<lineno>1,
				    "watch must be yes or no");
		}
		| KEYPROCS NUMBER {
			long long	 n;

			if (seen.keyprocs++)
				conferr($<fname>1, $<lineno>1,
				    "keyprocs given twice");
			if (getnum($2, 1, LURKD_KEYPROCS_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "keyprocs must be 1..%d or auto",
				    LURKD_KEYPROCS_MAX);
			else
				conf->keyprocs = n;
		}
		| KEYPROCS AUTO {
			if (seen.keyprocs++)
				conferr($<fname>1, $<lineno>1,
				    "keyprocs given twice");
			conf->keyprocs = 0;
		}
		| KEYPROCS string {
			if (seen.keyprocs++)
				conferr($<fname>1, $<lineno>1,
				    "keyprocs given twice");
			if (strcmp($2, "auto") == 0)
				conf->keyprocs = 0;
			else
				conferr($<fname>1, $<lineno>1,
				    "keyprocs must be 1..%d or auto",
				    LURKD_KEYPROCS_MAX);
		}
		| LURK LENGTH PAYLOAD {
			if (seen.lenmode++)
				conferr($<fname>1, $<lineno>1,
				    "lurk length given twice");
			conf->lenmode = LENMODE_PAYLOAD;
		}
		| LURK LENGTH MESSAGE {
			if (seen.lenmode++)
				conferr($<fname>1, $<lineno>1,
				    "lurk length given twice");
			conf->lenmode = LENMODE_MESSAGE;
		}
		| LURK LENGTH string {
			if (seen.lenmode++)
				conferr($<fname>1, $<lineno>1,
				    "lurk length given twice");
			if (strcmp($3, "payload") == 0)
				conf->lenmode = LENMODE_PAYLOAD;
			else if (strcmp($3, "message") == 0)
				conf->lenmode = LENMODE_MESSAGE;
			else
				conferr($<fname>1, $<lineno>1,
				    "lurk length must be payload or message");
		}
		| TIMEOUT IDLE NUMBER {
			long long	 n;

			if (seen.tidle++)
				conferr($<fname>1, $<lineno>1,
				    "timeout idle given twice");
			if (getnum($3, 0, LURKD_TIMEOUT_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "timeout idle must be 0..%d seconds",
				    LURKD_TIMEOUT_MAX);
			else
				conf->timeout_idle = n;
		}
		| TIMEOUT MESSAGE NUMBER {
			long long	 n;

			if (seen.tmsg++)
				conferr($<fname>1, $<lineno>1,
				    "timeout message given twice");
			if (getnum($3, 1, LURKD_TIMEOUT_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "timeout message must be 1..%d seconds",
				    LURKD_TIMEOUT_MAX);
			else
				conf->timeout_message = n;
		}
		| LIMIT CONNECTIONS NUMBER {
			long long	 n;

			if (seen.lconns++)
				conferr($<fname>1, $<lineno>1,
				    "limit connections given twice");
			if (getnum($3, 1, LURKD_CONNS_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "limit connections must be 1..%d",
				    LURKD_CONNS_MAX);
			else
				conf->limit_conns = n;
		}
		| LIMIT USER CONNECTIONS NUMBER {
			long long	 n;

			if (seen.luconns++)
				conferr($<fname>1, $<lineno>1,
				    "limit user connections given twice");
			if (getnum($4, 1, LURKD_CONNS_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "limit user connections must be 1..%d",
				    LURKD_CONNS_MAX);
			else
				conf->limit_user_conns = n;
		}
		| LIMIT USER RATE NONE {
			if (seen.lurate++)
				conferr($<fname>1, $<lineno>1,
				    "limit user rate given twice");
			conf->limit_user_rate = conf->limit_user_burst = 0;
		}
		| LIMIT USER RATE NUMBER {
			user_rate($4, NULL, $<fname>1, $<lineno>1);
		}
		| LIMIT USER RATE NUMBER BURST NUMBER {
			user_rate($4, $6, $<fname>1, $<lineno>1);
		}
		| LOG FORMAT string {
			log_format($3, $<fname>1, $<lineno>1);
		}
		| MAX MESSAGE SIZE NUMBER {
			long long	 n;

			if (seen.maxmsg++)
				conferr($<fname>1, $<lineno>1,
				    "max message size given twice");
			if (getnum($4, LURKD_MSG_MIN, LURKD_MSG_MAX, &n) == -1)
				conferr($<fname>1, $<lineno>1,
				    "max message size must be %d..%d",
				    LURKD_MSG_MIN, LURKD_MSG_MAX);
			else
				conf->max_message = n;
		}
		| TLS12 FRESHNESS '{' {
			fresh_begin(&conf->drafts.tls12_freshness,
			    &seen.fresh12, "tls12", $<fname>1, $<lineno>1);
		} freshnames '}' {
			if (conf->drafts.tls12_freshness == 0)
				conferr($<fname>1, $<lineno>1, "tls12 "
				    "freshness: name one function at least");
		}
		| TLS12 WINDOW NUMBER {
			draft_number(&conf->drafts.tls12_window,
			    &seen.window12, $3, 1, LURKD_WINDOW_MAX,
			    "tls12 window", $<fname>1, $<lineno>1);
		}
		| TLS13 FRESHNESS '{' {
			fresh_begin(&conf->drafts.tls13_freshness,
			    &seen.fresh13, "tls13", $<fname>1, $<lineno>1);
		} freshnames '}' {
			if (conf->drafts.tls13_freshness == 0)
				conferr($<fname>1, $<lineno>1, "tls13 "
				    "freshness: name one function at least");
		}
		| TLS13 FRESHNESS LABEL string {
			if (seen.label13++)
				conferr($<fname>1, $<lineno>1,
				    "tls13 freshness label given twice");
			if (strcmp($4, "draft") == 0)
				conf->drafts.tls13_label = LURKD_LABEL_DRAFT;
			else if (strcmp($4, "pylurk") == 0)
				conf->drafts.tls13_label = LURKD_LABEL_PYLURK;
			else
				conferr($<fname>1, $<lineno>1, "tls13 "
				    "freshness label must be draft or pylurk");
		}
		| TLS13 SESSIONS NUMBER TIMEOUT NUMBER {
			int	 once = 0;

			draft_number(&conf->drafts.tls13_sessions,
			    &seen.sessions13, $3, 1, LURKD_SESSIONS_MAX,
			    "tls13 sessions", $<fname>1, $<lineno>1);
			if (seen.sessions13 == 1)
				draft_number(
				    &conf->drafts.tls13_session_timeout,
				    &once, $5, 1, LURKD_TIMEOUT_MAX,
				    "tls13 sessions timeout", $<fname>1,
				    $<lineno>1);
		}
		| TLS13 TICKET LIFETIME NUMBER {
			draft_number(&conf->drafts.tls13_ticket_lifetime,
			    &seen.lifetime13, $4, 1, LURKD_TICKET_LIFETIME_MAX,
			    "tls13 ticket lifetime", $<fname>1, $<lineno>1);
		}
		;

freshnames	: /* empty */
		| freshnames string {
			fresh_name($2, lx.fname, lx.line);
		}
		;

listen		: LISTEN ON UNIX string {
			listen_begin($4, 0, $<fname>1, $<lineno>1);
		} listenopts {
			listen_end();
		}
		| LISTEN ON HTTP string PORT NUMBER {
			listen_http($4, $6, $<fname>1, $<lineno>1);
		}
		| LISTEN ON HTTP PORT NUMBER {
			listen_http(NULL, $5, $<fname>1, $<lineno>1);
		}
		| LISTEN ON TLS string PORT NUMBER {
			tls_begin($4, $6, $<fname>1, $<lineno>1);
		} optnl '{' tlsbody '}' {
			tls_end();
		}
		;

tlsbody		: tlslines
		| tlslines tlsopt
		| tlslines error		{ yyerrok; curtls.bad = 1; }
		;

tlslines	: /* empty */
		| tlslines '\n'
		| tlslines tlsopt '\n'
		| tlslines error '\n'		{ yyerrok; curtls.bad = 1; }
		;

tlsopt		: CERTIFICATE string {
			tls_path(CERTIFICATE, $2, $<fname>1, $<lineno>1);
		}
		| PRIVATE string {
			tls_path(PRIVATE, $2, $<fname>1, $<lineno>1);
		}
		| CA string {
			tls_path(CA, $2, $<fname>1, $<lineno>1);
		}
		| CRL string {
			tls_path(CRL, $2, $<fname>1, $<lineno>1);
		}
		| TLS VERSION string {
			tls_version($3, $<fname>1, $<lineno>1);
		}
		;

control		: CONTROL SOCKET string {
			listen_begin($3, 1, $<fname>1, $<lineno>1);
		} ctlopts {
			listen_end();
		}
		| CONTROL SOCKET {
			listen_begin(LURKD_CONTROL_SOCKET, 1, $<fname>1,
			    $<lineno>1);
		} ctlopts {
			listen_end();
		}
		;

ctlopts		: /* empty */
		| ctlopts listenopt
		| ctlopts RESTRICTED {
			listen_restricted($<fname>2, $<lineno>2);
		}
		;

listenopts	: /* empty */
		| listenopts listenopt
		;

listenopt	: MODE NUMBER {
			listen_mode($2, $<fname>1, $<lineno>1);
		}
		| GROUP string {
			listen_group($2, 0, $<fname>1, $<lineno>1);
		}
		| GROUP NUMBER {
			listen_group($2, 1, $<fname>1, $<lineno>1);
		}
		;

key		: KEY string {
			key_begin($2, $<fname>1, $<lineno>1);
		} optnl '{' keybody '}' {
			key_end();
		}
		| KEY error {
			/* skip the block of a key we could not start */
			key_abandon();
		} keyerrblock
		;

keyerrblock	: /* empty */
		| '{' keybody '}'
		;

optnl		: /* empty */
		| optnl '\n'
		;

keybody		: keylines
		| keylines keyopt
		| keylines error		{ yyerrok; key_syntaxerr(); }
		;

keylines	: /* empty */
		| keylines '\n'
		| keylines keyopt '\n'
		| keylines error '\n'		{ yyerrok; key_syntaxerr(); }
		;

keyopt		: PRIVATE string {
			key_path(PRIVATE, $2, $<fname>1, $<lineno>1);
		}
		| CERTIFICATE string {
			key_path(CERTIFICATE, $2, $<fname>1, $<lineno>1);
		}
		| allowopt
		| OPERATIONS '{' {
			key_operations_begin($<fname>1, $<lineno>1);
		} opnames '}'
		| LIMIT string RATE NONE {
			key_rate($2, NULL, NULL, $<fname>1, $<lineno>1);
		}
		| LIMIT string RATE NUMBER {
			key_rate($2, $4, NULL, $<fname>1, $<lineno>1);
		}
		| LIMIT string RATE NUMBER BURST NUMBER {
			key_rate($2, $4, $6, $<fname>1, $<lineno>1);
		}
		| TLS13 SECRETS '{' {
			key_secrets_begin($<fname>1, $<lineno>1);
		} secretnames '}'
		| TLS13 TICKETS NUMBER {
			key_tickets($3, $<fname>1, $<lineno>1);
		}
		;

/* who may use a key, or an upstream through this lurkd */
allowopt	: ALLOW UID NUMBER {
			key_allow(ALLOW_UID, $3, $<fname>1, $<lineno>1);
		}
		| ALLOW GID NUMBER {
			key_allow(ALLOW_GID, $3, $<fname>1, $<lineno>1);
		}
		| ALLOW USER string {
			key_allow(ALLOW_USER, $3, $<fname>1, $<lineno>1);
		}
		| ALLOW GROUP string {
			key_allow(ALLOW_GROUP, $3, $<fname>1, $<lineno>1);
		}
		| ALLOW CLIENT SUBJECT string {
			key_allow(ALLOW_SUBJECT, $4, $<fname>1, $<lineno>1);
		}
		| ALLOW CLIENT SAN string {
			key_allow(ALLOW_SAN, $4, $<fname>1, $<lineno>1);
		}
		| ALLOW CLIENT SPKI string {
			key_allow(ALLOW_SPKI, $4, $<fname>1, $<lineno>1);
		}
		;

upstream	: UPSTREAM string {
			up_begin($2, $<fname>1, $<lineno>1);
		} optnl '{' upbody '}' {
			up_end();
		}
		;

upbody		: uplines
		| uplines upopt
		| uplines error			{ yyerrok; key_syntaxerr(); }
		;

uplines		: /* empty */
		| uplines '\n'
		| uplines upopt '\n'
		| uplines error '\n'		{ yyerrok; key_syntaxerr(); }
		;

upopt		: ADDRESS string PORT NUMBER {
			up_address($2, $4, $<fname>1, $<lineno>1);
		}
		| CA string {
			up_ca($2, $<fname>1, $<lineno>1);
		}
		| ROUTE DEFAULT {
			up_route(ROUTE_DEFAULT, NULL, $<fname>1, $<lineno>1);
		}
		| ROUTE NAME string {
			up_route(ROUTE_NAME, $3, $<fname>1, $<lineno>1);
		}
		| ROUTE SPKI string {
			up_route(ROUTE_SPKI, $3, $<fname>1, $<lineno>1);
		}
		| PRIVATE string {
			key_path(PRIVATE, $2, $<fname>1, $<lineno>1);
		}
		| CERTIFICATE string {
			key_path(CERTIFICATE, $2, $<fname>1, $<lineno>1);
		}
		| allowopt
		;

secretnames	: /* empty */
		| secretnames string {
			key_secret($2, lx.fname, lx.line);
		}
		;

opnames		: /* empty */
		| opnames string {
			key_operation($2, lx.fname, lx.line);
		}
		;

%%

static const struct keyword {
	const char	*name;
	int		 token;
} keywords[] = {	/* sorted: bsearch */
	{ "address",	 ADDRESS },
	{ "allow",	 ALLOW },
	{ "auto",	 AUTO },
	{ "burst",	 BURST },
	{ "ca",		 CA },
	{ "certificate", CERTIFICATE },
	{ "chroot",	 CHROOT },
	{ "client",	 CLIENT },
	{ "connections", CONNECTIONS },
	{ "control",	 CONTROL },
	{ "crl",	 CRL },
	{ "default",	 DEFAULT },
	{ "format",	 FORMAT },
	{ "freshness",	 FRESHNESS },
	{ "gid",	 GID },
	{ "group",	 GROUP },
	{ "http",	 HTTP },
	{ "idle",	 IDLE },
	{ "include",	 INCLUDE },
	{ "key",	 KEY },
	{ "keyprocs",	 KEYPROCS },
	{ "label",	 LABEL },
	{ "length",	 LENGTH },
	{ "lifetime",	 LIFETIME },
	{ "limit",	 LIMIT },
	{ "listen",	 LISTEN },
	{ "log",	 LOG },
	{ "lurk",	 LURK },
	{ "max",	 MAX },
	{ "message",	 MESSAGE },
	{ "mode",	 MODE },
	{ "name",	 NAME },
	{ "none",	 NONE },
	{ "on",		 ON },
	{ "operations",	 OPERATIONS },
	{ "payload",	 PAYLOAD },
	{ "pidfile",	 PIDFILE },
	{ "port",	 PORT },
	{ "private",	 PRIVATE },
	{ "rate",	 RATE },
	{ "restricted",	 RESTRICTED },
	{ "route",	 ROUTE },
	{ "san",	 SAN },
	{ "secrets",	 SECRETS },
	{ "sessions",	 SESSIONS },
	{ "size",	 SIZE },
	{ "socket",	 SOCKET },
	{ "spki",	 SPKI },
	{ "subject",	 SUBJECT },
	{ "ticket",	 TICKET },
	{ "tickets",	 TICKETS },
	{ "timeout",	 TIMEOUT },
	{ "tls",	 TLS },
	{ "tls12",	 TLS12 },
	{ "tls13",	 TLS13 },
	{ "uid",	 UID },
	{ "unix",	 UNIX },
	{ "upstream",	 UPSTREAM },
	{ "user",	 USER },
	{ "version",	 VERSION },
	{ "watch",	 WATCH },
	{ "window",	 WINDOW },
};

static int
keycmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->name);
}

/* The token of keyword s, or 0. */
static int
keyword_token(const char *s)
{
	const struct keyword	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), keycmp);
	return p == NULL ? 0 : p->token;
}

/* ---- error reporting ---------------------------------------------- */

static void __attribute__((__format__(printf, 2, 0)))
emit(const char *prefix, const char *fmt, va_list ap)
{
	char	 msg[1024], line[1400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s%s", prefix, msg);
	/* A config file's bytes must not forge log lines. */
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (firsterr[0] == '\0')
		strlcpy(firsterr, line, sizeof(firsterr));
	log_emit(LOG_ERR, line);
}

/* 0: say nothing (gave up), 1: report, 2: report, then give up */
static int
count_error(void)
{
	if (stopped)
		return 0;
	if (++nerrors >= MAXERRORS) {
		stopped = 1;
		return 2;
	}
	return 1;
}

/* "FILE:LINE: message" */
static void
conferr(const char *fname, int lineno, const char *fmt, ...)
{
	char	 prefix[PATH_MAX + 32];
	va_list	 ap;
	int	 r;

	if ((r = count_error()) == 0)
		return;
	snprintf(prefix, sizeof(prefix), "%s:%d: ", fname, lineno);
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
	if (r == 2) {
		snprintf(prefix, sizeof(prefix),
		    "%s:%d: too many errors, giving up", fname, lineno);
		log_emit(LOG_ERR, prefix);
	}
}

/* "FILE: message", for a file as a whole */
static void
fileerr(const char *fname, const char *fmt, ...)
{
	char	 prefix[PATH_MAX + 32];
	va_list	 ap;
	int	 r;

	if ((r = count_error()) == 0)
		return;
	snprintf(prefix, sizeof(prefix), "%s: ", fname);
	va_start(ap, fmt);
	emit(prefix, fmt, ap);
	va_end(ap);
	if (r == 2) {
		snprintf(prefix, sizeof(prefix),
		    "%s: too many errors, giving up", fname);
		log_emit(LOG_ERR, prefix);
	}
}

static int
is_keyword_tok(int tok)
{
	size_t	 i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].token == tok)
			return 1;
	return 0;
}

static int
is_keyopt(int tok)
{
	return tok == PRIVATE || tok == CERTIFICATE || tok == ALLOW ||
	    tok == OPERATIONS;
}

static int
is_global(int tok)
{
	return tok == INCLUDE || tok == USER || tok == CHROOT ||
	    tok == KEYPROCS || tok == LURK || tok == MAX || tok == LISTEN ||
	    tok == KEY || tok == TIMEOUT || tok == LIMIT || tok == PIDFILE ||
	    tok == CONTROL || tok == LOG || tok == WATCH || tok == TLS12;
}

static int	lgetc(void);
static void	lungetc(int);

/* Peek: is the next character, after blanks, "="? */
static int
next_is_equal(void)
{
	int	 c;

	if (curfile == NULL)
		return 0;
	while ((c = lgetc()) == ' ' || c == '\t')
		;
	lungetc(c);
	return c == '=';
}

/* byacc calls this for syntax errors; make them as specific as we can. */
static void
yyerror(const char *msg)
{
	if (lx.lexerr)		/* the lexer already said what is wrong */
		return;
	if (strcmp(msg, "syntax error") != 0)
		conferr(lx.fname, lx.line, "%s", msg);
	else if (lx.idx == 1 && lx.tok == WORD)
		conferr(lx.fname, lx.line, "unknown keyword \"%s\"", lx.text);
	else if (lx.idx == 1 && is_keyword_tok(lx.tok) && next_is_equal())
		conferr(lx.fname, lx.line,
		    "\"%s\" is a keyword, not a macro name", lx.text);
	else if (lx.idx == 1 && is_keyword_tok(lx.tok) && is_keyopt(lx.tok))
		conferr(lx.fname, lx.line, "\"%s\" is only allowed in a key "
		    "block", lx.text);
	else if (lx.idx == 1 && is_keyword_tok(lx.tok) && is_global(lx.tok))
		conferr(lx.fname, lx.line, "\"%s\" is not allowed in a key "
		    "block", lx.text);
	else if (lx.idx == 2 && lx.firsttok == WORD)
		conferr(lx.firstfile, lx.firstline, "unknown keyword \"%s\"",
		    lx.firsttext);
	else if (lx.idx == 2 && lx.tok == '=' && is_keyword_tok(lx.firsttok))
		conferr(lx.fname, lx.line,
		    "\"%s\" is a keyword, not a macro name", lx.firsttext);
	else if (lx.tok == '\n')
		conferr(lx.fname, lx.line, "syntax error at end of line");
	else if (lx.tok == 0)
		conferr(lx.fname, lx.line, "syntax error at end of file");
	else
		conferr(lx.fname, lx.line, "syntax error near \"%s\"", lx.text);
}

/* ---- memory that lives for one parse ------------------------------ */

static char *
astrndup(const char *s, size_t len)
{
	struct astr	*a;

	if ((a = malloc(sizeof(*a) + len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(a->s, s, len);
	a->s[len] = '\0';
	a->next = arena;
	arena = a;
	return a->s;
}

static char *
astrdup(const char *s)
{
	return astrndup(s, strlen(s));
}

static void
arena_free(void)
{
	struct astr	*a;

	while ((a = arena) != NULL) {
		arena = a->next;
		free(a);
	}
}

/* ---- macros --------------------------------------------------------- */

static int
valid_macro_name(const char *s)
{
	const char	*p;

	if (*s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return keyword_token(s) == 0;
}

static struct sym *
symfind(const char *name)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry)
		if (strcmp(sym->name, name) == 0)
			return sym;
	return NULL;
}

static int
symset(const char *name, const char *val, int persist)
{
	struct sym	*sym;
	char		*v;

	if ((sym = symfind(name)) != NULL) {
		if (sym->persist && !persist)
			return 0;	/* -D wins over the file */
		if ((v = strdup(val)) == NULL)
			return -1;
		free(sym->val);
		sym->val = v;
		sym->persist = persist;
		return 0;
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return -1;
	if ((sym->name = strdup(name)) == NULL ||
	    (sym->val = strdup(val)) == NULL) {
		free(sym->name);
		free(sym);
		return -1;
	}
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return 0;
}

static const char *
symget(const char *name)
{
	struct sym	*sym;

	return (sym = symfind(name)) == NULL ? NULL : sym->val;
}

/* Forget the file's macros; the -D ones stay for the next parse. */
static void
symclear(void)
{
	struct sym	*sym, *next;

	TAILQ_FOREACH_SAFE(sym, &symhead, entry, next) {
		if (sym->persist)
			continue;
		TAILQ_REMOVE(&symhead, sym, entry);
		free(sym->name);
		free(sym->val);
		free(sym);
	}
}

int
cmdline_symset(char *s)
{
	char	*eq, *name;
	int	 r;

	if ((eq = strchr(s, '=')) == NULL)
		return -1;
	if ((name = strndup(s, eq - s)) == NULL)
		return -1;
	r = valid_macro_name(name) ? symset(name, eq + 1, 1) : -1;
	free(name);
	return r;
}

static void
do_varset(const char *name, const char *val, const char *fname, int lineno)
{
	if (!valid_macro_name(name)) {
		conferr(fname, lineno, "invalid macro name \"%s\"", name);
		return;
	}
	if (symset(name, val, 0) == -1)
		fatal("%s", __func__);
}

/* ---- files ---------------------------------------------------------- */

static struct file *
file_open(const char *name, struct file *parent, const char *fname,
    int lineno)
{
	struct file	*f;
	struct stat	 st;
	FILE		*fp;

	if ((fp = fopen(name, "r")) == NULL) {
		if (parent == NULL)
			fileerr(name, "cannot open: %s", strerror(errno));
		else
			conferr(fname, lineno,
			    "cannot open include file \"%s\": %s", name,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1 ||
	    (S_ISDIR(st.st_mode) && (errno = EISDIR) != 0)) {
		if (parent == NULL)
			fileerr(name, "cannot open: %s", strerror(errno));
		else
			conferr(fname, lineno,
			    "cannot open include file \"%s\": %s", name,
			    strerror(errno));
		fclose(fp);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("%s", __func__);
	f->stream = fp;
	f->name = astrdup(name);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->lineno = 1;
	f->lastc = '\n';
	f->parent = parent;
	f->incdepth = parent == NULL ? 0 : parent->incdepth + 1;
	return f;
}

static struct file *
file_close(struct file *f)
{
	struct file	*parent = f->parent;

	fclose(f->stream);
	free(f);
	return parent;
}

static void
queue_token(int tok, int lineno, const char *fname)
{
	if (npending == PENDING_MAX)
		fatalx("%s: queue full", __func__);
	pending[npending].tok = tok;
	pending[npending].lineno = lineno;
	pending[npending].fname = fname;
	npending++;
}

static void
do_include(const char *path, const char *fname, int lineno)
{
	struct file	*f, *nf;
	const char	*slash;
	char		*full;

	if (curfile == NULL)
		return;
	if (*path == '\0') {
		conferr(fname, lineno, "include: empty file name");
		return;
	}
	/* relative to the directory of the including file */
	if (path[0] != '/' && (slash = strrchr(fname, '/')) != NULL) {
		if (asprintf(&full, "%.*s/%s", (int)(slash - fname), fname,
		    path) == -1)
			fatal("%s", __func__);
		path = astrdup(full);
		free(full);
	}
	if (curfile->incdepth + 1 >= INCLUDE_DEPTH) {
		conferr(fname, lineno, "include \"%s\": nested too deeply "
		    "(max %d files)", path, INCLUDE_DEPTH);
		return;
	}
	if ((nf = file_open(path, curfile, fname, lineno)) == NULL)
		return;
	for (f = curfile; f != NULL; f = f->parent)
		if (f->dev == nf->dev && f->ino == nf->ino) {
			conferr(fname, lineno, "include loop: \"%s\" "
			    "is already being read", path);
			file_close(nf);
			return;
		}
	curfile = nf;
	/*
	 * The include statement may still want its newline: give it one
	 * (an empty line if the parser already has the real one).
	 */
	queue_token('\n', lineno, fname);
}

/* ---- the lexer ------------------------------------------------------ */

static int
rawc(void)
{
	struct file	*f = curfile;
	int		 c;

	if (f->nunget > 0)
		return f->ungetbuf[--f->nunget];
	if (f->eof)
		return EOF;
	if ((c = getc(f->stream)) == EOF) {
		f->eof = 1;
		return EOF;
	}
	f->lastc = c;
	return c;
}

static void
lungetc(int c)
{
	struct file	*f = curfile;

	if (c == EOF)
		return;
	if (f->nunget == UNGET_MAX)
		fatalx("%s: buffer full", __func__);
	f->ungetbuf[f->nunget++] = c;
}

/* The next character; a backslash-newline pair is skipped. */
static int
lgetc(void)
{
	int	 c, next;

	while ((c = rawc()) == '\\') {
		if ((next = rawc()) != '\n') {
			lungetc(next);
			break;
		}
		curfile->lineno++;
	}
	return c;
}

static int
isword(int c)
{
	return isalnum(c) || (c != '\0' && strchr("-_./:@+%~,", c) != NULL);
}

static int
isnumber(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static void
settext(const char *s)
{
	strlcpy(lx.text, s, sizeof(lx.text));
	if (strlen(s) >= sizeof(lx.text))
		memcpy(lx.text + sizeof(lx.text) - 4, "...", 4);
}

static void
chartext(int c)
{
	char	 buf[8];

	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, sizeof(buf), "%c", c);
	else
		snprintf(buf, sizeof(buf), "\\x%02x", c & 0xff);
	settext(buf);
}

/* The end of the current file: close its statement and blocks, pop it. */
static int
lex_eof(void)
{
	struct file	*f = curfile;
	int		 line;

	line = f->lineno - (f->lastc == '\n' && f->lineno > 1);
	if (!f->eofdone) {
		f->eofdone = 1;
		if (ferror(f->stream))
			conferr(f->name, line, "read error: %s",
			    strerror(errno));
		queue_token('\n', line, f->name);
		if (f->depth > 0) {
			conferr(f->name, line,
			    "missing \"}\" at end of file");
			queue_token('}', line, f->name);
			queue_token('\n', line, f->name);
			f->depth = 0;
		}
		return -1;	/* take the queued tokens */
	}
	if (f->parent == NULL) {
		yylval.lineno = line;
		yylval.fname = f->name;
		settext("end of file");
		return 0;
	}
	curfile = file_close(f);
	return -1;		/* go on with the including file */
}

static int
lex_string(void)
{
	char		 buf[STRING_MAX];
	const char	*bad = NULL;
	size_t		 len = 0;
	int		 c, next;

	for (;;) {
		c = lgetc();
		if (c == EOF || c == '\n') {
			conferr(yylval.fname, yylval.lineno,
			    "unterminated string");
			lungetc(c);
			settext("\"");
			return LEXERROR;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			next = rawc();
			if (next == '"' || next == '\\')
				c = next;
			else {
				if (bad == NULL)
					bad = "invalid escape in string "
					    "(only \\\" and \\\\)";
				lungetc(next);
				continue;
			}
		} else if (c == '\0') {
			if (bad == NULL)
				bad = "NUL byte in string";
			continue;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			if (bad == NULL)
				bad = "control character in string";
			continue;
		}
		if (len >= sizeof(buf) - 1) {
			if (bad == NULL)
				bad = "string too long";
			continue;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	settext(buf);
	if (bad != NULL) {
		conferr(yylval.fname, yylval.lineno, "%s", bad);
		return LEXERROR;
	}
	yylval.v.string = astrndup(buf, len);
	return STRING;
}

/*
 * A bare token: a word (keyword, number or unquoted string), macro
 * expansions ($name), or both run together, as in $dir/www.key.  A token
 * with an expansion in it is a string (a number if it is all digits),
 * never a keyword or a macro name.
 */
static int
lex_bare(int c)
{
	char		 buf[STRING_MAX], name[STRING_MAX];
	const char	*val;
	size_t		 len = 0, n, vlen;
	int		 expanded = 0, bad = 0, tok;

	for (;; c = lgetc()) {
		if (c == '$') {
			n = 0;
			while ((c = lgetc()) != EOF &&
			    (isalnum(c) || c == '_') && n < sizeof(name) - 1)
				name[n++] = c;
			lungetc(c);
			name[n] = '\0';
			expanded = 1;
			if (n == 0) {
				conferr(yylval.fname, yylval.lineno,
				    "macro name missing after \"$\"");
				bad = 1;
				continue;
			}
			if ((val = symget(name)) == NULL) {
				conferr(yylval.fname, yylval.lineno,
				    "macro \"%s\" not defined", name);
				bad = 1;
				continue;
			}
			vlen = strlen(val);
			if (vlen >= sizeof(buf) - len) {
				if (!bad)
					conferr(yylval.fname, yylval.lineno,
					    "string too long");
				bad = 1;
				continue;
			}
			memcpy(buf + len, val, vlen);
			len += vlen;
		} else if (isword(c)) {
			if (len >= sizeof(buf) - 1) {
				if (!bad)
					conferr(yylval.fname, yylval.lineno,
					    "word too long");
				bad = 1;
				continue;
			}
			buf[len++] = c;
		} else
			break;
	}
	lungetc(c);
	buf[len] = '\0';
	settext(buf);
	if (bad)
		return LEXERROR;
	yylval.v.string = astrndup(buf, len);
	if (isnumber(buf))
		return NUMBER;
	if (expanded)
		return STRING;
	if ((tok = keyword_token(buf)) != 0)
		return tok;
	return WORD;
}

static int
lex(void)
{
	int	 c, tok;

	for (;;) {
		if (npending > 0) {
			tok = pending[0].tok;
			yylval.v.string = NULL;
			yylval.lineno = pending[0].lineno;
			yylval.fname = pending[0].fname;
			npending--;
			memmove(pending, pending + 1,
			    npending * sizeof(pending[0]));
			chartext(tok);
			if (tok == '\n')
				settext("end of line");
			return tok;
		}
		if (curfile->eofdone) {
			if ((tok = lex_eof()) >= 0)
				return tok;
			continue;
		}

		yylval.v.string = NULL;
		while ((c = lgetc()) == ' ' || c == '\t' || c == '\r')
			;
		yylval.lineno = curfile->lineno;
		yylval.fname = curfile->name;
		if (c == '#') {		/* a comment ends with its line */
			while ((c = rawc()) != '\n' && c != EOF)
				;
		}

		switch (c) {
		case EOF:
			if ((tok = lex_eof()) >= 0)
				return tok;
			continue;
		case '\n':
			curfile->lineno++;
			settext("end of line");
			return '\n';
		case '"':
			return lex_string();
		case '{':
			curfile->depth++;
			settext("{");
			return '{';
		case '}':
			if (curfile->depth > 0)
				curfile->depth--;
			settext("}");
			return '}';
		case '=':
			settext("=");
			return '=';
		}
		if (isword(c) || c == '$')
			return lex_bare(c);
		chartext(c);
		conferr(yylval.fname, yylval.lineno,
		    "unexpected character \"%s\"", lx.text);
		return LEXERROR;
	}
}

int
yylex(void)
{
	int	 tok;

	if (stopped) {
		lx.tok = 0;
		lx.lexerr = 1;
		return 0;
	}
	tok = lex();
	if (lx.reset) {
		lx.reset = 0;
		lx.idx = 0;
	}
	lx.idx++;
	lx.tok = tok;
	lx.line = yylval.lineno;
	lx.fname = yylval.fname;
	lx.lexerr = tok == LEXERROR;
	if (lx.idx == 1) {
		lx.firsttok = tok;
		strlcpy(lx.firsttext, lx.text, sizeof(lx.firsttext));
		lx.firstline = lx.line;
		lx.firstfile = lx.fname;
	}
	if (tok == '\n' || tok == '{' || tok == '}')
		lx.reset = 1;
	return tok;
}

/* ---- statements ----------------------------------------------------- */

static int
getnum(const char *s, long long min, long long max, long long *res)
{
	const char	*errstr;

	*res = strtonum(s, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

static void
set_string(char *dst, size_t size, int *seenp, const char *what,
    const char *desc, const char *s, const char *fname, int lineno,
    int abspath)
{
	if ((*seenp)++)
		conferr(fname, lineno, "%s given twice", what);
	if (*s == '\0')
		conferr(fname, lineno, "%s: empty %s", what, desc);
	else if (abspath && *s != '/')
		conferr(fname, lineno, "%s: \"%s\" is not an absolute path",
		    what, s);
	else if (strlcpy(dst, s, size) >= size)
		conferr(fname, lineno, "%s: %s too long (max %zu bytes)",
		    what, desc, size - 1);
}

/* "limit user rate N [burst M]": the burst is a second's worth unless given */
static void
user_rate(const char *rate, const char *burst, const char *fname, int lineno)
{
	long long	 r, b;

	if (seen.lurate++)
		conferr(fname, lineno, "limit user rate given twice");
	if (getnum(rate, 1, LURKD_RATE_MAX, &r) == -1) {
		conferr(fname, lineno, "limit user rate must be 1..%d requests "
		    "a second, or none", LURKD_RATE_MAX);
		return;
	}
	b = r;
	if (burst != NULL && getnum(burst, 1, LURKD_RATE_MAX, &b) == -1) {
		conferr(fname, lineno, "limit user rate: burst must be 1..%d "
		    "requests", LURKD_RATE_MAX);
		return;
	}
	conf->limit_user_rate = r;
	conf->limit_user_burst = b;
}

/* listen on unix PATH, or control socket PATH */
static void
listen_begin(const char *path, int control, const char *fname, int lineno)
{
	const char	*p;

	memset(&curlisten, 0, sizeof(curlisten));
	curlisten.lineno = lineno;
	curlisten.fname = fname;
	curlisten.control = control;
	curlisten.what = control ? "control socket" : "listen";
	curlisten.l.mode = 0660;
	if (*path != '/') {
		conferr(fname, lineno, "%s path \"%s\" is not absolute",
		    curlisten.what, path);
		curlisten.bad = 1;
	} else if (strlen(path) >= SUN_PATH_MAX) {
		conferr(fname, lineno, "%s path \"%s\" too long "
		    "(max %zu bytes)", curlisten.what, path, SUN_PATH_MAX - 1);
		curlisten.bad = 1;
	} else
		strlcpy(curlisten.l.path, path, sizeof(curlisten.l.path));
	/* its directory is compared with the workload sockets' as text */
	for (p = path; control && !curlisten.bad && *p != '\0'; p++)
		if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0' || (p[2] == '.' &&
		    (p[3] == '/' || p[3] == '\0')))))) {
			conferr(fname, lineno, "control socket path \"%s\": "
			    "no \"//\", \".\" or \"..\" in it", path);
			curlisten.bad = 1;
		}
}

static void
listen_restricted(const char *fname, int lineno)
{
	if (curlisten.l.restricted++) {
		conferr(fname, lineno, "control socket: restricted given "
		    "twice");
		curlisten.bad = 1;
	}
}

static void
listen_mode(const char *s, const char *fname, int lineno)
{
	const char	*p;
	unsigned long	 m = 0;

	if (curlisten.has_mode++) {
		conferr(fname, lineno, "%s: mode given twice", curlisten.what);
		curlisten.bad = 1;
		return;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7' || (m = m * 8 + (*p - '0')) > 0777)
			break;
	}
	if (*p != '\0') {
		conferr(fname, lineno, "mode must be an octal number "
		    "0000..0777");
		curlisten.bad = 1;
		return;
	}
	curlisten.l.mode = m;
}

static void
listen_group(const char *s, int numeric, const char *fname, int lineno)
{
	struct group	*gr;
	long long	 n;

	if (curlisten.l.has_group++) {
		conferr(fname, lineno, "%s: group given twice", curlisten.what);
		curlisten.bad = 1;
		return;
	}
	if (numeric) {
		if (getnum(s, 0, ID_MAX, &n) == -1) {
			conferr(fname, lineno, "gid must be 0..%lld", ID_MAX);
			curlisten.bad = 1;
		} else
			curlisten.l.gid = n;
		return;
	}
	if (*s == '\0' || strlen(s) >= sizeof(curlisten.l.group)) {
		conferr(fname, lineno, "invalid group name \"%s\"", s);
		curlisten.bad = 1;
		return;
	}
	errno = 0;
	if ((gr = getgrnam(s)) == NULL) {
		conferr(fname, lineno, "unknown group \"%s\"", s);
		curlisten.bad = 1;
		return;
	}
	strlcpy(curlisten.l.group, s, sizeof(curlisten.l.group));
	curlisten.l.gid = gr->gr_gid;
}

static void
listen_end(void)
{
	struct listenconf	*l;
	struct listenlist	*lists[2] = { &conf->listeners,
				    &conf->controls };
	int			 i;

	if (curlisten.bad)
		return;
	for (i = 0; i < 2; i++)
		TAILQ_FOREACH(l, lists[i], entry)
			if (strcmp(l->path, curlisten.l.path) == 0) {
				conferr(curlisten.fname, curlisten.lineno,
				    "duplicate %s path \"%s\"", i == 0 ?
				    "listen" : "control socket", l->path);
				return;
			}
	if (!curlisten.control && nlisten >= LURKD_LISTEN_MAX) {
		conferr(curlisten.fname, curlisten.lineno,
		    "too many listen statements (max %d)", LURKD_LISTEN_MAX);
		return;
	}
	if (curlisten.control && ncontrol >= LURKD_CONTROL_MAX) {
		conferr(curlisten.fname, curlisten.lineno,
		    "too many control sockets (max %d)", LURKD_CONTROL_MAX);
		return;
	}
	if ((l = malloc(sizeof(*l))) == NULL)
		fatal("%s", __func__);
	*l = curlisten.l;
	if (curlisten.control) {
		ctlwhere[ncontrol].fname = curlisten.fname;
		ctlwhere[ncontrol].lineno = curlisten.lineno;
		TAILQ_INSERT_TAIL(&conf->controls, l, entry);
		ncontrol++;
	} else {
		TAILQ_INSERT_TAIL(&conf->listeners, l, entry);
		nlisten++;
	}
}

/*
 * A listener's address and port (listen on http|tls): an IPv4 or IPv6
 * address, not a name, in the form inet_ntop(3) writes; -1 if not.
 */
static int
listen_addr(const char *what, const char *addr, const char *port,
    int *family, char *buf, size_t len, uint16_t *portp, const char *fname,
    int lineno)
{
	struct in6_addr		 a6;
	struct in_addr		 a4;
	long long		 n;

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		*family = AF_INET;
		inet_ntop(AF_INET, &a4, buf, len);
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		*family = AF_INET6;
		inet_ntop(AF_INET6, &a6, buf, len);
	} else {
		conferr(fname, lineno, "listen on %s: \"%s\" is not an "
		    "IPv4 or IPv6 address", what, addr);
		return -1;
	}
	if (getnum(port, 1, 65535, &n) == -1) {
		conferr(fname, lineno, "listen on %s: port must be "
		    "1..65535", what);
		return -1;
	}
	*portp = n;
	return 0;
}

/* Another TCP listener on the same address and port: its kind, or NULL. */
static const char *
listen_tcp_taken(int family, const char *addr, uint16_t port)
{
	const struct httpconf	*h;
	const struct tlsconf	*t;

	TAILQ_FOREACH(h, &conf->https, entry)
		if (h->family == family && h->port == port &&
		    strcmp(h->addr, addr) == 0)
			return "http";
	TAILQ_FOREACH(t, &conf->tlss, entry)
		if (t->family == family && t->port == port &&
		    strcmp(t->addr, addr) == 0)
			return "tls";
	return NULL;
}

/* listen on http [ADDRESS] port N: an address, not a name; loopback */
static void
listen_http(const char *addr, const char *port, const char *fname,
    int lineno)
{
	struct httpconf		*h, hc;
	const char		*taken;

	memset(&hc, 0, sizeof(hc));
	if (addr == NULL)
		addr = "127.0.0.1";
	if (listen_addr("http", addr, port, &hc.family, hc.addr,
	    sizeof(hc.addr), &hc.port, fname, lineno) == -1)
		return;
	if ((taken = listen_tcp_taken(hc.family, hc.addr, hc.port)) != NULL) {
		conferr(fname, lineno, "duplicate listen on %s %s port %u",
		    taken, hc.addr, hc.port);
		return;
	}
	if (nhttp >= LURKD_HTTP_MAX) {
		conferr(fname, lineno, "too many listen on http statements "
		    "(max %d)", LURKD_HTTP_MAX);
		return;
	}
	if ((h = malloc(sizeof(*h))) == NULL)
		fatal("%s", __func__);
	*h = hc;
	TAILQ_INSERT_TAIL(&conf->https, h, entry);
	nhttp++;
}

/*
 * listen on tls ADDRESS port N { certificate private ca [crl]
 * [tls version 1.2] }: a listener for edges on other hosts, which
 * present a certificate of the CA (lurkd.conf(5)).
 */
static void
tls_begin(const char *addr, const char *port, const char *fname, int lineno)
{
	memset(&curtls, 0, sizeof(curtls));
	memset(&curup, 0, sizeof(curup));
	curtls.fname = fname;
	curtls.lineno = lineno;
	strlcpy(curtls.t.file, fname, sizeof(curtls.t.file));
	curtls.t.line = lineno;
	if (listen_addr("tls", addr, port, &curtls.t.family, curtls.t.addr,
	    sizeof(curtls.t.addr), &curtls.t.port, fname, lineno) == -1)
		curtls.bad = 1;
}

static void
tls_path(int which, const char *path, const char *fname, int lineno)
{
	const char	*what;
	char		*dst;
	int		*seenp;

	switch (which) {
	case CERTIFICATE:
		what = "certificate";
		dst = curtls.t.certificate;
		seenp = &curtls.has_certificate;
		break;
	case PRIVATE:
		what = "private";
		dst = curtls.t.private;
		seenp = &curtls.has_private;
		break;
	case CA:
		what = "ca";
		dst = curtls.t.ca;
		seenp = &curtls.has_ca;
		break;
	default:
		what = "crl";
		dst = curtls.t.crl;
		seenp = &curtls.has_crl;
		break;
	}
	if ((*seenp)++) {
		conferr(fname, lineno, "listen on tls: %s given twice", what);
		curtls.bad = 1;
	} else if (*path != '/') {
		conferr(fname, lineno, "listen on tls: %s \"%s\" is not an "
		    "absolute path", what, path);
		curtls.bad = 1;
	} else if (strlcpy(dst, path, PATH_MAX) >= PATH_MAX) {
		conferr(fname, lineno, "listen on tls: %s path too long",
		    what);
		curtls.bad = 1;
	}
}

/* tls version 1.2: TLS 1.2 too; 1.3: only TLS 1.3 (the default) */
static void
tls_version(const char *v, const char *fname, int lineno)
{
	if (curtls.has_version++) {
		conferr(fname, lineno, "listen on tls: tls version given "
		    "twice");
		curtls.bad = 1;
	} else if (strcmp(v, "1.2") == 0)
		curtls.t.tls12 = 1;
	else if (strcmp(v, "1.3") == 0)
		curtls.t.tls12 = 0;
	else {
		conferr(fname, lineno, "listen on tls: tls version must be "
		    "1.2 or 1.3 (the lowest version allowed)");
		curtls.bad = 1;
	}
}

static void
tls_end(void)
{
	struct tlsconf	*t;
	const char	*taken;
	int		 n = 0;

	if (!curtls.has_certificate)
		conferr(curtls.fname, curtls.lineno, "listen on tls %s port "
		    "%u: certificate missing", curtls.t.addr, curtls.t.port);
	if (!curtls.has_private)
		conferr(curtls.fname, curtls.lineno, "listen on tls %s port "
		    "%u: private key missing", curtls.t.addr, curtls.t.port);
	if (!curtls.has_ca)
		conferr(curtls.fname, curtls.lineno, "listen on tls %s port "
		    "%u: ca missing: the peers' certificates are verified "
		    "against it", curtls.t.addr, curtls.t.port);
	if (curtls.bad || !curtls.has_certificate || !curtls.has_private ||
	    !curtls.has_ca)
		return;
	if ((taken = listen_tcp_taken(curtls.t.family, curtls.t.addr,
	    curtls.t.port)) != NULL) {
		conferr(curtls.fname, curtls.lineno, "duplicate listen on %s "
		    "%s port %u", taken, curtls.t.addr, curtls.t.port);
		return;
	}
	TAILQ_FOREACH(t, &conf->tlss, entry)
		n++;
	if (n >= LURKD_TLS_MAX) {
		conferr(curtls.fname, curtls.lineno, "too many listen on tls "
		    "statements (max %d)", LURKD_TLS_MAX);
		return;
	}
	if ((t = malloc(sizeof(*t))) == NULL)
		fatal("%s", __func__);
	*t = curtls.t;
	TAILQ_INSERT_TAIL(&conf->tlss, t, entry);
}

/*
 * A listener's key must be no edge's: an edge could then sign the
 * listener's handshakes, and pass for lurkd to the other edges.
 */
static void
tls_keys_check(void)
{
	const struct tlsconf	*t;
	const struct keyconf	*k;

	TAILQ_FOREACH(t, &conf->tlss, entry)
		TAILQ_FOREACH(k, &conf->keys, entry)
			if (strcmp(t->private, k->private) == 0 ||
			    strcmp(t->certificate, k->certificate) == 0)
				conferr(t->file, t->line, "listen on tls %s "
				    "port %u: its %s is key \"%s\"'s too "
				    "(%s:%d): an edge could sign for the "
				    "listener", t->addr, t->port,
				    strcmp(t->private, k->private) == 0 ?
				    "private key" : "certificate", k->name,
				    k->file, k->line);
}

static void
log_format(const char *s, const char *fname, int lineno)
{
	if (seen.logformat++)
		conferr(fname, lineno, "log format given twice");
	if (strcmp(s, "text") == 0)
		conf->log_format = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		conf->log_format = LOG_FORMAT_JSON;
	else
		conferr(fname, lineno, "log format must be text or json");
}

/* The directory part of a path, "/" for a file at the top. */
static void
dirname_of(const char *path, char *dir, size_t len)
{
	const char	*slash = strrchr(path, '/');
	size_t		 n = slash == NULL ? 0 : (size_t)(slash - path);

	if (n == 0)
		n = 1;
	if (n >= len)
		n = len - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/*
 * A workload's mount of its socket's directory must never reach the
 * control socket: the two directories differ (as text here; lurkd
 * compares the directories themselves when it binds, listen.c).
 */
static void
control_dirs_check(void)
{
	struct listenconf	*c, *l;
	char			 cd[PATH_MAX], ld[PATH_MAX];
	int			 i = 0;

	TAILQ_FOREACH(c, &conf->controls, entry) {
		dirname_of(c->path, cd, sizeof(cd));
		TAILQ_FOREACH(l, &conf->listeners, entry) {
			dirname_of(l->path, ld, sizeof(ld));
			if (strcmp(cd, ld) == 0) {
				conferr(ctlwhere[i].fname, ctlwhere[i].lineno,
				    "control socket %s: its directory %s is "
				    "that of the workload socket %s: give it "
				    "a directory of its own", c->path, cd,
				    l->path);
				break;
			}
		}
		i++;
	}
}

static void
free_key(struct keyconf *k)
{
	struct allow	*a;

	if (k == NULL)
		return;
	while ((a = TAILQ_FIRST(&k->allows)) != NULL) {
		TAILQ_REMOVE(&k->allows, a, entry);
		free(a);
	}
	free(k);
}

static int
valid_key_name(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) >= LURKD_NAME_MAX)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			return 0;
	return 1;
}

static void
key_begin(const char *name, const char *fname, int lineno)
{
	struct keyconf	*k;

	free_key(curkey.k);	/* left over by a syntax error */
	memset(&curkey, 0, sizeof(curkey));
	if ((curkey.k = calloc(1, sizeof(*curkey.k))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&curkey.k->allows);
	curkey.k->operations = KEY_OPS_DEFAULT;
	curkey.k->tls13_secrets = LURKD_SECRETS_DEFAULT;
	curkey.k->tls13_tickets = LURKD_TICKETS_DEFAULT;
	curkey.lineno = lineno;
	curkey.fname = fname;
	strlcpy(curkey.k->name, name, sizeof(curkey.k->name));
	/* for messages after parsing: the arena's file names are gone */
	strlcpy(curkey.k->file, fname, sizeof(curkey.k->file));
	curkey.k->line = lineno;

	if (!valid_key_name(name)) {
		conferr(fname, lineno, "invalid key name \"%s\": use 1..%d "
		    "of A-Z a-z 0-9 . _ -", name, LURKD_NAME_MAX - 1);
		curkey.bad = 1;
		return;
	}
	TAILQ_FOREACH(k, &conf->keys, entry)
		if (strcmp(k->name, name) == 0) {
			conferr(fname, lineno, "duplicate key \"%s\"", name);
			curkey.bad = 1;
			return;
		}
	if (nkeys >= LURKD_KEYS_MAX) {
		conferr(fname, lineno, "too many keys (max %d)",
		    LURKD_KEYS_MAX);
		curkey.bad = 1;
	}
}

static void
key_path(int which, const char *path, const char *fname, int lineno)
{
	struct keyconf	*k = curkey.k;
	const char	*what;
	char		*dst;
	int		*seenp;

	if (k == NULL)
		return;
	if (which == PRIVATE) {
		what = "private";
		dst = k->private;
		seenp = &curkey.has_private;
	} else {
		what = "certificate";
		dst = k->certificate;
		seenp = &curkey.has_certificate;
	}
	if ((*seenp)++) {
		conferr(fname, lineno, "key \"%s\": %s given twice", k->name,
		    what);
		curkey.bad = 1;
	} else if (*path != '/') {
		conferr(fname, lineno, "key \"%s\": %s \"%s\" is not an "
		    "absolute path", k->name, what, path);
		curkey.bad = 1;
	} else if (strlcpy(dst, path, PATH_MAX) >= PATH_MAX) {
		conferr(fname, lineno, "key \"%s\": %s path too long",
		    k->name, what);
		curkey.bad = 1;
	}
}

static int
allow_is_user(enum allow_type t)
{
	return t == ALLOW_UID || t == ALLOW_USER;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * allow client subject|san|spki: the text as the certificate carries it
 * (printable, no control byte), or "sha256:" and 64 hex digits.
 */
/* "sha256:" and 64 hex digits into 32 bytes; -1 if not so. */
static int
spki_parse(const char *s, uint8_t *spki)
{
	const char	*p;
	int		 i, hi, lo;

	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return -1;
	for (i = 0, p = s + 7; i < 32; i++, p += 2) {
		if ((hi = hexval(p[0])) == -1 || (lo = hexval(p[1])) == -1)
			return -1;
		spki[i] = hi << 4 | lo;
	}
	return 0;
}

static int
allow_client(struct allow *a, const char *s, const char *fname, int lineno)
{
	const char	*what = a->type == ALLOW_SUBJECT ? "subject" :
			    a->type == ALLOW_SAN ? "san" : "spki";
	const char	*p;

	if (a->type == ALLOW_SPKI) {
		if (spki_parse(s, a->spki) == -1)
			goto badspki;
		return 0;
	}
	if (*s == '\0' || strlen(s) >= sizeof(a->ident)) {
		conferr(fname, lineno, "allow client %s: 1..%zu bytes", what,
		    sizeof(a->ident) - 1);
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (a->type == ALLOW_SAN && *p == ' ')) {
			conferr(fname, lineno, "allow client %s \"%s\": no "
			    "control character%s in it", what, s,
			    a->type == ALLOW_SAN ? " or space" : "");
			return -1;
		}
	strlcpy(a->ident, s, sizeof(a->ident));
	return 0;
 badspki:
	conferr(fname, lineno, "allow client spki must be \"sha256:\" and "
	    "the 64 hex digits of the SHA-256 of the certificate's "
	    "SubjectPublicKeyInfo");
	return -1;
}

/* Two rules that say the same. */
static int
allow_same(const struct allow *a, const struct allow *b)
{
	if (allow_is_client(a->type) || allow_is_client(b->type))
		return a->type == b->type && (a->type == ALLOW_SPKI ?
		    memcmp(a->spki, b->spki, sizeof(a->spki)) == 0 :
		    strcmp(a->ident, b->ident) == 0);
	return allow_is_user(a->type) == allow_is_user(b->type) &&
	    a->id == b->id;
}

static void
key_allow(enum allow_type type, const char *s, const char *fname, int lineno)
{
	struct keyconf	*k = curkey.k;
	struct allow	*a, *b;
	struct passwd	*pw;
	struct group	*gr;
	long long	 n;

	if (k == NULL)
		return;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("%s", __func__);
	a->type = type;
	switch (type) {
	case ALLOW_UID:
	case ALLOW_GID:
		if (getnum(s, 0, ID_MAX, &n) == -1) {
			conferr(fname, lineno, "%s must be 0..%lld",
			    type == ALLOW_UID ? "uid" : "gid", ID_MAX);
			goto bad;
		}
		a->id = n;
		break;
	case ALLOW_USER:
	case ALLOW_GROUP:
		if (*s == '\0' || strlen(s) >= sizeof(a->name)) {
			conferr(fname, lineno, "invalid %s name \"%s\"",
			    type == ALLOW_USER ? "user" : "group", s);
			goto bad;
		}
		strlcpy(a->name, s, sizeof(a->name));
		if (type == ALLOW_USER) {
			if ((pw = getpwnam(s)) == NULL) {
				conferr(fname, lineno, "unknown user \"%s\"",
				    s);
				goto bad;
			}
			a->id = pw->pw_uid;
		} else {
			if ((gr = getgrnam(s)) == NULL) {
				conferr(fname, lineno, "unknown group \"%s\"",
				    s);
				goto bad;
			}
			a->id = gr->gr_gid;
		}
		break;
	case ALLOW_SUBJECT:
	case ALLOW_SAN:
	case ALLOW_SPKI:
		if (allow_client(a, s, fname, lineno) == -1)
			goto bad;
		break;
	}
	TAILQ_FOREACH(b, &k->allows, entry) {
		if (!allow_same(a, b))
			continue;
		if (allow_is_client(a->type))
			conferr(fname, lineno, "key \"%s\": duplicate allow: "
			    "client %s is already allowed", k->name, s);
		else
			conferr(fname, lineno, "key \"%s\": duplicate allow: "
			    "%s %u is already allowed", k->name,
			    allow_is_user(a->type) ? "uid" : "gid", a->id);
		goto bad;
	}
	TAILQ_INSERT_TAIL(&k->allows, a, entry);
	return;
 bad:
	curkey.bad = 1;
	free(a);
}

static void
key_end(void)
{
	struct keyconf	*k = curkey.k, *o;
	const char	*what;
	int		 i;

	if (k == NULL)
		return;
	/* Unless a line we could not read was meant to give it. */
	if (!curkey.has_private && !curkey.syntaxerr)
		conferr(curkey.fname, curkey.lineno,
		    "key \"%s\": private key missing", k->name);
	if (!curkey.has_certificate && !curkey.syntaxerr)
		conferr(curkey.fname, curkey.lineno,
		    "key \"%s\": certificate missing", k->name);
	for (i = 0; i < KEY_NOPS; i++) {
		if (curkey.rate_line[i] == 0 ||
		    (k->operations & key_rate_ops(i)) || curkey.syntaxerr)
			continue;
		conferr(curkey.fname, curkey.rate_line[i], "key \"%s\": "
		    "limit %s rate, but its operations do not include %s",
		    k->name, operation_name(1U << i), rated_ops(i));
		curkey.bad = 1;
	}
	if ((curkey.has_secrets || curkey.has_tickets) &&
	    !(k->operations & OP_TLS13) && !curkey.syntaxerr) {
		conferr(curkey.fname, curkey.lineno, "key \"%s\": tls13 %s, "
		    "but its operations include no tls13 operation", k->name,
		    curkey.has_secrets ? "secrets" : "tickets");
		curkey.bad = 1;
	}
	/* one block per key: its rules would be split, the second unused */
	TAILQ_FOREACH(o, &conf->keys, entry) {
		if (curkey.bad || !curkey.has_private ||
		    !curkey.has_certificate)
			break;
		if (strcmp(o->private, k->private) == 0)
			what = "private key";
		else if (strcmp(o->certificate, k->certificate) == 0)
			what = "certificate";
		else
			continue;
		conferr(curkey.fname, curkey.lineno, "key \"%s\": its %s is "
		    "key \"%s\"'s too (%s:%d): give each key one block",
		    k->name, what, o->name, o->file, o->line);
		curkey.bad = 1;
	}
	if (curkey.bad || !curkey.has_private || !curkey.has_certificate)
		free_key(k);
	else {
		TAILQ_INSERT_TAIL(&conf->keys, k, entry);
		nkeys++;
	}
	curkey.k = NULL;
}

/* operations { sign-tls13 sign-tls12 rsa-kex }: replaces the default */
static void
key_operations_begin(const char *fname, int lineno)
{
	if (curkey.k == NULL)
		return;
	if (curkey.has_operations++) {
		conferr(fname, lineno, "key \"%s\": operations given twice",
		    curkey.k->name);
		curkey.bad = 1;
	}
	curkey.k->operations = 0;
}

static void
key_operation(const char *name, const char *fname, int lineno)
{
	uint32_t	 op;

	if (curkey.k == NULL)
		return;
	if ((op = operation_byname(name)) == 0) {
		conferr(fname, lineno, "key \"%s\": unknown operation \"%s\" "
		    "(lurkd.conf(5) lists them)", curkey.k->name, name);
		curkey.bad = 1;
	} else if (curkey.k->operations & op) {
		conferr(fname, lineno, "key \"%s\": operation \"%s\" given "
		    "twice", curkey.k->name, name);
		curkey.bad = 1;
	}
	curkey.k->operations |= op;
}

/* tls12|tls13 freshness { sha256 null }: replaces the default */
static void
fresh_begin(uint32_t *fresh, int *seenp, const char *ext, const char *fname,
    int lineno)
{
	if ((*seenp)++)
		conferr(fname, lineno, "%s freshness given twice", ext);
	*fresh = 0;
	curfresh = fresh;
}

static void
fresh_name(const char *name, const char *fname, int lineno)
{
	uint32_t	 f;

	if (strcmp(name, "sha256") == 0)
		f = LURKD_FRESH_SHA256;
	else if (strcmp(name, "null") == 0)
		f = LURKD_FRESH_NULL;
	else {
		conferr(fname, lineno, "unknown freshness function \"%s\" "
		    "(sha256, null)", name);
		return;
	}
	if (*curfresh & f)
		conferr(fname, lineno, "freshness function \"%s\" given "
		    "twice", name);
	*curfresh |= f;
}

/* A number of the drafts' settings, given once, in [min, max]. */
static void
draft_number(uint32_t *dst, int *seenp, const char *s, long long min,
    long long max, const char *what, const char *fname, int lineno)
{
	long long	 n;

	if ((*seenp)++)
		conferr(fname, lineno, "%s given twice", what);
	else if (getnum(s, min, max, &n) == -1)
		conferr(fname, lineno, "%s must be %lld..%lld", what, min, max);
	else
		*dst = n;
}

/* tls13 secrets { h_c h_s ... }: what the key's sessions may hand out */
static void
key_secrets_begin(const char *fname, int lineno)
{
	if (curkey.k == NULL)
		return;
	if (curkey.has_secrets++) {
		conferr(fname, lineno, "key \"%s\": tls13 secrets given twice",
		    curkey.k->name);
		curkey.bad = 1;
	}
	curkey.k->tls13_secrets = 0;
}

static void
key_secret(const char *name, const char *fname, int lineno)
{
	uint32_t	 bit;

	if (curkey.k == NULL)
		return;
	if ((bit = secret_byname(name)) == 0) {
		conferr(fname, lineno, "key \"%s\": unknown tls13 secret "
		    "\"%s\" (h_c, h_s, a_c, a_s, x, r)", curkey.k->name, name);
		curkey.bad = 1;
	} else if (curkey.k->tls13_secrets & bit) {
		conferr(fname, lineno, "key \"%s\": tls13 secret \"%s\" "
		    "given twice", curkey.k->name, name);
		curkey.bad = 1;
	}
	curkey.k->tls13_secrets |= bit;
}

static void
key_tickets(const char *s, const char *fname, int lineno)
{
	long long	 n;

	if (curkey.k == NULL)
		return;
	if (curkey.has_tickets++) {
		conferr(fname, lineno, "key \"%s\": tls13 tickets given twice",
		    curkey.k->name);
		curkey.bad = 1;
	} else if (getnum(s, 0, LURKD_TICKETS_MAX, &n) == -1) {
		conferr(fname, lineno, "key \"%s\": tls13 tickets must be "
		    "0..%d", curkey.k->name, LURKD_TICKETS_MAX);
		curkey.bad = 1;
	} else
		curkey.k->tls13_tickets = n;
}

/*
 * "rsa-kex, tls12-rsa-master or tls12-rsa-extended-master": the
 * operations that count under limit i, for messages.
 */
static const char *
rated_ops(int i)
{
	static char	 buf[160];
	uint32_t	 ops = key_rate_ops(i), bit;
	size_t		 n = 0, left;

	buf[0] = '\0';
	for (bit = 1; bit != 0 && ops != 0; bit <<= 1) {
		if (!(ops & bit))
			continue;
		ops &= ~bit;
		left = n < sizeof(buf) ? sizeof(buf) - n : 0;
		n += snprintf(buf + n, left, "%s%s", n == 0 ? "" : ops == 0 ?
		    " or " : ", ", operation_name(bit));
	}
	return buf;
}

/*
 * limit OPERATION rate N [burst M] | none: a token bucket per key and
 * operation (netproc/limit.c), so that rsa-kex, each a query to a
 * padding oracle (lurk(7)), can be held tighter than signing; the burst
 * is a second's worth unless given.  rate NULL: none.  The drafts'
 * operations that do the same with the key count under the same limit
 * (lurkd.h: key_rate_ops()).
 */
static void
key_rate(const char *opname, const char *rate, const char *burst,
    const char *fname, int lineno)
{
	struct keyconf	*k = curkey.k;
	long long	 r = 0, b = 0;
	uint32_t	 op;
	int		 i;

	if (k == NULL)
		return;
	if ((op = operation_byname(opname)) == 0 ||
	    (op & (EDGE_OP_SIGN_TLS13 | EDGE_OP_SIGN_TLS12 |
	    EDGE_OP_RSA_PREMASTER)) == 0) {
		/* a drafts' operation counts under an edge one's limit */
		if ((i = key_op_index(op)) != -1)
			conferr(fname, lineno, "key \"%s\": limit \"%s\": it "
			    "counts under limit %s rate", k->name, opname,
			    operation_name(1U << i));
		else if (op != 0)
			conferr(fname, lineno, "key \"%s\": limit \"%s\": no "
			    "limit counts it (sign-tls13, sign-tls12, "
			    "rsa-kex have one)", k->name, opname);
		else
			conferr(fname, lineno, "key \"%s\": limit \"%s\": "
			    "unknown operation (sign-tls13, sign-tls12, "
			    "rsa-kex)", k->name, opname);
		goto bad;
	}
	i = key_op_index(op);
	if (curkey.rate_line[i] > 0) {
		conferr(fname, lineno, "key \"%s\": limit %s rate given "
		    "twice", k->name, opname);
		goto bad;
	}
	curkey.rate_line[i] = lineno;
	if (rate != NULL && getnum(rate, 1, LURKD_RATE_MAX, &r) == -1) {
		conferr(fname, lineno, "key \"%s\": limit %s rate must "
		    "be 1..%d a second, or none", k->name, opname,
		    LURKD_RATE_MAX);
		goto bad;
	}
	b = r;
	if (burst != NULL && getnum(burst, 1, LURKD_RATE_MAX, &b) == -1) {
		conferr(fname, lineno, "key \"%s\": limit %s rate: burst "
		    "must be 1..%d", k->name, opname, LURKD_RATE_MAX);
		goto bad;
	}
	k->rate[i] = r;
	k->burst[i] = b;
	return;
 bad:
	curkey.bad = 1;
}

static void
key_syntaxerr(void)
{
	curkey.syntaxerr = 1;
	curkey.bad = 1;
}

static void
key_abandon(void)
{
	free_key(curkey.k);
	curkey.k = NULL;
}

/*
 * upstream NAME { address HOST port N; certificate; private; ca; route
 * default | name KEY | spki HASH; allow ... }: another lurkd, which
 * holds the keys of the routes.  The certificate, key and rules are
 * parsed as a key block's, into curkey.
 */
static void
up_begin(const char *name, const char *fname, int lineno)
{
	struct upstreamconf	*u;
	int			 n = 0;

	free_key(curkey.k);
	memset(&curkey, 0, sizeof(curkey));
	free(curup.u);
	memset(&curup, 0, sizeof(curup));
	if ((curup.u = calloc(1, sizeof(*curup.u))) == NULL ||
	    (curkey.k = calloc(1, sizeof(*curkey.k))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&curkey.k->allows);
	curkey.k->usage = KEY_USE_CLIENT;
	/* its handshakes' TLS 1.3 client CertificateVerify only */
	curkey.k->operations = EDGE_OP_SIGN_TLS13;
	curkey.lineno = curup.lineno = lineno;
	curkey.fname = curup.fname = fname;
	strlcpy(curkey.k->name, name, sizeof(curkey.k->name));
	strlcpy(curkey.k->file, fname, sizeof(curkey.k->file));
	curkey.k->line = lineno;
	strlcpy(curup.u->name, name, sizeof(curup.u->name));
	strlcpy(curup.u->file, fname, sizeof(curup.u->file));
	curup.u->line = lineno;
	if (!valid_key_name(name)) {
		conferr(fname, lineno, "invalid upstream name \"%s\": use "
		    "1..%d of A-Z a-z 0-9 . _ -", name, LURKD_NAME_MAX - 1);
		curup.bad = 1;
	}
	TAILQ_FOREACH(u, &conf->upstreams, entry) {
		if (strcmp(u->name, name) == 0) {
			conferr(fname, lineno, "duplicate upstream \"%s\"",
			    name);
			curup.bad = 1;
		}
		n++;
	}
	if (n >= LURKD_UPSTREAM_MAX) {
		conferr(fname, lineno, "too many upstreams (max %d)",
		    LURKD_UPSTREAM_MAX);
		curup.bad = 1;
	}
}

/* address HOST port N: a name (the parent resolves it) or an address */
static void
up_address(const char *host, const char *port, const char *fname,
    int lineno)
{
	const char	*p;
	long long	 n;

	if (curup.u == NULL)
		return;
	if (curup.has_address++) {
		conferr(fname, lineno, "upstream \"%s\": address given twice",
		    curup.u->name);
		curup.bad = 1;
		return;
	}
	for (p = host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != ':' && *p != '_')
			break;
	if (*host == '\0' || *p != '\0' ||
	    strlcpy(curup.u->host, host, sizeof(curup.u->host)) >=
	    sizeof(curup.u->host)) {
		conferr(fname, lineno, "upstream \"%s\": address \"%s\" is "
		    "not a host name or an IP address", curup.u->name, host);
		curup.bad = 1;
	}
	if (getnum(port, 1, 65535, &n) == -1) {
		conferr(fname, lineno, "upstream \"%s\": port must be "
		    "1..65535", curup.u->name);
		curup.bad = 1;
		return;
	}
	curup.u->port = n;
}

static void
up_ca(const char *path, const char *fname, int lineno)
{
	if (curup.u == NULL)
		return;
	if (curup.has_ca++) {
		conferr(fname, lineno, "upstream \"%s\": ca given twice",
		    curup.u->name);
		curup.bad = 1;
	} else if (*path != '/' ||
	    strlcpy(curup.u->ca, path, sizeof(curup.u->ca)) >=
	    sizeof(curup.u->ca)) {
		conferr(fname, lineno, "upstream \"%s\": ca \"%s\" is not an "
		    "absolute path", curup.u->name, path);
		curup.bad = 1;
	}
}

/* Another upstream's route for the same keys: its name, or NULL. */
static const char *
route_taken(const struct routeconf *r)
{
	const struct upstreamconf	*u;
	int				 i;

	TAILQ_FOREACH(u, &conf->upstreams, entry)
		for (i = 0; i < u->nroutes; i++)
			if (u->routes[i].type == r->type &&
			    (r->type == ROUTE_DEFAULT ||
			    (r->type == ROUTE_NAME &&
			    strcmp(u->routes[i].name, r->name) == 0) ||
			    (r->type == ROUTE_SPKI &&
			    memcmp(u->routes[i].spki, r->spki, 32) == 0)))
				return u->name;
	for (i = 0; i < curup.u->nroutes; i++)
		if (curup.u->routes[i].type == r->type &&
		    (r->type == ROUTE_DEFAULT ||
		    (r->type == ROUTE_NAME &&
		    strcmp(curup.u->routes[i].name, r->name) == 0) ||
		    (r->type == ROUTE_SPKI &&
		    memcmp(curup.u->routes[i].spki, r->spki, 32) == 0)))
			return curup.u->name;
	return NULL;
}

static void
up_route(int type, const char *v, const char *fname, int lineno)
{
	struct routeconf	 r;
	const char		*o;

	if (curup.u == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.type = type;
	if (type == ROUTE_NAME && !valid_key_name(v)) {
		conferr(fname, lineno, "upstream \"%s\": route name \"%s\" is "
		    "not a key name", curup.u->name, v);
		curup.bad = 1;
		return;
	}
	if (type == ROUTE_NAME)
		strlcpy(r.name, v, sizeof(r.name));
	if (type == ROUTE_SPKI && spki_parse(v, r.spki) == -1) {
		conferr(fname, lineno, "upstream \"%s\": route spki must be "
		    "\"sha256:\" and the 64 hex digits of the SHA-256 of the "
		    "key's SubjectPublicKeyInfo", curup.u->name);
		curup.bad = 1;
		return;
	}
	if ((o = route_taken(&r)) != NULL) {
		conferr(fname, lineno, "upstream \"%s\": route %s%s%s%s is "
		    "upstream \"%s\"'s already", curup.u->name,
		    type == ROUTE_DEFAULT ? "default" : type == ROUTE_NAME ?
		    "name" : "spki", type == ROUTE_DEFAULT ? "" : " \"",
		    type == ROUTE_DEFAULT ? "" : v,
		    type == ROUTE_DEFAULT ? "" : "\"", o);
		curup.bad = 1;
		return;
	}
	if (curup.u->nroutes >= LURKD_ROUTE_MAX) {
		conferr(fname, lineno, "upstream \"%s\": too many routes (max "
		    "%d)", curup.u->name, LURKD_ROUTE_MAX);
		curup.bad = 1;
		return;
	}
	curup.u->routes[curup.u->nroutes++] = r;
}

static void
up_end(void)
{
	struct upstreamconf	*u = curup.u;

	if (u == NULL)
		return;
	if (!curup.has_address)
		conferr(curup.fname, curup.lineno, "upstream \"%s\": address "
		    "missing", u->name);
	if (!curup.has_ca)
		conferr(curup.fname, curup.lineno, "upstream \"%s\": ca "
		    "missing: the upstream's certificate is verified against "
		    "it", u->name);
	if (!curkey.has_certificate || !curkey.has_private)
		conferr(curup.fname, curup.lineno, "upstream \"%s\": "
		    "certificate and private key needed: lurkd shows the "
		    "upstream a client certificate", u->name);
	if (u->nroutes == 0)
		conferr(curup.fname, curup.lineno, "upstream \"%s\": no "
		    "route: route default, name KEY or spki HASH", u->name);
	if (curup.bad || curkey.bad || !curup.has_address || !curup.has_ca ||
	    !curkey.has_certificate || !curkey.has_private ||
	    u->nroutes == 0) {
		free_key(curkey.k);
		free(u);
	} else {
		u->key = curkey.k;
		TAILQ_INSERT_TAIL(&conf->upstreams, u, entry);
	}
	curkey.k = NULL;
	curup.u = NULL;
}

/*
 * An upstream's client key must be no edge's or listener's, and no
 * other upstream's: an edge could sign for this lurkd.
 */
static void
up_keys_check(void)
{
	const struct upstreamconf	*u, *v;
	const struct keyconf		*k;
	const struct tlsconf		*t;

	TAILQ_FOREACH(u, &conf->upstreams, entry) {
		TAILQ_FOREACH(k, &conf->keys, entry)
			if (strcmp(u->key->private, k->private) == 0)
				conferr(u->file, u->line, "upstream \"%s\": "
				    "its private key is key \"%s\"'s too "
				    "(%s:%d): an edge could sign for lurkd",
				    u->name, k->name, k->file, k->line);
		TAILQ_FOREACH(t, &conf->tlss, entry)
			if (strcmp(u->key->private, t->private) == 0)
				conferr(u->file, u->line, "upstream \"%s\": "
				    "its private key is listen on tls %s "
				    "port %u's: give each its own", u->name,
				    t->addr, t->port);
		for (v = TAILQ_NEXT(u, entry); v != NULL;
		    v = TAILQ_NEXT(v, entry))
			if (strcmp(u->key->private, v->key->private) == 0)
				conferr(v->file, v->line, "upstream \"%s\": "
				    "its private key is upstream \"%s\"'s "
				    "too: give each its own", v->name,
				    u->name);
	}
}

/* ---- the interface -------------------------------------------------- */

void
free_config(struct lurkd_conf *c)
{
	struct keyconf		*k;
	struct listenconf	*l;
	struct httpconf		*h;
	struct tlsconf		*t;
	struct upstreamconf	*u;

	if (c == NULL)
		return;
	while ((k = TAILQ_FIRST(&c->keys)) != NULL) {
		TAILQ_REMOVE(&c->keys, k, entry);
		free_key(k);
	}
	while ((l = TAILQ_FIRST(&c->listeners)) != NULL) {
		TAILQ_REMOVE(&c->listeners, l, entry);
		free(l);
	}
	while ((l = TAILQ_FIRST(&c->controls)) != NULL) {
		TAILQ_REMOVE(&c->controls, l, entry);
		free(l);
	}
	while ((h = TAILQ_FIRST(&c->https)) != NULL) {
		TAILQ_REMOVE(&c->https, h, entry);
		free(h);
	}
	while ((t = TAILQ_FIRST(&c->tlss)) != NULL) {
		TAILQ_REMOVE(&c->tlss, t, entry);
		free(t);
	}
	while ((u = TAILQ_FIRST(&c->upstreams)) != NULL) {
		TAILQ_REMOVE(&c->upstreams, u, entry);
		free_key(u->key);
		free(u);
	}
	free(c);
}

/* The first error line of the last parse_config() that failed. */
const char *
parse_config_error(void)
{
	return firsterr[0] != '\0' ? firsterr : "configuration rejected";
}

struct lurkd_conf *
parse_config(const char *filename, int opts)
{
	struct lurkd_conf	*c;
	struct listenconf	*l;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	TAILQ_INIT(&c->listeners);
	TAILQ_INIT(&c->keys);
	TAILQ_INIT(&c->controls);
	TAILQ_INIT(&c->https);
	TAILQ_INIT(&c->tlss);
	TAILQ_INIT(&c->upstreams);
	c->keyprocs = 0;
	c->lenmode = LENMODE_PAYLOAD;
	c->max_message = LURKD_MSG_DEFAULT;
	c->timeout_idle = LURKD_TIMEOUT_IDLE;
	c->timeout_message = LURKD_TIMEOUT_MESSAGE;
	c->limit_conns = LURKD_CONNS_DEFAULT;
	c->limit_user_conns = LURKD_USER_CONNS_DEFAULT;
	c->drafts.tls12_freshness = LURKD_FRESH_SHA256;
	c->drafts.tls12_window = LURKD_WINDOW_DEFAULT;
	c->drafts.tls13_freshness = LURKD_FRESH_SHA256;
	c->drafts.tls13_label = LURKD_LABEL_DRAFT;
	c->drafts.tls13_sessions = LURKD_SESSIONS_DEFAULT;
	c->drafts.tls13_session_timeout = LURKD_SESSION_TIMEOUT;
	c->drafts.tls13_ticket_lifetime = LURKD_TICKET_LIFETIME;
	strlcpy(c->user, LURKD_USER, sizeof(c->user));
	strlcpy(c->chroot, LURKD_CHROOT, sizeof(c->chroot));

	c->watch = 1;

	conf = c;
	nerrors = stopped = 0;
	firsterr[0] = '\0';
	nkeys = nlisten = ncontrol = nhttp = 0;
	npending = 0;
	memset(&lx, 0, sizeof(lx));
	memset(&seen, 0, sizeof(seen));
	memset(&curlisten, 0, sizeof(curlisten));
	memset(&curkey, 0, sizeof(curkey));
	memset(&curtls, 0, sizeof(curtls));
	memset(&curup, 0, sizeof(curup));

	if ((curfile = file_open(filename, NULL, NULL, 0)) != NULL) {
		if (yyparse() != 0 && nerrors == 0)
			conferr(lx.fname != NULL ? lx.fname : filename,
			    lx.line, "syntax error");
		while (curfile != NULL)
			curfile = file_close(curfile);
	}
	free_key(curkey.k);
	curkey.k = NULL;
	free(curup.u);
	curup.u = NULL;
	/* the default socket, unless lurkd listens on TLS only */
	if (TAILQ_EMPTY(&c->listeners) && TAILQ_EMPTY(&c->tlss)) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			fatal("%s", __func__);
		strlcpy(l->path, LURKD_SOCKET, sizeof(l->path));
		l->mode = 0660;
		TAILQ_INSERT_TAIL(&c->listeners, l, entry);
	}
	/* the file names of ctlwhere are in the arena */
	control_dirs_check();
	tls_keys_check();
	up_keys_check();
	symclear();
	arena_free();
	conf = NULL;

	if (nerrors > 0) {
		free_config(c);
		return NULL;
	}
	return c;
}
