// SPDX-License-Identifier: MIT
/*
 * Which optional nested features (nestvmm/features.h) an SVM L0 offers,
 * from CPUID 8000000Ah EDX (AMD APM vol. 2, 15.4 "Enabling SVM", table
 * "SVM Feature Identification"). Plain C for L1 and the unit tests.
 */
#include "nestvmm/features.h"
#include "nestvmm/svm.h"
#include "nestvmm/x86.h"

uint32_t svm_nested_features(uint32_t edx)
{
	uint32_t f = 0;

	if (edx & CPUID_8000000A_EDX_NP)
		f |= NVM_REQ(NESTED_PAGING);
	if (edx & CPUID_8000000A_EDX_NRIPS)
		f |= NVM_REQ(NRIPS);
	if (edx & SVM_CPUID_EDX_VGIF)
		f |= NVM_REQ(VGIF);
	if (edx & SVM_CPUID_EDX_DECODE_ASSISTS)
		f |= NVM_REQ(DECODE_ASSISTS);
	return f;
}
