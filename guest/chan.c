// SPDX-License-Identifier: MIT
/*
 * L1's side of the wire (nestvmm/wire.h): build a message in one static
 * buffer and hand its guest-physical address to the VMM with one OUT.
 */
#include "l1.h"

static union {
	struct nvm_msg m;
	u8 raw[NVM_MSG_MAX];
} msgbuf __attribute__((aligned(8)));

static void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

void chan_send(u16 type, u32 arg, const u64 *vals, const char *s0,
	       const char *s1, const char *s2)
{
	const char *s[NVM_MSG_STRS] = { s0, s1, s2 };
	size_t room = NVM_MSG_MAX - NVM_MSG_HDR_SIZE, off = 0;

	msgbuf.m.magic = NVM_MSG_MAGIC;
	msgbuf.m.type = type;
	msgbuf.m.arg = arg;
	msgbuf.m.reserved = 0;
	for (int i = 0; i < NVM_MSG_VALS; i++)
		msgbuf.m.val[i] = vals ? vals[i] : 0;
	/* Strings past the buffer are cut, never overflowed. */
	for (int i = 0; i < NVM_MSG_STRS; i++) {
		size_t n = s[i] ? strlen(s[i]) : 0;
		if (n > room - off)
			n = room - off;
		memcpy(msgbuf.m.str + off, s[i], n);
		msgbuf.m.str_len[i] = (u16)n;
		off += n;
	}
	msgbuf.m.size = (u16)(NVM_MSG_HDR_SIZE + off);
	outl(NVM_PORT_MSG, (u32)gpa_of(&msgbuf));
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
