/* kmain: brings the platform up in dependency order, then hands over to the JS engine. */
#include <stdint.h>
#include "boot.h"
#include "console.h"
#include "cpu.h"
#include "ioapic.h"
#include "js.h"
#include "klog.h"
#include "mm.h"
#include "screen.h"
#include "timer.h"

#define ISA_IRQ_COM1 4

void kmain(uint32_t magic, uint64_t info);

/* Called by boot.S in long mode on the main stack, with the loader's EAX and EBX. */
void kmain(uint32_t magic, uint64_t info)
{
    cpu_init();
    console_init();
    boot_parse(magic, info);
    if (screen_init(&boot_info)) {
        size_t n;
        const char *early = klog_buffer(&n); /* what was logged before the screen existed */
        screen_write(early, n);
    }
    mm_init();
    timer_init();
    ioapic_init();
    if (ioapic_route_isa(ISA_IRQ_COM1, CPU_VEC_SERIAL))
        console_start_input();
    else
        klog("console: no COM1 interrupt; input is polled and Ctrl-C cannot interrupt\n");
    __asm__ volatile("sti");

    struct mm_stats st;
    mm_get_stats(&st);
    klog("zazen: booting (%s, %s firmware%s%s) cmdline \"%s\"\n",
         boot_info.multiboot2 ? "multiboot2" : "multiboot1", boot_info.uefi ? "UEFI" : "BIOS",
         boot_info.loader_name[0] ? ", loader " : "", boot_info.loader_name, boot_info.cmdline);
    klog("zazen: memory %llu MiB total, %llu MiB free; image %llu KiB, stacks %llu KiB, "
         "%zu modules %llu KiB\n",
         (unsigned long long)(st.total >> 20), (unsigned long long)(st.free >> 20),
         (unsigned long long)(st.image >> 10), (unsigned long long)(st.stacks >> 10),
         boot_info.nmodules, (unsigned long long)(st.modules >> 10));
    for (size_t i = 0; i < boot_info.nmodules; i++)
        klog("zazen: module %zu '%s' at %llx, %llu bytes\n", i, boot_info.modules[i].name,
             (unsigned long long)boot_info.modules[i].start,
             (unsigned long long)(boot_info.modules[i].end - boot_info.modules[i].start));
    klog("zazen: tsc %llu MHz, %s\n", (unsigned long long)(timer_tsc_hz() / 1000000),
         timer_x2apic() ? "x2APIC" : "xAPIC");
    js_main();
}
