// A view is where a request runs: the live store, or a transaction's snapshot that records what it reads.
import { Connection, Delivery, Snapshot, Transaction, XenStore } from './state';
import { XsNode, lookup, replaceNode, nodeEpoch } from './tree';
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
  /**
   * May a value write change an unshared node in place (tree.ts)? Only for a lone request on the live store,
   * whose write is its last step that can fail: a request from a client, or a commit replaying a single one
   * (with more, a later one failing must leave the store as it was).
   */
  readonly inPlace: boolean;
}

/** Makes a view of the live store; `inPlace` as in View. */
export function liveView(store: XenStore, caller: Connection, events: Delivery[], inPlace = false): View {
  return { snap: store.snap, store, caller, tx: null, delta: null, events, inPlace };
}

/**
 * May a value write change node `n` of the view in place rather than copy the path to it? When the view
 * allows it and no snapshot can hold the node: it was made after the last transaction began (tree.ts), or no
 * transaction is open at all, so the live tree is the only snapshot there is.
 */
export function mayChangeInPlace(v: View, n: XsNode): boolean {
  return v.inPlace && (n.epoch === nodeEpoch() || v.store.openTransactions === 0);
}

/** Makes a view of a transaction's snapshot. */
export function txView(store: XenStore, caller: Connection, tx: Transaction): View {
  return { snap: tx.snap, store, caller, tx, delta: null, events: null, inPlace: false };
}

/** Looks a node up in a snapshot without recording anything. */
export function peek(snap: Snapshot, path: string): XsNode | undefined {
  return path.charCodeAt(0) === 64 ? snap.specials.get(path) : lookup(snap.root, path);
}

/** Reads a node; inside a transaction its first access is recorded for the commit-time conflict check. */
export function getNode(v: View, path: string): XsNode | undefined {
  const tx = v.tx;
  const over = tx !== null && tx.overlay !== null ? tx.overlay.get(path) : undefined;
  const n = over !== undefined ? over : peek(v.snap, path);
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

/**
 * Rewrites a node's value inside a transaction without copying the path to it: the new node goes to the
 * transaction's overlay, which getNode consults first. Only for a node that exists, with nothing else changed
 * (children, permissions), and as the request's last step that can fail: the overlay is the transaction's own.
 */
export function putValueInTx(v: View, path: string, node: XsNode): void {
  const tx = v.tx as Transaction;
  if (tx.overlay === null) tx.overlay = new Map();
  tx.overlay.set(path, node);
}

/**
 * Folds a transaction's overlay into its snapshot (any other change needs the tree itself up to date). The
 * result means the same as before, so it is stored in the transaction at once, whatever becomes of the request.
 */
function flushOverlay(v: View, tx: Transaction): void {
  const over = tx.overlay as Map<string, XsNode>;
  tx.overlay = null;
  let root = tx.snap.root;
  over.forEach((n, path) => {
    root = replaceNode(root, path, n, 0);
  });
  tx.snap = { root, specials: tx.snap.specials };
  v.snap = tx.snap;
}

/** Replaces (or removes) a node in the view; see replaceNode for the parent's generation. */
export function putNode(v: View, path: string, node: XsNode | undefined, parentGen: number): void {
  // A change other than a value rewrite sees the tree, so the overlay goes in first. Until then the view has
  // not changed its snapshot (every change comes here), so it is still the transaction's.
  if (v.tx !== null && v.tx.overlay !== null) flushOverlay(v, v.tx);
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
