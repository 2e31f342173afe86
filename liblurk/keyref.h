/*
 * The key reference an edge holds instead of a private key (R8), and the
 * edge extension's key_info response it is built from.  Pure functions
 * over byte buffers: no allocation, no I/O, strict bounds; fuzzable.
 *
 * Reference blob (PEM label "LURK KEY REFERENCE"):
 *	"LURKREF" version(1)=1 key_id(32) name<1> socket<2> spki<2>
 *	"LURKREF" version(1)=2 key_id(32) name<1> socket<2> spki<2>
 *	    endpoints<2> tls_certificate<2> tls_key<2> tls_ca<2>
 * nothing trailing; key_id is SHA-256 of spki (SubjectPublicKeyInfo DER).
 * An empty socket means "not set": the edge's default applies.
 * Version 2 names key servers by a list of endpoint<1> (1 to
 * KEYREF_ENDPOINTS_MAX, no two alike, in the edge's order of preference)
 * instead of a socket, which must be empty, and may name the files of
 * the edge's TLS client identity (absolute paths, or empty: the edge's
 * default), only with a tls:// endpoint.  A reference is written as
 * version 1 unless it has endpoints, so an older provider reads it.
 *
 * Endpoints:
 *	unix:/absolute/path		(at most KEYREF_SOCKET_MAX bytes)
 *	tls://host:port			host: a DNS name, an IPv4 address or
 *					an IPv6 address in brackets
 */
#ifndef KEYREF_H
#define KEYREF_H

#include <stddef.h>
#include <stdint.h>

#include "lurk.h"

#define KEYREF_PEM_LABEL	"LURK KEY REFERENCE"
#define KEYREF_MAGIC		"LURKREF"
#define KEYREF_MAGIC_LEN	7
#define KEYREF_VERSION		1
#define KEYREF_VERSION_EP	2	/* with endpoints */
#define KEYREF_NAME_MAX		255	/* name<1> */
#define KEYREF_SOCKET_MAX	107	/* what fits sun_path with its NUL */
#define KEYREF_SPKI_MAX		0xffff	/* spki<2> */
#define KEYREF_ENDPOINTS_MAX	8
#define KEYREF_ENDPOINT_MAX	255	/* endpoint<1> */
#define KEYREF_PATH_MAX		4095	/* tls_*<2>: PATH_MAX with its NUL */

struct keyref_str {
	const char	*s;		/* not NUL-terminated */
	size_t		 len;
};

/* Decoded views point into the caller's buffer. */
struct keyref {
	uint8_t		 key_id[EDGE_KEY_ID_LEN];
	const char	*name;		/* not NUL-terminated */
	size_t		 namelen;
	const char	*socket;	/* not NUL-terminated; 0 = not set */
	size_t		 socketlen;
	const uint8_t	*spki;
	size_t		 spkilen;
	/* version 2 */
	size_t		 nendpoints;
	struct keyref_str endpoints[KEYREF_ENDPOINTS_MAX];
	struct keyref_str tls_certificate, tls_key, tls_ca;
};

/* A parsed endpoint; views into the string parsed. */
#define KEYREF_EP_UNIX		1
#define KEYREF_EP_TLS		2
#define KEYREF_HOST_NAME	1
#define KEYREF_HOST_IPV4	2
#define KEYREF_HOST_IPV6	3
struct keyref_endpoint {
	int		 kind;		/* KEYREF_EP_* */
	const char	*path;		/* unix */
	size_t		 pathlen;
	const char	*host;		/* tls, without brackets */
	size_t		 hostlen;
	int		 hosttype;	/* KEYREF_HOST_* */
	uint16_t	 port;
};

enum keyref_err {
	KEYREF_OK = 0,
	KEYREF_ERR_SHORT,	/* truncated */
	KEYREF_ERR_MAGIC,	/* not "LURKREF" */
	KEYREF_ERR_VERSION,	/* unknown version */
	KEYREF_ERR_NAME,	/* name with a NUL byte */
	KEYREF_ERR_SOCKET,	/* socket too long, not absolute, or NUL */
	KEYREF_ERR_SPKI,	/* empty spki */
	KEYREF_ERR_TRAILING,	/* bytes after spki */
	KEYREF_ERR_KEY_ID,	/* key_id is not SHA-256(spki) */
	KEYREF_ERR_SPACE,	/* encode: output buffer too small */
	KEYREF_ERR_ENDPOINT,	/* an endpoint malformed or repeated, none,
				   too many, or a socket beside them */
	KEYREF_ERR_TLSFILE,	/* a TLS file not absolute, too long, NUL,
				   or without a tls:// endpoint */
};

size_t		 keyref_len(const struct keyref *);
size_t		 keyref_encode(const struct keyref *, uint8_t *, size_t);
enum keyref_err	 keyref_decode(const uint8_t *, size_t, struct keyref *);
const char	*keyref_strerror(enum keyref_err);
void		 keyref_key_id(const uint8_t *, size_t,
		    uint8_t [EDGE_KEY_ID_LEN]);
const char	*keyref_endpoint_parse(const char *, size_t,
		    struct keyref_endpoint *);

/* EDGE_TYPE_KEY_INFO response payload, decoded in place. */
struct edge_keyinfo {
	uint8_t		 key_id[EDGE_KEY_ID_LEN];
	uint8_t		 kind;		/* EDGE_KIND_* */
	uint16_t	 bits;
	uint16_t	 group;		/* TLS NamedGroup of an EC key, else 0 */
	uint8_t		 operations;	/* EDGE_OP_* */
	const char	*name;
	size_t		 namelen;
	const uint8_t	*spki;
	size_t		 spkilen;
	const uint8_t	*chain;		/* cert<3> entries, leaf first */
	size_t		 chainlen;
};

int	edge_keyinfo_decode(const uint8_t *, size_t, struct edge_keyinfo *);
int	edge_chain_next(const uint8_t **, size_t *, const uint8_t **,
	    size_t *);

#endif
