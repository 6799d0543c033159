// Installs the runtime's globals: console, timers, util and fs.
import { createConsole } from './console';
import { timerGlobals } from './eventLoop';
import { createFs } from './files';
import { format, formatWithOptions } from './format';
import { inspect } from './inspect';
import type { TimerQueue } from './timers';
import type { BootFs } from '../hv/bootfs';

/** Defines a global as a writable, configurable, non-enumerable property (like built-ins). */
export function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** Installs console, setTimeout/setInterval/clear*, util {inspect, format} and fs. */
export function installRuntimeGlobals(timers: TimerQueue, bootFs: BootFs, nowMs: () => number): void {
  defineGlobal('console', createConsole(undefined, nowMs));
  const t = timerGlobals(timers);
  defineGlobal('setTimeout', t.setTimeout);
  defineGlobal('setInterval', t.setInterval);
  defineGlobal('clearTimeout', t.clearTimeout);
  defineGlobal('clearInterval', t.clearInterval);
  defineGlobal('util', { inspect, format, formatWithOptions });
  defineGlobal('fs', createFs(bootFs));
}
