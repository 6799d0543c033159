/* smp: brings vCPUs 1..N-1 up with VCPUOP_initialise (64-bit context) and VCPUOP_up; each counts and says it is alive. */
#include "guest.h"

const char guest_name[] = "smp";

/* vcpu_op (xen public/vcpu.h); the second argument is the vCPU id. */
#define HC_VCPU_OP 24
#define VCPUOP_INITIALISE 0
#define VCPUOP_UP 1
#define VCPUOP_DOWN 2
#define VCPUOP_IS_UP 3
#define VCPU_HVM_MODE_64B 1 /* public/hvm/hvm_vcpu.h */
#define XEN_ENOENT 2
#define XEN_EEXIST 17
#define XEN_EINVAL 22
#define MSR_EFER 0xc0000080
#define MAX_VCPUS 16
#define AP_STACK_SIZE 8192
/* Yields to wait for the other vCPUs before giving up (each is one scheduler pass). */
#define WAIT_YIELDS 200000

/* struct vcpu_hvm_context with its 64-bit member; the 32-bit member (120 bytes) sets the size. */
struct vcpu_hvm_x86_64 {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t rip, rflags;
	uint64_t cr0, cr3, cr4, efer;
};
struct vcpu_hvm_context {
	uint32_t mode, pad;
	union {
		struct vcpu_hvm_x86_64 x86_64;
		uint8_t x86_32[120];
	} regs;
};
_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "vcpu_hvm_context is 128 bytes");

/* What SGDT/SIDT store in 64-bit mode. */
struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct desc_ptr bsp_gdt, bsp_idt;
static volatile uint32_t alive;
static volatile uint32_t release;
static uint8_t ap_stacks[MAX_VCPUS][AP_STACK_SIZE] __attribute__((aligned(16)));

static long vcpu_op(int cmd, unsigned id, void *arg)
{
	return xen_hypercall(HC_VCPU_OP, (unsigned long)cmd, id, (unsigned long)arg, 0, 0);
}

struct line {
	char buf[160];
	size_t len;
};

static void line_put(void *ctx, char c)
{
	struct line *l = ctx;

	if (l->len < sizeof(l->buf))
		l->buf[l->len++] = c;
}

/*
 * Prints one line with one console_io hypercall from a local buffer. kprintf's line buffer
 * is shared, so a vCPU preempted half-way through a line would mix its text with another's;
 * a single hypercall is atomic because the hypervisor handles it on one physical CPU.
 */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	struct line l = { .len = 0 };
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(line_put, &l, fmt, ap);
	va_end(ap);
	xen_console_write(l.buf, l.len);
}

/* One step of xorshift64: the work each vCPU counts through. */
static inline uint64_t xorshift(uint64_t x)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* Counts (more for higher ids, so the vCPUs finish at different times); returns the steps. */
static uint64_t count(unsigned long id, uint64_t *x)
{
	uint64_t n, steps = 200000 * (id + 1);

	for (n = 0; n < steps; n++)
		*x = xorshift(*x);
	return n;
}

/*
 * Where each secondary vCPU starts, in long mode on the BSP's page tables with flat
 * segments whose selectors are 0 (VCPU_HVM_MODE_64B loads only the hidden parts), IF=0
 * and an empty GDTR/IDTR: it loads the BSP's GDT and IDT so an exception reaches the
 * trap handler instead of triple-faulting.
 */
static void __attribute__((noreturn, used)) ap_main(unsigned long id)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ id, n;
	long rc;

	__asm__ volatile("lgdt %0\n\tlidt %1" ::"m"(bsp_gdt), "m"(bsp_idt) : "memory");
	n = count(id, &x);
	say("SMP vcpu %lu alive counted=%llu x=%016llx\n", id, (unsigned long long)n,
	    (unsigned long long)x);
	__atomic_fetch_add(&alive, 1, __ATOMIC_SEQ_CST);
	while (!release)
		xen_yield();
	rc = vcpu_op(VCPUOP_DOWN, (unsigned)id, 0);
	/* Only reached if the hypervisor refused (or brought the vCPU up again). */
	say("SMP vcpu %lu: VCPUOP_down returned %ld\n", id, rc);
	cpu_halt_forever();
}

/* The 64-bit context of AP id: the BSP's paging state, its own stack, ap_main(id). */
static void ap_context(struct vcpu_hvm_context *c, unsigned id)
{
	struct vcpu_hvm_x86_64 *r = &c->regs.x86_64;
	unsigned long cr3;

	for (size_t i = 0; i < sizeof(*c); i++)
		((volatile uint8_t *)c)[i] = 0;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	c->mode = VCPU_HVM_MODE_64B;
	r->rip = (uint64_t)(unsigned long)ap_main;
	r->rdi = id;
	/* As if ap_main had been called: RSP + 8 is 16-byte aligned at its first instruction. */
	r->rsp = (uint64_t)(unsigned long)&ap_stacks[id][AP_STACK_SIZE] - 8;
	r->rflags = 0x2;
	r->cr0 = cpu_read_cr0();
	r->cr3 = cr3;
	r->cr4 = cpu_read_cr4();
	r->efer = cpu_rdmsr(MSR_EFER);
}

/* Yields until cond() holds or WAIT_YIELDS pass; returns whether it holds. */
static int wait_for(int (*cond)(unsigned), unsigned n)
{
	for (unsigned i = 0; i < WAIT_YIELDS; i++) {
		if (cond(n))
			return 1;
		xen_yield();
	}
	return cond(n);
}

static int all_alive(unsigned n)
{
	return alive == n - 1;
}

static int all_down(unsigned n)
{
	for (unsigned k = 1; k < n; k++)
		if (vcpu_op(VCPUOP_IS_UP, k, 0) != 0)
			return 0;
	return 1;
}

void guest_main(const struct boot *b)
{
	static struct vcpu_hvm_context ctx;
	uint64_t x = 0x9e3779b97f4a7c15ull, steps;
	unsigned n = 0;
	long rc = 0;

	(void)b;
	if (!xen.present)
		verdict_fail("needs Xen's vcpu_op: no Xen leaves");
	/* The domain's vCPU count: is_up answers -ENOENT past the last vCPU. */
	while (n <= MAX_VCPUS && (rc = vcpu_op(VCPUOP_IS_UP, n, 0)) >= 0)
		n++;
	if (n > MAX_VCPUS)
		verdict_fail("more than %d vCPUs", MAX_VCPUS);
	if (rc != -XEN_ENOENT)
		verdict_fail("VCPUOP_is_up(%u) returned %ld, expected -ENOENT", n, rc);
	if ((rc = vcpu_op(VCPUOP_IS_UP, 0, 0)) != 1)
		verdict_fail("VCPUOP_is_up(0) returned %ld on vCPU 0", rc);
	kprintf("smp: %u vCPUs\n", n);
	__asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(bsp_gdt), "=m"(bsp_idt));

	for (unsigned k = 1; k < n; k++) {
		if ((rc = vcpu_op(VCPUOP_IS_UP, k, 0)) != 0)
			verdict_fail("VCPUOP_is_up(%u) returned %ld before VCPUOP_up", k, rc);
		if ((rc = vcpu_op(VCPUOP_UP, k, 0)) != -XEN_EINVAL)
			verdict_fail("VCPUOP_up(%u) before initialise returned %ld, expected -EINVAL", k, rc);
		ap_context(&ctx, k);
		if ((rc = vcpu_op(VCPUOP_INITIALISE, k, &ctx)) != 0)
			verdict_fail("VCPUOP_initialise(%u) returned %ld", k, rc);
		if ((rc = vcpu_op(VCPUOP_INITIALISE, k, &ctx)) != -XEN_EEXIST)
			verdict_fail("second VCPUOP_initialise(%u) returned %ld, expected -EEXIST", k, rc);
		if ((rc = vcpu_op(VCPUOP_UP, k, 0)) != 0)
			verdict_fail("VCPUOP_up(%u) returned %ld", k, rc);
		/* It stays up until release: ap_main takes itself down only then. */
		if ((rc = vcpu_op(VCPUOP_IS_UP, k, 0)) != 1)
			verdict_fail("VCPUOP_is_up(%u) returned %ld after VCPUOP_up", k, rc);
	}
	steps = count(0, &x);
	say("SMP vcpu 0 alive counted=%llu x=%016llx\n", (unsigned long long)steps,
	    (unsigned long long)x);
	if (!wait_for(all_alive, n))
		verdict_fail("only %u of %u secondary vCPUs said they were alive", alive, n - 1);
	release = 1;
	if (!wait_for(all_down, n))
		verdict_fail("secondary vCPUs still up after VCPUOP_down");
	kprintf("smp: %u vCPUs initialised, up, alive and down again\n", n);
	verdict_pass();
}
