/*
 * A fake lurkd's reading and answering, shared by client_test.c and
 * failover_test.c (static: each includes it once).
 */
#ifndef REGRESS_PROVIDER_FAKE_H
#define REGRESS_PROVIDER_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lurk.h"

static int
readn(int fd, uint8_t *b, size_t n)
{
	ssize_t	 r;
	size_t	 off = 0;

	while (off < n) {
		if ((r = read(fd, b + off, n - off)) <= 0)
			return -1;
		off += r;
	}
	return 0;
}

/* msg, a request of len bytes, sent back with status, framed so */
static void
fake_answer(int fd, uint8_t *msg, size_t len, uint8_t status, int lenmode)
{
	struct lurk_hdr	 h;
	static const uint8_t state[4] = { 1, 2, 3, 4 };

	lurk_hdr_decode(msg, &h);
	h.status = status;
	if (status != LURK_ST_SUCCESS) {
		memcpy(msg + LURK_HDR_LEN, state, 4);
		len = LURK_HDR_LEN + 4;
	}
	h.length = lurk_length_field(len - LURK_HDR_LEN, lenmode);
	lurk_hdr_encode(&h, msg);
	/* EPIPE: a client that gave up (a timed-out ping) */
	if (write(fd, msg, len) != (ssize_t)len && errno != EPIPE)
		perror("fake lurkd: write");
}

#endif
