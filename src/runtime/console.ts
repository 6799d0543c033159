// The global console: Node-style log/info/debug/warn/error and friends over writeOutput.
import { formatWithOptions } from './format';
import { inspect, InspectOptions } from './inspect';
import { writeOutput } from './output';

/** The console methods zazen provides. */
export interface ZazenConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  dir(value: unknown, options?: InspectOptions): void;
  assert(condition: unknown, ...args: unknown[]): void;
  group(...args: unknown[]): void;
  groupEnd(): void;
  count(label?: string): void;
  countReset(label?: string): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
  timeLog(label?: string, ...args: unknown[]): void;
}

/** Creates a console writing through `write`; `nowMs` times console.time. */
export function createConsole(write: (text: string) => void = writeOutput, nowMs: () => number = () => Date.now()): ZazenConsole {
  let indent = '';
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  const print = (text: string): void => {
    const body = indent === '' ? text : indent + text.split('\n').join(`\n${indent}`);
    write(`${body}\n`);
  };
  const out = (...args: unknown[]): void => print(formatWithOptions({}, ...args));
  const elapsed = (label: string): string | undefined => {
    const start = timers.get(label);
    if (start === undefined) {
      print(`Warning: No such label '${label}' for console.timeEnd()`);
      return undefined;
    }
    return `${label}: ${(nowMs() - start).toFixed(3)}ms`;
  };
  return {
    log: out,
    info: out,
    debug: out,
    warn: out,
    error: out,
    trace: (...args) => {
      const err = new Error(formatWithOptions({}, ...args));
      err.name = 'Trace';
      print(inspect(err));
    },
    dir: (value, options) => print(inspect(value, { customInspect: false, ...options })),
    assert: (condition, ...args) => {
      if (!condition) out(args.length ? `Assertion failed: ${formatWithOptions({}, ...args)}` : 'Assertion failed');
    },
    group: (...args) => {
      if (args.length) out(...args);
      indent += '  ';
    },
    groupEnd: () => {
      indent = indent.slice(2);
    },
    count: (label = 'default') => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      print(`${label}: ${n}`);
    },
    countReset: (label = 'default') => {
      counts.delete(label);
    },
    time: (label = 'default') => {
      timers.set(label, nowMs());
    },
    timeEnd: (label = 'default') => {
      const text = elapsed(label);
      timers.delete(label);
      if (text) print(text);
    },
    timeLog: (label = 'default', ...args) => {
      const text = elapsed(label);
      if (text) print(args.length ? `${text} ${formatWithOptions({}, ...args)}` : text);
    },
  };
}
