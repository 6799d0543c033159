// A node's children: a persistent map from name to node that also remembers creation order.
//
// Up to SMALL children live in one short array, names and nodes interleaved in creation order, copied on
// change: a bounded cost, and compact (a lookup touches the array and the names, about as few cache lines as
// a native Map, and a copy is one array).
//
// Past that, a child's creation number is its slot: nodes sit in a persistent vector indexed by slot, and the
// names (slot to name, and name to slot in a hash trie) sit in a separate KeySet that only adding or removing
// a child replaces. Replacing a child (what every write below this node does) copies one vector path and
// shares the KeySet, so its cost does not grow with the number of siblings; adding or removing one costs
// O(log n). Because a KeySet outlives replacements, it can afford a native Map from name to slot, built once
// it has served as many lookups as it has names (so building it is paid for by the lookups it then speeds up).
import type { XsNode } from './tree';
import { Hamt, hamtGet, hamtSet, hamtRemove } from './hamt';
import { PVec, PV_EMPTY, pvGet, pvSet } from './pvec';
import { nulJoin } from './bytes';
import { withItem, withInserted, withoutItem } from './arrays';

/** Most children kept in the array form. */
const SMALL = 8;
/** A large set shrinking to this size goes back to an array (below SMALL, so sizes near it do not flip-flop). */
const SHRINK = 4;

/** The small form: [name0, node0, name1, node1, ...] in creation order. */
type Small = readonly (string | XsNode)[];

/** The names of a large set; shared by every version that differs only in which nodes the children are. */
interface KeySet {
  /** Slot to name (undefined for the slots of removed children). */
  readonly names: PVec<string>;
  /** Name to slot. */
  readonly slots: Hamt<number>;
  /** Slots used so far, live or removed. */
  readonly used: number;
  /** Caches, filled on demand: the child list bytes, and the native name-to-slot map with its lookup count. */
  list: Uint8Array | null;
  fast: Map<string, number> | null;
  lookups: number;
}

function keySet(names: PVec<string>, slots: Hamt<number>, used: number): KeySet {
  return { names, slots, used, list: null, fast: null, lookups: 0 };
}

/** The large form: never modified after construction (except for the caches in its KeySet). */
class LargeChildren {
  readonly size: number;
  /** Slot to node. */
  readonly nodes: PVec<XsNode>;
  readonly keys: KeySet;

  constructor(size: number, nodes: PVec<XsNode>, keys: KeySet) {
    this.size = size;
    this.nodes = nodes;
    this.keys = keys;
  }
}

/** The slot of `name` in a key set. */
function slotOf(k: KeySet, name: string): number | undefined {
  if (k.fast !== null) return k.fast.get(name);
  if (++k.lookups >= k.used) {
    const fast = new Map<string, number>();
    for (let i = 0; i < k.used; i++) {
      const nm = pvGet(k.names, i);
      if (nm !== undefined) fast.set(nm, i);
    }
    k.fast = fast;
    return fast.get(name);
  }
  return hamtGet(k.slots, name);
}

/** Builds the large form from children in creation order, numbering slots afresh. */
function large(names: readonly string[], nodes: readonly XsNode[]): LargeChildren {
  let nv: PVec<XsNode> = PV_EMPTY;
  let kv: PVec<string> = PV_EMPTY;
  let slots: Hamt<number> = null;
  for (let i = 0; i < names.length; i++) {
    nv = pvSet(nv, i, nodes[i]);
    kv = pvSet(kv, i, names[i]);
    slots = hamtSet(slots, names[i], i);
  }
  return new LargeChildren(names.length, nv, keySet(kv, slots, names.length));
}

/** An immutable set of named children; iteration follows creation order (the order xenstored lists them in). */
export type Children = Small | LargeChildren;

/** The empty child set. */
export const NO_CHILDREN: Children = [];

/** The child called `name`. */
export function childGet(c: Children, name: string): XsNode | undefined {
  if (c instanceof LargeChildren) {
    const slot = slotOf(c.keys, name);
    return slot === undefined ? undefined : pvGet(c.nodes, slot);
  }
  for (let i = 0; i < c.length; i += 2) if (c[i] === name) return c[i + 1] as XsNode;
  return undefined;
}

/** The name under which childFind found its child: the set's own string, so later updates compare by identity. */
export let foundName = '';

/**
 * The child named by `path` between `start` and `end`, found without cutting that name out of the path in
 * the array form (no string is allocated per level, which keeps lookups cheap in QuickJS and spares V8's
 * young generation); sets foundName.
 */
export function childFind(c: Children, path: string, start: number, end: number): XsNode | undefined {
  if (c instanceof LargeChildren) {
    const name = path.substring(start, end);
    const slot = slotOf(c.keys, name);
    if (slot === undefined) return undefined;
    foundName = name;
    return pvGet(c.nodes, slot);
  }
  const len = end - start;
  for (let i = 0; i < c.length; i += 2) {
    const nm = c[i] as string;
    if (nm.length === len && path.startsWith(nm, start)) {
      foundName = nm;
      return c[i + 1] as XsNode;
    }
  }
  return undefined;
}

/** Number of children. */
export function childCount(c: Children): number {
  return c instanceof LargeChildren ? c.size : c.length >> 1;
}

/** Calls `f` for each child in creation order. */
export function childForEach(c: Children, f: (node: XsNode, name: string) => void): void {
  if (c instanceof LargeChildren) {
    for (let i = 0; i < c.keys.used; i++) {
      const name = pvGet(c.keys.names, i);
      if (name !== undefined) f(pvGet(c.nodes, i) as XsNode, name);
    }
    return;
  }
  for (let i = 0; i < c.length; i += 2) f(c[i + 1] as XsNode, c[i] as string);
}

/** A copy of `c` with `name` set to `node`: replaced in place when present, appended otherwise. */
export function withChild(c: Children, name: string, node: XsNode): Children {
  if (c instanceof LargeChildren) {
    const k = c.keys;
    const slot = slotOf(k, name);
    if (slot !== undefined) return pvGet(c.nodes, slot) === node ? c : new LargeChildren(c.size, pvSet(c.nodes, slot, node), k);
    const s = k.used;
    return new LargeChildren(c.size + 1, pvSet(c.nodes, s, node), keySet(pvSet(k.names, s, name), hamtSet(k.slots, name, s), s + 1));
  }
  for (let i = 0; i < c.length; i += 2) if (c[i] === name) return c[i + 1] === node ? c : withItem(c, i + 1, node);
  const grown = withInserted(withInserted(c, c.length, name), c.length + 1, node);
  if (grown.length <= 2 * SMALL) return grown;
  const names: string[] = [];
  const nodes: XsNode[] = [];
  childForEach(grown, (n, nm) => {
    names.push(nm);
    nodes.push(n);
  });
  return large(names, nodes);
}

/** A copy of `c` without `name` (`c` itself when it is absent). */
export function withoutChild(c: Children, name: string): Children {
  if (c instanceof LargeChildren) {
    const k = c.keys;
    const slot = slotOf(k, name);
    if (slot === undefined) return c;
    const r = new LargeChildren(c.size - 1, pvSet(c.nodes, slot, undefined), keySet(pvSet(k.names, slot, undefined), hamtRemove(k.slots, name), k.used));
    // Few children left go back to an array; many removed slots get renumbered, so slots stay under twice the size.
    if (r.size > SHRINK && k.used <= 2 * r.size + SMALL) return r;
    const names: string[] = [];
    const nodes: XsNode[] = [];
    childForEach(r, (n, nm) => {
      names.push(nm);
      nodes.push(n);
    });
    if (r.size > SHRINK) return large(names, nodes);
    const small: (string | XsNode)[] = [];
    for (let i = 0; i < names.length; i++) small.push(names[i], nodes[i]);
    return small;
  }
  for (let i = 0; i < c.length; i += 2) {
    if (c[i] === name) return c.length === 2 ? NO_CHILDREN : withoutItem(withoutItem(c, i), i);
  }
  return c;
}

/** The children's names in creation order. */
export function childNames(c: Children): string[] {
  const out: string[] = [];
  if (c instanceof LargeChildren) {
    for (let i = 0; i < c.keys.used; i++) {
      const name = pvGet(c.keys.names, i);
      if (name !== undefined) out.push(name);
    }
  } else for (let i = 0; i < c.length; i += 2) out.push(c[i] as string);
  return out;
}

/** The child list as xenstored stores and sends it: each name followed by a NUL. Callers must not modify it. */
export function childList(c: Children): Uint8Array {
  if (!(c instanceof LargeChildren)) return nulJoin(childNames(c));
  if (c.keys.list === null) c.keys.list = nulJoin(childNames(c));
  return c.keys.list;
}
