/* The embedded QuickJS engine: runtime, the __shim native object and the event loop. */
#ifndef ZAZEN_JS_H
#define ZAZEN_JS_H

/* Creates the runtime and context, installs __shim (abi.h), runs the embedded bundle
 * bytecode and then the event loop of abi.h forever. Called last by kmain. */
void js_main(void) __attribute__((noreturn));

#endif
