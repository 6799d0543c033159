// The store's immutable tree: nodes are never changed in place, so any root is a consistent snapshot.
import { Perms } from './perms';
import { segments } from './path';
import { ChildMap, NO_CHILDREN, withChild, withoutChild } from './children';

/** One node: value, permissions, children in creation order, and the generation of its last change. */
export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: Perms;
  readonly children: ChildMap;
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

/** Finds the node at an absolute path. */
export function lookup(root: XsNode, path: string): XsNode | undefined {
  if (path === '/') return root;
  let n: XsNode | undefined = root;
  let start = 1;
  for (;;) {
    const end = path.indexOf('/', start);
    n = n.children.get(end < 0 ? path.substring(start) : path.substring(start, end));
    if (n === undefined || end < 0) return n;
    start = end + 1;
  }
}

/**
 * Returns a new root where the node at `path` is replaced by `node` (or removed when undefined).
 * The parent must exist. When the parent's child list changes (add or remove), the parent takes `parentGen`.
 */
export function replaceNode(root: XsNode, path: string, node: XsNode | undefined, parentGen: number): XsNode {
  const segs = segments(path);
  if (segs.length === 0) {
    if (!node) throw new Error('xenstore: the root cannot be removed');
    return node;
  }
  return rebuild(root, segs, 0, node, parentGen);
}

function rebuild(n: XsNode, segs: string[], i: number, node: XsNode | undefined, parentGen: number): XsNode {
  const name = segs[i];
  const old = n.children.get(name);
  if (i < segs.length - 1) {
    if (!old) throw new Error('xenstore: missing parent of /' + segs.join('/'));
    const children = withChild(n.children, name, rebuild(old, segs, i + 1, node, parentGen));
    return { value: n.value, perms: n.perms, children, childLen: n.childLen, generation: n.generation };
  }
  const children = node ? withChild(n.children, name, node) : withoutChild(n.children, name);
  const listChanged = (old === undefined) !== (node === undefined);
  const childLen = n.childLen + (listChanged ? (node ? name.length + 1 : -(name.length + 1)) : 0);
  return { value: n.value, perms: n.perms, children, childLen, generation: listChanged ? parentGen : n.generation };
}

/** Visits a subtree depth-first, parents before children, with each node's path. */
export function walk(n: XsNode, path: string, visit: (path: string, n: XsNode) => void): void {
  visit(path, n);
  n.children.forEach((c, name) => walk(c, path === '/' ? '/' + name : path + '/' + name, visit));
}

/** Returns a copy of a subtree with `f` applied to every node (f returns the node itself to keep it). */
export function mapTree(n: XsNode, path: string, f: (path: string, n: XsNode) => XsNode): XsNode {
  let children = n.children;
  n.children.forEach((c, name) => {
    const m = mapTree(c, path === '/' ? '/' + name : path + '/' + name, f);
    if (m !== c) children = withChild(children, name, m);
  });
  const self = children !== n.children ? { value: n.value, perms: n.perms, children, childLen: n.childLen, generation: n.generation } : n;
  return f(path, self);
}
