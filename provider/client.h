/*
 * The edge client: one pipelined connection to lurkd per socket path and
 * process, shared by every thread.  Plain POSIX; no OpenSSL, so lurkctl
 * links it as well.
 *
 * Nothing connects until the first request.  A process that finds a
 * connection made by its parent (fork) drops it and makes its own.  Every
 * request has a deadline and fails closed when it passes.  Until then a
 * lurkd restart costs nothing: connecting is retried while the socket is
 * missing or refuses, and a request whose connection broke (EOF, EPIPE,
 * ECONNRESET) is sent again on a new one, a few times at most.
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

enum lc_result {
	LC_OK = 0,
	LC_ESTATUS,	/* lurkd answered with an error status */
	LC_ECONNECT,	/* cannot connect: lurkd not reachable */
	LC_ETIMEOUT,	/* no answer before the deadline */
	LC_EIO,		/* connection broke, also after the resends */
	LC_EPROTO,	/* a response that breaks the protocol */
	LC_ENOMEM,
	LC_EINVAL,	/* bad argument: path too long, request too big */
};

struct lc_error {
	enum lc_result	 result;
	uint8_t		 status;	/* LC_ESTATUS: the LURK status */
	int		 sys_errno;	/* LC_ECONNECT, LC_EIO */
	char		 msg[160];	/* says what happened, for the logs */
};

struct lc_conn;

struct lc_conn	*lc_conn_get(const char *);
struct lc_conn	*lc_conn_get_len(const char *, int);
int		 lc_request(struct lc_conn *, int, uint8_t, const uint8_t *,
		    size_t, uint8_t **, size_t *, struct lc_error *);
void		 lc_free_response(uint8_t *, size_t);
const char	*lc_result_name(enum lc_result);

#endif
