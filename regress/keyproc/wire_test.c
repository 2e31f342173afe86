/*
 * Structs keyproc sends to another process carry no byte of its stack:
 * compose each through the function keyproc uses, read the bytes off the
 * socket and check that every byte outside the struct's fields (its
 * padding) is zero.  The stack is filled with 0xa5 before each call, so
 * that a struct whose padding was left unset shows 0xa5 bytes here.
 * (gcc's -ftrivial-auto-var-init would not do: it zeroes padding.)
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "keyproc/keyproc.h"
#include "lurkd.h"
#include "regress/test.h"

struct field {
	size_t	 off;
	size_t	 len;
};

static void __attribute__((__noinline__))
poison_stack(void)
{
	volatile uint8_t	 junk[16384];
	size_t			 i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

/* The bytes of p not covered by a field are zero; *npad: how many. */
static int
padding_zero(const uint8_t *p, size_t size, const struct field *f,
    size_t nf, size_t *npad)
{
	size_t	 i, j;
	int	 inside, ok = 1;

	*npad = 0;
	for (i = 0; i < size; i++) {
		for (inside = 0, j = 0; j < nf; j++)
			if (i >= f[j].off && i < f[j].off + f[j].len)
				inside = 1;
		if (inside)
			continue;
		(*npad)++;
		if (p[i] != 0) {
			printf("# byte %zu of %zu is 0x%02x\n", i, size, p[i]);
			ok = 0;
		}
	}
	return ok;
}

int
main(void)
{
	static const struct field res_fields[] = {
		{ offsetof(struct keyop_res, status), 1 },
		{ offsetof(struct keyop_res, key), 4 },
		{ offsetof(struct keyop_res, generation), 4 },
		{ offsetof(struct keyop_res, len), 4 },
	};
	struct imsgbuf		 ib;
	struct key		 k;
	struct key_loaded	 kl;
	struct keyop_res	 res;
	uint8_t			 buf[256], out[3] = { 1, 2, 3 };
	size_t			 npad;
	ssize_t			 n;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    imsgbuf_init(&ib, sv[0]) == -1) {
		perror("setup");
		return 1;
	}

	/* keyproc -> netproc: struct keyop_res, then the answer */
	poison_stack();
	CHECK(keyop_reply(&ib, 7, 1, 5, 2, out, sizeof(out)) == 1 &&
	    imsgbuf_flush(&ib) == 0, "keyop_reply composes and sends");
	n = read(sv[1], buf, sizeof(buf));
	CHECK(n == IMSG_HEADER_SIZE + (ssize_t)sizeof(res) + 3,
	    "keyop_res: header, struct, 3 bytes on the wire");
	if (n == IMSG_HEADER_SIZE + (ssize_t)sizeof(res) + 3) {
		memcpy(&res, buf + IMSG_HEADER_SIZE, sizeof(res));
		CHECK(res.status == 1 && res.key == 5 &&
		    res.generation == 2 && res.len == 3,
		    "keyop_res: status, key, generation and length as given");
		CHECK(padding_zero(buf + IMSG_HEADER_SIZE, sizeof(res),
		    res_fields, 4, &npad), "keyop_res: its padding bytes are "
		    "zero on the wire");
		CHECK(npad == 3, "keyop_res: 3 padding bytes were checked");
	}

	/* keyproc -> parent: struct key_loaded, filled in place */
	memset(&k, 0, sizeof(k));
	k.pub.index = 5;
	memset(k.pub.spki_sha256, 0x11, sizeof(k.pub.spki_sha256));
	memset(&kl, 0xa5, sizeof(kl));
	key_loaded_fill(&kl, &k);
	CHECK(kl.index == 5 && kl.spki_sha256[31] == 0x11,
	    "key_loaded: index and hash as given");
	CHECK(sizeof(kl) == sizeof(kl.index) + sizeof(kl.spki_sha256),
	    "key_loaded: no padding to leak");

	/* keyproc -> parent: struct reload_result, no byte left unset */
	{
		struct reload_result	 r;
		uint8_t			 hash[32];
		size_t			 i, nz;

		memset(hash, 0x22, sizeof(hash));
		memset(&r, 0xa5, sizeof(r));
		reload_result_fill(&r, 7, 0, 3, hash, "key.pem: bad");
		CHECK(r.generation == 7 && r.ok == 0 && r.index == 3 &&
		    r.tablehash[31] == 0x22 &&
		    strcmp(r.error, "key.pem: bad") == 0,
		    "reload_result: generation, ok, index, hash, error as "
		    "given");
		for (i = strlen(r.error), nz = 0; i < sizeof(r.error); i++)
			nz += r.error[i] != 0;
		CHECK(nz == 0, "reload_result: the error's unused bytes are "
		    "zero");
		CHECK(sizeof(r) == 3 * 4 + sizeof(r.tablehash) +
		    sizeof(r.error), "reload_result: no padding to leak");
		memset(&r, 0xa5, sizeof(r));
		reload_result_fill(&r, 8, 1, -1, NULL, NULL);
		for (i = 0, nz = 0; i < sizeof(r.tablehash); i++)
			nz += r.tablehash[i] != 0;
		for (i = 0; i < sizeof(r.error); i++)
			nz += r.error[i] != 0;
		CHECK(r.ok == 1 && r.index == -1 && nz == 0,
		    "reload_result: without hash or error, zeros");
	}
	imsgbuf_clear(&ib);
	TEST_EXIT();
}
