// SPDX-License-Identifier: MIT
/* AMD SVM, L1 side: build a VMCB, VMRUN the L2 stub, handle #VMEXIT. */
#include "svm_guest.h"

enum nvm_status svm_run_l2(struct stage_result *r, bool nested_paging, unsigned int iterations)
{
	(void)nested_paging;
	(void)iterations;
	return stage_fail(r, "VMRUN of L2 is not implemented yet");
}
