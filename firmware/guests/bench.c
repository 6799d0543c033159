/* bench: TSC cost of CPUID exits, a fast (C-handled) and a forwarded (TypeScript) hypercall. */
#include "guest.h"

const char guest_name[] = "bench";

/* A hypercall to time: number and up to three arguments (pointer arguments resolved). */
struct bench_op {
	const char *spec;
	unsigned long nr, a1, a2, a3;
};

static const char empty_buf[1];

/* Named ops, or "hc:NR[:A1[:A2[:A3]]]" for any hypercall with numeric arguments. */
static void op_parse(const char *key, const char *def, struct bench_op *op)
{
	const char *s = opt_get(key);
	uint64_t v[4] = { 0, 0, 0, 0 };

	op->spec = s ? s : def;
	op->a1 = op->a2 = op->a3 = 0;
	if (!strcmp(op->spec, "xen_version")) {
		op->nr = HC_XEN_VERSION; /* XENVER_version: no memory access, answered in C */
		return;
	}
	if (!strcmp(op->spec, "console_io")) {
		op->nr = HC_CONSOLE_IO; /* CONSOLEIO_write of 0 bytes: a no-op with a pointer */
		op->a2 = 0;
		op->a3 = (unsigned long)empty_buf;
		return;
	}
	if (!strcmp(op->spec, "yield")) {
		op->nr = HC_SCHED_OP; /* SCHEDOP_yield */
		return;
	}
	if (!strncmp(op->spec, "hc:", 3)) {
		const char *p = op->spec + 3;
		int i = 0;
		while (i < 4) {
			char num[24];
			size_t n = 0;
			while (p[n] && p[n] != ':')
				n++;
			if (n == 0 || n >= sizeof(num))
				break;
			memcpy(num, p, n);
			num[n] = 0;
			if (opt_parse_u64(num, &v[i]))
				break;
			i++;
			p += n;
			if (!*p) {
				op->nr = (unsigned long)v[0];
				op->a1 = (unsigned long)v[1];
				op->a2 = (unsigned long)v[2];
				op->a3 = (unsigned long)v[3];
				return;
			}
			p++;
		}
	}
	verdict_fail("bad option %s=%s: expected xen_version, console_io, yield or "
		     "hc:NR[:A1[:A2[:A3]]]",
		     key, op->spec);
}

static long op_call(const struct bench_op *op)
{
	return xen_hypercall(op->nr, op->a1, op->a2, op->a3, 0, 0);
}

/* Prints "BENCH <label> <average TSC ticks per operation>". */
static void report(const char *label, uint64_t ticks, uint64_t n)
{
	kprintf("BENCH %s %llu\n", label, (unsigned long long)(ticks / n));
	kprintf("bench %s n=%llu total_ticks=%llu\n", label, (unsigned long long)n,
		(unsigned long long)ticks);
}

static void bench_op(const char *label, const struct bench_op *op, uint64_t n)
{
	long rc = op_call(op); /* warm-up, and the op must work to be worth timing */
	uint64_t t0, t1;

	if (rc < 0)
		verdict_fail("%s op %s returned %ld", label, op->spec, rc);
	t0 = cpu_rdtsc();
	for (uint64_t i = 0; i < n; i++)
		op_call(op);
	t1 = cpu_rdtsc();
	report(label, t1 - t0, n);
}

void guest_main(const struct boot *b)
{
	uint64_t n = opt_num("n", 1000, 10000000);
	uint64_t leaf = opt_num("cpuid_leaf", xen.present ? xen.base : 0x40000000, 0xffffffffu);
	struct bench_op fast, forward;
	uint32_t r[4];
	uint64_t t0, t1;

	(void)b;
	if (n == 0)
		verdict_fail("bad option n=0: must be at least 1");
	op_parse("fast_op", "xen_version", &fast);
	op_parse("forward_op", "console_io", &forward);
	kprintf("bench n=%llu cpuid_leaf=%#llx fast_op=%s forward_op=%s\n", (unsigned long long)n,
		(unsigned long long)leaf, fast.spec, forward.spec);

	/* The loop's own cost, to subtract from the others when reading the numbers. */
	t0 = cpu_rdtsc();
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
	t1 = cpu_rdtsc();
	report("loop", t1 - t0, n);

	t0 = cpu_rdtsc();
	for (uint64_t i = 0; i < n; i++)
		cpu_cpuid((uint32_t)leaf, 0, r);
	t1 = cpu_rdtsc();
	report("cpuid", t1 - t0, n);

	if (!xen.present) {
		kprintf("bench fast and forward skipped: no Xen\n");
	} else {
		bench_op("fast", &fast, n);
		bench_op("forward", &forward, n);
	}
	verdict_pass();
}
