/*
 * fuzz_lurkhdr: liblurk's header codec and the lurk extension's
 * capabilities (liblurk/lurk.c).
 *
 * Input: header(16) outlen(2) extensions...
 *
 * What must hold: decode then encode gives back the same 16 bytes; the
 * payload length of either length mode maps back to the length field;
 * every (designation, error) has a status that is not "request" and a
 * name; the capabilities of the extensions listed (pairs of bytes) are
 * written only into a buffer large enough, at the announced length, and
 * read back to the same list and lurk_state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurk.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t	 state[LURK_STATE_LEN] = { 1, 2, 3, 4 };
	struct lurk_ext_id	 ext[256];
	struct lurk_hdr		 h;
	uint8_t			 b[LURK_HDR_LEN], *out;
	uint32_t		 plen;
	size_t			 outlen, next, n, i;
	int			 mode, err;

	if (size < LURK_HDR_LEN + 2)
		return 0;
	lurk_hdr_decode(data, &h);
	lurk_hdr_encode(&h, b);
	if (memcmp(b, data, LURK_HDR_LEN) != 0)
		abort();
	for (mode = LURK_LEN_PAYLOAD; mode <= LURK_LEN_MESSAGE; mode++) {
		plen = 0xdeadbeef;
		if (lurk_payload_len(&h, mode, &plen) == -1) {
			if (mode != LURK_LEN_MESSAGE ||
			    h.length >= LURK_HDR_LEN)
				abort();
			continue;
		}
		if (lurk_length_field(plen, mode) != h.length ||
		    (mode == LURK_LEN_MESSAGE && plen > h.length))
			abort();
	}
	for (err = LURK_ERR_UNDEFINED; err <= LURK_ERR_TEMPORARY; err++)
		if (lurk_status(h.designation, err) == LURK_ST_REQUEST ||
		    lurk_status(h.designation, err) == LURK_ST_SUCCESS ||
		    lurk_err_name(err) == NULL)
			abort();
	if (strlen(edge_type_name(h.type)) == 0 ||
	    strlen(edge_status_name(h.status)) == 0)
		abort();

	outlen = data[16] << 8 | data[17];
	data += LURK_HDR_LEN + 2;
	size -= LURK_HDR_LEN + 2;
	next = size / 2;
	if (next > sizeof(ext) / sizeof(ext[0]))
		next = sizeof(ext) / sizeof(ext[0]);
	for (i = 0; i < next; i++) {
		ext[i].designation = data[2 * i];
		ext[i].version = data[2 * i + 1];
	}
	if ((out = malloc(outlen + 1)) == NULL)
		abort();
	n = lurk_capabilities_encode(out, outlen, ext, next, state);
	if (outlen < lurk_capabilities_len(next)) {
		if (n != 0)
			abort();
	} else {
		if (n != lurk_capabilities_len(next) ||
		    (size_t)(out[0] << 8 | out[1]) != 2 * next ||
		    memcmp(out + n - LURK_STATE_LEN, state,
		    LURK_STATE_LEN) != 0)
			abort();
		for (i = 0; i < next; i++)
			if (out[2 + 2 * i] != ext[i].designation ||
			    out[3 + 2 * i] != ext[i].version)
				abort();
	}
	free(out);
	return 0;
}
