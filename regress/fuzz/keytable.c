/*
 * keyproc.c's key table, for the tests and fuzz targets that run
 * keyproc's drafts code without it (drafts_test, fuzz_ticket): no key.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "keyproc/keyproc.h"

struct key *
keyproc_key(uint32_t index)
{
	abort();
}

struct key *
keyproc_key_byspki(const uint8_t *id, size_t len)
{
	return NULL;
}

uint32_t
keyproc_generation(void)
{
	return 1;
}
