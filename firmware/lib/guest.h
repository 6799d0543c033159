/* What a test guest sees: its entry point, boot data, console, verdicts and shutdown. */
#ifndef FW_GUEST_H
#define FW_GUEST_H
#include <stdint.h>
#include "console.h"
#include "cpu.h"
#include "fmt.h"
#include "opt.h"
#include "startinfo.h"
#include "str.h"
#include "xen.h"

/* Port of QEMU's isa-debug-exit (-device isa-debug-exit,iobase=0xf4,iosize=0x04): writing v
 * ends QEMU with exit status (v << 1) | 1. Used only when no Xen leaves are found. */
#define DEBUG_EXIT_PORT 0xf4

/* Each guest defines its name (used in VERDICT lines) and its main function. */
extern const char guest_name[];
void guest_main(const struct boot *b);

/* Entry from entry32.S/entry64.S: detects Xen, checks start_info, parses the common
 * options, runs guest_main and powers off when it returns; bss_dirty says the loader left
 * non-zero bytes in .bss. */
void guest_start(uint32_t start_info_phys, uint32_t bss_dirty) __attribute__((noreturn));

/* Prints "VERDICT <name>: PASS". */
void verdict_pass(void);

/* Prints "VERDICT <name>: FAIL (<reason>)" and powers off. */
void verdict_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Prints "VERDICT <name>: FAIL (<reason>)" and shuts down with reason (SHUTDOWN_*). */
void verdict_fail_exit(unsigned reason, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Latches the shutdown code (SCHEDOP_shutdown_code, or locally without Xen, where the
 * code becomes the debug-exit value); returns the hypercall result or 0. */
long guest_latch_code(unsigned code);

/* Shuts down with reason: SCHEDOP_shutdown under Xen, isa-debug-exit otherwise. */
void guest_exit(unsigned reason) __attribute__((noreturn));

/* Name of a SHUTDOWN_* reason. */
const char *guest_reason_name(unsigned reason);

#endif
