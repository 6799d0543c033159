// Transactions: snapshot on start, first-access read set, and commit by validation then replay.
import { Connection, Delivery, Transaction, XenStore } from './state';
import { Message } from './wire';
import { View, liveView, peek, finish } from './view';
import { exceeds } from './quota';
import { freezeNodes } from './tree';
import { fail } from './fail';
import { latin1String } from './bytes';

/** Opens a transaction on a connection and returns its id (ids start at 1 and skip ones in use). */
export function startTransaction(store: XenStore, conn: Connection): number {
  if (!conn.privileged) {
    const open = (store.txCounts.get(conn.domid) || 0) + 1;
    store.noteMax(conn.domid, 'transactions', open);
    if (exceeds(open, store.quota(conn.domid, 'transactions'))) fail('ENOSPC');
  }
  // The transaction keeps the live tree as its snapshot: nothing in it may change in place from now on.
  freezeNodes();
  let id = conn.nextTxId;
  while (id === 0 || conn.transactions.has(id)) id = (id + 1) >>> 0;
  conn.nextTxId = (id + 1) >>> 0;
  conn.transactions.set(id, { id, snap: store.snap, reads: new Map(), ops: [], delta: new Map(), failed: false, overlay: null });
  store.bump(store.txCounts, conn.domid, 1);
  store.openTransactions++;
  return id;
}

/** Forgets a transaction without applying it. */
export function dropTransaction(store: XenStore, conn: Connection, tx: Transaction): void {
  if (conn.transactions.delete(tx.id)) {
    store.bump(store.txCounts, conn.domid, -1);
    store.openTransactions--;
  }
}

/** Drops every transaction of a connection. */
export function dropAllTransactions(store: XenStore, conn: Connection): void {
  conn.transactions.forEach((tx) => dropTransaction(store, conn, tx));
}

/**
 * Commits: EAGAIN if any node the transaction read has changed since (its generation differs, or it
 * appeared or vanished); otherwise its modifying requests are replayed on the live store, atomically,
 * raising their watch events now. `apply` runs one modifying request in a view.
 */
export function commitTransaction(store: XenStore, conn: Connection, tx: Transaction, out: Delivery[], apply: (v: View, m: Message) => void): void {
  dropTransaction(store, conn, tx);
  if (tx.failed) fail('ENOMEM');
  const snap = store.snap;
  tx.reads.forEach((gen, path) => {
    const n = peek(snap, path);
    if ((n ? n.generation : -1) !== gen) fail('EAGAIN');
  });
  if (tx.ops.length === 0) return;
  const events: Delivery[] = [];
  // A lone request replayed is like one sent outside a transaction: nothing after it can fail, so it may
  // change a node in place; with more, a later one failing must leave the store as it was.
  const v = liveView(store, conn, events, tx.ops.length === 1);
  for (const m of tx.ops) apply(v, m);
  finish(v);
  // xenstored fires one event per changed node at commit; a node written twice gives one event.
  if (events.length < 2) {
    if (events.length === 1) out.push(events[0]);
    return;
  }
  const seen = new Set<string>();
  for (const e of events) {
    const key = e.conn.serial + ':' + latin1String(e.msg.payload);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
}
