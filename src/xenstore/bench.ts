// In-process benchmark of the server (runs in Node and in QuickJS): read, write, directory, transaction commit.
import { XenStore, Connection } from './state';
import { Message, XsType } from './wire';
import { dispatch } from './host';
import { latin1Bytes, latin1String } from './bytes';

/** Operations per second of one operation with a number of connections. */
export interface BenchRow {
  op: string;
  conns: number;
  opsPerSec: number;
}

interface Client {
  conn: Connection;
  base: string;
  reply: Message | null;
}

function call(store: XenStore, c: Client, type: number, payload: Uint8Array, txId = 0): Message {
  c.reply = null;
  dispatch(store, c.conn, { type, reqId: 1, txId, payload });
  const r = c.reply as Message | null;
  if (!r || r.type === XsType.ERROR) throw new Error('bench: request failed: ' + (r ? latin1String(r.payload) : 'no reply'));
  return r;
}

/**
 * Populates /local/domain/1..`domains`, each with a few nodes owned by its domain, and connects the first `n`
 * of them, each connection holding 3 watches on its subtree. Giving every run the same `domains` keeps the
 * store the same size whatever the number of connections, so a comparison measures connections alone.
 */
function setup(n: number, domains: number): { store: XenStore; clients: Client[] } {
  const store = new XenStore({ quotas: { nodes: 0 } });
  const admin: Client = { conn: store.connect(0), base: '', reply: null };
  admin.conn.sink = (m) => {
    if (m.type !== XsType.WATCH_EVENT) admin.reply = m;
  };
  const clients: Client[] = [];
  for (let i = 1; i <= Math.max(n, domains); i++) {
    const base = '/local/domain/' + i;
    call(store, admin, XsType.MKDIR, latin1Bytes(base + '\0'));
    call(store, admin, XsType.SET_PERMS, latin1Bytes(base + '\0n' + i + '\0'));
    store.domains.set(i, { domid: i, conn: undefined, shutdown: false, gfn: 0, port: 1 });
    // Unconnected domains get their nodes from dom0: created below the domain's directory, they are the domain's own.
    const c: Client = i <= n ? { conn: store.connect(i), base, reply: null } : admin;
    if (i <= n) {
      c.conn.sink = (m) => {
        if (m.type !== XsType.WATCH_EVENT) c.reply = m;
      };
    }
    for (const k of ['name', 'device/vbd/51712/state', 'device/vif/0/state', 'memory/target', 'control/shutdown']) {
      call(store, c, XsType.WRITE, latin1Bytes(base + '/' + k + '\0' + 'value'));
    }
    if (i > n) continue;
    for (const w of ['device', 'control/shutdown', 'memory/target']) call(store, c, XsType.WATCH, latin1Bytes(w + '\0tok-' + w + '\0'));
    clients.push(c);
  }
  return { store, clients };
}

/** The benchmarked operations for a set of clients, each taking a client index. */
function operations(store: XenStore, clients: Client[]): [string, (i: number) => void][] {
  const reqs = clients.map((c) => ({
    read: latin1Bytes(c.base + '/device/vbd/51712/state\0'),
    write: latin1Bytes(c.base + '/device/vbd/51712/state\0' + '4'),
    dir: latin1Bytes(c.base + '/device\0'),
    txWrite: latin1Bytes(c.base + '/device/vif/0/state\0' + '4'),
  }));
  return [
    ['read', (i) => call(store, clients[i], XsType.READ, reqs[i].read)],
    ['write', (i) => call(store, clients[i], XsType.WRITE, reqs[i].write)],
    ['directory', (i) => call(store, clients[i], XsType.DIRECTORY, reqs[i].dir)],
    [
      'transaction',
      (i) => {
        const c = clients[i];
        const id = Number(latin1String(call(store, c, XsType.TRANSACTION_START, latin1Bytes('\0')).payload).replace('\0', ''));
        call(store, c, XsType.READ, reqs[i].read, id);
        call(store, c, XsType.WRITE, reqs[i].txWrite, id);
        call(store, c, XsType.TRANSACTION_END, latin1Bytes('T\0'), id);
      },
    ],
  ];
}

/** Runs `fn` round-robin over `conns` clients for about `ms` milliseconds; returns operations per second. */
function timeOp(fn: (i: number) => void, conns: number, ms: number, now: () => number): number {
  let count = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 200; k++) fn((count + k) % conns);
    count += 200;
    t = now();
  }
  return (count * 1000) / (t - t0);
}

/**
 * Measures each operation with each connection count. The counts take turns in `rounds` short runs of
 * `ms` milliseconds and each keeps its best run, so load from other processes (which only ever slows a run
 * down) disturbs the comparison as little as possible. Every run's store holds `domains` domains' subtrees
 * (at least one per connection; pass 0 to give each run only its connections' subtrees).
 */
export function benchInProcess(connCounts: number[], ms: number, rounds: number, now: () => number, domains = 0): BenchRow[] {
  const setups = connCounts.map((n) => {
    const s = setup(n, domains);
    return { n, ops: operations(s.store, s.clients) };
  });
  const rows: BenchRow[] = [];
  for (let o = 0; o < setups[0].ops.length; o++) {
    const best = connCounts.map(() => 0);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < setups.length; k++) best[k] = Math.max(best[k], timeOp(setups[k].ops[o][1], setups[k].n, ms, now));
    }
    for (let k = 0; k < setups.length; k++) rows.push({ op: setups[k].ops[o][0], conns: setups[k].n, opsPerSec: Math.round(best[k]) });
  }
  return rows;
}

/** Runs one named operation with `conns` connections (store of `domains` domains) for `ms` milliseconds, for profiling; returns operations per second. */
export function benchOp(name: string, conns: number, ms: number, now: () => number, domains = 0): number {
  const s = setup(conns, domains);
  const op = operations(s.store, s.clients).filter((o) => o[0] === name)[0];
  if (!op) throw new Error('bench: no operation ' + name);
  return Math.round(timeOp(op[1], conns, ms, now));
}
