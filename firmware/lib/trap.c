/* IDT set-up and the C side of exception handling for both guest widths. */
#include "trap.h"
#include "guest.h"

/* An interrupt gate: 8 bytes in 32-bit mode, 16 in long mode (SDM vol. 3 6.11, 6.14.1). */
struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
#if defined(__x86_64__)
	uint32_t off_hi, reserved;
#endif
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));

static const char *const trap_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *trap_name(unsigned vector)
{
	if (vector < 32 && trap_names[vector])
		return trap_names[vector];
	return "#??";
}

void trap_init(void)
{
	struct {
		uint16_t limit;
		unsigned long base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (unsigned long)idt };

	for (unsigned v = 0; v < 32; v++) {
		unsigned long a = trap_stubs[v];
		idt[v].off_lo = (uint16_t)a;
		idt[v].off_mid = (uint16_t)(a >> 16);
#if defined(__x86_64__)
		idt[v].sel = SEL_CODE64;
		idt[v].off_hi = (uint32_t)(a >> 32);
#else
		idt[v].sel = SEL_CODE32;
#endif
		idt[v].type = 0x8e; /* present, DPL 0, interrupt gate: IF stays clear */
	}
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void trap_handle(struct trap_frame *f)
{
	/* An expected fault inside trap_*_safe: report the vector and skip to its resume label. */
	if (trap_resume_ip) {
		trap_fault_vector = (int)f->vector;
		f->ip = trap_resume_ip;
		trap_resume_ip = 0;
		return;
	}
	kprintf("EXCEPTION %s vector=%lu error=%#lx ip=%#lx\n", trap_name(f->vector), f->vector,
		f->error, f->ip);
	verdict_fail_exit(SHUTDOWN_CRASH, "unexpected exception %s at ip %#lx",
			  trap_name(f->vector), f->ip);
}
