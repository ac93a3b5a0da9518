/* SPDX-License-Identifier: MIT */
/*
 * A thin wrapper over /dev/kvm: one VM, its RAM at GPA 0, one vCPU. Every
 * ioctl is checked; a failure is reported with the ioctl's name and errno.
 */
#ifndef NESTVMM_KVM_H
#define NESTVMM_KVM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuid_table.h"

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	uint8_t *mem;
	uint64_t mem_size;
	struct kvm_run *run;
	size_t run_size;
};

#define KVM_ERR_MAX 256

/* ioctl(), and on failure "NAME: strerror" in err. Returns the ioctl's value or -1. */
int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err);
#define KVM_IOCTL(fd, req, arg, err) kvm_ioctl((fd), (req), (arg), #req, (err))

/* Check the API version and each capability nestvmm relies on. */
int kvm_check_api(int kvm_fd, char *err);
int kvm_supported_cpuid(int kvm_fd, struct cpuid_table *t, char *err);

void vm_init(struct vm *vm);
int vm_create(struct vm *vm, int kvm_fd, uint64_t mem_size, char *err);
/* The same on RAM the caller mapped (mem, mem_size bytes; NULL: map fresh RAM). */
int vm_create_on(struct vm *vm, int kvm_fd, uint8_t *mem, uint64_t mem_size, char *err);
/* Hand L1 its CPUID table, then read back what KVM made of it (KVM adds bits). */
int vcpu_set_cpuid(struct vm *vm, struct cpuid_table *t, char *err);
/* The CPUID table the vCPU has now (KVM_GET_CPUID2). */
int vcpu_get_cpuid(struct vm *vm, struct cpuid_table *t, char *err);
/* Boot page tables and GDT in guest RAM; the vCPU in 64-bit mode at entry, RDI = arg. */
int vcpu_enter_long_mode(struct vm *vm, uint64_t entry, uint64_t rdi, char *err);
/* Registers and control state as one line, for reports of a broken run. */
void vcpu_describe(struct vm *vm, char *buf, size_t len);
void vm_destroy(struct vm *vm);

#endif
