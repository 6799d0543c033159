// A persistent B+tree: every update copies only the nodes on one root-to-leaf path, so old roots stay valid.
//
// Keys are all strings or all numbers, compared with `<`. A node holds at most MAX entries (keys of a leaf,
// children of an inner node) and, unless it is the root, at least MIN; so an update costs O(log n) small
// array copies whatever the number of keys.

/** One tree node: a leaf (`kids` null) with keys and values, or an inner node whose keys[i] is the least key below kids[i]. */
export interface BNode<K, V> {
  readonly keys: readonly K[];
  readonly vals: readonly V[] | null;
  readonly kids: readonly BNode<K, V>[] | null;
}

/** A tree is a root node or null when empty. */
export type BTree<K, V> = BNode<K, V> | null;

const MAX = 16;
const MIN = 8;

function node<K extends string | number, V>(keys: readonly K[], vals: readonly V[] | null, kids: readonly BNode<K, V>[] | null): BNode<K, V> {
  return { keys, vals, kids };
}

/** Index of `key` in a sorted leaf array, or -(insertion point) - 1. */
function search<K extends string | number>(keys: readonly K[], key: K): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = keys[mid];
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** The child of an inner node whose range holds `key`: the last i with keys[i] <= key, or 0. */
function childIndex<K extends string | number>(keys: readonly K[], key: K): number {
  let lo = 1;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] <= key) lo = mid + 1;
    else hi = mid - 1;
  }
  return lo - 1;
}

function inserted<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice(0, i);
  out.push(x);
  for (let j = i; j < a.length; j++) out.push(a[j]);
  return out;
}

function replaced<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice();
  out[i] = x;
  return out;
}

function removed<T>(a: readonly T[], i: number): T[] {
  const out = a.slice(0, i);
  for (let j = i + 1; j < a.length; j++) out.push(a[j]);
  return out;
}

/** Finds the value stored under `key`. */
export function btGet<K extends string | number, V>(t: BTree<K, V>, key: K): V | undefined {
  if (t === null) return undefined;
  let n = t;
  while (n.kids !== null) n = n.kids[childIndex(n.keys, key)];
  const i = search(n.keys, key);
  return i >= 0 ? (n.vals as readonly V[])[i] : undefined;
}

// The right half of the node split by the last ins() call, if any (saves allocating a pair per level).
let spill: BNode<unknown, unknown> | null = null;

/** Splits an over-full node's arrays in two; returns the left half and leaves the right one in `spill`. */
function split<K extends string | number, V>(keys: K[], vals: V[] | null, kids: BNode<K, V>[] | null): BNode<K, V> {
  const h = keys.length >> 1;
  spill = node(keys.slice(h), vals && vals.slice(h), kids && kids.slice(h));
  return node(keys.slice(0, h), vals && vals.slice(0, h), kids && kids.slice(0, h));
}

function ins<K extends string | number, V>(n: BNode<K, V>, key: K, val: V): BNode<K, V> {
  if (n.kids === null) {
    const vals = n.vals as readonly V[];
    const i = search(n.keys, key);
    if (i >= 0) return vals[i] === val ? n : node(n.keys, replaced(vals, i, val), null);
    const at = -i - 1;
    const keys = inserted(n.keys, at, key);
    const nv = inserted(vals, at, val);
    return keys.length > MAX ? split(keys, nv, null) : node(keys, nv, null);
  }
  const i = childIndex(n.keys, key);
  const old = n.kids[i];
  const c = ins(old, key, val);
  const right = spill as BNode<K, V> | null;
  spill = null;
  if (c === old) return n;
  const kids = replaced(n.kids, i, c);
  const keys = c.keys[0] === n.keys[i] ? (n.keys as K[]) : replaced(n.keys, i, c.keys[0]);
  if (right === null) return node(keys, null, kids);
  const k2 = inserted(keys, i + 1, right.keys[0]);
  const c2 = inserted(kids, i + 1, right);
  return k2.length > MAX ? split(k2, null, c2) : node(k2, null, c2);
}

/** Returns a tree with `key` mapped to `val` (added or replaced); the same tree when nothing changes. */
export function btSet<K extends string | number, V>(t: BTree<K, V>, key: K, val: V): BNode<K, V> {
  if (t === null) return node([key], [val], null);
  spill = null;
  const left = ins(t, key, val);
  const right = spill as BNode<K, V> | null;
  spill = null;
  return right === null ? left : node([left.keys[0], right.keys[0]], null, [left, right]);
}

/** Joins two adjacent siblings (left first) into one node, or two when that would be over-full. */
function rebalance<K extends string | number, V>(i: number, kids: BNode<K, V>[], keys: K[]): void {
  const a = kids[i];
  const b = kids[i + 1];
  const jk = a.keys.concat(b.keys);
  const jv = a.vals === null ? null : a.vals.concat(b.vals as readonly V[]);
  const jc = a.kids === null ? null : a.kids.concat(b.kids as readonly BNode<K, V>[]);
  if (jk.length <= MAX) {
    const m = node(jk, jv, jc);
    kids.splice(i, 2, m);
    keys.splice(i, 2, m.keys[0]);
    return;
  }
  const l = split(jk, jv, jc);
  const r = spill as BNode<K, V>;
  spill = null;
  kids.splice(i, 2, l, r);
  keys.splice(i, 2, l.keys[0], r.keys[0]);
}

function del<K extends string | number, V>(n: BNode<K, V>, key: K): BNode<K, V> {
  if (n.kids === null) {
    const i = search(n.keys, key);
    if (i < 0) return n;
    return node(removed(n.keys, i), removed(n.vals as readonly V[], i), null);
  }
  const i = childIndex(n.keys, key);
  const old = n.kids[i];
  const c = del(old, key);
  if (c === old) return n;
  const kids = replaced(n.kids, i, c);
  const keys = n.keys.slice();
  if (c.keys.length > 0) keys[i] = c.keys[0];
  // A child under MIN entries is joined with a neighbour (and split again if the pair is too big).
  if (c.keys.length < MIN) rebalance(i > 0 ? i - 1 : i, kids, keys);
  return node(keys, null, kids);
}

/** Returns a tree without `key` (the same tree when it is absent; null when it becomes empty). */
export function btRemove<K extends string | number, V>(t: BTree<K, V>, key: K): BTree<K, V> {
  if (t === null) return null;
  const r = del(t, key);
  if (r.kids !== null && r.kids.length === 1) return r.kids[0];
  return r.keys.length === 0 ? null : r;
}

/** Calls `f` for each entry in key order. */
export function btForEach<K extends string | number, V>(t: BTree<K, V>, f: (val: V, key: K) => void): void {
  if (t === null) return;
  if (t.kids === null) {
    const vals = t.vals as readonly V[];
    for (let i = 0; i < t.keys.length; i++) f(vals[i], t.keys[i]);
    return;
  }
  for (let i = 0; i < t.kids.length; i++) btForEach(t.kids[i], f);
}

/** Checks the tree's invariants (order, fill, uniform depth, separator keys); returns the first problem or ''. */
export function btCheck<K extends string | number, V>(t: BTree<K, V>): string {
  if (t === null) return '';
  let leafDepth = -1;
  let prev: K | undefined;
  const visit = (n: BNode<K, V>, depth: number, isRoot: boolean): string => {
    const size = n.kids === null ? n.keys.length : n.kids.length;
    if (size > MAX) return 'node over-full';
    if (!isRoot && size < MIN) return 'node under-full';
    if (n.kids === null) {
      if (leafDepth < 0) leafDepth = depth;
      else if (leafDepth !== depth) return 'leaves at different depths';
      if (!n.vals || n.vals.length !== n.keys.length) return 'leaf values do not match keys';
      for (const k of n.keys) {
        if (prev !== undefined && !(prev < k)) return 'keys out of order';
        prev = k;
      }
      return '';
    }
    if (n.keys.length !== n.kids.length) return 'inner keys do not match children';
    if (isRoot && n.kids.length < 2) return 'inner root with one child';
    for (let i = 0; i < n.kids.length; i++) {
      if (n.kids[i].keys[0] !== n.keys[i]) return 'separator is not the least key below';
      const e = visit(n.kids[i], depth + 1, false);
      if (e) return e;
    }
    return '';
  };
  return visit(t, 0, true);
}
