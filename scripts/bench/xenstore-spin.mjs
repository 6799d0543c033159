// Does busy-polling lower the Unix-socket round trip here? C and Node "OK" servers, each blocking and busy-polling,
// and zazen's xenstored, under the C client with one request in flight, side by side in alternating runs.
// Usage: node scripts/bench/xenstore-spin.mjs [--rounds N] [--count N]   (run `npm run bench:xenstore` once first:
// it builds build/xs-bench-client and build/xs-bench-echo).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXenstored } from '../xenstored.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.join(root, 'build');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
};
const ROUNDS = opt('rounds', 5);
const COUNT = opt('count', 20000);

// The C "OK" server again, but polling its socket without sleeping: read() on a non-blocking socket in a loop.
const C_SPIN = String.raw`
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  strncpy(a.sun_path, argv[1], sizeof(a.sun_path) - 1); unlink(a.sun_path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(s, (void *)&a, sizeof a) || listen(s, 8)) return 1;
  write(1, "listening\n", 10);
  for (;;) {
    int c = accept(s, 0, 0); if (c < 0) return 1;
    fcntl(c, F_SETFL, O_NONBLOCK);
    char buf[4200]; uint32_t used = 0;
    for (;;) {
      ssize_t r = read(c, buf + used, sizeof buf - used);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) break;
      used += r;
      for (;;) {
        uint32_t h[4];
        if (used < 16) break;
        memcpy(h, buf, 16);
        if (used < 16 + h[3]) break;
        uint32_t len = 16 + h[3];
        h[3] = 3; char out[19]; memcpy(out, h, 16); memcpy(out + 16, "OK", 3); write(c, out, 19);
        memmove(buf, buf + len, used - len); used -= len;
      }
    }
    close(c);
  }
}
`;

// The Node "OK" server; with a spin time, the event loop is kept polling (setImmediate keeps libuv's poll at
// timeout 0) for that many microseconds after each request instead of sleeping in epoll_wait: public APIs only.
const NODE_OK = `
const net = require('net');
const [sock, spinUs] = [process.argv[1], Number(process.argv[2])];
let until = 0, spinning = false;
const spin = () => { if (performance.now() < until) setImmediate(spin); else spinning = false; };
net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
      const len = buf.readUInt32LE(12);
      const out = Buffer.allocUnsafe(19);
      buf.copy(out, 0, 0, 12);
      out.writeUInt32LE(3, 12);
      out.write('OK\\0', 16, 'latin1');
      s.write(out);
      buf = buf.subarray(16 + len);
    }
    if (spinUs > 0) {
      until = performance.now() + spinUs / 1000;
      if (!spinning) { spinning = true; setImmediate(spin); }
    }
  });
}).listen(sock, () => console.log('listening'));
`;

async function start(cmd, argv) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (c) => reject(new Error(cmd + ' exited ' + c)));
  });
  return child;
}

const client = path.join(build, 'xs-bench-client');
if (!fs.existsSync(client) || !fs.existsSync(path.join(build, 'xs-bench-echo'))) {
  console.log('build/xs-bench-client or build/xs-bench-echo missing: run npm run bench:xenstore first');
  process.exit(1);
}
fs.writeFileSync(path.join(build, 'xs-bench-spin.c'), C_SPIN);
if (spawnSync('gcc', ['-O2', '-o', path.join(build, 'xs-bench-spin'), path.join(build, 'xs-bench-spin.c')]).status !== 0) {
  console.log('gcc failed');
  process.exit(1);
}
const xsFile = await buildXenstored();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-xsspin-'));
const servers = [
  ['C "OK" server, blocking (poll)', path.join(build, 'xs-bench-echo'), (s) => [s]],
  ['C "OK" server, busy-polling', path.join(build, 'xs-bench-spin'), (s) => [s]],
  ['Node "OK" server', process.execPath, (s) => ['-e', NODE_OK, s, '0']],
  ['Node "OK" server, 20 us spin', process.execPath, (s) => ['-e', NODE_OK, s, '20']],
  ['Node "OK" server, 100 us spin', process.execPath, (s) => ['-e', NODE_OK, s, '100']],
  ['zazen xenstored (read)', process.execPath, (s) => ['-e', `require(${JSON.stringify(xsFile)}).main(['--socket', ${JSON.stringify(s)}])`]],
  ['zazen xenstored --busy-poll 20', process.execPath, (s) => ['-e', `require(${JSON.stringify(xsFile)}).main(['--socket', ${JSON.stringify(s)}, '--busy-poll', '20'])`]],
  ['zazen xenstored --busy-poll 100', process.execPath, (s) => ['-e', `require(${JSON.stringify(xsFile)}).main(['--socket', ${JSON.stringify(s)}, '--busy-poll', '100'])`]],
];
const kids = [];
const runs = servers.map(() => []);
try {
  for (let i = 0; i < servers.length; i++) kids.push(await start(servers[i][1], servers[i][2](path.join(dir, 's' + i))));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < servers.length; i++) {
      runs[i].push(Number(spawnSync(client, [path.join(dir, 's' + i), 'read', String(COUNT)], { encoding: 'utf8' }).stdout));
    }
  }
} finally {
  for (const k of kids) k.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const base = median(runs[0]);
console.log(`C client, one connection, one request in flight; median of ${ROUNDS} alternating runs of ${COUNT} (load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs):`);
for (let i = 0; i < servers.length; i++) {
  const m = median(runs[i]);
  console.log(`  ${servers[i][0].padEnd(34)}${String(Math.round(m)).padStart(8)} ops/s   ${(m / base).toFixed(2)} of the blocking C server   (runs: ${runs[i].map(Math.round).join(' ')})`);
}
