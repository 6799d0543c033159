/* triplefault: loads an empty IDT and faults, so the CPU shuts down and zazen must crash it. */
#include "guest.h"

const char guest_name[] = "triplefault";

void guest_main(const struct boot *b)
{
	/* A zero-limit IDT: every vector is out of bounds (the base is irrelevant). */
	struct {
		uint16_t limit;
		unsigned long base;
	} __attribute__((packed)) null_idt = { 0, 0 };

	(void)b;
	kprintf("about to triple fault\n");
	con_flush();
	/*
	 * UD2 raises #UD; delivering it through the empty IDT raises #GP, delivering that
	 * raises #DF, and a fault while delivering #DF is a triple fault: the CPU enters
	 * shutdown (under SVM a SHUTDOWN exit, under VMX a triple-fault exit).
	 */
	__asm__ volatile("lidt %0\n\tud2" ::"m"(null_idt) : "memory");
	/* Not reached on a correct CPU or hypervisor. */
	verdict_fail("survived a triple fault");
}
