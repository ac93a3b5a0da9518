// SPDX-License-Identifier: MIT
/*
 * l2.mode.pae: L2 runs in 32-bit protected mode with PAE paging (CR0.PG=1,
 * CR4.PAE=1, EFER.LME=0) on its own page tables (a PDPT and a page
 * directory of 2 MiB pages), without nested paging, so the L0 shadows a
 * PAE guest of a guest. L2's 32-bit code records CR0/CR4, uses its stack
 * and halts; L1 checks those and the state the HLT exit saved (CR0, CR3,
 * CR4, EFER.LMA=0, a 32-bit CS). APM vol. 2, 5.3 "Long-Mode Page
 * Translation" / 15.5 "VMRUN"; SDM vol. 3C, 4.4 "PAE Paging", 26.3.1.1
 * ("IA-32e mode guest" = 0 with EFER.LMA=0). See guest/l2_mode.c.
 */
#include "l2_mode.h"

NVM_TEST(L2_MODE_PAE)
{
	return l2_mode32_run(true, false, r);
}
