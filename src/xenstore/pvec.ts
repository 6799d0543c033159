// A persistent vector: a 16-ary trie of short arrays indexed by position, so reading a slot is a few array
// loads and writing one copies a single root-to-leaf path (log16 n arrays); old versions stay valid.
import { withItem } from './arrays';

/** A vector: `root` covers positions below 16 << shift. Slots never written read as undefined. */
export interface PVec<T> {
  readonly shift: number;
  readonly root: readonly unknown[];
  /** Phantom field tying the element type to the vector. */
  readonly _t?: T;
}

/** The empty vector. */
export const PV_EMPTY: PVec<never> = { shift: 0, root: [] };

/** The element at position `i` (undefined when never set or cleared). */
export function pvGet<T>(v: PVec<T>, i: number): T | undefined {
  if (v.shift < 28 && i >>> (v.shift + 4) !== 0) return undefined;
  let a: readonly unknown[] | undefined = v.root;
  for (let s = v.shift; s > 0; s -= 4) {
    a = a[(i >>> s) & 15] as readonly unknown[] | undefined;
    if (a === undefined) return undefined;
  }
  return a[i & 15] as T | undefined;
}

function setIn(a: readonly unknown[] | undefined, shift: number, i: number, x: unknown): unknown[] {
  const arr = a === undefined ? [] : a;
  const j = (i >>> shift) & 15;
  const val = shift === 0 ? x : setIn(arr[j] as readonly unknown[] | undefined, shift - 4, i, x);
  if (j < arr.length) return withItem(arr, j, val);
  const out = arr.slice();
  while (out.length < j) out.push(undefined);
  out.push(val);
  return out;
}

/** A vector with position `i` (0 <= i < 2^31) set to `x` (undefined clears it), growing as needed. */
export function pvSet<T>(v: PVec<T>, i: number, x: T | undefined): PVec<T> {
  let shift = v.shift;
  let root = v.root;
  while (shift < 28 && i >>> (shift + 4) !== 0) {
    root = [root];
    shift += 4;
  }
  return { shift, root: setIn(root, shift, i, x) };
}
