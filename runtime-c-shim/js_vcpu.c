/* The ABI v2 calls on __shim: virtCaps, domain* and vcpu*, each checking its arguments. */
#include <stdint.h>
#include <string.h>

#include "abi.h"
#include "js_vcpu.h"
#include "vcpu.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SAFE ((1ull << 53) - 1)

#define JV_DECLARE(js, c, n) \
    static JSValue c(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv);
ZAZEN_ABI_GUEST_FUNCTIONS(JV_DECLARE)

/* Reads v as an integer in [0, max]: TypeError for a non-number, RangeError outside. */
static int arg_uint(JSContext *ctx, JSValueConst v, const char *fn, const char *what,
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

static int arg_handle(JSContext *ctx, JSValueConst v, const char *fn, uint32_t *out)
{
    uint64_t h;
    if (arg_uint(ctx, v, fn, "handle", 0xFFFFFFFFu, &h) < 0)
        return -1;
    *out = (uint32_t)h;
    return 0;
}

/* Throws the core's message for a negative result. */
static JSValue throw_core(JSContext *ctx, const char *fn)
{
    return JS_ThrowRangeError(ctx, "%s: %s", fn, vcpu_error());
}

/* Returns the bytes of a typed array of the global constructor ctor (e.g. "Uint32Array")
 * and its element count, or NULL with a TypeError pending. */
static const uint8_t *typed_array(JSContext *ctx, JSValueConst v, const char *fn,
                                  const char *what, const char *ctor, size_t *count)
{
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue c = JS_GetPropertyStr(ctx, global, ctor);
    JS_FreeValue(ctx, global);
    int is = JS_IsObject(v) && JS_IsFunction(ctx, c) ? JS_IsInstanceOf(ctx, v, c) : 0;
    JS_FreeValue(ctx, c);
    if (is <= 0) {
        if (is == 0)
            JS_ThrowTypeError(ctx, "%s: %s must be a %s", fn, what, ctor);
        return NULL;
    }
    size_t off, len, per;
    JSValue buf = JS_GetTypedArrayBuffer(ctx, v, &off, &len, &per);
    if (JS_IsException(buf))
        return NULL;
    size_t size;
    uint8_t *p = JS_GetArrayBuffer(ctx, &size, buf);
    JS_FreeValue(ctx, buf);
    if (!p || off > size || len > size - off || per == 0) {
        if (p)
            JS_ThrowTypeError(ctx, "%s: %s is outside its buffer", fn, what);
        return NULL;
    }
    *count = len / per;
    return p + off;
}

static JSValue abi_virt_caps(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const struct virt_caps *c = vcpu_caps();
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return o;
    struct { const char *name; JSValue val; } f[] = {
        {"vendor", JS_NewString(ctx, c->vendor)},
        {"svm", JS_NewBool(ctx, c->svm)},
        {"npt", JS_NewBool(ctx, c->npt)},
        {"nrips", JS_NewBool(ctx, c->nrips)},
        {"decodeAssists", JS_NewBool(ctx, c->decode_assists)},
        {"vmcbClean", JS_NewBool(ctx, c->vmcb_clean)},
        {"flushByAsid", JS_NewBool(ctx, c->flush_by_asid)},
        {"asids", JS_NewUint32(ctx, c->asids)},
        {"vmx", JS_NewBool(ctx, c->vmx)},
        {"usable", JS_NewBool(ctx, c->usable)},
        {"reason", JS_NewString(ctx, c->reason)},
    };
    int ok = 1;
    for (size_t i = 0; i < countof(f); i++)
        if (JS_IsException(f[i].val) || JS_SetPropertyStr(ctx, o, f[i].name, f[i].val) < 0)
            ok = 0;
    if (!ok) {
        JS_FreeValue(ctx, o);
        return JS_EXCEPTION;
    }
    return o;
}

static JSValue abi_domain_create(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    uint64_t domid;
    if (arg_uint(ctx, argv[0], "domainCreate", "domid", 0x7FEF, &domid) < 0)
        return JS_EXCEPTION;
    int64_t h = domain_create((uint32_t)domid);
    return h < 0 ? throw_core(ctx, "domainCreate") : JS_NewInt64(ctx, h);
}

static JSValue abi_domain_destroy(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    uint32_t h;
    if (arg_handle(ctx, argv[0], "domainDestroy", &h) < 0)
        return JS_EXCEPTION;
    return domain_destroy(h) < 0 ? throw_core(ctx, "domainDestroy") : JS_UNDEFINED;
}

static JSValue abi_domain_set_npt(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    uint32_t h;
    uint64_t root;
    if (arg_handle(ctx, argv[0], "domainSetNpt", &h) < 0 ||
        arg_uint(ctx, argv[1], "domainSetNpt", "nptRootHostPhys", MAX_SAFE, &root) < 0)
        return JS_EXCEPTION;
    return domain_set_npt(h, root) < 0 ? throw_core(ctx, "domainSetNpt") : JS_UNDEFINED;
}

/* Reads a Uint32Array argument whose length is a multiple of per (or exactly want). */
static const uint32_t *u32_args(JSContext *ctx, JSValueConst v, const char *fn, size_t per,
                                size_t want, size_t *count, uint32_t *copy, size_t copy_max)
{
    size_t n;
    const uint8_t *p = typed_array(ctx, v, fn, "entries", "Uint32Array", &n);
    if (!p)
        return NULL;
    if (want ? n != want : n % per) {
        JS_ThrowRangeError(ctx, "%s: entries has %zu elements; need %s %zu", fn, n,
                           want ? "exactly" : "a multiple of", want ? want : per);
        return NULL;
    }
    if (n > copy_max) {
        JS_ThrowRangeError(ctx, "%s: %zu entries is too many (at most %zu)", fn, n / per,
                           copy_max / per);
        return NULL;
    }
    memcpy(copy, p, n * sizeof(uint32_t));
    *count = n / per;
    return copy;
}

static JSValue abi_domain_set_cpuid(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    static uint32_t w[7 * DOMAIN_MAX_CPUID];
    uint32_t h;
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetCpuid", &h) < 0 ||
        !u32_args(ctx, argv[1], "domainSetCpuid", 7, 0, &n, w, countof(w)))
        return JS_EXCEPTION;
    return domain_set_cpuid(h, w, n) < 0 ? throw_core(ctx, "domainSetCpuid") : JS_UNDEFINED;
}

static JSValue abi_domain_set_msrs(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    static uint32_t w[4 * DOMAIN_MAX_MSRS];
    uint32_t h;
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetMsrs", &h) < 0 ||
        !u32_args(ctx, argv[1], "domainSetMsrs", 4, 0, &n, w, countof(w)))
        return JS_EXCEPTION;
    return domain_set_msrs(h, w, n) < 0 ? throw_core(ctx, "domainSetMsrs") : JS_UNDEFINED;
}

static JSValue abi_domain_set_hypercalls(JSContext *ctx, JSValueConst this_val, int argc,
                                         JSValueConst *argv)
{
    uint32_t w[2 * DOMAIN_HYPERCALLS];
    uint32_t h;
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetHypercalls", &h) < 0 ||
        !u32_args(ctx, argv[1], "domainSetHypercalls", 2, countof(w), &n, w, countof(w)))
        return JS_EXCEPTION;
    return domain_set_hypercalls(h, w) < 0 ? throw_core(ctx, "domainSetHypercalls")
                                           : JS_UNDEFINED;
}

static JSValue abi_domain_set_ports(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    static uint8_t bitmap[8192];
    uint32_t h;
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetPorts", &h) < 0)
        return JS_EXCEPTION;
    const uint8_t *p = typed_array(ctx, argv[1], "domainSetPorts", "bitmap", "Uint8Array", &n);
    if (!p)
        return JS_EXCEPTION;
    if (n != sizeof(bitmap))
        return JS_ThrowRangeError(ctx, "domainSetPorts: bitmap has %zu bytes; need 8192", n);
    memcpy(bitmap, p, sizeof(bitmap));
    return domain_set_ports(h, bitmap) < 0 ? throw_core(ctx, "domainSetPorts") : JS_UNDEFINED;
}

static JSValue abi_domain_set_devices(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    uint32_t h, flags;
    if (arg_handle(ctx, argv[0], "domainSetDevices", &h) < 0)
        return JS_EXCEPTION;
    if (JS_ToUint32(ctx, &flags, argv[1]) < 0)
        return JS_EXCEPTION;
    return domain_set_devices(h, flags) < 0 ? throw_core(ctx, "domainSetDevices") : JS_UNDEFINED;
}

static JSValue abi_domain_set_send_ports(JSContext *ctx, JSValueConst this_val, int argc,
                                         JSValueConst *argv)
{
    uint32_t h, ports[ZZ_SEND_PORTS];
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetSendPorts", &h) < 0)
        return JS_EXCEPTION;
    const uint8_t *p = typed_array(ctx, argv[1], "domainSetSendPorts", "ports", "Uint32Array", &n);
    if (!p)
        return JS_EXCEPTION;
    if (n > ZZ_SEND_PORTS)
        return JS_ThrowRangeError(ctx, "domainSetSendPorts: %zu ports is too many (at most %d)", n, ZZ_SEND_PORTS);
    memcpy(ports, p, n * sizeof(uint32_t));
    return domain_set_send_ports(h, ports, (uint32_t)n) < 0 ? throw_core(ctx, "domainSetSendPorts") : JS_UNDEFINED;
}

static JSValue abi_domain_set_mmio(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    uint64_t pairs[2 * DOMAIN_MAX_MMIO];
    uint32_t h;
    size_t n;
    if (arg_handle(ctx, argv[0], "domainSetMmio", &h) < 0)
        return JS_EXCEPTION;
    const uint8_t *p = typed_array(ctx, argv[1], "domainSetMmio", "ranges", "Float64Array", &n);
    if (!p)
        return JS_EXCEPTION;
    if (n % 2)
        return JS_ThrowRangeError(ctx, "domainSetMmio: ranges needs [base, length] pairs (got %zu numbers)", n);
    if (n > countof(pairs))
        return JS_ThrowRangeError(ctx, "domainSetMmio: %zu ranges is too many (at most %d)",
                                  n / 2, DOMAIN_MAX_MMIO);
    for (size_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, p + 8 * i, sizeof(d));
        if (!(d >= 0 && d <= (double)MAX_SAFE) || d != (double)(uint64_t)d)
            return JS_ThrowRangeError(ctx, "domainSetMmio: ranges[%zu] = %g is not an integer in 0..2^53", i, d);
        pairs[i] = (uint64_t)d;
    }
    return domain_set_mmio(h, pairs, n / 2) < 0 ? throw_core(ctx, "domainSetMmio") : JS_UNDEFINED;
}

static JSValue abi_vcpu_create(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv)
{
    uint32_t dh;
    uint64_t id, state;
    if (arg_handle(ctx, argv[0], "vcpuCreate", &dh) < 0 ||
        arg_uint(ctx, argv[1], "vcpuCreate", "vcpuId", 0xFFFFFFFFu, &id) < 0)
        return JS_EXCEPTION;
    int64_t h = vcpu_create(dh, (uint32_t)id, &state);
    if (h < 0)
        return throw_core(ctx, "vcpuCreate");
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o) || JS_SetPropertyStr(ctx, o, "handle", JS_NewInt64(ctx, h)) < 0 ||
        JS_SetPropertyStr(ctx, o, "state", JS_NewInt64(ctx, (int64_t)state)) < 0) {
        JS_FreeValue(ctx, o);
        vcpu_destroy((uint32_t)h);
        return JS_EXCEPTION;
    }
    return o;
}

static JSValue abi_vcpu_destroy(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv)
{
    uint32_t h;
    if (arg_handle(ctx, argv[0], "vcpuDestroy", &h) < 0)
        return JS_EXCEPTION;
    return vcpu_destroy(h) < 0 ? throw_core(ctx, "vcpuDestroy") : JS_UNDEFINED;
}

static JSValue abi_vcpu_run(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t h;
    double d;
    if (arg_handle(ctx, argv[0], "vcpuRun", &h) < 0)
        return JS_EXCEPTION;
    if (!JS_IsNumber(argv[1]))
        return JS_ThrowTypeError(ctx, "vcpuRun: deadlineNs must be a number");
    if (JS_ToFloat64(ctx, &d, argv[1]) < 0)
        return JS_EXCEPTION;
    if (!(d >= 0))
        return JS_ThrowRangeError(ctx, "vcpuRun: deadlineNs must be >= 0 or Infinity (got %g)", d);
    /* Infinity (or anything past 2^64 ns, 584 years) means no deadline. */
    uint64_t deadline = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
    int r = vcpu_run(h, deadline);
    return r < 0 ? throw_core(ctx, "vcpuRun") : JS_NewInt32(ctx, r);
}

#define JV_ENTRY(js, c, n) JS_CFUNC_DEF(#js, n, c),
static const JSCFunctionListEntry vcpu_functions[] = {ZAZEN_ABI_GUEST_FUNCTIONS(JV_ENTRY)};

int js_vcpu_register(JSContext *ctx, JSValueConst shim)
{
    JS_SetPropertyFunctionList(ctx, shim, vcpu_functions, countof(vcpu_functions));
    return 0;
}
