// A persistent hash array mapped trie (CHAMP layout) from strings to values: lookups and updates touch one
// node per 4 bits of hash, so their cost stays flat however many keys there are; old roots stay valid.
//
// Tuned for QuickJS, where our code is interpreted and every array copy and object field costs: nodes are 16
// wide rather than the usual 32 (an update copies one array per level), carry both slot maps in one number,
// popcounts are table reads, and arrays are copied with arrays.ts's helpers.

import { withItem, withInserted, withoutItem } from './arrays';

/**
 * One trie node. For slot b (0..15), bit b of `bits` says it holds an entry (in keys/vals, at the rank of b
 * among the entry bits) and bit 16+b that it holds a sub-trie (in kids, likewise). Below 32 bits of hash a
 * node is a plain bucket of keys with equal hashes (bits 0).
 */
export interface HNode<V> {
  readonly bits: number;
  readonly keys: readonly string[];
  readonly vals: readonly V[];
  readonly kids: readonly HNode<V>[];
}

/** A trie is a root node or null when empty. */
export type Hamt<V> = HNode<V> | null;

const NO_KIDS: readonly HNode<never>[] = [];
const BITS = 4;
const MASK = 15;

/** Set bits of each byte value, so a 16-bit popcount is two table reads (cheaper than arithmetic in QuickJS). */
const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = POP8[i >> 1] + (i & 1);

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

/** Rank of slot bit `bit` among the set bits of a 16-bit map. */
function rank(map: number, bit: number): number {
  const x = map & (bit - 1);
  return POP8[x & 255] + POP8[x >>> 8];
}

function node<V>(bits: number, keys: readonly string[], vals: readonly V[], kids: readonly HNode<V>[]): HNode<V> {
  return { bits, keys, vals, kids };
}

/** Finds the value stored under `key`. */
export function hamtGet<V>(t: Hamt<V>, key: string): V | undefined {
  if (t === null) return undefined;
  const hash = hashString(key);
  let n = t;
  for (let shift = 0; shift < 32; shift += BITS) {
    const bit = 1 << ((hash >>> shift) & MASK);
    const bits = n.bits;
    if (bits & bit) {
      const x = bits & (bit - 1);
      const i = POP8[x & 255] + POP8[(x >>> 8) & 255];
      return n.keys[i] === key ? n.vals[i] : undefined;
    }
    if (!(bits & (bit << 16))) return undefined;
    const x = (bits >>> 16) & (bit - 1);
    n = n.kids[POP8[x & 255] + POP8[x >>> 8]];
  }
  for (let i = 0; i < n.keys.length; i++) if (n.keys[i] === key) return n.vals[i];
  return undefined;
}

/** Number of entries in a trie. */
export function hamtSize<V>(t: Hamt<V>): number {
  if (t === null) return 0;
  let n = t.keys.length;
  for (let i = 0; i < t.kids.length; i++) n += hamtSize(t.kids[i]);
  return n;
}

/** A sub-trie holding two entries whose hashes agree below `shift`. */
function pair<V>(k1: string, h1: number, v1: V, k2: string, h2: number, v2: V, shift: number): HNode<V> {
  if (shift >= 32) return node(0, [k1, k2], [v1, v2], NO_KIDS);
  const b1 = (h1 >>> shift) & MASK;
  const b2 = (h2 >>> shift) & MASK;
  if (b1 === b2) return node((1 << b1) << 16, [], [], [pair(k1, h1, v1, k2, h2, v2, shift + BITS)]);
  return b1 < b2 ? node((1 << b1) | (1 << b2), [k1, k2], [v1, v2], NO_KIDS) : node((1 << b1) | (1 << b2), [k2, k1], [v2, v1], NO_KIDS);
}

function put<V>(n: HNode<V>, key: string, hash: number, val: V, shift: number): HNode<V> {
  if (shift >= 32) {
    for (let i = 0; i < n.keys.length; i++) {
      if (n.keys[i] === key) return n.vals[i] === val ? n : node(0, n.keys, withItem(n.vals, i, val), NO_KIDS);
    }
    return node(0, n.keys.concat([key]), n.vals.concat([val]), NO_KIDS);
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  const bits = n.bits;
  if (bits & bit) {
    const i = rank(bits, bit);
    const k = n.keys[i];
    if (k === key) return n.vals[i] === val ? n : node(bits, n.keys, withItem(n.vals, i, val), n.kids);
    // Two keys share this slot: move the old entry and the new one into a sub-trie.
    const sub = pair(k, hashString(k), n.vals[i], key, hash, val, shift + BITS);
    return node(bits ^ bit ^ (bit << 16), withoutItem(n.keys, i), withoutItem(n.vals, i), withInserted(n.kids, rank(bits >>> 16, bit), sub));
  }
  if (bits & (bit << 16)) {
    const j = rank(bits >>> 16, bit);
    const old = n.kids[j];
    const sub = put(old, key, hash, val, shift + BITS);
    return sub === old ? n : node(bits, n.keys, n.vals, withItem(n.kids, j, sub));
  }
  const i = rank(bits, bit);
  return node(bits | bit, withInserted(n.keys, i, key), withInserted(n.vals, i, val), n.kids);
}

/** Returns a trie with `key` mapped to `val` (added or replaced); the same trie when nothing changes. */
export function hamtSet<V>(t: Hamt<V>, key: string, val: V): HNode<V> {
  const hash = hashString(key);
  if (t === null) {
    return node(1 << (hash & MASK), [key], [val], NO_KIDS);
  }
  return put(t, key, hash, val, 0);
}

function drop<V>(n: HNode<V>, key: string, hash: number, shift: number): HNode<V> {
  if (shift >= 32) {
    for (let i = 0; i < n.keys.length; i++) if (n.keys[i] === key) return node(0, withoutItem(n.keys, i), withoutItem(n.vals, i), NO_KIDS);
    return n;
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  const bits = n.bits;
  if (bits & bit) {
    const i = rank(bits, bit);
    if (n.keys[i] !== key) return n;
    return node(bits ^ bit, withoutItem(n.keys, i), withoutItem(n.vals, i), n.kids);
  }
  if (!(bits & (bit << 16))) return n;
  const j = rank(bits >>> 16, bit);
  const old = n.kids[j];
  const sub = drop(old, key, hash, shift + BITS);
  if (sub === old) return n;
  if (sub.kids.length === 0 && sub.keys.length === 1) {
    // A sub-trie left with one entry folds back into this node, keeping the trie as shallow as possible.
    const i = rank(bits, bit);
    return node(bits ^ bit ^ (bit << 16), withInserted(n.keys, i, sub.keys[0]), withInserted(n.vals, i, sub.vals[0]), withoutItem(n.kids, j));
  }
  return node(bits, n.keys, n.vals, withItem(n.kids, j, sub));
}

/** Returns a trie without `key` (the same trie when it is absent; null when it becomes empty). */
export function hamtRemove<V>(t: Hamt<V>, key: string): Hamt<V> {
  if (t === null) return null;
  const r = drop(t, key, hashString(key), 0);
  return r.keys.length === 0 && r.kids.length === 0 ? null : r;
}

/** Calls `f` for every entry, in no particular order. */
export function hamtForEach<V>(t: Hamt<V>, f: (val: V, key: string) => void): void {
  if (t === null) return;
  for (let i = 0; i < t.keys.length; i++) f(t.vals[i], t.keys[i]);
  for (let j = 0; j < t.kids.length; j++) hamtForEach(t.kids[j], f);
}
