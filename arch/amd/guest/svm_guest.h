/* SPDX-License-Identifier: MIT */
/* State shared by the files of the AMD L1 side. */
#ifndef NESTVMM_SVM_GUEST_H
#define NESTVMM_SVM_GUEST_H

#include "l1.h"

struct svm_caps {
	u32 revision, nasid, features;   /* CPUID 8000000Ah EAX[7:0], EBX, EDX */
	void *hsave;                     /* the page at VM_HSAVE_PA */
};
extern struct svm_caps svm_caps;

#endif
