// SPDX-License-Identifier: MIT
/*
 * l2.mode.svm.protected32: L2 runs in 32-bit protected mode with paging
 * off (CR0.PE=1, PG=0, EFER.LME=0), without nested paging: VMRUN allows it
 * directly (APM vol. 2, 15.5.1 lists no check against it), and the L0 must
 * run a non-paged guest of a guest on L1's memory. L2's 32-bit code
 * records CR0/CR4, uses its stack and halts; L1 checks those and the state
 * the HLT exit saved in the VMCB (15.6). The VMX counterpart needs
 * unrestricted guest: l2.mode.vmx.protected32. See guest/l2_mode.c.
 */
#include "l2_mode.h"

NVM_TEST(L2_MODE_SVM_PROTECTED32)
{
	return l2_mode32_run(false, false, r);
}
