// The store's persistent tree: a change copies the path above it, so any root is a consistent snapshot. The one
// exception is a value write to a node that no snapshot can hold (see nodeEpoch): that changes the node itself.
import { Perms } from './perms';
import { cachedNode, cacheNode } from './readCache';
import { Children, NO_CHILDREN, childForEach, childFind, foundName, withChild, withoutChild } from './children';

/** One node: value, permissions, children in creation order, and the generation of its last change. */
export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: Perms;
  readonly children: Children;
  /** Bytes of the children list as xenstored stores it: each name plus a NUL. */
  readonly childLen: number;
  /** Unique per change of this node's value, permissions or child list. */
  readonly generation: number;
  /** The nodeEpoch the node was made in. */
  readonly epoch: number;
}

// Snapshots are only ever kept by transactions. Every transaction start begins a new epoch, and a node made in
// the current epoch has not existed while any transaction began, so no snapshot but the live tree reaches it:
// its value can then be rewritten in place (setValueInPlace) instead of copying the path from the root down.
// (With no transaction open, no snapshot exists at all: view.ts's mayChangeInPlace allows any node then.)
let epoch = 1;

/** The current epoch. */
export function nodeEpoch(): number {
  return epoch;
}

/** Starts a new epoch: from now on every existing node is shared with a snapshot and never changed in place. */
export function freezeNodes(): void {
  epoch++;
}

/**
 * Gives a node a new value and generation in place; callers first check that no snapshot can hold it (view.ts's
 * mayChangeInPlace) and that the request can no longer fail. Its ancestors keep their generation, as when copied.
 */
export function setValueInPlace(n: XsNode, value: Uint8Array, generation: number): void {
  const m = n as { value: Uint8Array; generation: number };
  m.value = value;
  m.generation = generation;
}

const EMPTY = new Uint8Array(0);

/** Makes a childless node. */
export function leaf(perms: Perms, generation: number, value: Uint8Array = EMPTY): XsNode {
  return { value, perms, children: NO_CHILDREN, childLen: 0, generation, epoch };
}

/** Copies a node with some fields replaced. */
export function withFields(n: XsNode, f: { value?: Uint8Array; perms?: Perms; generation: number }): XsNode {
  return {
    value: f.value === undefined ? n.value : f.value,
    perms: f.perms === undefined ? n.perms : f.perms,
    children: n.children,
    childLen: n.childLen,
    generation: f.generation,
    epoch,
  };
}

/** Size xenstored charges for a node against the node-size quota: header, 8 bytes per permission, value, child list. */
export function nodeSize(n: { value: Uint8Array; perms: Perms; childLen: number }): number {
  return 16 + 8 * n.perms.length + n.value.length + n.childLen;
}

// The nodes met by the last successful lookup (root first, found node last) and where it started: an update
// usually replaces the node it has just looked up, and then need not walk the tree a second time. Nodes are
// immutable, so the chain stays right for as long as the same root and path are asked about.
let memoRoot: XsNode | null = null;
let memoPath = '';
let memoDepth = 0;
const memoChain: (XsNode | undefined)[] = [];
/** The path components the last lookup used as keys (so an update need not split the path again). */
const memoNames: string[] = [];

/** Finds the node at an absolute path. */
export function lookup(root: XsNode, path: string): XsNode | undefined {
  if (path === '/') return root;
  const hit = cachedNode(root, path);
  if (hit !== undefined) return hit;
  memoRoot = null;
  let n: XsNode | undefined = root;
  let start = 1;
  let depth = 0;
  for (;;) {
    memoChain[depth] = n;
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    n = childFind(n.children, path, start, end);
    if (n === undefined) return undefined;
    memoNames[depth++] = foundName;
    if (slash < 0) {
      memoChain[depth] = n;
      memoDepth = depth;
      memoRoot = root;
      memoPath = path;
      cacheNode(root, path, n);
      return n;
    }
    start = end + 1;
  }
}

/**
 * The components of `path` as the last lookup found them (the tree's own name strings), or null when the last
 * successful lookup was of another path. Valid until the next lookup; lets watch matching skip splitting the path.
 */
export function lookedUpNames(path: string): readonly string[] | null {
  return memoRoot !== null && memoPath === path ? memoNames : null;
}

/**
 * Returns a new root where the node at `path` is replaced by `node` (or removed when undefined).
 * The parent must exist. When the parent's child list changes (add or remove), the parent takes `parentGen`.
 */
export function replaceNode(root: XsNode, path: string, node: XsNode | undefined, parentGen: number): XsNode {
  // chain[i] is the node i levels down; chain[depth] the node being replaced (undefined when new).
  let chain: (XsNode | undefined)[];
  let segs: string[];
  let depth: number;
  if (root === memoRoot && path === memoPath) {
    chain = memoChain;
    segs = memoNames;
    depth = memoDepth;
  } else {
    if (path === '/') {
      if (!node) throw new Error('xenstore: the root cannot be removed');
      return node;
    }
    // Walk as lookup does, into the memo arrays (no path splitting; names are the tree's own strings).
    memoRoot = null;
    chain = memoChain;
    segs = memoNames;
    chain[0] = root;
    depth = 0;
    let start = 1;
    for (;;) {
      const slash = path.indexOf('/', start);
      const end = slash < 0 ? path.length : slash;
      const c = childFind((chain[depth] as XsNode).children, path, start, end);
      if (c === undefined) {
        if (slash >= 0) throw new Error('xenstore: missing parent of ' + path);
        segs[depth++] = path.substring(start);
        chain[depth] = undefined;
        break;
      }
      segs[depth++] = foundName;
      chain[depth] = c;
      if (slash < 0) break;
      start = end + 1;
    }
  }
  const parent = chain[depth - 1] as XsNode;
  const name = segs[depth - 1];
  const listChanged = (chain[depth] === undefined) !== (node === undefined);
  const childLen = parent.childLen + (listChanged ? (node ? name.length + 1 : -(name.length + 1)) : 0);
  const children = node ? withChild(parent.children, name, node) : withoutChild(parent.children, name);
  let cur: XsNode = { value: parent.value, perms: parent.perms, children, childLen, generation: listChanged ? parentGen : parent.generation, epoch };
  for (let i = depth - 2; i >= 0; i--) {
    const p = chain[i] as XsNode;
    cur = { value: p.value, perms: p.perms, children: withChild(p.children, segs[i], cur), childLen: p.childLen, generation: p.generation, epoch };
  }
  return cur;
}

/** Visits a subtree depth-first, parents before children, with each node's path. */
export function walk(n: XsNode, path: string, visit: (path: string, n: XsNode) => void): void {
  visit(path, n);
  childForEach(n.children, (c, name) => walk(c, path === '/' ? '/' + name : path + '/' + name, visit));
}

/** Returns a copy of a subtree with `f` applied to every node (f returns the node itself to keep it). */
export function mapTree(n: XsNode, path: string, f: (path: string, n: XsNode) => XsNode): XsNode {
  let children = n.children;
  childForEach(n.children, (c, name) => {
    const m = mapTree(c, path === '/' ? '/' + name : path + '/' + name, f);
    if (m !== c) children = withChild(children, name, m);
  });
  const self = children !== n.children ? { value: n.value, perms: n.perms, children, childLen: n.childLen, generation: n.generation, epoch } : n;
  return f(path, self);
}
