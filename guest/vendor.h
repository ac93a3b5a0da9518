/* SPDX-License-Identifier: MIT */
/*
 * The vendor parts of L1 outside the nested API: turning VMX/SVM on and off.
 * enable() also picks the nested API (guest/nested.h) and records which
 * optional features the L0 offers (nested_features), which the runner in
 * guest/main.c compares with each test's requirements.
 */
#ifndef NESTVMM_GUEST_VENDOR_H
#define NESTVMM_GUEST_VENDOR_H

#include "l1.h"

struct vendor_guest {
	const char *arch;       /* "amd" / "intel": the device tree's vendor */
	const char *virt;       /* "SVM" / "VMX" */
	int id;                 /* NVM_AMD / NVM_INTEL (nestvmm/stages.h) */
	/* l1.enable: check CPUID and capabilities, turn the extension on, set nested. */
	enum nvm_status (*enable)(struct stage_result *r);
	/* Leave VMX/SVM operation again (after the last test). */
	void (*disable)(void);
};

extern const struct vendor_guest vendor_guest_amd;
extern const struct vendor_guest vendor_guest_intel;

#endif
