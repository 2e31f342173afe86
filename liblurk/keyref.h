/*
 * The key reference an edge holds instead of a private key (R8), and the
 * edge extension's key_info response it is built from.  Pure functions
 * over byte buffers: no allocation, no I/O, strict bounds; fuzzable.
 *
 * Reference blob (PEM label "LURK KEY REFERENCE"):
 *	"LURKREF" version(1)=1 key_id(32) name<1> socket<2> spki<2>
 * nothing trailing; key_id is SHA-256 of spki (SubjectPublicKeyInfo DER).
 * An empty socket means "not set": the edge's default applies.
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
#define KEYREF_NAME_MAX		255	/* name<1> */
#define KEYREF_SOCKET_MAX	107	/* what fits sun_path with its NUL */
#define KEYREF_SPKI_MAX		0xffff	/* spki<2> */

/* Decoded views point into the caller's buffer. */
struct keyref {
	uint8_t		 key_id[EDGE_KEY_ID_LEN];
	const char	*name;		/* not NUL-terminated */
	size_t		 namelen;
	const char	*socket;	/* not NUL-terminated; 0 = not set */
	size_t		 socketlen;
	const uint8_t	*spki;
	size_t		 spkilen;
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
};

size_t		 keyref_len(const struct keyref *);
size_t		 keyref_encode(const struct keyref *, uint8_t *, size_t);
enum keyref_err	 keyref_decode(const uint8_t *, size_t, struct keyref *);
const char	*keyref_strerror(enum keyref_err);
void		 keyref_key_id(const uint8_t *, size_t,
		    uint8_t [EDGE_KEY_ID_LEN]);

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
