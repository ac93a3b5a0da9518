// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"
#include "nestvmm/x86.h"

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err)
{
	int rc;

	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && errno == EAGAIN);
	if (rc < 0 && err)
		snprintf(err, KVM_ERR_MAX, "%s: %s", name, strerror(errno));
	return rc;
}

int kvm_check_api(int kvm_fd, char *err)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);

	if (v < 0 && errno == ENOTTY) {
		snprintf(err, KVM_ERR_MAX, "not a KVM device (KVM_GET_API_VERSION: %s)", strerror(errno));
		return -1;
	}
	if (v != KVM_API_VERSION) {
		snprintf(err, KVM_ERR_MAX, "KVM_GET_API_VERSION returned %d, expected %d", v, KVM_API_VERSION);
		return -1;
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			snprintf(err, KVM_ERR_MAX, "this KVM is too old: it lacks %s", caps[i].name);
			return -1;
		}
	return 0;
}

/* struct kvm_cpuid2 with room for the table's entries right behind it. */
struct cpuid_buf {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[CPUID_TABLE_MAX];
};

int kvm_supported_cpuid(int kvm_fd, struct cpuid_table *t, char *err)
{
	static struct cpuid_buf b;

	b.h.nent = CPUID_TABLE_MAX;
	if (KVM_IOCTL(kvm_fd, KVM_GET_SUPPORTED_CPUID, &b, err) < 0)
		return -1;
	t->n = b.h.nent;
	memcpy(t->e, b.e, b.h.nent * sizeof(b.e[0]));
	return 0;
}

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->mem = MAP_FAILED;
	vm->run = MAP_FAILED;
}

int vm_create(struct vm *vm, int kvm_fd, uint64_t mem_size, char *err)
{
	return vm_create_on(vm, kvm_fd, NULL, mem_size, err);
}

int vm_create_on(struct vm *vm, int kvm_fd, uint8_t *mem, uint64_t mem_size, char *err)
{
	struct kvm_userspace_memory_region region;
	int run_size;

	vm->kvm_fd = kvm_fd;
	if ((vm->vm_fd = KVM_IOCTL(kvm_fd, KVM_CREATE_VM, 0, err)) < 0)
		return -1;
	/* Lazily backed: only the pages L1 touches cost host memory. */
	vm->mem = mem ? mem : mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		snprintf(err, KVM_ERR_MAX, "mapping %lu MiB of guest RAM: %s", mem_size >> 20, strerror(errno));
		return -1;
	}
	vm->mem_size = mem_size;
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = mem_size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	if (KVM_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, err) < 0)
		return -1;
	if ((vm->vcpu_fd = KVM_IOCTL(vm->vm_fd, KVM_CREATE_VCPU, 0, err)) < 0)
		return -1;
	if ((run_size = KVM_IOCTL(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, err)) < 0)
		return -1;
	vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		snprintf(err, KVM_ERR_MAX, "mmap of the vCPU's kvm_run: %s", strerror(errno));
		return -1;
	}
	vm->run_size = (size_t)run_size;
	return 0;
}

int vcpu_set_cpuid(struct vm *vm, struct cpuid_table *t, char *err)
{
	static struct cpuid_buf b;

	b.h.nent = t->n;
	memcpy(b.e, t->e, t->n * sizeof(b.e[0]));
	if (KVM_IOCTL(vm->vcpu_fd, KVM_SET_CPUID2, &b, err) < 0)
		return -1;
	/* What KVM kept: it may have changed what it was given. */
	return vcpu_get_cpuid(vm, t, err);
}

/*
 * Identity-map the first 4 GiB with 2 MiB pages (PML4 -> PDPT -> 4 PDs) and
 * lay down a GDT, so that L1 starts in 64-bit mode. Above RAM the mapping
 * leads nowhere: an access there is an MMIO exit the VMM reports.
 */
static void build_boot_tables(struct vm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + NVM_BOOT_PML4);
	uint64_t *pdpt = (uint64_t *)(vm->mem + NVM_BOOT_PDPT);
	uint64_t *pd = (uint64_t *)(vm->mem + NVM_BOOT_PD);
	uint64_t *gdt = (uint64_t *)(vm->mem + NVM_BOOT_GDT);

	pml4[0] = NVM_BOOT_PDPT | PTE_P | PTE_W;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (NVM_BOOT_PD + i * 0x1000ull) | PTE_P | PTE_W;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;   /* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffull;   /* 0x10: data */
}

int vcpu_get_cpuid(struct vm *vm, struct cpuid_table *t, char *err)
{
	static struct cpuid_buf b;

	b.h.nent = CPUID_TABLE_MAX;
	if (KVM_IOCTL(vm->vcpu_fd, KVM_GET_CPUID2, &b, err) < 0)
		return -1;
	t->n = b.h.nent;
	memcpy(t->e, b.e, b.h.nent * sizeof(b.e[0]));
	return 0;
}

int vcpu_enter_long_mode(struct vm *vm, uint64_t entry, uint64_t rdi, char *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1,
		.dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;

	build_boot_tables(vm);
	if (KVM_IOCTL(vm->vcpu_fd, KVM_GET_SREGS, &sregs, err) < 0)
		return -1;
	data.selector = 0x10;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = NVM_BOOT_GDT;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr3 = NVM_BOOT_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
	if (KVM_IOCTL(vm->vcpu_fd, KVM_SET_SREGS, &sregs, err) < 0)
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rdi = rdi;
	regs.rflags = RFLAGS_RESERVED_1;
	return KVM_IOCTL(vm->vcpu_fd, KVM_SET_REGS, &regs, err) < 0 ? -1 : 0;
}

void vcpu_describe(struct vm *vm, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	size_t n;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "vCPU state unavailable: %s", strerror(errno));
		return;
	}
	n = (size_t)snprintf(buf, len,
		"RIP=0x%llx RSP=0x%llx RFLAGS=0x%llx RAX=0x%llx RCX=0x%llx RDX=0x%llx\n"
		"CR0=0x%llx CR2=0x%llx CR3=0x%llx CR4=0x%llx EFER=0x%llx CS=0x%x",
		r.rip, r.rsp, r.rflags, r.rax, r.rcx, r.rdx, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.cs.selector);
	/* The instruction bytes at RIP tell what KVM could not run. */
	if (n < len && r.rip < vm->mem_size && vm->mem_size - r.rip >= 16) {
		n += (size_t)snprintf(buf + n, len - n, "\ncode at RIP:");
		for (int i = 0; i < 16 && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, " %02x", vm->mem[r.rip + i]);
	}
}

void vm_destroy(struct vm *vm)
{
	if (vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->mem != MAP_FAILED)
		munmap(vm->mem, vm->mem_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm_init(vm);
}
