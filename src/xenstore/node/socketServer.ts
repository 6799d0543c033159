// Node only: serves the store on a Unix socket speaking xenstored's socket protocol; every client is dom0.
import * as net from 'node:net';
import * as fs from 'node:fs';
import { XenStore } from '../state';
import { StreamSession } from '../host';

/** A listening socket server and how to stop it. */
export interface SocketServer {
  readonly server: net.Server;
  /** Stops listening, drops all clients and removes the socket file. */
  close(): Promise<void>;
}

/** Options of the socket server. */
export interface SocketOptions {
  /**
   * Microseconds to keep polling after each request instead of sleeping (0: off). A client with one request in
   * flight sends its next one a few microseconds after our reply; when the event loop is still polling then,
   * the request is picked up without the wake-up of a sleeping process, which on this kind of machine is a good
   * part of the round trip. The loop is kept polling with setImmediate, so epoll is asked with a zero timeout;
   * the extra CPU is bounded by this time per request, and once requests stop the server sleeps as usual.
   * It costs more than it gains when every CPU is busy (the client then waits for the spinning server's slice).
   */
  busyPollMicros?: number;
}

/** Listens on `path` (replacing a stale socket file) and resolves once clients can connect. */
export function listenUnix(store: XenStore, path: string, opts: SocketOptions = {}): Promise<SocketServer> {
  try {
    if (fs.statSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // No file there: nothing to clean up.
  }
  const sockets = new Set<net.Socket>();
  const pollMs = (opts.busyPollMicros || 0) / 1000;
  let pollUntil = 0;
  let polling = false;
  const poll = (): void => {
    if (performance.now() < pollUntil && sockets.size > 0) setImmediate(poll);
    else polling = false;
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const session = new StreamSession(store, 0, {
      write: (b) => {
        if (!sock.destroyed) sock.write(b);
      },
      close: () => sock.destroy(),
      // Buffers from Node's pool: cheaper than a fresh Uint8Array, and sock.write takes them without wrapping.
      alloc: (n) => Buffer.allocUnsafe(n),
    });
    sock.on('data', (d) => {
      session.receive(d);
      if (pollMs > 0) {
        pollUntil = performance.now() + pollMs;
        if (!polling) {
          polling = true;
          setImmediate(poll);
        }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      sockets.delete(sock);
      session.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve({
        server,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => {
              try {
                fs.unlinkSync(path);
              } catch {
                // Already gone.
              }
              done();
            });
          }),
      });
    });
  });
}
