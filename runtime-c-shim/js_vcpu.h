/* Between js_abi.c and js_vcpu.c: the ABI v2 calls for domains and vCPUs. */
#ifndef ZAZEN_JS_VCPU_H
#define ZAZEN_JS_VCPU_H
#include "quickjs.h"

/* Adds virtCaps, domain* and vcpu* to the __shim object; returns 0, or -1 with a
 * pending exception. */
int js_vcpu_register(JSContext *ctx, JSValueConst shim);

#endif
