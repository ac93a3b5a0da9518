// SPDX-License-Identifier: MIT
/*
 * L1's side of the wire (nestvmm/wire.h). Messages are appended to a ring in
 * L1's memory; the ring's GPA goes to the VMM with one OUT only when a
 * message must arrive now (the end of a stage, DONE, a failure, any message
 * under --trace) or the ring is full. One exit then carries a test's BEGIN,
 * its log lines and its END instead of one exit each.
 */
#include "l1.h"

#define RING_SIZE (16u << 10)

static struct {
	struct nvm_ring h;
	u8 data[RING_SIZE];
} ring __attribute__((aligned(8)));

static void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

/* The VMM decodes ring.h.used bytes and sets used back to 0. */
static void ring_flush(void)
{
	outl(NVM_PORT_RING, (u32)gpa_of(&ring));
}

void chan_flush(void)
{
	if (ring.h.magic != NVM_RING_MAGIC)
		chan_init();
	ring_flush();
}

/* Before the first message: tell the VMM where the ring is, so it can drain it after a crash. */
void chan_init(void)
{
	ring.h.magic = NVM_RING_MAGIC;
	ring.h.size = RING_SIZE;
	ring.h.used = 0;
	ring.h.reserved = 0;
	ring_flush();
}

/* Messages that end a step or the run, or that the VMM must see at once. */
static bool must_flush(u16 type)
{
	return type != NVM_MSG_LOG && type != NVM_MSG_STAGE_BEGIN;
}

void chan_send(u16 type, u32 arg, const u64 *vals, const char *s0,
	       const char *s1, const char *s2)
{
	const char *s[NVM_MSG_STRS] = { s0, s1, s2 };
	size_t room = NVM_MSG_MAX - NVM_MSG_HDR_SIZE, off = 0, len = NVM_MSG_HDR_SIZE;

	for (int i = 0; i < NVM_MSG_STRS; i++)
		len += s[i] ? strlen(s[i]) : 0;
	if (len > NVM_MSG_MAX)
		len = NVM_MSG_MAX;
	len = (len + NVM_RING_ALIGN - 1) & ~(size_t)(NVM_RING_ALIGN - 1);
	if (ring.h.magic != NVM_RING_MAGIC)
		chan_init();
	if (ring.h.used + len > RING_SIZE)
		ring_flush();

	struct nvm_msg *m = (struct nvm_msg *)(ring.data + ring.h.used);
	m->magic = NVM_MSG_MAGIC;
	m->type = type;
	m->arg = arg;
	m->reserved = 0;
	for (int i = 0; i < NVM_MSG_VALS; i++)
		m->val[i] = vals ? vals[i] : 0;
	/* Strings past the message limit are cut, never overflowed. */
	for (int i = 0; i < NVM_MSG_STRS; i++) {
		size_t n = s[i] ? strlen(s[i]) : 0;
		if (n > room - off)
			n = room - off;
		memcpy(m->str + off, s[i], n);
		m->str_len[i] = (u16)n;
		off += n;
	}
	m->size = (u16)(NVM_MSG_HDR_SIZE + off);
	/* The message is whole before used counts it: a crash here loses only this one. */
	__asm__ volatile("" ::: "memory");
	ring.h.used += (u32)len;
	if (must_flush(type) || l1_cfg.trace >= NVM_TRACE_STEPS)
		ring_flush();
}

void chan_log(u32 level, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	chan_send(NVM_MSG_LOG, level, 0, line, 0, 0);
}

void l1_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void l1_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	chan_send(NVM_MSG_FAIL, (u32)line, 0, file, msg, 0);
	l1_halt();
}
