// SPDX-License-Identifier: MIT
#include <string.h>

#include "vendor.h"

const struct vendor_host *const vendor_hosts[] = { &vendor_host_amd, &vendor_host_intel, NULL };

const struct vendor_host *vendor_host_by_arch(const char *arch)
{
	for (int i = 0; vendor_hosts[i]; i++)
		if (!strcmp(vendor_hosts[i]->arch, arch))
			return vendor_hosts[i];
	return NULL;
}

const struct vendor_host *vendor_host_by_cpu(const char *cpu_vendor)
{
	for (int i = 0; vendor_hosts[i]; i++)
		if (!strcmp(vendor_hosts[i]->cpu_vendor, cpu_vendor))
			return vendor_hosts[i];
	return NULL;
}
