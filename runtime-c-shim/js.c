/* The embedded QuickJS engine: runtime setup, the bundle's bytecode and the event loop. */
#include <stdint.h>
#include <string.h>

#include "bundle.h"
#include "console.h"
#include "js.h"
#include "js_abi.h"
#include "klog.h"
#include "mm.h"
#include "quickjs.h"
#include "timer.h"

/* The platform gives js_main a 4 MiB stack; QuickJS's own check stops recursion at
 * 3 MiB, leaving 1 MiB for C code that runs below its checks (native calls, musl's
 * printf, libbf) and for the frames above js_main. */
#define JS_STACK_LIMIT (3u << 20)
/* The engine may use half the RAM that is free at boot, up to this much; past it
 * allocations fail with a catchable out-of-memory error instead of starving guests. */
#define JS_MEMORY_CAP (512ull << 20)

/* Writes a NUL-free C string to the console. */
static void js_puts(const char *s)
{
    console_write(s, strlen(s));
}

/* Prints a value's string form without a trailing newline; a failing toString is
 * reported instead of thrown. */
static void js_print_string(JSContext *ctx, JSValueConst v)
{
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, v);
    if (!s) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        js_puts("<value that cannot be turned into a string>");
        return;
    }
    while (len > 0 && s[len - 1] == '\n')
        len--;
    console_write(s, len);
    JS_FreeCString(ctx, s);
}

/* Prints a JS value: an Error as its message and then its stack trace, anything else
 * as its string form. */
static void js_print_value(JSContext *ctx, JSValueConst v)
{
    js_print_string(ctx, v);
    if (!JS_IsError(ctx, v))
        return;
    JSValue stack = JS_GetPropertyStr(ctx, v, "stack");
    if (JS_IsString(stack)) {
        js_puts("\n");
        js_print_string(ctx, stack);
    } else if (JS_IsException(stack)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
    }
    JS_FreeValue(ctx, stack);
}

/* Prints and clears the pending exception; the loop carries on after it. */
static void js_report_exception(JSContext *ctx, const char *where)
{
    JSValue e = JS_GetException(ctx);
    js_puts("Uncaught exception in ");
    js_puts(where);
    js_puts(": ");
    js_print_value(ctx, e);
    js_puts("\n");
    JS_FreeValue(ctx, e);
}

/*
 * Promise rejections nobody handles would otherwise vanish silently (an async REPL
 * command failing, say). The engine reports each rejection without a handler and,
 * if a handler is attached later, reports that too; what is still unhandled once the
 * job queue has drained is printed, like node does at the end of a tick.
 */
#define JS_MAX_UNHANDLED 32
static struct {
    JSContext *ctx;
    JSValue promise, reason;
} js_unhandled[JS_MAX_UNHANDLED];
static int js_unhandled_count;
static unsigned js_unhandled_dropped;

static void js_rejection_tracker(JSContext *ctx, JSValueConst promise, JSValueConst reason,
                                 JS_BOOL is_handled, void *opaque)
{
    if (!is_handled) {
        if (js_unhandled_count == JS_MAX_UNHANDLED) {
            js_unhandled_dropped++;
            return;
        }
        js_unhandled[js_unhandled_count].ctx = ctx;
        js_unhandled[js_unhandled_count].promise = JS_DupValue(ctx, promise);
        js_unhandled[js_unhandled_count].reason = JS_DupValue(ctx, reason);
        js_unhandled_count++;
        return;
    }
    for (int i = 0; i < js_unhandled_count; i++) {
        if (JS_VALUE_GET_PTR(js_unhandled[i].promise) == JS_VALUE_GET_PTR(promise)) {
            JS_FreeValue(ctx, js_unhandled[i].promise);
            JS_FreeValue(ctx, js_unhandled[i].reason);
            js_unhandled[i] = js_unhandled[--js_unhandled_count];
            return;
        }
    }
}

/* Prints and forgets the rejections still unhandled. */
static void js_report_unhandled(void)
{
    for (int i = 0; i < js_unhandled_count; i++) {
        JSContext *ctx = js_unhandled[i].ctx;
        js_puts("Unhandled promise rejection: ");
        js_print_value(ctx, js_unhandled[i].reason);
        js_puts("\n");
        JS_FreeValue(ctx, js_unhandled[i].promise);
        JS_FreeValue(ctx, js_unhandled[i].reason);
    }
    js_unhandled_count = 0;
    if (js_unhandled_dropped) {
        klog("js: %u more unhandled promise rejections not shown\n", js_unhandled_dropped);
        js_unhandled_dropped = 0;
    }
}

/* The engine polls this every few thousand bytecodes; Ctrl-C counts only while
 * runInterruptible has armed it. */
static int js_interrupt_handler(JSRuntime *rt, void *opaque)
{
    if (console_interrupt_armed && console_interrupt_pending) {
        console_interrupt_pending = 0;
        return 1;
    }
    return 0;
}

/* Runs promise jobs until none is left, reporting the ones that throw; returns how many ran. */
static int js_run_jobs(JSRuntime *rt)
{
    JSContext *job_ctx;
    int r, n = 0;
    while ((r = JS_ExecutePendingJob(rt, &job_ctx)) != 0) {
        n++;
        if (r < 0)
            js_report_exception(job_ctx, "promise job");
    }
    js_report_unhandled();
    return n;
}

/* Calls globalThis.__zazenPoll(); returns its deadline in monotonic ns, or -1 for none
 * (also when there is no hook or it fails). */
static int64_t js_poll(JSContext *ctx)
{
    static int complained;
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue hook = JS_GetPropertyStr(ctx, global, "__zazenPoll");
    int64_t deadline = -1;
    if (JS_IsException(hook)) {
        js_report_exception(ctx, "__zazenPoll lookup");
    } else if (JS_IsFunction(ctx, hook)) {
        JSValue r = JS_Call(ctx, hook, global, 0, NULL);
        double d;
        if (JS_IsException(r)) {
            js_report_exception(ctx, "__zazenPoll");
        } else if (JS_IsNumber(r) && JS_ToFloat64(ctx, &d, r) == 0) {
            /* Anything negative or NaN means no deadline; huge values clamp. */
            if (d >= 0)
                deadline = d < 9.2e18 ? (int64_t)d : INT64_MAX;
        } else if (!complained) {
            complained = 1;
            js_puts("zazen: __zazenPoll returned a non-number; treating it as no deadline\n");
        }
        JS_FreeValue(ctx, r);
    }
    JS_FreeValue(ctx, hook);
    JS_FreeValue(ctx, global);
    return deadline;
}

/* Loads the embedded bundle's bytecode and runs its top level. */
static void js_run_bundle(JSContext *ctx)
{
    JSValue fn = JS_ReadObject(ctx, zazen_bundle, zazen_bundle_size, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(fn)) {
        js_report_exception(ctx, "bundle load (bytecode from another qjsc build?)");
        return;
    }
    JSValue r = JS_EvalFunction(ctx, fn);
    if (JS_IsException(r))
        js_report_exception(ctx, "bundle");
    JS_FreeValue(ctx, r);
}

void js_main(void)
{
    uint64_t t0 = timer_monotonic_ns();
    struct mm_stats st;
    mm_get_stats(&st);
    uint64_t limit = st.free / 2 < JS_MEMORY_CAP ? st.free / 2 : JS_MEMORY_CAP;

    JSRuntime *rt = JS_NewRuntime();
    if (!rt)
        panic("js: cannot create the QuickJS runtime (heap exhausted?)");
    JS_SetMemoryLimit(rt, (size_t)limit);
    /* The limit counts down from the stack pointer at the time of the call. */
    JS_UpdateStackTop(rt);
    JS_SetMaxStackSize(rt, JS_STACK_LIMIT);
    JS_SetInterruptHandler(rt, js_interrupt_handler, NULL);
    JS_SetHostPromiseRejectionTracker(rt, js_rejection_tracker, NULL);

    /* JS_NewContext brings the standard intrinsics, and BigInt with CONFIG_BIGNUM. */
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx)
        panic("js: cannot create the QuickJS context (heap exhausted?)");
    if (js_abi_install(ctx) < 0)
        panic("js: cannot install __shim");

    klog("js: engine ready in %llu us, heap in use %zu KiB, engine limit %llu MiB, "
         "bundle %u bytes of bytecode\n",
         (unsigned long long)((timer_monotonic_ns() - t0) / 1000), heap_used() >> 10,
         (unsigned long long)(limit >> 20), (unsigned)zazen_bundle_size);
    js_run_bundle(ctx);

    /* The loop of abi.h. */
    for (;;) {
        js_run_jobs(rt);
        int64_t deadline = js_poll(ctx);
        /* A job that ran after the poll (a script resuming after an await) may have made
         * work the deadline does not know of, such as a new domain: poll again first. */
        if (js_run_jobs(rt))
            continue;
        if (!console_input_pending() && !JS_IsJobPending(rt))
            timer_wait_until(deadline < 0 ? UINT64_MAX : (uint64_t)deadline);
    }
}
