// Delivering the server's replies and events to connections, and the common byte-stream session.
import { Connection, XenStore } from './state';
import { Message, encodeMessage } from './wire';
import { MessageReader } from './framer';
import { reply } from './server';
import { disconnect } from './domains';

/** Handles a request and hands each resulting message to its connection's sink. */
export function dispatch(store: XenStore, conn: Connection, msg: Message): void {
  const ds = reply(store, conn, msg);
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    if (!d.conn.closed || d.conn === conn) d.conn.sink(d.msg);
  }
}

/** A byte pipe to one client (a Unix socket, a test harness). */
export interface ByteTransport {
  /** Sends bytes to the client. */
  write(bytes: Uint8Array): void;
  /** Closes the pipe; no more bytes are sent or read. */
  close(reason: string): void;
}

/** One client over a byte stream: frames requests, runs them, serializes replies; a protocol violation closes it. */
export class StreamSession {
  readonly conn: Connection;
  private reader = new MessageReader();

  constructor(private readonly store: XenStore, domid: number, private readonly transport: ByteTransport) {
    this.conn = store.connect(domid);
    this.conn.sink = (m) => transport.write(encodeMessage(m));
    this.conn.onClose = () => transport.close('released');
  }

  /** Feeds bytes from the client; complete requests are handled at once. */
  receive(chunk: Uint8Array): void {
    if (this.conn.closed) return;
    const r = this.reader.feed(chunk);
    for (const m of r.messages) {
      if (this.conn.closed) return;
      dispatch(this.store, this.conn, m);
    }
    if (r.error) {
      // xenstored kills a connection that announces a payload over 4096 bytes: it can no longer be framed.
      this.store.hooks.log && this.store.hooks.log('xenstore: dom' + this.conn.domid + ' sent an oversize message; closing');
      this.end();
      this.transport.close('protocol error: payload over 4096 bytes');
    }
  }

  /** The client went away: forget its watches and transactions. */
  end(): void {
    disconnect(this.store, this.conn);
  }
}
