// An in-process XenStore client (the `xs` object of scripts and the REPL), speaking the wire protocol to the server.
import { Connection, XenStore } from './state';
import { Message, XsType, XsErrno } from './wire';
import { dispatch } from './host';
import { disconnect } from './domains';
import { latin1Bytes, latin1String, utf8Bytes, utf8String, nulJoin, nulStrings } from './bytes';

/** A request failed with a XenStore error name. */
export class XsError extends Error {
  constructor(readonly errno: XsErrno | string, readonly op: string, readonly path?: string) {
    super(op + (path !== undefined ? ' ' + path : '') + ': ' + errno);
  }
}

/** Called with (path, token) for each watch event. */
export type WatchCallback = (path: string, token: string) => void;

function str(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? utf8Bytes(v) : v;
}

/** Operations available both directly and inside a transaction. */
export class XsOps {
  constructor(protected readonly link: XsLink, protected readonly txId: number) {}

  /** Reads a value as UTF-8 text. */
  read(path: string): string {
    return utf8String(this.readBytes(path));
  }

  /** Reads a value's raw bytes. */
  readBytes(path: string): Uint8Array {
    return this.link.call(XsType.READ, latin1Bytes(path + '\0'), this.txId, path);
  }

  /** Writes a value (a string is stored as UTF-8), creating missing parents. */
  write(path: string, value: string | Uint8Array): void {
    const p = latin1Bytes(path + '\0');
    const v = str(value);
    const payload = new Uint8Array(p.length + v.length);
    payload.set(p, 0);
    payload.set(v, p.length);
    this.link.call(XsType.WRITE, payload, this.txId, path);
  }

  /** Creates a node (and parents) if missing. */
  mkdir(path: string): void {
    this.link.call(XsType.MKDIR, latin1Bytes(path + '\0'), this.txId, path);
  }

  /** Removes a node and everything below it. */
  rm(path: string): void {
    this.link.call(XsType.RM, latin1Bytes(path + '\0'), this.txId, path);
  }

  /** Lists the names of a node's children. */
  list(path: string): string[] {
    return nulStrings(this.link.call(XsType.DIRECTORY, latin1Bytes(path + '\0'), this.txId, path));
  }

  /** True if the node exists and is readable. */
  exists(path: string): boolean {
    try {
      this.readBytes(path);
      return true;
    } catch (e) {
      if (e instanceof XsError && (e.errno === 'ENOENT' || e.errno === 'EACCES')) return false;
      throw e;
    }
  }

  /** Returns the permission strings ("n0", "r1", ...); the first names the owner. */
  getPerms(path: string): string[] {
    return nulStrings(this.link.call(XsType.GET_PERMS, latin1Bytes(path + '\0'), this.txId, path));
  }

  /** Replaces a node's permissions. */
  setPerms(path: string, perms: string[]): void {
    this.link.call(XsType.SET_PERMS, nulJoin([path].concat(perms)), this.txId, path);
  }
}

/** One request/reply exchange with the server; used by XsOps. */
export interface XsLink {
  call(type: number, payload: Uint8Array, txId: number, path?: string): Uint8Array;
}

/** A client bound to a connection (dom0 unless told otherwise). */
export class XsClient extends XsOps implements XsLink {
  readonly conn: Connection;
  private reqId = 0;
  private replyMsg: Message | null = null;
  private watches = new Map<string, WatchCallback>();
  private queue: [string, string][] = [];
  private busy = false;

  constructor(private readonly store: XenStore, domid = 0) {
    super(undefined as unknown as XsLink, 0);
    (this as unknown as { link: XsLink }).link = this;
    this.conn = store.connect(domid);
    this.conn.sink = (m) => this.onMessage(m);
  }

  /** Sends one request and returns the reply payload; throws XsError on an ERROR reply. */
  call(type: number, payload: Uint8Array, txId: number, path?: string): Uint8Array {
    if (this.conn.closed) throw new XsError('EPIPE', 'call', path);
    const wasBusy = this.busy;
    this.busy = true;
    this.replyMsg = null;
    this.reqId = (this.reqId + 1) >>> 0;
    try {
      dispatch(this.store, this.conn, { type, reqId: this.reqId, txId, payload });
    } finally {
      this.busy = wasBusy;
    }
    const r = this.replyMsg as Message | null;
    this.replyMsg = null;
    if (!wasBusy) this.drain();
    if (!r) throw new XsError('EIO', 'call', path);
    if (r.type === XsType.ERROR) throw new XsError(latin1String(r.payload, 0, Math.max(0, r.payload.length - 1)), opName(type), path);
    return r.payload;
  }

  /** Registers a watch; `cb` gets every event for it, starting with the initial one. */
  watch(path: string, token: string, cb: WatchCallback): void {
    this.watches.set(token, cb);
    try {
      this.call(XsType.WATCH, nulJoin([path, token]), 0, path);
    } catch (e) {
      this.watches.delete(token);
      throw e;
    }
  }

  /** Removes a watch. */
  unwatch(path: string, token: string): void {
    this.call(XsType.UNWATCH, nulJoin([path, token]), 0, path);
    this.watches.delete(token);
  }

  /** Runs `fn` in a transaction and commits, retrying on EAGAIN up to `tries` times. */
  transaction<T>(fn: (t: XsOps) => T, tries = 10): T {
    for (let i = 0; ; i++) {
      const id = Number(nulStrings(this.call(XsType.TRANSACTION_START, latin1Bytes('\0'), 0))[0]);
      let result: T;
      try {
        result = fn(new XsOps(this, id));
      } catch (e) {
        this.call(XsType.TRANSACTION_END, latin1Bytes('F\0'), id);
        throw e;
      }
      try {
        this.call(XsType.TRANSACTION_END, latin1Bytes('T\0'), id);
        return result;
      } catch (e) {
        if (!(e instanceof XsError) || e.errno !== 'EAGAIN' || i + 1 >= tries) throw e;
      }
    }
  }

  /** Starts serving a domain (INTRODUCE). */
  introduce(domid: number, gfn: number, port: number): void {
    this.call(XsType.INTRODUCE, nulJoin([String(domid), String(gfn), String(port)]), 0);
  }

  /** Stops serving a domain (RELEASE). */
  release(domid: number): void {
    this.call(XsType.RELEASE, latin1Bytes(domid + '\0'), 0);
  }

  /** "/local/domain/<domid>". */
  getDomainPath(domid: number): string {
    return nulStrings(this.call(XsType.GET_DOMAIN_PATH, latin1Bytes(domid + '\0'), 0))[0];
  }

  /** True if the domain is introduced. */
  isIntroduced(domid: number): boolean {
    return nulStrings(this.call(XsType.IS_DOMAIN_INTRODUCED, latin1Bytes(domid + '\0'), 0))[0] === 'T';
  }

  /** Runs a CONTROL command and returns its text. */
  control(...args: string[]): string {
    return nulStrings(this.call(XsType.CONTROL, nulJoin(args), 0))[0] || '';
  }

  /** Drops the connection with its watches and transactions. */
  close(): void {
    disconnect(this.store, this.conn);
  }

  private onMessage(m: Message): void {
    if (m.type !== XsType.WATCH_EVENT) {
      this.replyMsg = m;
      return;
    }
    const [path, token] = nulStrings(m.payload);
    this.queue.push([path, token]);
    if (!this.busy) this.drain();
  }

  private drain(): void {
    while (this.queue.length) {
      const [path, token] = this.queue.shift() as [string, string];
      const cb = this.watches.get(token);
      if (cb) cb(path, token);
    }
  }
}

function opName(type: number): string {
  for (const k of Object.keys(XsType) as (keyof typeof XsType)[]) if (XsType[k] === type) return k.toLowerCase();
  return 'op' + type;
}
