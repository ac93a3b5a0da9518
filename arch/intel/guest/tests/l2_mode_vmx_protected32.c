// SPDX-License-Identifier: MIT
/*
 * l2.mode.vmx.protected32: L2 runs in 32-bit protected mode with paging
 * off (CR0.PE=1, PG=0, EFER.LME=0). SDM vol. 3C, 26.3.1.1: CR0.PG=0 is a
 * valid guest state only with the "unrestricted guest" control, which
 * needs "enable EPT" (26.2.1.1), so the test requires both; state_set
 * turns the control on and "IA-32e mode guest" off. L2's 32-bit code
 * records CR0/CR4, uses its stack and halts; L1 checks those and the
 * state the HLT exit saved in the VMCS (28.3). See guest/l2_mode.c.
 */
#include "l2_mode.h"

NVM_TEST(L2_MODE_VMX_PROTECTED32)
{
	return l2_mode32_run(false, true, r);
}
