// The server as one function from request to replies: a dispatch table in the style of xenstored's wire_funcs.
import { Connection, Delivery, Transaction, XenStore } from './state';
import { Message, XsType, XsErrno, PAYLOAD_MAX, errorMessage, xsTypeName } from './wire';
import { View, liveView, txView, finish } from './view';
import { latin1Bytes, latin1String, nulStrings, atoi } from './bytes';
import { opRead, opWrite, opMkdir, opRm, opDirectory, opDirectoryPart, opGetPerms, opSetPerms, oneArg, canon, OK } from './ops';
import { addWatch, removeWatch, removeAllWatches, eventMessage } from './watches';
import { startTransaction, commitTransaction, dropTransaction, dropAllTransactions } from './transaction';
import { introduce, opRelease, opResume, opSetTarget, opIsIntroduced, opGetDomainPath, parseDomid } from './domains';
import { control } from './control';
import { QUOTA_NAMES, exceeds, isQuotaName } from './quota';
import { XsFail, fail } from './fail';

/** What a handler gets: the request, its view (live or transaction), and lists for events. */
interface Req {
  readonly store: XenStore;
  readonly conn: Connection;
  readonly msg: Message;
  readonly tx: Transaction | null;
  readonly view: View;
  /** Events to send before the reply (as xenstored fires watches before acknowledging). */
  readonly out: Delivery[];
  /** Events to send after the reply (the first event of a new watch). */
  readonly after: Delivery[];
}

/** Ignore the transaction id. */
const NOTID = 1;
/** dom0 only. */
const PRIV = 2;
/** Changes the tree: replayed when a transaction commits. */
const MODIFY = 4;

interface Entry {
  readonly flags: number;
  readonly run: (r: Req) => Uint8Array;
}

function watch(r: Req): Uint8Array {
  const args = nulStrings(r.msg.payload);
  let depth = -1;
  if (args.length === 3) {
    depth = atoi(args[2]);
    if (depth < 0) fail('EINVAL');
  } else if (args.length !== 2) fail('EINVAL');
  const relative = args[0][0] !== '/' && args[0][0] !== '@';
  const path = canon(r.view, args[0], true);
  const token = args[1];
  const c = r.conn;
  for (const w of c.watches) if (w.path === path && w.token === token) fail('EEXIST');
  if (!c.privileged) {
    const n = (r.store.watchCounts.get(c.domid) || 0) + 1;
    r.store.noteMax(c.domid, 'watches', n);
    if (exceeds(n, r.store.quota(c.domid, 'watches'))) fail('ENOSPC');
  }
  const w = { conn: c, path, token, depth, prefixLen: relative ? c.implicit.length + 1 : 0, seq: ++r.store.watchSeq, lastPath: '', lastEvent: null };
  addWatch(r.store, w);
  // Every new watch fires once straight away; Linux's xenbus relies on it.
  const ev = eventMessage(path.substring(w.prefixLen), token);
  if (ev) r.after.push({ conn: c, msg: ev });
  return OK;
}

function unwatch(r: Req): Uint8Array {
  const args = nulStrings(r.msg.payload);
  if (args.length !== 2) fail('EINVAL');
  const path = canon(r.view, args[0], true);
  for (const w of r.conn.watches) {
    if (w.path === path && w.token === args[1]) {
      removeWatch(r.store, w);
      return OK;
    }
  }
  return fail('ENOENT');
}

function txStart(r: Req): Uint8Array {
  if (r.tx) fail('EBUSY');
  return latin1Bytes(startTransaction(r.store, r.conn) + '\0');
}

function txEnd(r: Req): Uint8Array {
  const arg = oneArg(r.msg.payload);
  if (arg !== 'T' && arg !== 'F') fail('EINVAL');
  if (!r.tx) return fail('ENOENT');
  if (arg === 'F') dropTransaction(r.store, r.conn, r.tx);
  else commitTransaction(r.store, r.conn, r.tx, r.out, applyModify);
  return OK;
}

function getQuota(r: Req): Uint8Array {
  const a = nulStrings(r.msg.payload);
  if (a.length > 2) fail('EINVAL');
  if (a.length === 0) return latin1Bytes(QUOTA_NAMES.join(' ') + '\0');
  const domid = a.length === 2 ? parseDomid(a[0]) : -1;
  const name = a[a.length - 1];
  if (!isQuotaName(name)) return fail('EINVAL');
  if (domid >= 0 && !r.store.domains.has(domid)) fail('ENOENT');
  return latin1Bytes((domid >= 0 ? r.store.quota(domid, name) : r.store.quotas[name]) + '\0');
}

function setQuota(r: Req): Uint8Array {
  const a = nulStrings(r.msg.payload);
  if (a.length < 2 || a.length > 3) fail('EINVAL');
  const domid = a.length === 3 ? parseDomid(a[0]) : -1;
  const name = a[a.length - 2];
  const val = atoi(a[a.length - 1]);
  if (!isQuotaName(name) || val < 0) return fail('EINVAL');
  if (domid < 0) r.store.quotas[name] = val;
  else {
    if (!r.store.domains.has(domid)) fail('ENOENT');
    const o = r.store.domainQuotas.get(domid) || {};
    o[name] = val;
    r.store.domainQuotas.set(domid, o);
  }
  return OK;
}

const TABLE: (Entry | undefined)[] = [];
TABLE[XsType.CONTROL] = { flags: PRIV, run: (r) => control(r.store, nulStrings(r.msg.payload)) };
TABLE[XsType.DIRECTORY] = { flags: 0, run: (r) => opDirectory(r.view, r.msg.payload) };
TABLE[XsType.READ] = { flags: 0, run: (r) => opRead(r.view, r.msg.payload) };
TABLE[XsType.GET_PERMS] = { flags: 0, run: (r) => opGetPerms(r.view, r.msg.payload) };
TABLE[XsType.WATCH] = { flags: NOTID, run: watch };
TABLE[XsType.UNWATCH] = { flags: NOTID, run: unwatch };
TABLE[XsType.TRANSACTION_START] = { flags: 0, run: txStart };
TABLE[XsType.TRANSACTION_END] = { flags: 0, run: txEnd };
TABLE[XsType.INTRODUCE] = { flags: PRIV, run: (r) => introduce(r.store, nulStrings(r.msg.payload), r.out) };
TABLE[XsType.RELEASE] = { flags: PRIV, run: (r) => opRelease(r.store, [oneArg(r.msg.payload)], r.out) };
TABLE[XsType.GET_DOMAIN_PATH] = { flags: 0, run: (r) => opGetDomainPath(oneArg(r.msg.payload)) };
TABLE[XsType.WRITE] = { flags: MODIFY, run: (r) => opWrite(r.view, r.msg.payload) };
TABLE[XsType.MKDIR] = { flags: MODIFY, run: (r) => opMkdir(r.view, r.msg.payload) };
TABLE[XsType.RM] = { flags: MODIFY, run: (r) => opRm(r.view, r.msg.payload) };
TABLE[XsType.SET_PERMS] = { flags: MODIFY, run: (r) => opSetPerms(r.view, r.msg.payload) };
TABLE[XsType.IS_DOMAIN_INTRODUCED] = { flags: PRIV, run: (r) => opIsIntroduced(r.store, oneArg(r.msg.payload)) };
TABLE[XsType.RESUME] = { flags: PRIV, run: (r) => opResume(r.store, [oneArg(r.msg.payload)]) };
TABLE[XsType.SET_TARGET] = { flags: PRIV, run: (r) => opSetTarget(r.store, nulStrings(r.msg.payload)) };
TABLE[XsType.RESET_WATCHES] = {
  flags: 0,
  run: (r) => {
    removeAllWatches(r.store, r.conn);
    dropAllTransactions(r.store, r.conn);
    return OK;
  },
};
TABLE[XsType.DIRECTORY_PART] = { flags: 0, run: (r) => opDirectoryPart(r.view, r.msg.payload, PAYLOAD_MAX) };
TABLE[XsType.GET_QUOTA] = { flags: PRIV, run: getQuota };
TABLE[XsType.SET_QUOTA] = { flags: PRIV, run: setQuota };

/** Runs one modifying request in a view (used when a transaction's requests are replayed at commit). */
function applyModify(v: View, m: Message): void {
  const e = TABLE[m.type] as Entry;
  e.run({ store: v.store, conn: v.caller, msg: m, tx: null, view: v, out: v.events as Delivery[], after: [] });
}

function dedupe(events: Delivery[]): Delivery[] {
  if (events.length < 2) return events;
  // xenstored drops an event identical to one still queued for the same connection (special '@' events excepted).
  const seen = new Set<string>();
  return events.filter((e) => {
    if (e.msg.payload[0] === 64) return true;
    const key = e.conn.serial + ':' + latin1String(e.msg.payload);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Handles one request from `conn` and returns every message it causes, in sending order: watch events
 * (for any connection) and exactly one reply to `conn`. Never throws; the store changes only on success.
 */
export function reply(store: XenStore, conn: Connection, msg: Message): Delivery[] {
  const out: Delivery[] = [];
  const after: Delivery[] = [];
  let res: Message;
  try {
    const e = msg.type < TABLE.length ? TABLE[msg.type] : undefined;
    if (!e) return [{ conn, msg: errorMessage(msg, 'ENOSYS') }];
    if (e.flags & PRIV && !conn.privileged) fail('EACCES');
    let tx: Transaction | null = null;
    if (!(e.flags & NOTID) && msg.txId !== 0) {
      tx = conn.transactions.get(msg.txId) || null;
      if (!tx) fail('ENOENT');
    }
    const view = tx ? txView(store, conn, tx) : liveView(store, conn, out, true);
    const payload = e.run({ store, conn, msg, tx, view, out, after });
    if (payload.length > PAYLOAD_MAX) fail('E2BIG');
    if (e.flags & MODIFY) {
      finish(view);
      if (tx) tx.ops.push(msg);
    }
    res = { type: msg.type, reqId: msg.reqId, txId: msg.txId, payload };
  } catch (err) {
    out.length = 0;
    after.length = 0;
    let errno: XsErrno = 'EIO';
    if (err instanceof XsFail) errno = err.errno;
    else if (store.hooks.log) store.hooks.log('xenstore: internal error on ' + (xsTypeName[msg.type] || msg.type) + ': ' + String(err));
    res = errorMessage(msg, errno);
  }
  if (store.logging) store.log('dom' + conn.domid + ' ' + (xsTypeName[msg.type] || msg.type) + ' -> ' + (xsTypeName[res.type] || res.type));
  const events = dedupe(out);
  events.push({ conn, msg: res });
  for (const a of after) events.push(a);
  return events;
}
