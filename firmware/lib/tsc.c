/* Finds the TSC rate: asked of the hypervisor or the CPU, or measured against the PIT. */
#include "tsc.h"
#include "cpu.h"
#include "fmt.h"
#include "xen.h"

#define PIT_HZ 1193182u
#define PIT_CAL_MS 10u
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CMD 0x43
#define PORT_61 0x61                /* NMI status/control: bit 0 gate 2, bit 5 OUT 2 */
#define PIT_POLL_LIMIT 100000000u

/* Xen leaf base+3 subleaf 0: ECX = guest TSC frequency in kHz (public/arch-x86/cpuid.h). */
static uint32_t from_xen(void)
{
	uint32_t r[4];

	if (!xen.present || xen.max_leaf < xen.base + 3)
		return 0;
	cpu_cpuid(xen.base + 3, 0, r);
	return r[2];
}

/* CPUID 0x15: TSC = crystal Hz (ECX) * EBX / EAX; many CPUs leave ECX 0, then give up. */
static uint32_t from_cpuid15(void)
{
	uint32_t r[4];

	cpu_cpuid(0, 0, r);
	if (r[0] < 0x15)
		return 0;
	cpu_cpuid(0x15, 0, r);
	if (!r[0] || !r[1] || !r[2])
		return 0;
	return (uint32_t)fmt_udivmod64((uint64_t)r[2] * r[1], (uint64_t)r[0] * 1000, 0);
}

/*
 * Counts TSC ticks while PIT channel 2 counts down 10 ms in mode 0 (OUT2 rises at
 * terminal count, visible in port 0x61 bit 5). Channel 2 is used because its gate is
 * under software control and it raises no interrupt. A port reading all-ones means no
 * PIT (e.g. under a hypervisor that emulates none), and the poll is bounded so a PIT
 * whose OUT2 never rises cannot hang the guest.
 */
static uint32_t from_pit(void)
{
	uint32_t count = PIT_HZ / (1000 / PIT_CAL_MS);
	uint8_t p61 = cpu_inb(PORT_61);
	uint64_t t0, t1;
	uint32_t polls = 0;

	if (p61 == 0xff)
		return 0;
	cpu_outb(PORT_61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate 2 on, speaker off */
	cpu_outb(PIT_PORT_CMD, 0xb0);                       /* ch 2, lo/hi byte, mode 0 */
	cpu_outb(PIT_PORT_CH2, (uint8_t)count);
	cpu_outb(PIT_PORT_CH2, (uint8_t)(count >> 8));
	t0 = cpu_rdtsc();
	while (!(cpu_inb(PORT_61) & 0x20))
		if (++polls == PIT_POLL_LIMIT)
			return 0;
	t1 = cpu_rdtsc();
	cpu_outb(PORT_61, p61);
	return (uint32_t)fmt_udivmod64(t1 - t0, PIT_CAL_MS, 0);
}

uint32_t tsc_khz(const char **source)
{
	uint32_t khz;

	if ((khz = from_xen()) != 0) {
		*source = "xen";
	} else if ((khz = from_cpuid15()) != 0) {
		*source = "cpuid15";
	} else if ((khz = from_pit()) >= 1000) {
		/* Below 1 MHz the measurement is noise (e.g. OUT2 was already high). */
		*source = "pit";
	} else {
		*source = "none";
		khz = 0;
	}
	return khz;
}
