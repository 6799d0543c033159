// Delivering the server's replies and events to connections, and the common byte-stream session.
import { Connection, XenStore } from './state';
import { HEADER_SIZE, Message, encodeMessageInto } from './wire';
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
  /** Sends bytes to the client (the transport may keep the array). */
  write(bytes: Uint8Array): void;
  /** Closes the pipe; no more bytes are sent or read. */
  close(reason: string): void;
  /** Allocates an array for write() (Node gives a pooled Buffer); a plain Uint8Array when absent. */
  alloc?(size: number): Uint8Array;
}

// Output is queued while any session handles received bytes and written when that returns: a request's watch
// events and reply, and everything a pipelined chunk causes, leave in one write per connection.
let receiving = 0;
const dirty: StreamSession[] = [];

function flushAll(): void {
  while (dirty.length > 0) (dirty.pop() as StreamSession).flush();
}

/** One client over a byte stream: frames requests, runs them, serializes replies; a protocol violation closes it. */
export class StreamSession {
  readonly conn: Connection;
  private reader = new MessageReader();
  private queued: Message[] = [];
  private queuedBytes = 0;

  constructor(private readonly store: XenStore, domid: number, private readonly transport: ByteTransport) {
    this.conn = store.connect(domid);
    this.conn.sink = (m) => this.enqueue(m);
    this.conn.onClose = () => transport.close('released');
  }

  private enqueue(m: Message): void {
    if (this.queued.length === 0) dirty.push(this);
    this.queued.push(m);
    this.queuedBytes += HEADER_SIZE + m.payload.length;
    if (receiving === 0) flushAll();
  }

  /** Writes the queued messages in one piece. */
  flush(): void {
    const msgs = this.queued;
    if (msgs.length === 0) return;
    const out = this.transport.alloc ? this.transport.alloc(this.queuedBytes) : new Uint8Array(this.queuedBytes);
    let at = 0;
    for (let i = 0; i < msgs.length; i++) at = encodeMessageInto(msgs[i], out, at);
    msgs.length = 0;
    this.queuedBytes = 0;
    this.transport.write(out);
  }

  /** Feeds bytes from the client; complete requests are handled at once. */
  receive(chunk: Uint8Array): void {
    if (this.conn.closed) return;
    receiving++;
    try {
      const r = this.reader.feed(chunk);
      for (const m of r.messages) {
        if (this.conn.closed) return;
        dispatch(this.store, this.conn, m);
      }
      if (r.error) {
        // xenstored kills a connection that announces a payload over 4096 bytes: it can no longer be framed.
        this.store.hooks.log && this.store.hooks.log('xenstore: dom' + this.conn.domid + ' sent an oversize message; closing');
        this.end();
        flushAll();
        this.transport.close('protocol error: payload over 4096 bytes');
      }
    } finally {
      if (--receiving === 0) flushAll();
    }
  }

  /** The client went away: forget its watches and transactions. */
  end(): void {
    disconnect(this.store, this.conn);
  }
}
