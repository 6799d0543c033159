// Promise states the runtime has observed: JS cannot read a promise's state, so we watch it settle.

/** A promise's state as last observed. */
export type PromiseState =
  | { state: 'pending' }
  | { state: 'fulfilled'; value: unknown }
  | { state: 'rejected'; reason: unknown };

const states = new WeakMap<object, PromiseState>();

/** Starts watching a promise; this also marks a rejection as handled. */
export function trackPromise(p: Promise<unknown>): void {
  if (states.has(p)) return;
  states.set(p, { state: 'pending' });
  p.then(
    (value) => states.set(p, { state: 'fulfilled', value }),
    (reason) => states.set(p, { state: 'rejected', reason }),
  );
}

/** The observed state of a tracked promise, or undefined if it was never tracked. */
export function promiseState(p: object): PromiseState | undefined {
  return states.get(p);
}
