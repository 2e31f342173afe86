/*
 * What keyproc composes for other processes from structs.  Every byte of
 * such a struct is set, its padding too: nothing of keyproc's stack may
 * cross to another process (regress/keyproc/wire.t checks the bytes).
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <stdint.h>
#include <string.h>

#include "imsg.h"
#include "keyproc.h"
#include "lurkd.h"

/*
 * The answer to netproc's request id: status, the key used (its index
 * in the table of generation gen, or KEYOP_NO_KEY), then out.
 */
int
keyop_reply(struct imsgbuf *ib, uint32_t id, uint8_t status, uint32_t key,
    uint32_t gen, const uint8_t *out, size_t outlen)
{
	struct keyop_res	 res;
	struct iovec		 iov[2];

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.key = key;
	res.generation = gen;
	res.len = outlen;
	iov[0].iov_base = &res;
	iov[0].iov_len = sizeof(res);
	iov[1].iov_base = (void *)(uintptr_t)out;
	iov[1].iov_len = outlen;
	return imsg_composev(ib, IMSG_KEYOP_RES, id, 0, -1, iov, 2);
}

/* keyproc[0] tells the parent a key's SPKI hash (one block per key). */
void
key_loaded_fill(struct key_loaded *kl, const struct key *k)
{
	memset(kl, 0, sizeof(*kl));
	kl->index = k->pub.index;
	memcpy(kl->spki_sha256, k->pub.spki_sha256, sizeof(kl->spki_sha256));
}

/*
 * A keyproc's answer to a staged generation: ok, or the key (index, -1
 * for none) and why; the hash of the table it loaded.  error is copied
 * up to its size, NUL-terminated.
 */
void
reload_result_fill(struct reload_result *r, uint32_t gen, int ok, int index,
    const uint8_t *tablehash, const char *error)
{
	memset(r, 0, sizeof(*r));
	r->generation = gen;
	r->ok = ok;
	r->index = index;
	if (tablehash != NULL)
		memcpy(r->tablehash, tablehash, sizeof(r->tablehash));
	if (error != NULL)
		strlcpy(r->error, error, sizeof(r->error));
}
