// Built-ins QuickJS 2021-03-27 lacks, added for REPL users and init.js scripts.

type AnyFn = (...args: any[]) => unknown;

function define(target: object, name: string, fn: AnyFn): void {
  if (typeof (target as Record<string, unknown>)[name] === 'function') return;
  Object.defineProperty(target, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

function relativeIndex(length: number, index: unknown): number {
  let i = Math.trunc(Number(index)) || 0;
  if (i < 0) i += length;
  return i;
}

interface IndexedList {
  length: number;
  [i: number]: unknown;
}

function atImpl(this: IndexedList, index: unknown): unknown {
  const list = Object(this) as IndexedList;
  const i = relativeIndex(list.length >>> 0, index);
  return i < 0 || i >= list.length ? undefined : list[i];
}

function findLastIndexImpl(this: IndexedList, pred: AnyFn, thisArg?: unknown): number {
  if (typeof pred !== 'function') throw new TypeError('predicate is not a function');
  const list = Object(this) as IndexedList;
  for (let i = (list.length >>> 0) - 1; i >= 0; i--) {
    if (pred.call(thisArg, list[i], i, list)) return i;
  }
  return -1;
}

function findLastImpl(this: IndexedList, pred: AnyFn, thisArg?: unknown): unknown {
  const i = findLastIndexImpl.call(this, pred, thisArg);
  return i < 0 ? undefined : (Object(this) as IndexedList)[i];
}

/** Adds at, findLast, findLastIndex, Object.hasOwn and queueMicrotask where the engine lacks them. */
export function installPolyfills(): void {
  // %TypedArray%.prototype is the shared prototype of every typed array class.
  const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
  for (const proto of [Array.prototype, String.prototype, typedArrayProto]) define(proto, 'at', atImpl);
  for (const proto of [Array.prototype, typedArrayProto]) {
    define(proto, 'findLast', findLastImpl);
    define(proto, 'findLastIndex', findLastIndexImpl);
  }
  define(Object, 'hasOwn', (obj: unknown, key: PropertyKey) =>
    Object.prototype.hasOwnProperty.call(Object(obj), key),
  );
  define(globalThis, 'queueMicrotask', (fn: () => void) => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    // An error thrown by the job surfaces like an uncaught exception, not a silent rejection.
    Promise.resolve().then(fn).catch((err: unknown) => reportMicrotaskError(err));
  });
}

let reportMicrotaskError: (err: unknown) => void = () => undefined;

/** Sets where errors thrown by queueMicrotask jobs are reported. */
export function setMicrotaskErrorReporter(report: (err: unknown) => void): void {
  reportMicrotaskError = report;
}
