/* Between js.c and js_abi.c: installing the __shim object of abi.h. */
#ifndef ZAZEN_JS_ABI_H
#define ZAZEN_JS_ABI_H
#include "quickjs.h"

/* Defines globalThis.__shim with every abi.h function; returns 0, or -1 with a pending
 * exception. */
int js_abi_install(JSContext *ctx);

#endif
