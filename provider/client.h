/*
 * The edge client: requests to one key server, or to the first healthy
 * one of a list, over one pipelined connection per endpoint and process,
 * shared by every thread.  lurkctl links it as well.
 *
 * Endpoints: unix:/path (a bare absolute path means the same) and
 * tls://host:port, the latter with the edge's client certificate, key
 * and CA (tlsclient.h).  An operator writes a list with spaces or commas
 * between its endpoints, in order of preference; a value that starts
 * with '/' is one socket path, whole (lc_endpoints_split).  A key
 * reference's list comes as it is (lc_conn_open_list).
 *
 * Nothing connects until the first request.  A process that finds a
 * connection made by its parent (fork) drops it and makes its own.  Every
 * request has a deadline and fails closed when it passes.  Until then a
 * restart of the only key server costs nothing: connecting is retried
 * while the socket is missing or refuses, and a request whose connection
 * broke (EOF, EPIPE, ECONNRESET) is sent again on a new one, a few times
 * at most.  With a list, a request goes to the first endpoint not known
 * to be down, and to the next one when that fails (client.c says how).
 *
 * The length field's framing is configured per connection, or found by
 * a ping on each new connection (LC_LEN_AUTO, client.c).
 */
#ifndef LURK_CLIENT_H
#define LURK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define LC_DEFAULT_SOCKET	"/run/lurkd/lurk.sock"
#define LC_DEFAULT_TIMEOUT_MS	3000
#define LC_MAX_RESPONSE		(1024 * 1024)
#define LC_LEN_AUTO		(-1)	/* else LURK_LEN_PAYLOAD, _MESSAGE */
#define LC_MAX_ENDPOINTS	8	/* KEYREF_ENDPOINTS_MAX */

/* failover: when a dead endpoint of a list is tried again (client.c) */
#define LC_FAILBACK_MIN_MS	100
#define LC_FAILBACK_MAX_MS	2000

enum lc_result {
	LC_OK = 0,
	LC_ESTATUS,	/* lurkd answered with an error status */
	LC_ECONNECT,	/* cannot connect: lurkd not reachable */
	LC_ETIMEOUT,	/* no answer before the deadline */
	LC_EIO,		/* connection broke, also after the resends */
	LC_EPROTO,	/* a response that breaks the protocol */
	LC_ENOMEM,
	LC_EINVAL,	/* bad argument: path too long, request too big */
	LC_ETLS,	/* TLS refused: certificate, host name, handshake */
};

struct lc_error {
	enum lc_result	 result;
	uint8_t		 status;	/* LC_ESTATUS: the LURK status */
	int		 sys_errno;	/* LC_ECONNECT, LC_EIO */
	char		 msg[320];	/* says what happened, for the logs */
};

/* the files of the edge's TLS client identity; NULL or "" if not set */
struct lc_tls_files {
	const char	*certificate;
	const char	*key;
	const char	*ca;
};

struct lc_conn;
struct keyref_str;

struct lc_conn	*lc_conn_open(const char *, int, const struct lc_tls_files *,
		    struct lc_error *);
struct lc_conn	*lc_conn_open_list(const struct keyref_str *, size_t, int,
		    const struct lc_tls_files *, struct lc_error *);
struct lc_conn	*lc_conn_get(const char *);
struct lc_conn	*lc_conn_get_len(const char *, int);
int		 lc_request(struct lc_conn *, int, uint8_t, const uint8_t *,
		    size_t, uint8_t **, size_t *, struct lc_error *);
void		 lc_free_response(uint8_t *, size_t);
const char	*lc_result_name(enum lc_result);
int		 lc_endpoints_split(const char *, char **, size_t *, int *,
		    struct lc_error *);
const char	*lc_conn_endpoint(const struct lc_conn *, size_t);

/* shared with tlsclient.c */
int64_t		 lc_now_ms(void);
int		 lc_left_ms(int64_t);

#endif
