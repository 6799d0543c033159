// Domain management: INTRODUCE, RELEASE, RESUME, SET_TARGET, IS_DOMAIN_INTRODUCED, GET_DOMAIN_PATH and the special watches.
import { Connection, Delivery, XenStore } from './state';
import { XsNode, walk, mapTree } from './tree';
import { childForEach } from './children';
import { domainPath, childPath } from './path';
import { DOMID_FIRST_RESERVED, DOMID_SELF } from './perms';
import { latin1Bytes } from './bytes';
import { fireWatches, Match, removeAllWatches } from './watches';
import { dropAllTransactions } from './transaction';
import { liveView, finish } from './view';
import { opRm, OK } from './ops';
import { fail } from './fail';

/** Parses a domid like xenstored: a whole unsigned decimal up to 65535, else EINVAL. */
export function parseDomid(s: string): number {
  if (!/^[0-9]+$/.test(s)) return fail('EINVAL');
  const n = Number(s);
  if (!(n <= 65535)) fail('EINVAL');
  return n;
}

/** Fires @introduceDomain or @releaseDomain: plain watches get the bare name, depth-1 watches "name/<domid>". */
export function fireSpecial(store: XenStore, out: Delivery[], name: string, domid: number, plain: boolean, withDomid: boolean): void {
  const node = store.snap.specials.get(name) as XsNode;
  if (plain) fireWatches(store, out, store.snap, name, node, Match.NoDepth);
  if (withDomid) fireWatches(store, out, store.snap, name + '/' + domid, node, Match.Depth);
}

/** Drops a connection's watches and transactions and forgets it; no events are sent to it any more. */
export function disconnect(store: XenStore, conn: Connection): void {
  if (conn.closed) return;
  conn.closed = true;
  removeAllWatches(store, conn);
  dropAllTransactions(store, conn);
  store.connections.delete(conn);
}

/** INTRODUCE domid, gfn, port: starts serving a domain (again: rebinds and resets its connection). */
export function introduce(store: XenStore, args: string[], out: Delivery[]): Uint8Array {
  if (args.length < 3) fail('EINVAL');
  const domid = parseDomid(args[0]);
  const gfn = Number(args[1]) || 0;
  const port = parseInt(args[2], 10);
  if (!(port > 0)) fail('EINVAL');
  // xenstore.txt: "must be a real domain id (not 0 and not a special DOMID_... value)"; zazen refuses the rest clearly.
  if (domid === 0 || domid >= DOMID_FIRST_RESERVED) fail('EINVAL');
  const existing = store.domains.get(domid);
  if (existing && existing.conn) {
    // A second INTRODUCE resets the connection: watches and transactions go, as in xenstored's domain_conn_reset.
    removeAllWatches(store, existing.conn);
    dropAllTransactions(store, existing.conn);
  }
  let conn: Connection | undefined = existing ? existing.conn : undefined;
  if (store.hooks.introduce) {
    const r = store.hooks.introduce(domid, gfn, port);
    if (typeof r === 'string') fail(r);
    if (r) conn = r;
  }
  if (existing) {
    existing.conn = conn;
    existing.port = port;
    existing.gfn = gfn;
    return OK;
  }
  store.domains.set(domid, { domid, conn, shutdown: false, gfn, port });
  fireSpecial(store, out, '@introduceDomain', domid, true, true);
  return OK;
}

/** Lets a domain go: its connection closes, nodes it owns are deleted, its permission entries vanish, @releaseDomain fires. */
export function releaseDomain(store: XenStore, domid: number, out: Delivery[]): void {
  const d = store.domains.get(domid);
  if (!d) fail('ENOENT');
  store.domains.delete(domid);
  if (d.conn) {
    disconnect(store, d.conn);
    d.conn.onClose();
  }
  if (store.hooks.release) store.hooks.release(domid);
  // Orphans: xenstored deletes nodes owned by the departed domain (not keeping orphans) with their subtrees.
  const orphans: string[] = [];
  const scan = (p: string, n: XsNode): void => {
    if (n.perms[0].id === domid && p !== '/') {
      orphans.push(p);
      return;
    }
    childForEach(n.children, (c, name) => scan(childPath(p, name), c));
  };
  scan('/', store.snap.root);
  const admin = store.connect(0);
  store.connections.delete(admin);
  for (const p of orphans) {
    const v = liveView(store, admin, out);
    opRm(v, latin1Bytes(p + '\0'));
    finish(v);
  }
  // Remaining entries naming the domain go, so a later domain reusing the id inherits nothing.
  const strip = (_p: string, n: XsNode): XsNode => {
    if (!n.perms.some((q, i) => i > 0 && q.id === domid)) return n;
    return { ...n, perms: n.perms.filter((q, i) => i === 0 || q.id !== domid), generation: store.nextGen() };
  };
  const specials = new Map<string, XsNode>();
  store.snap.specials.forEach((n, name) => specials.set(name, strip(name, n)));
  store.snap = { root: mapTree(store.snap.root, '/', strip), specials };
  fireSpecial(store, out, '@releaseDomain', domid, true, true);
}

function oneDomain(store: XenStore, args: string[]): number {
  if (args.length < 1) fail('EINVAL');
  const domid = parseDomid(args[0]);
  if (domid === 0) fail('EINVAL');
  if (!store.domains.has(domid)) fail('ENOENT');
  return domid;
}

/** RELEASE domid. */
export function opRelease(store: XenStore, args: string[], out: Delivery[]): Uint8Array {
  releaseDomain(store, oneDomain(store, args), out);
  return OK;
}

/** RESUME domid: @releaseDomain may fire again on the next shutdown. */
export function opResume(store: XenStore, args: string[]): Uint8Array {
  (store.domains.get(oneDomain(store, args)) as { shutdown: boolean }).shutdown = false;
  return OK;
}

/** Reports a domain's shutdown (from the hypervisor): fires @releaseDomain once until RESUME. */
export function domainShutdown(store: XenStore, domid: number, out: Delivery[]): void {
  const d = store.domains.get(domid);
  if (!d || d.shutdown) return;
  d.shutdown = true;
  fireSpecial(store, out, '@releaseDomain', domid, true, true);
}

/** SET_TARGET domid, target: `domid` may act on `target`'s nodes as if it owned them. */
export function opSetTarget(store: XenStore, args: string[]): Uint8Array {
  if (args.length < 2) fail('EINVAL');
  const domid = parseDomid(args[0]);
  const tdomid = parseDomid(args[1]);
  const d = store.domains.get(domid);
  const t = store.domains.get(tdomid);
  if (!d || !t) fail('ENOENT');
  if (!d.conn) fail('EINVAL');
  d.conn.target = tdomid;
  return OK;
}

/** IS_DOMAIN_INTRODUCED domid: "T" or "F" (DOMID_SELF is always "T"). */
export function opIsIntroduced(store: XenStore, arg: string): Uint8Array {
  const domid = parseDomid(arg);
  return latin1Bytes(domid === DOMID_SELF || store.domains.has(domid) ? 'T\0' : 'F\0');
}

/** GET_DOMAIN_PATH domid: "/local/domain/<domid>". */
export function opGetDomainPath(arg: string): Uint8Array {
  return latin1Bytes(domainPath(parseDomid(arg)) + '\0');
}

/** Walks the store and checks its bookkeeping: child-list lengths, node counts; returns problems found (empty when sound). */
export function checkStore(store: XenStore, repair: boolean): string[] {
  const problems: string[] = [];
  const counts = new Map<number, number>();
  const count = (n: XsNode): void => {
    counts.set(n.perms[0].id, (counts.get(n.perms[0].id) || 0) + 1);
  };
  walk(store.snap.root, '/', (p, n) => {
    count(n);
    if (n.perms.length === 0) problems.push(p + ': no permissions');
    let len = 0;
    childForEach(n.children, (_c, name) => (len += name.length + 1));
    if (len !== n.childLen) problems.push(p + ': child list length ' + n.childLen + ' should be ' + len);
  });
  store.snap.specials.forEach(count);
  const ids = new Set<number>();
  counts.forEach((_v, k) => ids.add(k));
  store.nodeCounts.forEach((_v, k) => ids.add(k));
  ids.forEach((id) => {
    const want = counts.get(id) || 0;
    const have = store.nodeCounts.get(id) || 0;
    if (want !== have) {
      problems.push('domain ' + id + ': node count ' + have + ' should be ' + want);
      if (repair) store.bump(store.nodeCounts, id, want - have);
    }
  });
  return problems;
}
