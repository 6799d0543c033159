// A view is where a request runs: the live store, or a transaction's snapshot that records what it reads.
import { Connection, Delivery, Snapshot, Transaction, XenStore } from './state';
import { XsNode, lookup, replaceNode } from './tree';
import { exceeds } from './quota';
import { fail } from './fail';

/** The context of one request. */
export interface View {
  snap: Snapshot;
  readonly store: XenStore;
  readonly caller: Connection;
  /** The transaction, when the request runs inside one. */
  readonly tx: Transaction | null;
  /** Node-count changes made by this request (applied on success); null until there is one. */
  delta: Map<number, number> | null;
  /** Watch events raised so far; null inside a transaction (commit replays and raises them). */
  readonly events: Delivery[] | null;
}

/** Makes a view of the live store. */
export function liveView(store: XenStore, caller: Connection, events: Delivery[]): View {
  return { snap: store.snap, store, caller, tx: null, delta: null, events };
}

/** Makes a view of a transaction's snapshot. */
export function txView(store: XenStore, caller: Connection, tx: Transaction): View {
  return { snap: tx.snap, store, caller, tx, delta: null, events: null };
}

/** Looks a node up in a snapshot without recording anything. */
export function peek(snap: Snapshot, path: string): XsNode | undefined {
  return path.charCodeAt(0) === 64 ? snap.specials.get(path) : lookup(snap.root, path);
}

/** Reads a node; inside a transaction its first access is recorded for the commit-time conflict check. */
export function getNode(v: View, path: string): XsNode | undefined {
  const n = peek(v.snap, path);
  const tx = v.tx;
  if (tx && !tx.reads.has(path)) {
    const limit = v.store.quota(v.caller.domid, 'transaction-nodes');
    if (!v.caller.privileged) {
      v.store.noteMax(v.caller.domid, 'transaction-nodes', tx.reads.size + 1);
      if (exceeds(tx.reads.size + 1, limit)) {
        tx.failed = true;
        fail('ENOSPC');
      }
    }
    tx.reads.set(path, n ? n.generation : -1);
  }
  return n;
}

/** Replaces (or removes) a node in the view; see replaceNode for the parent's generation. */
export function putNode(v: View, path: string, node: XsNode | undefined, parentGen: number): void {
  if (path.charCodeAt(0) === 64) {
    if (!node) fail('EINVAL');
    const specials = new Map(v.snap.specials);
    specials.set(path, node);
    v.snap = { root: v.snap.root, specials };
    return;
  }
  v.snap = { root: replaceNode(v.snap.root, path, node, parentGen), specials: v.snap.specials };
}

/** Nodes a domain owns as this view sees them. */
export function nodeCount(v: View, domid: number): number {
  const base = v.store.nodeCounts.get(domid) || 0;
  const tx = v.tx ? v.tx.delta.get(domid) || 0 : 0;
  return base + tx + (v.delta === null ? 0 : v.delta.get(domid) || 0);
}

/** Changes a domain's node count within the view. */
export function addNodes(v: View, domid: number, by: number): void {
  if (v.delta === null) v.delta = new Map();
  v.delta.set(domid, (v.delta.get(domid) || 0) + by);
}

/** Makes the view's changes permanent: the live store, or the transaction's snapshot. */
export function finish(v: View): void {
  const target = v.tx ? v.tx.delta : null;
  if (v.delta !== null) {
    v.delta.forEach((d, domid) => {
      if (target) target.set(domid, (target.get(domid) || 0) + d);
      else v.store.bump(v.store.nodeCounts, domid, d);
    });
  }
  if (v.tx) v.tx.snap = v.snap;
  else v.store.snap = v.snap;
}
