// A persistent hash array mapped trie (CHAMP layout) from strings to values: lookups and updates touch one
// node per 5 bits of hash, so their cost stays flat however many keys there are; old roots stay valid.

/**
 * One trie node. Bit b of `dataMap` says slot b holds an entry (in keys/vals, at the rank of b among the set
 * bits); bit b of `nodeMap` says it holds a sub-trie (in kids). Below 32 bits of hash a node is a plain
 * bucket of keys with equal hashes (both maps 0).
 */
export interface HNode<V> {
  /** Entries in this sub-trie. */
  readonly size: number;
  readonly dataMap: number;
  readonly nodeMap: number;
  readonly keys: readonly string[];
  readonly vals: readonly V[];
  readonly kids: readonly HNode<V>[];
}

/** A trie is a root node or null when empty. */
export type Hamt<V> = HNode<V> | null;

const NO_KIDS: readonly HNode<never>[] = [];

// The last string hashed and its hash: an update usually hashes the key its lookup just hashed.
let memoKey = '';
let memoHash = 0;

/** 32-bit hash of a string: FNV-1a over the characters, then murmur3's finalizer so every bit depends on every character. */
export function hashString(s: string): number {
  if (s === memoKey) return memoHash;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  memoKey = s;
  memoHash = (h ^ (h >>> 16)) >>> 0;
  return memoHash;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function mk<V>(size: number, dataMap: number, nodeMap: number, keys: readonly string[], vals: readonly V[], kids: readonly HNode<V>[]): HNode<V> {
  return { size, dataMap, nodeMap, keys, vals, kids };
}

/** Number of entries in a trie. */
export function hamtSize<V>(t: Hamt<V>): number {
  return t === null ? 0 : t.size;
}

function with1<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice();
  out[i] = x;
  return out;
}

function plus<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice(0, i);
  out.push(x);
  for (let j = i; j < a.length; j++) out.push(a[j]);
  return out;
}

function minus<T>(a: readonly T[], i: number): T[] {
  const out = a.slice(0, i);
  for (let j = i + 1; j < a.length; j++) out.push(a[j]);
  return out;
}

/** Finds the value stored under `key`. */
export function hamtGet<V>(t: Hamt<V>, key: string): V | undefined {
  if (t === null) return undefined;
  const hash = hashString(key);
  let n = t;
  for (let shift = 0; shift < 32; shift += 5) {
    const bit = 1 << ((hash >>> shift) & 31);
    if (n.dataMap & bit) {
      const i = popcount(n.dataMap & (bit - 1));
      return n.keys[i] === key ? n.vals[i] : undefined;
    }
    if (!(n.nodeMap & bit)) return undefined;
    n = n.kids[popcount(n.nodeMap & (bit - 1))];
  }
  for (let i = 0; i < n.keys.length; i++) if (n.keys[i] === key) return n.vals[i];
  return undefined;
}

/** A sub-trie holding two entries whose hashes agree below `shift`. */
function pair<V>(k1: string, h1: number, v1: V, k2: string, h2: number, v2: V, shift: number): HNode<V> {
  if (shift >= 32) return mk(2, 0, 0, [k1, k2], [v1, v2], NO_KIDS);
  const b1 = (h1 >>> shift) & 31;
  const b2 = (h2 >>> shift) & 31;
  if (b1 === b2) return mk(2, 0, 1 << b1, [], [], [pair(k1, h1, v1, k2, h2, v2, shift + 5)]);
  return b1 < b2 ? mk(2, (1 << b1) | (1 << b2), 0, [k1, k2], [v1, v2], NO_KIDS) : mk(2, (1 << b1) | (1 << b2), 0, [k2, k1], [v2, v1], NO_KIDS);
}

function put<V>(n: HNode<V>, key: string, hash: number, val: V, shift: number): HNode<V> {
  if (shift >= 32) {
    for (let i = 0; i < n.keys.length; i++) {
      if (n.keys[i] === key) return n.vals[i] === val ? n : mk(n.size, 0, 0, n.keys, with1(n.vals, i, val), NO_KIDS);
    }
    return mk(n.size + 1, 0, 0, n.keys.concat([key]), n.vals.concat([val]), NO_KIDS);
  }
  const bit = 1 << ((hash >>> shift) & 31);
  if (n.dataMap & bit) {
    const i = popcount(n.dataMap & (bit - 1));
    const k = n.keys[i];
    if (k === key) return n.vals[i] === val ? n : mk(n.size, n.dataMap, n.nodeMap, n.keys, with1(n.vals, i, val), n.kids);
    // Two keys share this slot: move the old entry and the new one into a sub-trie.
    const sub = pair(k, hashString(k), n.vals[i], key, hash, val, shift + 5);
    const j = popcount(n.nodeMap & (bit - 1));
    return mk(n.size + 1, n.dataMap ^ bit, n.nodeMap | bit, minus(n.keys, i), minus(n.vals, i), plus(n.kids, j, sub));
  }
  if (n.nodeMap & bit) {
    const j = popcount(n.nodeMap & (bit - 1));
    const old = n.kids[j];
    const sub = put(old, key, hash, val, shift + 5);
    return sub === old ? n : mk(n.size + sub.size - old.size, n.dataMap, n.nodeMap, n.keys, n.vals, with1(n.kids, j, sub));
  }
  const i = popcount(n.dataMap & (bit - 1));
  return mk(n.size + 1, n.dataMap | bit, n.nodeMap, plus(n.keys, i, key), plus(n.vals, i, val), n.kids);
}

/** Returns a trie with `key` mapped to `val` (added or replaced); the same trie when nothing changes. */
export function hamtSet<V>(t: Hamt<V>, key: string, val: V): HNode<V> {
  const hash = hashString(key);
  if (t === null) return mk(1, 1 << (hash & 31), 0, [key], [val], NO_KIDS);
  return put(t, key, hash, val, 0);
}

function drop<V>(n: HNode<V>, key: string, hash: number, shift: number): HNode<V> {
  if (shift >= 32) {
    for (let i = 0; i < n.keys.length; i++) if (n.keys[i] === key) return mk(n.size - 1, 0, 0, minus(n.keys, i), minus(n.vals, i), NO_KIDS);
    return n;
  }
  const bit = 1 << ((hash >>> shift) & 31);
  if (n.dataMap & bit) {
    const i = popcount(n.dataMap & (bit - 1));
    if (n.keys[i] !== key) return n;
    return mk(n.size - 1, n.dataMap ^ bit, n.nodeMap, minus(n.keys, i), minus(n.vals, i), n.kids);
  }
  if (!(n.nodeMap & bit)) return n;
  const j = popcount(n.nodeMap & (bit - 1));
  const old = n.kids[j];
  const sub = drop(old, key, hash, shift + 5);
  if (sub === old) return n;
  if (sub.kids.length === 0 && sub.keys.length === 1) {
    // A sub-trie left with one entry folds back into this node, keeping the trie as shallow as possible.
    const i = popcount(n.dataMap & (bit - 1));
    return mk(n.size - 1, n.dataMap | bit, n.nodeMap ^ bit, plus(n.keys, i, sub.keys[0]), plus(n.vals, i, sub.vals[0]), minus(n.kids, j));
  }
  return mk(n.size - 1, n.dataMap, n.nodeMap, n.keys, n.vals, with1(n.kids, j, sub));
}

/** Returns a trie without `key` (the same trie when it is absent; null when it becomes empty). */
export function hamtRemove<V>(t: Hamt<V>, key: string): Hamt<V> {
  if (t === null) return null;
  const r = drop(t, key, hashString(key), 0);
  return r.size === 0 ? null : r;
}

/** Calls `f` for every entry, in no particular order. */
export function hamtForEach<V>(t: Hamt<V>, f: (val: V, key: string) => void): void {
  if (t === null) return;
  for (let i = 0; i < t.keys.length; i++) f(t.vals[i], t.keys[i]);
  for (let j = 0; j < t.kids.length; j++) hamtForEach(t.kids[j], f);
}
