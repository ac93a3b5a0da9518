// SPDX-License-Identifier: MIT
/*
 * l2.intercept.io-bitmap: IN/OUT of L2 exit to L1 exactly when L1's I/O
 * bitmap marks a port the access touches, with port, size, direction and
 * the string/REP flags (APM 15.10 "IOIO Intercepts": the IOPM, 15.10.2
 * EXITINFO1, "all bits for the bytes accessed are checked"; SDM 25.6.4
 * "I/O-Bitmap Addresses", 26.1.3, exit reason 30, table 28-5).
 *
 * L1 starts from an empty bitmap and marks port 5EDh only. Ports
 * 5E8h-5EBh stay clear: the VMM's echo latch (nestvmm/wire.h) answers
 * L2's passed-through accesses there, so L2 reads back what it wrote.
 *
 *   OUT/IN byte, word, dword at 5E8h     pass: L2 reads back its values
 *   OUT byte 5EDh                        exits: port 5EDh, size 1, out, AL
 *   IN word 5ECh (5ECh-5EDh)             exits: the second byte is marked
 *   OUT dword 5EAh (5EAh-5EDh)           exits: only its last byte is marked
 *   REP OUTSB 5EDh, RCX=3                exits: string, REP, size 1
 *   REP INSB 5E8h, RCX=4                 passes: L2's buffer filled from the latch
 * L1 answers the intercepted IN with a value L2 checks, and emulates the
 * REP OUTSB by consuming RCX and RSI.
 */
#include "test.h"
#include "nestvmm/wire.h"

#define PORT_ECHO   NVM_PORT_ECHO           /* 5E8h, passed through */
#define PORT_MARKED (NVM_PORT_ECHO + 5)     /* 5EDh, the only marked port */
#define IN_WORD     0xbeefu                 /* what L1 answers for IN word 5ECh */

extern const char l2_out_b[], l2_in_w[], l2_out_d[], l2_outs[];
static u8 l2_buf[8];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u8 b;
	u16 w;
	u32 d;
	u64 rcx, rsi;

	(void)unused;
	/* Passed through: the latch returns each size as written. */
	__asm__ volatile("outb %b0, %w1\n\tinb %w1, %b0" : "=a"(b) : "d"(PORT_ECHO), "0"(0x5a));
	L2_ASSERT(b == 0x5a, "IN byte from passed-through port 5E8h read 0x%x, expected 0x5a", b);
	__asm__ volatile("outw %w0, %w1\n\tinw %w1, %w0" : "=a"(w) : "d"(PORT_ECHO), "0"(0x1234));
	L2_ASSERT(w == 0x1234, "IN word from port 5E8h read 0x%x, expected 0x1234", w);
	__asm__ volatile("outl %0, %w1\n\tinl %w1, %0" : "=a"(d) : "d"(PORT_ECHO), "0"(0xdeadbeef));
	L2_ASSERT(d == 0xdeadbeef, "IN dword from port 5E8h read 0x%x, expected 0xdeadbeef", d);

	/* Marked: three sizes, the marked port first, last, or in the middle of the access. */
	__asm__ volatile(".global l2_out_b\nl2_out_b: outb %b0, %w1" :: "a"(0x11), "d"(PORT_MARKED));
	__asm__ volatile(".global l2_in_w\nl2_in_w: inw %w1, %w0" : "=a"(w) : "d"(PORT_MARKED - 1));
	L2_ASSERT(w == IN_WORD, "intercepted IN word from 5ECh read 0x%x, expected L1's 0x%x", w, IN_WORD);
	__asm__ volatile(".global l2_out_d\nl2_out_d: outl %0, %w1" :: "a"(0xcafef00d),
			 "d"(PORT_MARKED - 3));

	/* String I/O: REP OUTSB to the marked port exits; L1 consumes it. */
	l2_buf[0] = 1; l2_buf[1] = 2; l2_buf[2] = 3;
	__asm__ volatile(".global l2_outs\nl2_outs: rep outsb" : "=c"(rcx), "=S"(rsi)
			 : "0"(3ul), "1"(l2_buf), "d"(PORT_MARKED) : "memory");
	L2_ASSERT(rcx == 0 && rsi == (u64)(uintptr_t)l2_buf + 3, "after L1 emulated REP OUTSB: "
		  "RCX=%lu RSI=0x%lx, expected 0 and 0x%lx", rcx, rsi, (u64)(uintptr_t)l2_buf + 3);

	/* REP INSB from the passed-through port: the latch's first byte, 4 times. */
	__asm__ volatile("outb %b0, %w1" :: "a"(0xa7), "d"(PORT_ECHO));
	__asm__ volatile("rep insb" : "=c"(rcx), "=D"(rsi) : "0"(4ul), "1"(l2_buf), "d"(PORT_ECHO)
			 : "memory");
	for (int i = 0; i < 4; i++)
		L2_ASSERT(l2_buf[i] == 0xa7, "REP INSB from passed-through 5E8h: byte %d is 0x%x, "
			  "expected 0xa7", i, l2_buf[i]);
	L2_ASSERT(rcx == 0, "REP INSB left RCX=%lu", rcx);
}

static enum nvm_status expect_io(struct l2_vcpu *vcpu, const char *at, u16 port, u8 size, bool in,
				 bool string, const char *what, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_expect(vcpu, &x, L2_EXIT_IO, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx, info 0x%lx: port 0x%x size %u %s%s%s, length %u", what,
		     x.raw, x.info1, x.io.port, x.io.size, x.io.in ? "in" : "out",
		     x.io.string ? " string" : "", x.io.rep ? " rep" : "", x.insn_len);
	if (x.io.port != port || x.io.size != size || x.io.in != in || x.io.string != string ||
	    x.io.rep != string)
		return stage_fail(r, "%s: exit for port 0x%x size %u %s string %d rep %d, expected "
				  "port 0x%x size %u %s string %d rep %d", what, x.io.port, x.io.size,
				  x.io.in ? "in" : "out", x.io.string, x.io.rep, port, size,
				  in ? "in" : "out", string, string);
	if (!x.insn_len)
		return stage_fail(r, "%s: no instruction length (EXITINFO2 / VM-exit instruction "
				  "length)", what);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_IO_BITMAP)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_IO_BITMAP };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	nested->io_intercept(&vcpu, PORT_MARKED, true);
	if (expect_io(&vcpu, l2_out_b, PORT_MARKED, 1, false, false, "OUT byte 5EDh", r) != NVM_PASS)
		return NVM_FAIL;
	if ((u8)vcpu.gpr[L2_RAX] != 0x11)
		return stage_fail(r, "OUT byte 5EDh: L2's AL at the exit is 0x%x, expected 0x11",
				  (u8)vcpu.gpr[L2_RAX]);
	if (expect_io(&vcpu, l2_in_w, PORT_MARKED - 1, 2, true, false, "IN word 5ECh", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RAX] = (vcpu.gpr[L2_RAX] & ~0xffffull) | IN_WORD;
	if (expect_io(&vcpu, l2_out_d, PORT_MARKED - 3, 4, false, false, "OUT dword 5EAh", r) != NVM_PASS)
		return NVM_FAIL;
	if ((u32)vcpu.gpr[L2_RAX] != 0xcafef00d)
		return stage_fail(r, "OUT dword 5EAh: L2's EAX at the exit is 0x%x, expected 0xcafef00d",
				  (u32)vcpu.gpr[L2_RAX]);
	if (expect_io(&vcpu, l2_outs, PORT_MARKED, 1, false, true, "REP OUTSB 5EDh", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != 3 || vcpu.gpr[L2_RSI] != gpa_of(l2_buf))
		return stage_fail(r, "REP OUTSB 5EDh: at the exit RCX=%lu RSI=0x%lx, expected 3 and 0x%lx "
				  "(no iteration done)", vcpu.gpr[L2_RCX], vcpu.gpr[L2_RSI],
				  gpa_of(l2_buf));
	vcpu.gpr[L2_RCX] = 0;
	vcpu.gpr[L2_RSI] += 3;
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "4 accesses touching marked port 5EDh exited with port, size, direction "
			  "and string/REP; 7 to unmarked 5E8h ran in L2");
}
