// SPDX-License-Identifier: MIT
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"

int chan_decode(const uint8_t *mem, uint64_t mem_size, uint64_t gpa, struct chan_msg *out,
		char *err, size_t errlen)
{
	struct nvm_msg h;
	size_t total = 0;

	if (gpa >= mem_size || mem_size - gpa < NVM_MSG_HDR_SIZE) {
		snprintf(err, errlen, "message address 0x%lx is outside guest RAM (0x%lx bytes)",
			 gpa, mem_size);
		return -1;
	}
	memcpy(&h, mem + gpa, sizeof(h));   /* one copy: the guest cannot change it under us */
	if (h.magic != NVM_MSG_MAGIC) {
		snprintf(err, errlen, "bad message magic 0x%08x at 0x%lx", h.magic, gpa);
		return -1;
	}
	if (h.type == 0 || h.type >= NVM_MSG_TYPE_MAX) {
		snprintf(err, errlen, "unknown message type %u", h.type);
		return -1;
	}
	if (h.size < NVM_MSG_HDR_SIZE || h.size > NVM_MSG_MAX || h.size > mem_size - gpa) {
		snprintf(err, errlen, "message size %u is outside %u..%u or past the end of RAM",
			 h.size, NVM_MSG_HDR_SIZE, NVM_MSG_MAX);
		return -1;
	}
	for (int i = 0; i < NVM_MSG_STRS; i++)
		total += h.str_len[i];
	if (total != (size_t)(h.size - NVM_MSG_HDR_SIZE)) {
		snprintf(err, errlen, "string lengths %u+%u+%u do not add up to the message size %u",
			 h.str_len[0], h.str_len[1], h.str_len[2], h.size);
		return -1;
	}
	if (h.reserved) {
		snprintf(err, errlen, "reserved header field is 0x%x, not 0", h.reserved);
		return -1;
	}

	out->type = h.type;
	out->arg = h.arg;
	memcpy(out->val, h.val, sizeof(out->val));
	const uint8_t *s = mem + gpa + NVM_MSG_HDR_SIZE;
	for (int i = 0; i < NVM_MSG_STRS; i++) {
		for (unsigned int k = 0; k < h.str_len[i]; k++) {
			uint8_t c = s[k];
			out->str[i][k] = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? (char)c : '?';
		}
		out->str[i][h.str_len[i]] = '\0';
		s += h.str_len[i];
	}
	return 0;
}

int chan_ring_open(const uint8_t *mem, uint64_t mem_size, uint64_t ring_gpa, uint64_t *data_gpa,
		   uint32_t *used, char *err, size_t errlen)
{
	struct nvm_ring h;

	if (ring_gpa >= mem_size || mem_size - ring_gpa < NVM_RING_HDR_SIZE) {
		snprintf(err, errlen, "message ring address 0x%lx is outside guest RAM (0x%lx bytes)",
			 ring_gpa, mem_size);
		return -1;
	}
	memcpy(&h, mem + ring_gpa, sizeof(h));   /* one copy, as for messages */
	if (h.magic != NVM_RING_MAGIC) {
		snprintf(err, errlen, "bad message ring magic 0x%08x at 0x%lx", h.magic, ring_gpa);
		return -1;
	}
	if (h.size == 0 || h.size > NVM_RING_MAX || h.size % NVM_RING_ALIGN ||
	    h.size > mem_size - ring_gpa - NVM_RING_HDR_SIZE) {
		snprintf(err, errlen, "message ring size %u is not a multiple of %u in 1..%u inside "
			 "guest RAM", h.size, NVM_RING_ALIGN, NVM_RING_MAX);
		return -1;
	}
	if (h.used > h.size) {
		snprintf(err, errlen, "message ring claims %u bytes used of its %u", h.used, h.size);
		return -1;
	}
	if (h.reserved) {
		snprintf(err, errlen, "reserved message ring field is 0x%x, not 0", h.reserved);
		return -1;
	}
	*data_gpa = ring_gpa + NVM_RING_HDR_SIZE;
	*used = h.used;
	return 0;
}

int chan_ring_next(const uint8_t *data, uint32_t used, uint32_t *off, struct chan_msg *out,
		   char *err, size_t errlen)
{
	char why[200];
	uint16_t size;

	/* The used bytes are the whole world: a message may not reach past them. */
	if (chan_decode(data, used, *off, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "message ring, offset %u of %u used: %s", *off, used, why);
		return -1;
	}
	memcpy(&size, data + *off + offsetof(struct nvm_msg, size), sizeof(size));
	*off += (size + NVM_RING_ALIGN - 1) & ~(NVM_RING_ALIGN - 1);
	if (*off > used)
		*off = used;   /* padding of the last message may be cut */
	return 0;
}
