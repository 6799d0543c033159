/* shutdown: prints its verdict, then shuts down with the reason and code from its options. */
#include "guest.h"

const char guest_name[] = "shutdown";

/* Indexed by SHUTDOWN_* value. */
static const char *const reasons[] = { "poweroff", "reboot", "suspend", "crash", "watchdog",
				       "soft_reset" };

void guest_main(const struct boot *b)
{
	int reason = opt_choice("reason", reasons, 6, SHUTDOWN_POWEROFF);
	const char *code_opt = opt_get("code");
	uint64_t code = opt_num("code", 0, 255);

	(void)b;
	/* SHUTDOWN_suspend needs a start_info MFN in RDX for PV guests and a resumable
	 * guest; this guest cannot resume, so refuse it instead of misbehaving. */
	if (reason == SHUTDOWN_SUSPEND)
		verdict_fail("reason=suspend is not supported by this guest");
	kprintf("shutdown reason=%s(%d) code=%s\n", reasons[reason], reason,
		code_opt ? code_opt : "none");
	if (code_opt) {
		/* SCHEDOP_shutdown_code latches the code reported at the later shutdown. */
		long rc = guest_latch_code((unsigned)code);
		kprintf("SCHEDOP_shutdown_code(%llu) returned %ld\n", (unsigned long long)code, rc);
		if (rc < 0)
			verdict_fail("SCHEDOP_shutdown_code returned %ld", rc);
	}
	verdict_pass();
	guest_exit((unsigned)reason);
}
