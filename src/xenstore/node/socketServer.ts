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

/** Listens on `path` (replacing a stale socket file) and resolves once clients can connect. */
export function listenUnix(store: XenStore, path: string): Promise<SocketServer> {
  try {
    if (fs.statSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // No file there: nothing to clean up.
  }
  const sockets = new Set<net.Socket>();
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
    sock.on('data', (d) => session.receive(d));
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
