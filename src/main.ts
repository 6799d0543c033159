// Boot entry of the TypeScript side: checks the ABI, installs globals and the event loop, starts the REPL, runs /boot/init.js.
import { setPollHook, shim, type Shim } from './hv/abi';
import { BootFs } from './hv/bootfs';
import { setHypervisorConsole } from './hv/consoleLog';
import { createDomain0, domains } from './hv/domains';
import { Hypervisor } from './hv/hypervisor';
import { RunLoop } from './hv/runLoop';
import { acpiInfo } from './hv/hostInfo';
import { log } from './hv/log';
import { createHostStore } from './hv/hostStore';
import { XsClient } from './xenstore/client';
import { ENGINE, XEN_MAJOR, XEN_MINOR, ZAZEN_VERSION } from './hv/version';
import { createPollHook } from './runtime/eventLoop';
import { defineGlobal, installRuntimeGlobals } from './runtime/globals';
import { installPolyfills, setMicrotaskErrorReporter } from './runtime/polyfills';
import { setOutputSink, writeOutput } from './runtime/output';
import { TimerQueue } from './runtime/timers';
import { reportUncaught } from './runtime/uncaught';
import { decodeUtf8 } from './runtime/utf8';
import { splitWords } from './toolstack/args';
import { createHvApi } from './toolstack/hvApi';
import { Repl } from './toolstack/repl/repl';
import { routeInput } from './toolstack/inputCapture';
import { installDomainMonitor } from './toolstack/lifecycle';
import { createToolstack } from './toolstack/toolstack';
import type { XlContext } from './toolstack/xlContext';
import { createXlApi } from './toolstack/xl/xl';

/**
 * Runs code as a global script under the shim's Ctrl-C guard. The function's name marks where
 * the REPL cuts stack traces (see trimReplFrames); indirect eval keeps the code in global scope.
 */
function runGlobalCode(s: Shim, code: string): unknown {
  // A declaration, not a function expression: esbuild's minifier drops unused expression names.
  function zazenEvalBoundary(): unknown {
    return (0, eval)(code);
  }
  return s.runInterruptible(zazenEvalBoundary);
}

function runInitScript(s: Shim, bootFs: BootFs, repl: Repl): void {
  const file = bootFs.lookup('/boot/init.js');
  if (!file) return;
  log('zazen: running /boot/init.js');
  try {
    const result = runGlobalCode(s, decodeUtf8(bootFs.bytes(file)));
    // If the script's last expression is a promise (an async main), the prompt waits for it.
    if (result instanceof Promise) repl.waitFor(result, () => log('zazen: /boot/init.js finished'));
    else log('zazen: /boot/init.js finished');
  } catch (err) {
    log('zazen: /boot/init.js failed');
    reportUncaught(err, 'in /boot/init.js');
  }
}

/** Logs whether guests can run here (the shim detected SVM/NPT, or says what is missing). */
function reportVirtCaps(s: Shim): void {
  try {
    const c = s.virtCaps();
    log(c.usable ? `zazen: guests run under ${c.vendor === 'amd' ? 'AMD SVM' : c.vendor} with nested paging (${c.asids} ASIDs)` : `zazen: guests cannot run: ${c.reason}`);
  } catch (err) {
    log(`zazen: guests cannot run: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function boot(s: Shim): void {
  log(`zazen: TypeScript runtime ${ZAZEN_VERSION} on ${ENGINE}`);
  const hypervisor = new Hypervisor(domains);
  domains.register(createDomain0(() => hypervisor.guestCpuNs));
  const bootFs = new BootFs(s.bootInfo().modules, (i) => s.moduleData(i));
  for (const note of bootFs.renamed) log(`bootfs: ${note}`);
  for (const f of bootFs.files()) log(`bootfs: ${f.path} (${f.size} bytes)`);
  // Scanned now so that its findings are in the log from boot on; it never throws.
  acpiInfo(s);

  const timers = new TimerQueue(() => s.monotonicNs(), (err) => reportUncaught(err, 'in a timer callback'));
  installRuntimeGlobals(timers, bootFs, () => s.wallClockMs());
  setMicrotaskErrorReporter((err) => reportUncaught(err, 'in a queueMicrotask job'));

  const store = createHostStore();
  const xs = new XsClient(store);
  const readFile = (path: string): Uint8Array | null => {
    const f = bootFs.lookup(path);
    return f ? bootFs.bytes(f) : null;
  };
  const ctx: XlContext = { hv: hypervisor, xs, store, readFile };
  installDomainMonitor(ctx, () => s.wallClockMs());
  const runLoop = new RunLoop(hypervisor);
  const { commands, xl } = createToolstack(xs, ctx);
  const hv = createHvApi(hypervisor, runLoop);
  defineGlobal('hv', hv);
  defineGlobal('xs', xs);
  defineGlobal('xl', createXlApi(xl, splitWords, ctx));
  reportVirtCaps(s);
  // Proposed ABI hook, not called by the shim yet: its rejection tracker could print through
  // this (Node formatting, prompt redrawn) instead of writing to the console directly.
  defineGlobal('__zazenUnhandledRejection', (reason: unknown) => reportUncaught(reason, 'unhandled promise rejection'));

  const repl = new Repl({
    out: { write: (t) => s.consoleWrite(t) },
    commands,
    run: (code) => runGlobalCode(s, code),
    guard: (fn) => s.runInterruptible(fn),
    global: globalThis as unknown as Record<string, unknown>,
    readTextFile: (path) => (globalThis as unknown as { fs: { readTextFile(p: string): string } }).fs.readTextFile(path),
  });
  setOutputSink((t) => repl.write(t));
  setHypervisorConsole((t) => writeOutput(t));
  setPollHook(
    createPollHook({
      timers,
      readInput: () => s.consoleRead(),
      onInput: (bytes) => {
        const rest = routeInput(bytes);
        if (rest) repl.feed(rest);
      },
      onError: (err) => reportUncaught(err, 'in the event loop'),
      runGuests: () => runLoop.run(),
    }),
  );
  log('zazen: REPL ready');
  writeOutput(`Welcome to zazen ${ZAZEN_VERSION} (Xen ${XEN_MAJOR}.${XEN_MINOR} ABI, ${ENGINE}).\nType ".help" for more information.\n`);
  runInitScript(s, bootFs, repl);
  repl.start();
  // Under QEMU -icount the TSC counts instructions since reset: scripts/bench/boot reads this.
  hv.promptTsc = s.readTsc();
}

function main(): void {
  let s: Shim;
  try {
    installPolyfills();
    s = shim();
  } catch (err) {
    // Without a matching shim nothing can run: say why once and idle instead of failing every poll.
    const native = (globalThis as { __shim?: Partial<Shim> }).__shim;
    native?.consoleWrite?.(`zazen: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    setPollHook(() => -1);
    return;
  }
  // A poll hook that idles, in case boot fails before installing the real one.
  setPollHook(() => -1);
  try {
    boot(s);
  } catch (err) {
    reportUncaught(err, 'while booting the TypeScript runtime');
  }
}

main();
