// SPDX-License-Identifier: MIT
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
