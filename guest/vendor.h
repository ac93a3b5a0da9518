/* SPDX-License-Identifier: MIT */
/*
 * The one interface between the vendor-neutral L1 and its vendor parts.
 * Each function runs one stage (or cleans up) and fills in the result; the
 * stage runner in guest/main.c decides what runs and reports it.
 */
#ifndef NESTVMM_GUEST_VENDOR_H
#define NESTVMM_GUEST_VENDOR_H

#include "l1.h"

struct vendor_guest {
	const char *arch;       /* "amd" / "intel": the device tree's vendor */
	const char *virt;       /* "SVM" / "VMX" */
	/* l1.enable: check CPUID and capabilities, turn the extension on. */
	enum nvm_status (*enable)(struct stage_result *r);
	/* l2.run (nested_paging false) and l2.nested-paging (true). */
	enum nvm_status (*run_l2)(struct stage_result *r, bool nested_paging,
				  unsigned int iterations);
	/* Leave VMX/SVM operation again (after the last stage). */
	void (*disable)(void);
};

extern const struct vendor_guest vendor_guest_amd;
extern const struct vendor_guest vendor_guest_intel;

#endif
