// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: chan_decode() on a guest RAM image made from the input.
 *
 * Input: 8 bytes of little-endian gpa, 4 bytes of RAM size selector, then the
 * RAM image. The image is placed at the end of its own allocation, so any
 * read past the RAM the decoder was given is an ASan report. Each input is
 * decoded at the fuzzed gpa, at 0, and at the last few offsets of RAM, both
 * as one message and as a message ring (chan_ring_open/next) walked to its
 * end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"

static void check(const uint8_t *mem, uint64_t mem_size, uint64_t gpa)
{
	static struct chan_msg out;
	char err[256] = "";

	if (chan_decode(mem, mem_size, gpa, &out, err, sizeof(err)) == 0) {
		if (out.type == 0 || out.type >= NVM_MSG_TYPE_MAX)
			abort();
		for (int i = 0; i < NVM_MSG_STRS; i++) {
			size_t n = strnlen(out.str[i], NVM_MSG_MAX);
			if (n >= NVM_MSG_MAX)
				abort();                   /* not NUL-terminated */
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)out.str[i][k];
				if (!((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t'))
					abort();           /* unsanitized byte let through */
			}
		}
	} else if (!err[0]) {
		abort();
	}
}

/* A ring: each message decodes as above, offsets only grow and stay in the used bytes. */
static void check_ring(const uint8_t *mem, uint64_t mem_size, uint64_t gpa)
{
	static struct chan_msg out;
	uint64_t data_gpa;
	uint32_t used, off = 0;
	char err[320] = "";

	if (chan_ring_open(mem, mem_size, gpa, &data_gpa, &used, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return;
	}
	if (data_gpa > mem_size || used > mem_size - data_gpa || used > NVM_RING_MAX)
		abort();                           /* the header let the data leave RAM */
	while (off < used) {
		uint32_t before = off;

		err[0] = '\0';
		if (chan_ring_next(mem + data_gpa, used, &off, &out, err, sizeof(err)) < 0) {
			if (!err[0])
				abort();
			return;
		}
		if (off <= before || off > used)
			abort();                   /* no progress, or past the used bytes */
	}
}

static void check_both(const uint8_t *mem, uint64_t mem_size, uint64_t gpa)
{
	check(mem, mem_size, gpa);
	check_ring(mem, mem_size, gpa);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t gpa;
	uint32_t sel;

	if (size < 12)
		return 0;
	memcpy(&gpa, data, 8);
	memcpy(&sel, data + 8, 4);
	data += 12, size -= 12;

	uint8_t *mem = malloc(size ? size : 1);
	if (!mem)
		abort();
	memcpy(mem, data, size);
	/* The RAM size the decoder is told: the image size, or (sel odd) less. */
	uint64_t mem_size = (sel & 1) && size ? (sel >> 1) % (size + 1) : size;

	check_both(mem, mem_size, gpa);
	check_both(mem, mem_size, gpa & 0xffff);
	check_both(mem, mem_size, 0);
	for (uint64_t back = 1; back <= 96 && back <= mem_size; back++)
		check_both(mem, mem_size, mem_size - back);
	check_both(mem, mem_size, mem_size);
	check_both(mem, mem_size, UINT64_MAX);
	free(mem);
	return 0;
}
