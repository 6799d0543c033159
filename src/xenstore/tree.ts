// The store's immutable tree: nodes are never changed in place, so any root is a consistent snapshot.
import { Perms } from './perms';
import { segments } from './path';
import { Children, NO_CHILDREN, childForEach, childGet, withChild, withoutChild } from './children';

/** One node: value, permissions, children in creation order, and the generation of its last change. */
export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: Perms;
  readonly children: Children;
  /** Bytes of the children list as xenstored stores it: each name plus a NUL. */
  readonly childLen: number;
  /** Unique per change of this node's value, permissions or child list. */
  readonly generation: number;
}

const EMPTY = new Uint8Array(0);

/** Makes a childless node. */
export function leaf(perms: Perms, generation: number, value: Uint8Array = EMPTY): XsNode {
  return { value, perms, children: NO_CHILDREN, childLen: 0, generation };
}

/** Copies a node with some fields replaced. */
export function withFields(n: XsNode, f: { value?: Uint8Array; perms?: Perms; generation: number }): XsNode {
  return {
    value: f.value === undefined ? n.value : f.value,
    perms: f.perms === undefined ? n.perms : f.perms,
    children: n.children,
    childLen: n.childLen,
    generation: f.generation,
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
const memoChain: XsNode[] = [];
/** The path components the last lookup used as keys (so an update need not split the path again). */
const memoNames: string[] = [];

/** Finds the node at an absolute path. */
export function lookup(root: XsNode, path: string): XsNode | undefined {
  if (path === '/') return root;
  memoRoot = null;
  let n: XsNode | undefined = root;
  let start = 1;
  let depth = 0;
  for (;;) {
    memoChain[depth] = n;
    const end = path.indexOf('/', start);
    const name = end < 0 ? path.substring(start) : path.substring(start, end);
    memoNames[depth++] = name;
    n = childGet(n.children, name);
    if (n === undefined) return undefined;
    if (end < 0) {
      memoChain[depth] = n;
      memoDepth = depth;
      memoRoot = root;
      memoPath = path;
      return n;
    }
    start = end + 1;
  }
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
    segs = segments(path);
    depth = segs.length;
    if (depth === 0) {
      if (!node) throw new Error('xenstore: the root cannot be removed');
      return node;
    }
    chain = [root];
    for (let i = 0; i < depth; i++) {
      const c: XsNode | undefined = childGet((chain[i] as XsNode).children, segs[i]);
      if (c === undefined && i < depth - 1) throw new Error('xenstore: missing parent of ' + path);
      chain.push(c);
    }
  }
  const parent = chain[depth - 1] as XsNode;
  const name = segs[depth - 1];
  const listChanged = (chain[depth] === undefined) !== (node === undefined);
  const childLen = parent.childLen + (listChanged ? (node ? name.length + 1 : -(name.length + 1)) : 0);
  const children = node ? withChild(parent.children, name, node) : withoutChild(parent.children, name);
  let cur: XsNode = { value: parent.value, perms: parent.perms, children, childLen, generation: listChanged ? parentGen : parent.generation };
  for (let i = depth - 2; i >= 0; i--) {
    const p = chain[i] as XsNode;
    cur = { value: p.value, perms: p.perms, children: withChild(p.children, segs[i], cur), childLen: p.childLen, generation: p.generation };
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
  const self = children !== n.children ? { value: n.value, perms: n.perms, children, childLen: n.childLen, generation: n.generation } : n;
  return f(path, self);
}
