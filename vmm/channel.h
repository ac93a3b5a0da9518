/* SPDX-License-Identifier: MIT */
/* The VMM's side of the wire (nestvmm/wire.h): decode one message from guest memory. */
#ifndef NESTVMM_CHANNEL_H
#define NESTVMM_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "nestvmm/wire.h"

struct chan_msg {
	uint16_t type;
	uint32_t arg;
	uint64_t val[NVM_MSG_VALS];
	char str[NVM_MSG_STRS][NVM_MSG_MAX];   /* NUL-terminated, sanitized copies */
};

/*
 * Decode the message at guest-physical gpa in a guest RAM of mem_size bytes.
 * Everything is checked: bounds, magic, type, sizes, lengths. Bytes outside
 * printable ASCII (but for \n and \t) become '?'. 0, or -1 with err saying
 * what was wrong.
 */
int chan_decode(const uint8_t *mem, uint64_t mem_size, uint64_t gpa, struct chan_msg *out,
		char *err, size_t errlen);

/*
 * L1's message ring (nestvmm/wire.h) at guest-physical ring_gpa: check its
 * header and return, in *data_gpa and *used, where its messages are and how
 * many bytes of them there are. 0, or -1 with err saying what was wrong.
 */
int chan_ring_open(const uint8_t *mem, uint64_t mem_size, uint64_t ring_gpa, uint64_t *data_gpa,
		   uint32_t *used, char *err, size_t errlen);

/*
 * Decode the message at byte *off of a ring's used bytes (data = its first
 * byte in host memory) and advance *off past it and its padding. 0, or -1
 * with err naming the offset and what was wrong.
 */
int chan_ring_next(const uint8_t *data, uint32_t used, uint32_t *off, struct chan_msg *out,
		   char *err, size_t errlen);

#endif
