// Copy-on-write helpers for the persistent trees: a new array with one element replaced, inserted or removed.
//
// Plain loops only: QuickJS 2021 (the engine zazen embeds) has no ES2023 Array.prototype.with/toSpliced,
// and the benchmarks must measure the code that runs there, not a faster path of a newer engine.

/** A copy of `a` with element `i` set to `x`. */
export function withItem<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice();
  out[i] = x;
  return out;
}

/** A copy of `a` with `x` inserted before index `i`. */
export function withInserted<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice(0, i);
  out.push(x);
  for (let j = i; j < a.length; j++) out.push(a[j]);
  return out;
}

/** A copy of `a` without element `i`. */
export function withoutItem<T>(a: readonly T[], i: number): T[] {
  const out = a.slice(0, i);
  for (let j = i + 1; j < a.length; j++) out.push(a[j]);
  return out;
}
