/* spinner: computes without ever yielding (or yields with yield=1) and prints heartbeats. */
#include "guest.h"
#include "tsc.h"

const char guest_name[] = "spinner";

/* One step of xorshift64: cheap, never constant, so the loop cannot be optimised away. */
static inline uint64_t xorshift(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

void guest_main(const struct boot *b)
{
	uint64_t every = opt_num("every", 50000000, UINT64_MAX);
	uint64_t spin_ms = opt_num("spin_ms", 0, 86400000);
	uint64_t beats = opt_num("beats", 0, UINT64_MAX);
	int yield = (int)opt_num("yield", 0, 1);
	uint64_t deadline = 0, start, x = 0x9e3779b97f4a7c15ull, n = 0;
	uint32_t khz = 0;
	const char *source = "unused";

	(void)b;
	if (every == 0)
		verdict_fail("bad option every=0: must be at least 1");
	if (spin_ms) {
		khz = tsc_khz(&source);
		if (!khz)
			verdict_fail("spin_ms needs the TSC rate: no Xen leaf base+3, CPUID 0x15 or PIT");
	}
	kprintf("spinner every=%llu spin_ms=%llu beats=%llu yield=%d tsc_khz=%u (%s)\n",
		(unsigned long long)every, (unsigned long long)spin_ms,
		(unsigned long long)beats, yield, khz, source);
	start = cpu_rdtsc();
	if (spin_ms)
		deadline = start + spin_ms * khz;

	for (;;) {
		for (uint64_t i = 0; i < every; i++)
			x = xorshift(x);
		n++;
		kprintf("SPIN %llu x=%016llx\n", (unsigned long long)n, (unsigned long long)x);
		if (yield) {
			long rc = xen.present ? xen_yield() : 0;
			if (rc < 0)
				verdict_fail("sched_op yield returned %ld", rc);
		}
		if ((beats && n >= beats) || (spin_ms && cpu_rdtsc() >= deadline))
			break;
	}
	kprintf("spinner done beats=%llu tsc_ticks=%llu\n", (unsigned long long)n,
		(unsigned long long)(cpu_rdtsc() - start));
	verdict_pass();
}
