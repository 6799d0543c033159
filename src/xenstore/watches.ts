// Watches: registration, the per-path index, and matching a change against them (xenstored's watch.c).
import { Connection, Delivery, Snapshot, Watch, XenStore } from './state';
import { XsNode, lookedUpNames } from './tree';
import { KEEP_SUBTREE, KEEP_DEPTH } from './watchIndex';
import { parentPath } from './path';
import { Perms, PERM_READ, accessFor } from './perms';
import { Message, PAYLOAD_MAX, XsType } from './wire';
import { peek } from './view';

/** How a changed path selects watches (xenstored's enum watch_match). */
export const Match = {
  /** Watches on exactly this path (a node removed below the removal's root). */
  Exact: 0,
  /** Watches on this path or any ancestor, within their depth. */
  Subtree: 1,
  /** Special event with a domid suffix: exact, or depth-limited watches above it. */
  Depth: 2,
  /** Special event without suffix: exact watches without a depth. */
  NoDepth: 3,
} as const;
/** One of the Match values. */
export type Match = (typeof Match)[keyof typeof Match];

/** Registers a watch in its connection and the index. */
export function addWatch(store: XenStore, w: Watch): void {
  w.conn.watches.push(w);
  store.watchIndex.add(w);
  store.bump(store.watchCounts, w.conn.domid, 1);
}

/** Unregisters one watch. */
export function removeWatch(store: XenStore, w: Watch): void {
  const own = w.conn.watches;
  const i = own.indexOf(w);
  if (i >= 0) own.splice(i, 1);
  store.watchIndex.remove(w);
  store.bump(store.watchCounts, w.conn.domid, -1);
}

/** Unregisters every watch of a connection. */
export function removeAllWatches(store: XenStore, conn: Connection): void {
  while (conn.watches.length) removeWatch(store, conn.watches[conn.watches.length - 1]);
}

/** Longest event a watch keeps for reuse (bounds what the cache holds to this much per watch). */
const EVENT_CACHE_MAX = 256;

/** Builds the WATCH_EVENT message "path\0token\0", or null when it would exceed the payload limit (xenstored drops it). */
export function eventMessage(path: string, token: string): { type: number; reqId: number; txId: number; payload: Uint8Array } | null {
  return eventFor(path, 0, token);
}

/** eventMessage for `path` without its first `skip` characters (the watch's implicit prefix), built without concatenating. */
function eventFor(path: string, skip: number, token: string): Message | null {
  const plen = path.length - skip;
  if (plen + token.length + 2 > PAYLOAD_MAX) return null;
  const out = new Uint8Array(plen + token.length + 2);
  for (let i = 0; i < plen; i++) out[i] = path.charCodeAt(skip + i) & 0xff;
  for (let i = 0; i < token.length; i++) out[plen + 1 + i] = token.charCodeAt(i) & 0xff;
  return { type: XsType.WATCH_EVENT, reqId: 0, txId: 0, payload: out };
}

// Scratch list of the watches a change selects: reused by every change, as fireWatches never nests.
const scratch: Watch[] = [];

function candidates(store: XenStore, path: string, match: Match): Watch[] {
  const out = scratch;
  out.length = 0;
  if (match === Match.Exact || match === Match.NoDepth) {
    const list = store.watchIndex.exact(path);
    if (list) for (const w of list) if (match === Match.Exact || w.depth < 0) out.push(w);
    return out;
  }
  // Watches from several paths leave in registration order, as xenstored's single watch list would give them.
  const names = path.charCodeAt(0) === 64 ? null : lookedUpNames(path);
  const lists = store.watchIndex.collect(path, match === Match.Subtree ? KEEP_SUBTREE : KEEP_DEPTH, out, names);
  if (lists > 1) out.sort((a, b) => a.seq - b.seq);
  return out;
}

/**
 * May `conn` see an event on `path`? Its old permissions, the node, or the node's parent must be readable
 * (xenstored's watch_permitted); `snap` is the state the event describes.
 */
function permitted(conn: Connection, snap: Snapshot, path: string, node: XsNode | undefined, oldPerms: Perms | undefined): boolean {
  if (conn.privileged) return true;
  if (oldPerms && accessFor(conn, oldPerms) & PERM_READ) return true;
  const n = node || peek(snap, path);
  if (!n) return false;
  if (accessFor(conn, n.perms) & PERM_READ) return true;
  const parent = peek(snap, parentPath(path));
  return parent !== undefined && (accessFor(conn, parent.perms) & PERM_READ) !== 0;
}

/** Queues a WATCH_EVENT for every watch that a change of `path` fires and whose connection may see it. */
export function fireWatches(store: XenStore, out: Delivery[], snap: Snapshot, path: string, node: XsNode | undefined, match: Match, oldPerms?: Perms): void {
  const ws = candidates(store, path, match);
  if (ws.length === 0) return;
  let lastConn: Connection | null = null;
  let allowed = false;
  for (const w of ws) {
    if (w.conn.closed) continue;
    if (w.conn !== lastConn) {
      lastConn = w.conn;
      allowed = permitted(w.conn, snap, path, node, oldPerms);
    }
    if (!allowed) continue;
    // A watch mostly sees the same few nodes change: reuse its last event when the path is the same.
    let msg = w.lastPath === path ? (w.lastEvent as Message | null) : null;
    if (msg === null) {
      msg = eventFor(path, w.prefixLen, w.token);
      if (msg !== null && msg.payload.length <= EVENT_CACHE_MAX) {
        w.lastPath = path;
        w.lastEvent = msg;
      }
    }
    if (msg) out.push({ conn: w.conn, msg });
  }
}
