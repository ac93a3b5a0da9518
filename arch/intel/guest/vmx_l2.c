// SPDX-License-Identifier: MIT
/* Intel VMX, L1 side: build a VMCS, VMLAUNCH the L2 stub, handle VM exits. */
#include "vmx_guest.h"

enum nvm_status vmx_run_l2(struct stage_result *r, bool nested_paging, unsigned int iterations)
{
	(void)nested_paging;
	(void)iterations;
	return stage_fail(r, "VMLAUNCH of L2 is not implemented yet");
}
