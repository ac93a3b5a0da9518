/* SPDX-License-Identifier: MIT */
/*
 * What the L1 test kernel offers its parts: the channel to the VMM, stage
 * results, fault-safe instructions, a page allocator and a few CPU helpers.
 * Vendor code (arch/amd/guest, arch/intel/guest) programs against this.
 *
 * Every ring-0 instruction is emulated on some L0s (~0.5 us each): keep the
 * paths that always run short, and format text only where it is reported.
 */
#ifndef NESTVMM_L1_H
#define NESTVMM_L1_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nestvmm/stages.h"
#include "nestvmm/wire.h"
#include "nestvmm/x86.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* --- configuration the VMM passed in the device tree -------------------- */
#define L1_CPUID_EXPECT_MAX 8
struct l1_cpuid_expect { u32 leaf, subleaf, reg[4]; };

struct l1_config {
	char vendor[8];                 /* "amd" / "intel" */
	u64 mem_size;                   /* use l1_mem_size(): read on first use */
	u32 iterations;                 /* L2 round trips to measure */
	u32 trace;                      /* enum nvm_trace */
	bool selected[NVM_STAGE_COUNT]; /* run test n (the device tree's "stages") */
	u32 n_cpuid;
	struct l1_cpuid_expect cpuid[L1_CPUID_EXPECT_MAX];
	char hostile[16];               /* misbehaviour to act out (tests), or "" */
	u32 nested_state;               /* KVM_CAP_NESTED_STATE: 0 = no save/restore host steps */
	bool migrate;                   /* --migrate: sync with the VMM after every L2 exit */
};
extern struct l1_config l1_cfg;
/* Bytes of guest RAM from GPA 0 (/memory@0 in the device tree). */
u64 l1_mem_size(void);

/* --- stage results ---------------------------------------------------------- */
#define L1_REASON_MAX  200
#define L1_DETAILS_MAX 1536
struct stage_result {
	enum nvm_status status;
	char reason[L1_REASON_MAX];
	char details[L1_DETAILS_MAX];
	size_t details_len;
};

/* Set the status and a one-line reason; returns the status for tail calls. */
enum nvm_status stage_pass(struct stage_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum nvm_status stage_fail(struct stage_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum nvm_status stage_skip(struct stage_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append a "key=value"-style line to the details. */
void stage_detail(struct stage_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- the channel to the VMM ------------------------------------------------ */
/* Announce the message ring to the VMM (chan_send does it too if not yet done). */
void chan_init(void);
/* Hand the ring to the VMM now (one exit, even when it is empty). */
void chan_flush(void);
void chan_send(u16 type, u32 arg, const u64 *vals, const char *s0,
	       const char *s1, const char *s2);
void chan_log(u32 level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tell the VMM where an assertion failed, then stop L1. */
void __attribute__((noreturn)) l1_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void __attribute__((noreturn)) l1_halt(void);

/* A narration line for --trace; costs one compare when tracing is off. */
#define TRACE(...) do { if (l1_cfg.trace >= NVM_TRACE_STEPS) chan_log(NVM_TRACE_STEPS, __VA_ARGS__); } while (0)
#define GUEST_ASSERT(cond, ...) do { if (!(cond)) l1_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* --- fault-safe instructions ----------------------------------------------- *
 * ASM_SAFE(insn) runs one instruction with an exception fixup: if it faults,
 * the IDT handler resumes after it with r10 = vector + 1 and r11 = error code
 * (both 0 when nothing faulted). Use it as:
 *	FAULT_REGS;
 *	asm volatile(ASM_SAFE("wrmsr") : FAULT_OUTPUTS : "c"(msr), ...);
 *	return FAULT_RESULT;
 */
#define ASM_SAFE(insn)                                            \
	"xor %%r10d, %%r10d\n\t"                                  \
	"xor %%r11d, %%r11d\n\t"                                  \
	"1: " insn "\n\t"                                         \
	"2:\n\t"                                                  \
	".pushsection .fixup_table, \"a\"\n\t"                    \
	".quad 1b, 2b\n\t"                                        \
	".popsection\n\t"
#define FAULT_REGS register u64 fault_r10 __asm__("r10"); register u64 fault_r11 __asm__("r11")
#define FAULT_OUTPUTS "=&r"(fault_r10), "=&r"(fault_r11)
#define FAULT_RESULT fault_from(fault_r10, fault_r11)

struct fault { u8 vector; bool faulted; u32 error_code; };

/* What the exception stubs (guest/entry.S, guest/l2_entry.S) hand to C. */
struct exc_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};
/* Vectors for which the CPU pushes an error code. */
static inline bool exception_has_error_code(u64 v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}
static inline struct fault fault_from(u64 r10, u64 r11)
{
	struct fault f = { (u8)(r10 - 1), r10 != 0, (u32)r11 };
	return f;
}

/*
 * An NMI a test expects in L1 (l2.migrate.events): while armed, the IDT
 * handler counts NMIs and keeps the last one's RIP instead of failing.
 */
struct l1_nmi { bool armed; u32 count; u64 rip; };
extern volatile struct l1_nmi l1_nmi;

struct fault rdmsr_safe(u32 msr, u64 *val);
struct fault wrmsr_safe(u32 msr, u64 val);
struct fault write_cr4_safe(u64 val);
const char *exception_name(u8 vector);  /* "#GP" etc. */

/* --- CPU helpers ------------------------------------------------------------ */
static inline void cpuid(u32 leaf, u32 subleaf, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(subleaf));
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
#define DEFINE_READ_REG(name, insn)                                   \
	static inline u64 name(void)                                  \
	{ u64 v; __asm__ volatile(insn : "=r"(v)); return v; }
DEFINE_READ_REG(read_cr0, "mov %%cr0, %0")
DEFINE_READ_REG(read_cr2, "mov %%cr2, %0")
DEFINE_READ_REG(read_cr3, "mov %%cr3, %0")
DEFINE_READ_REG(read_cr4, "mov %%cr4, %0")
DEFINE_READ_REG(read_rflags, "pushfq; popq %0")
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline u16 read_cs(void) { u16 v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline u16 read_ds(void) { u16 v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
static inline u16 read_tr(void) { u16 v; __asm__ volatile("str %0" : "=r"(v)); return v; }

/* The descriptor tables L1 loaded (vendor code copies them into L2 state). */
struct dtr { u16 limit; u64 base; } __attribute__((packed));
void read_gdtr(struct dtr *d);
void read_idtr(struct dtr *d);
#define L1_SEL_CODE 0x08
#define L1_SEL_DATA 0x10
#define L1_SEL_TSS  0x18

/* --- memory ------------------------------------------------------------------ *
 * RAM is identity mapped (GVA == GPA) by page tables at NVM_BOOT_PML4, and
 * fresh from the VMM (zero-filled): pages from page_alloc are zero.
 */
void *page_alloc(unsigned int npages);
/* Per-test arenas: everything page_alloc'd after a mark is zeroed and reused on release. */
u64 arena_mark(void);
void arena_release(u64 mark);
static inline u64 gpa_of(const void *p) { return (u64)(uintptr_t)p; }

/* --- tiny libc ------------------------------------------------------------------ */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- stage statistics --------------------------------------------------------- */
/* Sort n samples in place and report min/median/max. */
void stats_min_med_max(u64 *v, unsigned int n, u64 out[3]);

#endif
