// Test harness: a store with named connections; requests and replies written with '|' for NUL.
import { XenStore, Connection } from '../../src/xenstore/state';
import { Message, XsType } from '../../src/xenstore/wire';
import { dispatch } from '../../src/xenstore/host';
import { latin1Bytes, latin1String } from '../../src/xenstore/bytes';
import { Quotas } from '../../src/xenstore/quota';
import { checkStore } from '../../src/xenstore/domains';

/** Renders a payload with NULs shown as '|'. */
export function show(p: Uint8Array): string {
  return latin1String(p).replace(/\0/g, '|');
}

/** One protocol step: connection, optional transaction name, request type, payload ('|' = NUL), expected reply. */
export interface Row {
  c: string;
  tx?: string;
  op: keyof typeof XsType | number;
  p: string;
  /** Expected reply payload ('|' = NUL), or "E:<ERRNO>" for an error; "*" accepts anything. */
  want: string;
  /** Remember the reply (a transaction id) under this name. */
  save?: string;
}

/** A store plus connections that collect what the server sends them. */
export class Harness {
  readonly store: XenStore;
  readonly conns = new Map<string, Connection>();
  readonly inbox = new Map<string, Message[]>();
  readonly saved = new Map<string, number>();
  private reqId = 1;

  constructor(quotas: Partial<Quotas> = {}) {
    this.store = new XenStore({ quotas });
  }

  /** Adds a connection for a domain (introducing it when it is a guest). */
  add(name: string, domid: number): Connection {
    const c = this.store.connect(domid);
    const box: Message[] = [];
    c.sink = (m) => box.push(m);
    this.conns.set(name, c);
    this.inbox.set(name, box);
    if (domid !== 0 && !this.store.domains.has(domid)) this.store.domains.set(domid, { domid, conn: c, shutdown: false, gfn: 0, port: 1 });
    return c;
  }

  /** Sends a request and returns the rendered reply ("E:ERRNO" for errors). */
  send(name: string, op: keyof typeof XsType | number, payload: string, txId = 0): string {
    const c = this.conns.get(name);
    if (!c) throw new Error('no connection ' + name);
    const type = typeof op === 'number' ? op : XsType[op];
    const reqId = this.reqId++;
    dispatch(this.store, c, { type, reqId, txId, payload: latin1Bytes(payload.replace(/\|/g, '\0')) });
    const box = this.inbox.get(name) as Message[];
    const idx = box.findIndex((m) => m.reqId === reqId && m.type !== XsType.WATCH_EVENT);
    if (idx < 0) throw new Error('no reply');
    const [m] = box.splice(idx, 1);
    if (m.txId !== txId) throw new Error('reply tx_id ' + m.txId + ' for ' + txId);
    return m.type === XsType.ERROR ? 'E:' + latin1String(m.payload).replace(/\0$/, '') : show(m.payload);
  }

  /** Takes the watch events a connection received, as "path token". */
  events(name: string): string[] {
    const box = this.inbox.get(name) as Message[];
    const out: string[] = [];
    for (let i = 0; i < box.length; ) {
      if (box[i].type === XsType.WATCH_EVENT) {
        const [path, token] = latin1String(box[i].payload).split('\0');
        out.push(path + ' ' + token);
        box.splice(i, 1);
      } else i++;
    }
    return out;
  }

  /** Runs table rows in order and returns the actual replies (for one expect). */
  run(rows: Row[]): { row: Row; got: string }[] {
    const res: { row: Row; got: string }[] = [];
    for (const row of rows) {
      const tx = row.tx === undefined ? 0 : this.saved.has(row.tx) ? (this.saved.get(row.tx) as number) : Number(row.tx);
      const got = this.send(row.c, row.op, row.p, tx);
      if (row.save) this.saved.set(row.save, Number(got.replace(/\|$/, '')));
      res.push({ row, got: row.want === '*' ? '*' : got });
    }
    return res;
  }

  /** Store bookkeeping problems (empty when sound). */
  check(): string[] {
    return checkStore(this.store, false);
  }
}

/** Expands rows for a jest table: `want` vs `got` per row, with a label. */
export function mismatches(results: { row: Row; got: string }[]): string[] {
  return results
    .filter((r) => r.got !== r.row.want)
    .map((r) => `${r.row.c}${r.row.tx ? '[' + r.row.tx + ']' : ''} ${r.row.op} ${r.row.p} -> ${r.got} (wanted ${r.row.want})`);
}
