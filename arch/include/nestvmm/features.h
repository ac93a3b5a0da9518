/* SPDX-License-Identifier: MIT */
/*
 * Optional nested-virtualization features a test can require from the L0.
 * L1 finds out which ones its L0 offers (CPUID 8000000Ah on AMD, the VMX
 * capability MSRs on Intel) and skips a test whose requirement is missing as
 * "unsupported"; the VMM knows the names for --require and --list.
 *
 * X(id, name, meaning): the name is what users type (--require nrips).
 */
#ifndef NESTVMM_FEATURES_H
#define NESTVMM_FEATURES_H

#define NVM_FEATURES(X)                                                                  \
	X(NESTED_PAGING,   "nested-paging",   "NPT (AMD) or EPT (Intel) for L2")            \
	X(NRIPS,           "nrips",           "AMD next-RIP save (CPUID 8000000Ah:EDX[3])") \
	X(VGIF,            "vgif",            "AMD virtual GIF (CPUID 8000000Ah:EDX[16])")  \
	X(DECODE_ASSISTS,  "decode-assists",  "AMD decode assists (CPUID 8000000Ah:EDX[7])") \
	X(VPID,            "vpid",            "Intel VPID (secondary control bit 5)")        \
	X(EPT_AD,          "ept-ad",          "Intel EPT accessed/dirty flags (EPT_VPID_CAP[21])") \
	X(UNRESTRICTED,    "unrestricted-guest", "Intel unrestricted guest (secondary bit 7)") \
	X(PREEMPTION_TIMER, "preemption-timer", "Intel VMX-preemption timer (pin-based bit 6)") \
	X(VMCS_SHADOWING,  "vmcs-shadowing",  "Intel VMCS shadowing (secondary bit 14)")     \
	X(VIRTUAL_NMI,     "virtual-nmi",     "Intel virtual NMIs (pin-based bit 5)")        \
	X(MTF,             "monitor-trap",    "Intel monitor trap flag (primary bit 27)")   \
	/* save/restore (issue 11): told by the VMM in the device tree, not by the CPU */      \
	X(NESTED_STATE,    "nested-state",    "KVM_CAP_NESTED_STATE: the VMM can save/restore a vCPU in L2")

enum nvm_feature_bit {
#define NVM_FEATURE_BIT(id, name, what) NVM_FEATURE_BIT_##id,
	NVM_FEATURES(NVM_FEATURE_BIT)
#undef NVM_FEATURE_BIT
	NVM_FEATURE_COUNT
};

/* Requirement masks, e.g. NVM_REQ(NESTED_PAGING) | NVM_REQ(NRIPS). */
#define NVM_REQ(id) (1u << NVM_FEATURE_BIT_##id)
#define NVM_REQ_NONE 0u

_Static_assert(NVM_FEATURE_COUNT <= 32, "feature masks are 32 bits");

#endif
