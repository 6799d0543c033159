/* The __shim native object: every function of abi.h, each checking its arguments. */
#include <stdint.h>
#include <string.h>

#include "abi.h"
#include "boot.h"
#include "console.h"
#include "cpu.h"
#include "js_abi.h"
#include "js_vcpu.h"
#include "klog.h"
#include "mm.h"
#include "timer.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

/* Largest integer a JS number holds exactly; addresses and sizes must stay below it. */
#define ABI_MAX_SAFE ((1ull << 53) - 1)
/* QuickJS refuses ArrayBuffers longer than this. */
#define ABI_MAX_VIEW 0x7fffffffull
/* A sanity bound on frame counts (16 TiB), far above any real request. */
#define ABI_MAX_FRAMES (1ull << 32)

#define ABI_DECLARE(js, c, n) \
    static JSValue c(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv);
ZAZEN_ABI_FUNCTIONS(ABI_DECLARE)

/* Reads v as an integer in [0, max]: TypeError for a non-number, RangeError outside. */
static int abi_uint(JSContext *ctx, JSValueConst v, const char *fn, const char *what,
                    uint64_t max, uint64_t *out)
{
    double d;
    if (!JS_IsNumber(v)) {
        JS_ThrowTypeError(ctx, "%s: %s must be a number", fn, what);
        return -1;
    }
    if (JS_ToFloat64(ctx, &d, v) < 0)
        return -1;
    if (!(d >= 0 && d <= (double)max) || d != (double)(uint64_t)d) {
        JS_ThrowRangeError(ctx, "%s: %s must be an integer in 0..%#llx (got %g)", fn, what,
                           (unsigned long long)max, d);
        return -1;
    }
    *out = (uint64_t)d;
    return 0;
}

/* Sets obj.name = val, recording a failure in *ok (val is consumed either way). */
static void abi_set(JSContext *ctx, JSValueConst obj, const char *name, JSValue val, int *ok)
{
    if (JS_IsException(val) || JS_SetPropertyStr(ctx, obj, name, val) < 0)
        *ok = 0;
}

/* Returns obj if every abi_set succeeded, else frees it and reports the exception. */
static JSValue abi_finish(JSContext *ctx, JSValue obj, int ok)
{
    if (ok)
        return obj;
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

static JSValue abi_u64(JSContext *ctx, uint64_t v)
{
    return v <= ABI_MAX_SAFE ? JS_NewInt64(ctx, (int64_t)v) : JS_NewFloat64(ctx, (double)v);
}

static JSValue abi_string(JSContext *ctx, const char *s)
{
    return JS_NewString(ctx, s ? s : "");
}

static JSValue abi_abi_version(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return JS_NewInt32(ctx, ZAZEN_ABI_VERSION);
}

static JSValue abi_console_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    if (!JS_IsString(argv[0]))
        return JS_ThrowTypeError(ctx, "consoleWrite: text must be a string");
    const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    console_write(s, len);
    JS_FreeCString(ctx, s);
    return JS_UNDEFINED;
}

static JSValue abi_console_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    /* Bytes become char codes 0-255. JS_NewStringLen decodes UTF-8, so bytes >= 0x80
     * are passed as their two-byte UTF-8 forms; QuickJS stores the result as 8-bit. */
    static char raw[2048], utf8[2 * sizeof raw];
    size_t n = 0, got, o = 0;
    while (n < sizeof raw && (got = console_read(raw + n, sizeof raw - n)) > 0)
        n += got;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x80) {
            utf8[o++] = (char)c;
        } else {
            utf8[o++] = (char)(0xc0 | (c >> 6));
            utf8[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    return JS_NewStringLen(ctx, utf8, o);
}

static JSValue abi_run_interruptible(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    if (!JS_IsFunction(ctx, argv[0]))
        return JS_ThrowTypeError(ctx, "runInterruptible: fn must be a function");
    /* Nested calls keep the outer arming; only the outermost clears stale Ctrl-Cs. */
    int outer_armed = console_interrupt_armed;
    if (!outer_armed)
        console_interrupt_pending = 0;
    console_interrupt_armed = 1;
    JSValue r = JS_Call(ctx, argv[0], JS_UNDEFINED, 0, NULL);
    console_interrupt_armed = outer_armed;
    if (!outer_armed)
        console_interrupt_pending = 0; /* after disarming: a later 0x03 is plain input */
    /* The engine marks its "interrupted" InternalError uncatchable so that no try/catch
     * inside fn can swallow it. Out here it has done its job: make it an ordinary
     * error so the caller's try/catch sees it. Only interrupts are ever marked. */
    if (JS_IsException(r))
        JS_ResetUncatchableError(ctx);
    return r;
}

static JSValue abi_monotonic_ns(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return abi_u64(ctx, timer_monotonic_ns());
}

static JSValue abi_read_tsc(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return JS_NewBigUint64(ctx, ((uint64_t)hi << 32) | lo);
}

static JSValue abi_wall_clock_ms(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return abi_u64(ctx, timer_wall_ms());
}

static JSValue abi_phys_view(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t addr, len;
    if (abi_uint(ctx, argv[0], "physView", "addr", ABI_MAX_SAFE, &addr) < 0 ||
        abi_uint(ctx, argv[1], "physView", "length", ABI_MAX_VIEW, &len) < 0)
        return JS_EXCEPTION;
    if (len == 0)
        return JS_ThrowRangeError(ctx, "physView: length must be at least 1");
    if (!mm_phys_range_ok(addr, len))
        return JS_ThrowRangeError(ctx, "physView: %#llx+%#llx is not mapped memory outside the shim",
                                  (unsigned long long)addr, (unsigned long long)len);
    /* No free function: the buffer aliases memory the engine does not own. */
    return JS_NewArrayBuffer(ctx, (uint8_t *)(uintptr_t)addr, len, NULL, NULL, 0);
}

static JSValue abi_frames_alloc(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t count;
    if (abi_uint(ctx, argv[0], "framesAlloc", "count", ABI_MAX_FRAMES, &count) < 0)
        return JS_EXCEPTION;
    if (count == 0)
        return JS_ThrowRangeError(ctx, "framesAlloc: count must be at least 1");
    uint64_t addr = mm_frames_alloc(count);
    if (!addr)
        return JS_ThrowRangeError(ctx, "framesAlloc: no %llu contiguous free frames",
                                  (unsigned long long)count);
    return abi_u64(ctx, addr);
}

static JSValue abi_frames_free(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t addr, count;
    if (abi_uint(ctx, argv[0], "framesFree", "addr", ABI_MAX_SAFE, &addr) < 0 ||
        abi_uint(ctx, argv[1], "framesFree", "count", ABI_MAX_FRAMES, &count) < 0)
        return JS_EXCEPTION;
    if (count == 0)
        return JS_ThrowRangeError(ctx, "framesFree: count must be at least 1");
    if (addr % MM_PAGE_SIZE)
        return JS_ThrowRangeError(ctx, "framesFree: addr %#llx is not page-aligned",
                                  (unsigned long long)addr);
    if (mm_frames_free(addr, count) < 0)
        return JS_ThrowRangeError(ctx, "framesFree: %#llx (%llu frames) was not allocated",
                                  (unsigned long long)addr, (unsigned long long)count);
    return JS_UNDEFINED;
}

static JSValue abi_mem_stats(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct mm_stats st;
    int ok = 1;
    mm_get_stats(&st);
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return o;
    abi_set(ctx, o, "totalBytes", abi_u64(ctx, st.total), &ok);
    abi_set(ctx, o, "freeBytes", abi_u64(ctx, st.free), &ok);
    abi_set(ctx, o, "imageBytes", abi_u64(ctx, st.image), &ok);
    abi_set(ctx, o, "stackBytes", abi_u64(ctx, st.stacks), &ok);
    abi_set(ctx, o, "heapBytes", abi_u64(ctx, st.heap), &ok);
    abi_set(ctx, o, "heapUsedBytes", abi_u64(ctx, st.heap_used), &ok);
    abi_set(ctx, o, "framesAllocatedBytes", abi_u64(ctx, st.frames_allocated), &ok);
    abi_set(ctx, o, "moduleBytes", abi_u64(ctx, st.modules), &ok);
    return abi_finish(ctx, o, ok);
}

/* Reads a port number and an access size (1, 2 or 4). */
static int abi_port_args(JSContext *ctx, JSValueConst *argv, const char *fn, uint64_t *port,
                         uint64_t *size)
{
    if (abi_uint(ctx, argv[0], fn, "port", 0xffff, port) < 0 ||
        abi_uint(ctx, argv[1], fn, "size", 4, size) < 0)
        return -1;
    if (*size != 1 && *size != 2 && *size != 4) {
        JS_ThrowRangeError(ctx, "%s: size must be 1, 2 or 4 (got %llu)", fn, (unsigned long long)*size);
        return -1;
    }
    return 0;
}

static JSValue abi_port_in(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t port, size;
    if (abi_port_args(ctx, argv, "portIn", &port, &size) < 0)
        return JS_EXCEPTION;
    return JS_NewUint32(ctx, cpu_port_in((uint16_t)port, (int)size));
}

static JSValue abi_port_out(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t port, size, value;
    if (abi_port_args(ctx, argv, "portOut", &port, &size) < 0 ||
        abi_uint(ctx, argv[2], "portOut", "value", (1ull << (8 * size)) - 1, &value) < 0)
        return JS_EXCEPTION;
    cpu_port_out((uint16_t)port, (int)size, (uint32_t)value);
    return JS_UNDEFINED;
}

static JSValue abi_rdmsr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t msr, value;
    if (abi_uint(ctx, argv[0], "rdmsr", "msr", 0xffffffffull, &msr) < 0)
        return JS_EXCEPTION;
    if (cpu_rdmsr_safe((uint32_t)msr, &value) < 0)
        return JS_ThrowRangeError(ctx, "rdmsr: MSR %#llx raised #GP", (unsigned long long)msr);
    return JS_NewBigUint64(ctx, value);
}

/* Reads v as a bigint in 0..2^64-1: TypeError for other types, RangeError outside. */
static int abi_u64_bigint(JSContext *ctx, JSValueConst v, const char *fn, uint64_t *out)
{
    int64_t bits;
    if (JS_VALUE_GET_TAG(v) != JS_TAG_BIG_INT) {
        JS_ThrowTypeError(ctx, "%s: value must be a bigint", fn);
        return -1;
    }
    if (JS_ToBigInt64(ctx, &bits, v) < 0)
        return -1;
    /* JS_ToBigInt64 silently wraps modulo 2^64: compare the decimal forms to refuse
     * values it had to wrap (negative or 2^64 and above). */
    JSValue back = JS_NewBigUint64(ctx, (uint64_t)bits);
    if (JS_IsException(back))
        return -1;
    const char *a = JS_ToCString(ctx, v), *b = JS_ToCString(ctx, back);
    int same = a && b && strcmp(a, b) == 0;
    if (a && b && !same)
        JS_ThrowRangeError(ctx, "%s: value must be in 0n..0xffffffffffffffffn (got %sn)", fn, a);
    JS_FreeCString(ctx, a);
    JS_FreeCString(ctx, b);
    JS_FreeValue(ctx, back);
    if (!same)
        return -1;
    *out = (uint64_t)bits;
    return 0;
}

static JSValue abi_wrmsr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t msr, value;
    if (abi_uint(ctx, argv[0], "wrmsr", "msr", 0xffffffffull, &msr) < 0 ||
        abi_u64_bigint(ctx, argv[1], "wrmsr", &value) < 0)
        return JS_EXCEPTION;
    if (cpu_wrmsr_safe((uint32_t)msr, value) < 0)
        return JS_ThrowRangeError(ctx, "wrmsr: MSR %#llx raised #GP", (unsigned long long)msr);
    return JS_UNDEFINED;
}

static JSValue abi_cpuid(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t leaf, subleaf;
    uint32_t r[4];
    if (abi_uint(ctx, argv[0], "cpuid", "leaf", 0xffffffffull, &leaf) < 0 ||
        abi_uint(ctx, argv[1], "cpuid", "subleaf", 0xffffffffull, &subleaf) < 0)
        return JS_EXCEPTION;
    cpu_cpuid((uint32_t)leaf, (uint32_t)subleaf, r);
    JSValue a = JS_NewArray(ctx);
    if (JS_IsException(a))
        return a;
    for (uint32_t i = 0; i < 4; i++) {
        if (JS_SetPropertyUint32(ctx, a, i, JS_NewUint32(ctx, r[i])) < 0) {
            JS_FreeValue(ctx, a);
            return JS_EXCEPTION;
        }
    }
    return a;
}

static JSValue abi_memory_map(JSContext *ctx)
{
    JSValue a = JS_NewArray(ctx);
    size_t n = boot_info.nranges < BOOT_MAX_RANGES ? boot_info.nranges : BOOT_MAX_RANGES;
    for (size_t i = 0; i < n && !JS_IsException(a); i++) {
        const struct boot_range *r = &boot_info.ranges[i];
        int ok = 1;
        JSValue o = JS_NewObject(ctx);
        if (JS_IsException(o))
            ok = 0;
        else {
            abi_set(ctx, o, "base", abi_u64(ctx, r->base), &ok);
            abi_set(ctx, o, "length", abi_u64(ctx, r->length), &ok);
            abi_set(ctx, o, "type", JS_NewUint32(ctx, r->type), &ok);
        }
        if (!ok || JS_SetPropertyUint32(ctx, a, (uint32_t)i, o) < 0) {
            if (!ok)
                JS_FreeValue(ctx, o);
            JS_FreeValue(ctx, a);
            a = JS_EXCEPTION;
        }
    }
    return a;
}

static JSValue abi_modules(JSContext *ctx)
{
    JSValue a = JS_NewArray(ctx);
    size_t n = boot_info.nmodules < BOOT_MAX_MODULES ? boot_info.nmodules : BOOT_MAX_MODULES;
    for (size_t i = 0; i < n && !JS_IsException(a); i++) {
        const struct boot_module *m = &boot_info.modules[i];
        int ok = 1;
        JSValue o = JS_NewObject(ctx);
        if (JS_IsException(o))
            ok = 0;
        else {
            abi_set(ctx, o, "name", abi_string(ctx, m->name), &ok);
            abi_set(ctx, o, "cmdline", abi_string(ctx, m->cmdline), &ok);
            abi_set(ctx, o, "addr", abi_u64(ctx, m->start), &ok);
            abi_set(ctx, o, "size", abi_u64(ctx, m->end >= m->start ? m->end - m->start : 0), &ok);
        }
        if (!ok || JS_SetPropertyUint32(ctx, a, (uint32_t)i, o) < 0) {
            if (!ok)
                JS_FreeValue(ctx, o);
            JS_FreeValue(ctx, a);
            a = JS_EXCEPTION;
        }
    }
    return a;
}

static JSValue abi_boot_info(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int ok = 1;
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return o;
    abi_set(ctx, o, "loader", abi_string(ctx, boot_info.multiboot2 ? "multiboot2" : "multiboot1"), &ok);
    abi_set(ctx, o, "firmware", abi_string(ctx, boot_info.uefi ? "uefi" : "bios"), &ok);
    abi_set(ctx, o, "cmdline", abi_string(ctx, boot_info.cmdline), &ok);
    abi_set(ctx, o, "rsdp", abi_u64(ctx, boot_info.rsdp), &ok);
    abi_set(ctx, o, "memoryMap", abi_memory_map(ctx), &ok);
    abi_set(ctx, o, "modules", abi_modules(ctx), &ok);
    abi_set(ctx, o, "imageStart", abi_u64(ctx, (uintptr_t)__image_start), &ok);
    abi_set(ctx, o, "imageEnd", abi_u64(ctx, (uintptr_t)__image_end), &ok);
    abi_set(ctx, o, "tscHz", abi_u64(ctx, timer_tsc_hz()), &ok);
    abi_set(ctx, o, "apicMode", abi_string(ctx, timer_x2apic() ? "x2apic" : "xapic"), &ok);
    return abi_finish(ctx, o, ok);
}

static JSValue abi_module_data(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint64_t index;
    size_t n = boot_info.nmodules < BOOT_MAX_MODULES ? boot_info.nmodules : BOOT_MAX_MODULES;
    if (abi_uint(ctx, argv[0], "moduleData", "index", ABI_MAX_SAFE, &index) < 0)
        return JS_EXCEPTION;
    if (index >= n)
        return JS_ThrowRangeError(ctx, "moduleData: index %llu out of range (%zu modules)",
                                  (unsigned long long)index, n);
    const struct boot_module *m = &boot_info.modules[index];
    uint64_t len = m->end >= m->start ? m->end - m->start : 0;
    if (len > ABI_MAX_VIEW)
        return JS_ThrowRangeError(ctx, "moduleData: module %llu is larger than 2 GiB",
                                  (unsigned long long)index);
    return JS_NewArrayBuffer(ctx, (uint8_t *)(uintptr_t)m->start, len, NULL, NULL, 0);
}

static JSValue abi_boot_log(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    const char *log = klog_buffer(&len);
    return JS_NewStringLen(ctx, log ? log : "", log ? len : 0);
}

static JSValue abi_gc(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JS_RunGC(JS_GetRuntime(ctx));
    return JS_UNDEFINED;
}

static JSValue abi_reboot(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    cpu_reboot();
}

#define ABI_ENTRY(js, c, n) JS_CFUNC_DEF(#js, n, c),
static const JSCFunctionListEntry abi_functions[] = {ZAZEN_ABI_FUNCTIONS(ABI_ENTRY)};

int js_abi_install(JSContext *ctx)
{
    JSValue shim = JS_NewObject(ctx);
    if (JS_IsException(shim))
        return -1;
    JS_SetPropertyFunctionList(ctx, shim, abi_functions, countof(abi_functions));
    if (js_vcpu_register(ctx, shim) < 0) {
        JS_FreeValue(ctx, shim);
        return -1;
    }
    JSValue global = JS_GetGlobalObject(ctx);
    int r = JS_SetPropertyStr(ctx, global, "__shim", shim);
    JS_FreeValue(ctx, global);
    return r < 0 ? -1 : 0;
}
