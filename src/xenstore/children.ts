// A node's children: a persistent map from name to node that also remembers creation order.
//
// Up to SMALL children live in a native Map (which keeps insertion order), copied on change: a bounded cost,
// and the cheapest form for QuickJS, whose builtins run natively while our own code is interpreted. Past that,
// LargeChildren keeps hash tries from each name to its node and to its creation number, and a B+tree from
// creation numbers to names. Replacing a child (what every write below this node does) copies one path of the
// first trie; adding or removing one also updates the others. Either way an update costs the same however
// many siblings exist.
import type { XsNode } from './tree';
import { BTree, btSet, btRemove, btForEach } from './btree';
import { Hamt, hamtGet, hamtSet, hamtRemove, hamtSize } from './hamt';
import { nulJoin } from './bytes';

/** Read access to a child set; iteration follows creation order (the order xenstored lists children in). */
export interface ChildMap {
  readonly size: number;
  get(name: string): XsNode | undefined;
  forEach(f: (node: XsNode, name: string) => void): void;
}

/** Most children kept in the Map form. */
const SMALL = 8;
/** A large set shrinking to this size goes back to a Map (below SMALL, so sizes near it do not flip-flop). */
const SHRINK = 4;

/** The large form: never modified after construction, except for filling the list cache. */
class LargeChildren implements ChildMap {
  readonly size: number;
  /** Name to node. */
  readonly index: Hamt<XsNode>;
  /** Name to creation number (the position in the child list); unchanged when a child is replaced. */
  readonly seqs: Hamt<number>;
  /** Creation number to name. */
  readonly order: BTree<number, string>;
  readonly nextSeq: number;
  /** The child list bytes, kept while only existing children are replaced. */
  list: Uint8Array | null;

  constructor(index: Hamt<XsNode>, seqs: Hamt<number>, order: BTree<number, string>, nextSeq: number, list: Uint8Array | null) {
    this.size = hamtSize(index);
    this.index = index;
    this.seqs = seqs;
    this.order = order;
    this.nextSeq = nextSeq;
    this.list = list;
  }

  get(name: string): XsNode | undefined {
    return hamtGet(this.index, name);
  }

  forEach(f: (node: XsNode, name: string) => void): void {
    const index = this.index;
    btForEach(this.order, (name) => f(hamtGet(index, name) as XsNode, name));
  }
}

/** The empty child set. */
export const NO_CHILDREN: ChildMap = new Map<string, XsNode>();

function large(m: ReadonlyMap<string, XsNode>): LargeChildren {
  let index: Hamt<XsNode> = null;
  let seqs: Hamt<number> = null;
  let order: BTree<number, string> = null;
  let seq = 0;
  m.forEach((node, name) => {
    index = hamtSet(index, name, node);
    seqs = hamtSet(seqs, name, seq);
    order = btSet(order, seq, name);
    seq++;
  });
  return new LargeChildren(index, seqs, order, seq, null);
}

/** A copy of `c` with `name` set to `node`: replaced in place when present, appended otherwise. */
export function withChild(c: ChildMap, name: string, node: XsNode): ChildMap {
  if (c instanceof LargeChildren) {
    const index = hamtSet(c.index, name, node);
    if (index === c.index) return c;
    if (index.size === c.size) return new LargeChildren(index, c.seqs, c.order, c.nextSeq, c.list);
    const seq = c.nextSeq;
    return new LargeChildren(index, hamtSet(c.seqs, name, seq), btSet(c.order, seq, name), seq + 1, null);
  }
  const m = new Map(c as ReadonlyMap<string, XsNode>);
  m.set(name, node);
  return m.size > SMALL ? large(m) : m;
}

/** A copy of `c` without `name` (`c` itself when it is absent). */
export function withoutChild(c: ChildMap, name: string): ChildMap {
  if (c instanceof LargeChildren) {
    const seq = hamtGet(c.seqs, name);
    if (seq === undefined) return c;
    const r = new LargeChildren(hamtRemove(c.index, name), hamtRemove(c.seqs, name), btRemove(c.order, seq), c.nextSeq, null);
    if (r.size > SHRINK) return r;
    const m = new Map<string, XsNode>();
    r.forEach((n, nm) => m.set(nm, n));
    return m;
  }
  if (c.get(name) === undefined) return c;
  if (c.size === 1) return NO_CHILDREN;
  const m = new Map(c as ReadonlyMap<string, XsNode>);
  m.delete(name);
  return m;
}

/** The children's names in creation order. */
export function childNames(c: ChildMap): string[] {
  const out: string[] = [];
  if (c instanceof LargeChildren) btForEach(c.order, (name) => out.push(name));
  else (c as ReadonlyMap<string, XsNode>).forEach((_n, name) => out.push(name));
  return out;
}

/** The child list as xenstored stores and sends it: each name followed by a NUL. Callers must not modify it. */
export function childList(c: ChildMap): Uint8Array {
  if (!(c instanceof LargeChildren)) return nulJoin(childNames(c));
  if (c.list === null) c.list = nulJoin(childNames(c));
  return c.list;
}
