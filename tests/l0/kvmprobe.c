/*
 * kvmprobe: does this machine's KVM offer nested virtualization to guests?
 *
 * Stand-in for nestvmm in tests/l0/selftest.sh, and useful on its own. It asks
 * /dev/kvm which CPUID bits a guest may see (KVM_GET_SUPPORTED_CPUID): SVM is
 * leaf 0x80000001 ECX bit 2, VMX is leaf 1 ECX bit 5. It also reads the
 * vendor module's "nested" parameter.
 *
 * usage: kvmprobe [--json FILE] [--poweroff]
 *   --json FILE  also write the findings as JSON to FILE
 *   --poweroff   power the machine off instead of exiting (tests how the L0
 *                runner reports a machine that dies in the middle of a run)
 * exit: 0 nested usable, 4 not usable, 2 /dev/kvm unusable, 1 bad usage.
 * Build: gcc -static -O2 -o kvmprobe kvmprobe.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <unistd.h>

#define EXIT_NESTED_OK 0
#define EXIT_USAGE 1
#define EXIT_NO_KVM 2
#define EXIT_NO_NESTED 4

/* Read the first word of a module parameter file; "" if absent. */
static void read_param(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* KVM_GET_SUPPORTED_CPUID, growing the buffer until it fits. */
static struct kvm_cpuid2 *supported_cpuid(int kvm)
{
    for (int nent = 64; nent <= 4096; nent *= 2) {
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
        if (!c)
            return NULL;
        c->nent = nent;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        free(c);
        if (errno != E2BIG)
            return NULL;
    }
    return NULL;
}

static int cpuid_ecx_bit(const struct kvm_cpuid2 *c, unsigned leaf, int bit)
{
    for (unsigned i = 0; i < c->nent; i++)
        if (c->entries[i].function == leaf && c->entries[i].index == 0)
            return (c->entries[i].ecx >> bit) & 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    int poweroff = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (!strcmp(argv[i], "--poweroff"))
            poweroff = 1;
        else {
            fprintf(stderr, "usage: kvmprobe [--json FILE] [--poweroff]\n");
            return EXIT_USAGE;
        }
    }
    if (poweroff) {
        printf("kvmprobe: powering off now\n");
        fflush(stdout);
        sync();
        reboot(LINUX_REBOOT_CMD_POWER_OFF);
        perror("kvmprobe: reboot");
        return EXIT_USAGE;
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        printf("kvmprobe: cannot open /dev/kvm: %s\n", strerror(errno));
        return EXIT_NO_KVM;
    }
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    struct kvm_cpuid2 *cpuid = supported_cpuid(kvm);
    if (!cpuid) {
        printf("kvmprobe: KVM_GET_SUPPORTED_CPUID failed: %s\n", strerror(errno));
        return EXIT_NO_KVM;
    }
    int svm = cpuid_ecx_bit(cpuid, 0x80000001u, 2);
    int vmx = cpuid_ecx_bit(cpuid, 1, 5);

    char amd[16], intel[16];
    read_param("/sys/module/kvm_amd/parameters/nested", amd, sizeof(amd));
    read_param("/sys/module/kvm_intel/parameters/nested", intel, sizeof(intel));
    int param_on = !strcmp(amd, "1") || !strcmp(intel, "Y") || !strcmp(intel, "1");
    int usable = (svm || vmx) && param_on;

    printf("kvmprobe: api=%d guest-cpuid svm=%d vmx=%d kvm_amd.nested=%s "
           "kvm_intel.nested=%s => nested %s\n",
           api, svm, vmx, amd[0] ? amd : "-", intel[0] ? intel : "-",
           usable ? "usable" : "NOT usable");

    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            printf("kvmprobe: cannot write %s: %s\n", json, strerror(errno));
            return EXIT_USAGE;
        }
        fprintf(f,
                "{\"api\": %d, \"svm\": %s, \"vmx\": %s, \"kvm_amd_nested\": \"%s\", "
                "\"kvm_intel_nested\": \"%s\", \"nested_usable\": %s}\n",
                api, svm ? "true" : "false", vmx ? "true" : "false", amd, intel,
                usable ? "true" : "false");
        fclose(f);
    }
    free(cpuid);
    close(kvm);
    return usable ? EXIT_NESTED_OK : EXIT_NO_NESTED;
}
