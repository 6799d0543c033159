// The server's state: the current snapshot, domains, connections, watches and quota accounting.
import { Perms, PERM_NONE, PERM_READ, DOMID_ANY, Caller } from './perms';
import { XsNode, leaf } from './tree';
import { NO_CHILDREN, withChild } from './children';
import { WatchIndex } from './watchIndex';
import { Quotas, defaultQuotas } from './quota';
import { Message, XsErrno } from './wire';
import { domainPath } from './path';

/** Everything a transaction snapshots: the tree and the special '@' nodes (which only carry permissions). */
export interface Snapshot {
  readonly root: XsNode;
  readonly specials: ReadonlyMap<string, XsNode>;
}

/** One watch of a connection. */
export interface Watch {
  readonly conn: Connection;
  /** Absolute (or '@special') path watched. */
  readonly path: string;
  readonly token: string;
  /** Levels below `path` that fire; -1 for all. */
  readonly depth: number;
  /** Characters cut from event paths: the implicit prefix when the watch was registered relative. */
  readonly prefixLen: number;
  /** Registration order, so events leave in the order xenstored would send them. */
  readonly seq: number;
  /** The last event this watch fired and the changed path it was for (events are immutable, so one can be sent again). */
  lastPath?: string;
  lastEvent?: Message | null;
}

/** A message for a connection, produced while handling some request. */
export interface Delivery {
  readonly conn: Connection;
  readonly msg: Message;
}

/** An open transaction: a private snapshot, what it read, and the requests to replay on commit. */
export interface Transaction {
  readonly id: number;
  snap: Snapshot;
  /** Generation of each node at its first access in the transaction (-1: absent). */
  readonly reads: Map<string, number>;
  /** Successful modifying requests, replayed against the live store on commit. */
  readonly ops: Message[];
  /** Change of each domain's node count inside the transaction. */
  readonly delta: Map<number, number>;
  /** Set when a request failed after touching the transaction; commit then fails with ENOMEM, like xenstored. */
  failed: boolean;
  /**
   * Nodes whose value the transaction rewrote, by path, laid over `snap` (null until the first): such a write
   * changes nothing else, so it is noted here instead of copying the path in `snap` (see view.ts).
   */
  overlay: Map<string, XsNode> | null;
}

/** One client: a domain's ring or a dom0 socket, with its watches and transactions. */
export class Connection implements Caller {
  /** Unique per server, for logs and ordering. */
  readonly serial: number;
  readonly domid: number;
  readonly privileged: boolean;
  /** Domain whose nodes this one may manage (SET_TARGET). */
  target: number | undefined = undefined;
  /** Base of relative paths. */
  readonly implicit: string;
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
  nextTxId = 1;
  /** Replies queued by the transport but not yet delivered (the outstanding-requests quota). */
  outstanding = 0;
  closed = false;
  /** Where the host sends this connection's messages. */
  sink: (m: Message) => void = () => undefined;
  /** Called by the server when it drops this connection (RELEASE). */
  onClose: () => void = () => undefined;

  constructor(serial: number, domid: number) {
    this.serial = serial;
    this.domid = domid;
    this.privileged = domid === 0;
    this.implicit = domainPath(domid);
  }
}

/** What the server knows of one introduced domain. */
export interface DomainInfo {
  readonly domid: number;
  conn: Connection | undefined;
  /** Set once @releaseDomain fired for a shutdown; RESUME clears it. */
  shutdown: boolean;
  gfn: number;
  port: number;
}

/** Hooks the host gives the server; all optional. */
export interface ServerHooks {
  /** INTRODUCE: map the domain's ring and bind its port; returns its connection, or an error name. */
  introduce?(domid: number, gfn: number, port: number): Connection | XsErrno | undefined;
  /** RELEASE or domain destruction: unmap the ring and unbind the port. */
  release?(domid: number): void;
  /** Log lines (CONTROL log/print, warnings). */
  log?(line: string): void;
}

/** Mutable server state; every change of the tree replaces `snap`. */
export class XenStore {
  snap: Snapshot;
  generation = 0;
  quotas: Quotas;
  /** Per-domain quota overrides (SET_QUOTA with a domid). */
  readonly domainQuotas = new Map<number, Partial<Quotas>>();
  /** Nodes owned by each domain id. */
  readonly nodeCounts = new Map<number, number>();
  /** Watches and transactions held by each domain id. */
  readonly watchCounts = new Map<number, number>();
  readonly txCounts = new Map<number, number>();
  /** Transactions open on all connections: while there are none, no snapshot but the live tree exists. */
  openTransactions = 0;
  /** Highest values seen per quota for unprivileged domains (CONTROL quota max). */
  readonly maxSeen = new Map<string, number>();
  readonly domains = new Map<number, DomainInfo>();
  /** Watches by watched path. */
  readonly watchIndex = new WatchIndex();
  readonly connections = new Set<Connection>();
  hooks: ServerHooks;
  logging = false;
  private nextSerial = 1;
  watchSeq = 0;

  constructor(opts: { quotas?: Partial<Quotas>; hooks?: ServerHooks } = {}) {
    this.quotas = { ...defaultQuotas(), ...(opts.quotas || {}) };
    this.hooks = opts.hooks || {};
    const none: Perms = [{ id: 0, access: PERM_NONE }];
    // The initial nodes of xenstored's setup_structure: "/", "/tool", "/tool/xenstored" and the two special nodes.
    const xenstored = leaf(none, this.nextGen());
    const tool = { ...leaf(none, this.nextGen()), children: withChild(NO_CHILDREN, 'xenstored', xenstored), childLen: 10 };
    const root = { ...leaf(none, this.nextGen()), children: withChild(NO_CHILDREN, 'tool', tool), childLen: 5 };
    const specials = new Map<string, XsNode>([
      ['@releaseDomain', leaf([{ id: 0, access: PERM_NONE }, { id: DOMID_ANY, access: PERM_READ }], this.nextGen())],
      ['@introduceDomain', leaf(none, this.nextGen())],
    ]);
    this.snap = { root, specials };
    this.nodeCounts.set(0, 5);
    // dom0 is always introduced: it is zazen's own toolstack (or, in Node, every socket client).
    this.domains.set(0, { domid: 0, conn: undefined, shutdown: false, gfn: 0, port: 0 });
  }

  /** Returns a fresh generation number. */
  nextGen(): number {
    return ++this.generation;
  }

  /** Creates a connection for a domain (0 for the toolstack and socket clients). */
  connect(domid: number): Connection {
    const c = new Connection(this.nextSerial++, domid);
    this.connections.add(c);
    return c;
  }

  /** The quota in force for a domain. */
  quota(domid: number, name: keyof Quotas): number {
    const o = this.domainQuotas.get(domid);
    return o && o[name] !== undefined ? (o[name] as number) : this.quotas[name];
  }

  /** Adds to a per-domain counter map. */
  bump(map: Map<number, number>, domid: number, by: number): void {
    const v = (map.get(domid) || 0) + by;
    if (v === 0) map.delete(domid);
    else map.set(domid, v);
  }

  /** Records a value for CONTROL quota max (unprivileged domains only, as xenstored). */
  noteMax(domid: number, name: string, value: number): void {
    if (domid !== 0 && value > (this.maxSeen.get(name) || 0)) this.maxSeen.set(name, value);
  }

  /** Writes a log line if logging is on. */
  log(line: string): void {
    if (this.logging && this.hooks.log) this.hooks.log(line);
  }
}
