// SPDX-License-Identifier: MIT
/*
 * The floor nestvmm is measured against: the least a KVM program can do to
 * run a guest at all. Create a VM with one page of RAM and one vCPU, run a
 * one-byte real-mode guest (HLT) until KVM_EXIT_HLT, exit.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { perror(#x); return 1; } } while (0)

int main(void)
{
	int kvm, vm, vcpu;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	unsigned char *mem;

	CHECK(kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC));
	CHECK(vm = ioctl(kvm, KVM_CREATE_VM, 0));
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	mem[0] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region r = { .memory_size = 4096, .userspace_addr = (unsigned long)mem };
	CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r));
	CHECK(vcpu = ioctl(vm, KVM_CREATE_VCPU, 0));
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return 1;
	CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs));
	CHECK(ioctl(vcpu, KVM_SET_REGS, &regs));
	CHECK(ioctl(vcpu, KVM_RUN, 0));
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "floor: exit reason %u, expected HLT\n", run->exit_reason);
		return 1;
	}
	return 0;
}
