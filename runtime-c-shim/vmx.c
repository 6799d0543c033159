/* Intel VMX: detection only for now, so virtCaps names what an Intel machine lacks. */
#include <stdint.h>
#include "cpu.h"
#include "vcpu.h"

#define MSR_FEATURE_CONTROL   0x3A
#define FEATURE_CONTROL_LOCK  (1ull << 0)
#define FEATURE_CONTROL_VMXON (1ull << 2) /* VMXON allowed outside SMX */

void vmx_detect(struct virt_caps *c)
{
    uint32_t r[4];
    uint64_t fc;

    cpu_cpuid(1, 0, r);
    c->vmx = (r[2] >> 5) & 1;
    c->usable = 0;
    if (!c->vmx) {
        c->reason = "no SVM or VMX";
        return;
    }
    /* Firmware that locked IA32_FEATURE_CONTROL without the VMXON bit has disabled
     * VMX; say so, since that is fixed in the firmware setup, not by us. */
    if (cpu_rdmsr_safe(MSR_FEATURE_CONTROL, &fc) == 0 && (fc & FEATURE_CONTROL_LOCK) &&
        !(fc & FEATURE_CONTROL_VMXON)) {
        c->reason = "VMX disabled by firmware (IA32_FEATURE_CONTROL); Intel VMX is not supported yet";
        return;
    }
    c->reason = "Intel VMX is not supported yet";
}
