/*
 * The LURK codec against the drafts' bytes (lurk-drafts.md §1.4).
 */
#include <stdint.h>
#include <string.h>

#include "lurk.h"
#include "regress/test.h"

static const uint8_t ping_req[] = {
	0x00, 0x01, 0x01, 0x00, 0xd5, 0xa2, 0xa1, 0xb1,
	0x95, 0x2d, 0x99, 0x45, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t cap_resp[] = {
	0x00, 0x01, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
	0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x0a,
	0x00, 0x04, 0x00, 0x01, 0x02, 0x01, 0x9a, 0xf1, 0x4e, 0xdf,
};

int
main(void)
{
	struct lurk_hdr		 h;
	struct lurk_ext_id	 ext[2] = { { 0, 1 }, { 2, 1 } };
	uint8_t			 buf[64], state[4] = { 0x9a, 0xf1, 0x4e, 0xdf };
	uint32_t		 plen;
	size_t			 n;

	lurk_hdr_decode(ping_req, &h);
	CHECK(h.designation == 0 && h.version == 1 && h.type == 1 &&
	    h.status == 0, "decode: designation, version, type, status");
	CHECK(h.id == 0xd5a2a1b1952d9945ULL, "decode: 64-bit id, big-endian");
	CHECK(h.length == 0, "decode: length");
	h.status = LURK_ST_SUCCESS;
	lurk_hdr_encode(&h, buf);
	CHECK(memcmp(buf, ping_req, 3) == 0 && buf[3] == 1 &&
	    memcmp(buf + 4, ping_req + 4, 12) == 0,
	    "encode: ping response bytes of §1.4");

	/* capabilities response of §1.4, lurk v1 + tls13 v1 */
	lurk_hdr_decode(cap_resp, &h);
	n = lurk_capabilities_encode(buf + 16, sizeof(buf) - 16, ext, 2,
	    state);
	CHECK(n == 10 && lurk_capabilities_len(2) == 10,
	    "capabilities payload is 10 bytes for two extensions");
	h.length = lurk_length_field(n, LURK_LEN_PAYLOAD);
	lurk_hdr_encode(&h, buf);
	CHECK(memcmp(buf, cap_resp, sizeof(cap_resp)) == 0,
	    "capabilities response equals §1.4 byte for byte");
	CHECK(lurk_capabilities_encode(buf, 9, ext, 2, state) == 0,
	    "capabilities refuses a short output buffer");

	/* length modes */
	h.length = 20;
	CHECK(lurk_payload_len(&h, LURK_LEN_PAYLOAD, &plen) == 0 && plen == 20,
	    "payload-only length");
	CHECK(lurk_payload_len(&h, LURK_LEN_MESSAGE, &plen) == 0 && plen == 4,
	    "whole-message length");
	h.length = 15;
	CHECK(lurk_payload_len(&h, LURK_LEN_MESSAGE, &plen) == -1,
	    "whole-message length below the header is invalid");
	CHECK(lurk_length_field(4, LURK_LEN_MESSAGE) == 20 &&
	    lurk_length_field(4, LURK_LEN_PAYLOAD) == 4,
	    "length field for each mode");

	/* statuses are numbered per designation */
	CHECK(lurk_status(0, LURK_ERR_TYPE) == 5 &&
	    lurk_status(0, LURK_ERR_STATUS) == 6 &&
	    lurk_status(0, LURK_ERR_FORMAT) == 3 &&
	    lurk_status(0, LURK_ERR_EXTENSION) == 4 &&
	    lurk_status(0, LURK_ERR_TEMPORARY) == 7,
	    "lurk status numbers");
	CHECK(lurk_status(2, LURK_ERR_TYPE) == 11 &&
	    lurk_status(2, LURK_ERR_STATUS) == 15 &&
	    lurk_status(2, LURK_ERR_FORMAT) == 3,
	    "tls13 status numbers (invalid_type 11, invalid_status 15)");
	CHECK(lurk_status(1, LURK_ERR_FORMAT) == 3 &&
	    lurk_status(1, LURK_ERR_TYPE) == 2,
	    "tls12 status numbers");
	CHECK(lurk_status(5, LURK_ERR_EXTENSION) == 4,
	    "unknown designation uses lurk numbers");
	TEST_EXIT();
}
