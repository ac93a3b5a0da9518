// SPDX-License-Identifier: MIT
/* Decoding L1's messages: everything from the guest is hostile input. */
#include <criterion/criterion.h>
#include <string.h>

#include "channel.h"

#define MEM 65536
static uint8_t mem[MEM];
static struct chan_msg msg;
static char err[256];

/* Put a message at gpa with the given strings; returns its header for tweaking. */
static struct nvm_msg *put(uint64_t gpa, uint16_t type, const char *s0, const char *s1)
{
	struct nvm_msg *m = (struct nvm_msg *)(mem + gpa);
	size_t a = strlen(s0), b = strlen(s1);

	memset(m, 0, sizeof(*m));
	m->magic = NVM_MSG_MAGIC;
	m->type = type;
	m->arg = 3;
	m->val[0] = 0x1122334455667788ull;
	m->str_len[0] = (uint16_t)a;
	m->str_len[1] = (uint16_t)b;
	memcpy(m->str, s0, a);
	memcpy(m->str + a, s1, b);
	m->size = (uint16_t)(NVM_MSG_HDR_SIZE + a + b);
	return m;
}

static int decode(uint64_t gpa)
{
	return chan_decode(mem, MEM, gpa, &msg, err, sizeof(err));
}

Test(channel, decodes_a_stage_end)
{
	put(0x100, NVM_MSG_STAGE_END, "reason", "details\nline 2");
	cr_assert_eq(decode(0x100), 0, "%s", err);
	cr_assert_eq(msg.type, NVM_MSG_STAGE_END);
	cr_assert_eq(msg.arg, 3);
	cr_assert_eq(msg.val[0], 0x1122334455667788ull);
	cr_assert_str_eq(msg.str[0], "reason");
	cr_assert_str_eq(msg.str[1], "details\nline 2");
	cr_assert_str_eq(msg.str[2], "");
}

Test(channel, replaces_control_and_high_bytes)
{
	put(0, NVM_MSG_LOG, "a\033[31mb\xff", "");
	cr_assert_eq(decode(0), 0, "%s", err);
	cr_assert_str_eq(msg.str[0], "a?[31mb?");
}

Test(channel, rejects_address_outside_ram)
{
	cr_assert_eq(decode(MEM), -1);
	cr_assert(strstr(err, "outside guest RAM"), "%s", err);
	cr_assert_eq(decode(MEM - 4), -1, "header would run past the end");
	cr_assert_eq(decode(~0ull), -1);
}

Test(channel, rejects_bad_magic_and_type)
{
	put(0, NVM_MSG_LOG, "x", "")->magic = 0xdeadbeef;
	cr_assert_eq(decode(0), -1);
	cr_assert(strstr(err, "magic"), "%s", err);
	put(0, NVM_MSG_TYPE_MAX, "x", "");
	cr_assert_eq(decode(0), -1);
	cr_assert(strstr(err, "type"), "%s", err);
	put(0, 0, "x", "");
	cr_assert_eq(decode(0), -1);
}

Test(channel, rejects_sizes_that_do_not_add_up)
{
	put(0, NVM_MSG_LOG, "hello", "")->str_len[0] = 0xfff0;
	cr_assert_eq(decode(0), -1);
	cr_assert(strstr(err, "do not add up"), "%s", err);
	put(0, NVM_MSG_LOG, "hello", "")->size = 0xffff;
	cr_assert_eq(decode(0), -1);
	cr_assert(strstr(err, "size"), "%s", err);
	put(0, NVM_MSG_LOG, "hello", "")->size = 4;
	cr_assert_eq(decode(0), -1);
}

Test(channel, rejects_message_running_past_ram)
{
	uint64_t gpa = MEM - NVM_MSG_HDR_SIZE - 2;
	put(gpa, NVM_MSG_LOG, "ab", "");
	cr_assert_eq(decode(gpa), 0, "exactly at the end is fine: %s", err);
	struct nvm_msg *m = (struct nvm_msg *)(mem + gpa);
	m->str_len[0] = 3;
	m->size += 1;
	cr_assert_eq(decode(gpa), -1);
}

Test(channel, rejects_nonzero_reserved)
{
	put(0, NVM_MSG_LOG, "x", "")->reserved = 1;
	cr_assert_eq(decode(0), -1);
	cr_assert(strstr(err, "reserved"), "%s", err);
}

Test(channel, takes_the_largest_message)
{
	static char big[NVM_MSG_MAX];
	memset(big, 'z', NVM_MSG_MAX - NVM_MSG_HDR_SIZE);
	put(0, NVM_MSG_LOG, big, "");
	cr_assert_eq(decode(0), 0, "%s", err);
	cr_assert_eq(strlen(msg.str[0]), NVM_MSG_MAX - NVM_MSG_HDR_SIZE);
}

/* --- the message ring (wire.h): header checks, then message by message --- */

#define RING 0x2000
static uint64_t data_gpa;
static uint32_t used;

static struct nvm_ring *ring_put(uint32_t size, uint32_t n_used)
{
	struct nvm_ring *r = (struct nvm_ring *)(mem + RING);

	memset(mem, 0, sizeof(mem));
	r->magic = NVM_RING_MAGIC;
	r->size = size;
	r->used = n_used;
	return r;
}

static int ring_open(uint64_t gpa)
{
	return chan_ring_open(mem, MEM, gpa, &data_gpa, &used, err, sizeof(err));
}

Test(channel_ring, opens_a_ring_and_walks_its_padded_messages)
{
	struct nvm_ring *r = ring_put(4096, 0);
	uint8_t *d = mem + RING + NVM_RING_HDR_SIZE;
	uint32_t off = 0;

	/* Two messages, the first 5 string bytes long: padded to 8. */
	put(RING + NVM_RING_HDR_SIZE, NVM_MSG_STAGE_BEGIN, "hello", "");
	uint32_t first = (NVM_MSG_HDR_SIZE + 5 + 7) & ~7u;
	put(RING + NVM_RING_HDR_SIZE + first, NVM_MSG_STAGE_END, "ok", "d");
	r->used = first + ((NVM_MSG_HDR_SIZE + 3 + 7) & ~7u);

	cr_assert_eq(ring_open(RING), 0, "%s", err);
	cr_assert_eq(data_gpa, RING + NVM_RING_HDR_SIZE);
	cr_assert_eq(used, r->used);
	cr_assert_eq(chan_ring_next(d, used, &off, &msg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(msg.type, NVM_MSG_STAGE_BEGIN);
	cr_assert_str_eq(msg.str[0], "hello");
	cr_assert_eq(off, first, "the next message starts at the 8-byte boundary, not at %u", off);
	cr_assert_eq(chan_ring_next(d, used, &off, &msg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(msg.type, NVM_MSG_STAGE_END);
	cr_assert_str_eq(msg.str[1], "d");
	cr_assert_eq(off, used);
}

Test(channel_ring, refuses_a_message_reaching_past_the_used_bytes)
{
	struct nvm_ring *r = ring_put(4096, 0);
	uint8_t *d = mem + RING + NVM_RING_HDR_SIZE;
	uint32_t off = 0;

	put(RING + NVM_RING_HDR_SIZE, NVM_MSG_LOG, "0123456789", "");
	r->used = NVM_MSG_HDR_SIZE + 4;          /* cuts the message's strings */
	cr_assert_eq(ring_open(RING), 0, "%s", err);
	cr_assert_eq(chan_ring_next(d, used, &off, &msg, err, sizeof(err)), -1);
	cr_assert(strstr(err, "offset 0 of"), "%s", err);
	cr_assert(strstr(err, "past the end"), "%s", err);
}

Test(channel_ring, refuses_bad_headers)
{
	ring_put(4096, 0);
	cr_assert_eq(ring_open(MEM - 8), -1, "a header past the end of RAM");
	cr_assert(strstr(err, "outside guest RAM"), "%s", err);
	cr_assert_eq(ring_open(RING + 8), -1, "no magic there");
	cr_assert(strstr(err, "magic"), "%s", err);

	ring_put(4096, 4097);
	cr_assert_eq(ring_open(RING), -1);
	cr_assert(strstr(err, "4097 bytes used of its 4096"), "%s", err);

	ring_put(4100, 0);
	cr_assert_eq(ring_open(RING), -1, "size not a multiple of 8");
	cr_assert(strstr(err, "size 4100"), "%s", err);

	ring_put(0, 0);
	cr_assert_eq(ring_open(RING), -1, "empty ring");

	ring_put(NVM_RING_MAX + 8, 0);
	cr_assert_eq(ring_open(RING), -1, "larger than the VMM accepts");

	ring_put(MEM - RING, 0);                  /* data would end past RAM */
	cr_assert_eq(ring_open(RING), -1);
	cr_assert(strstr(err, "inside guest RAM"), "%s", err);

	ring_put(MEM - RING - NVM_RING_HDR_SIZE, 0);   /* data ends exactly at RAM's end */
	cr_assert_eq(ring_open(RING), 0, "%s", err);

	ring_put(4096, 0)->reserved = 1;
	cr_assert_eq(ring_open(RING), -1);
	cr_assert(strstr(err, "reserved"), "%s", err);
}
