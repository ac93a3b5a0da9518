// SPDX-License-Identifier: MIT
/* vm_settle (migrate.h): its own file, so that the unit tests' stand-ins for migrate.c link beside it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "migrate.h"

/*
 * A port I/O exit is complete only at the next KVM_RUN (api.rst, "the
 * corresponding operations are complete ... only after userspace has
 * re-entered the kernel"): until then RIP still points at the OUT. Re-enter
 * with immediate_exit set, so KVM finishes it and returns EINTR at once.
 */
int vm_settle(struct vm *vm, char *err)
{
	int rc;

	vm->run->immediate_exit = 1;
	rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
	vm->run->immediate_exit = 0;
	if (rc == 0) {
		snprintf(err, KVM_ERR_MAX, "KVM_RUN with immediate_exit ran the vCPU (exit reason %u) "
			 "instead of returning EINTR", vm->run->exit_reason);
		return -1;
	}
	if (errno != EINTR) {
		snprintf(err, KVM_ERR_MAX, "KVM_RUN (immediate_exit, to complete the I/O): %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
