// XenStore benchmark: in-process (Node and QuickJS), over the Unix socket (Node and C clients), and the long fuzz run.
// Usage: npm run bench:xenstore [-- --ms N] [-- --rounds N] [-- --fuzz COUNT] [-- --in-process | --socket]
import * as esbuild from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildXenstored } from '../xenstored.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.join(root, 'build');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def;
};
const MS = opt('ms', 1000);
// In-process runs: each connection count gets ROUNDS turns of MS/ROUNDS ms and keeps its best (see bench.ts).
const ROUNDS = opt('rounds', 10);
const TARGET = 0.9;

async function bundle(entry, out, format, globalName) {
  await esbuild.build({ entryPoints: [path.join(root, entry)], bundle: true, format, globalName, platform: format === 'cjs' ? 'node' : 'neutral', target: 'es2020', outfile: out, logLevel: 'warning' });
  return out;
}

const fmt = (n) => String(Math.round(n)).padStart(10);
function table(title, rows, target) {
  console.log('\n' + title);
  console.log('  op              1 conn   100 conns   100/1' + (target ? '   (target >= ' + target.toFixed(2) + ')' : ''));
  const ops = [...new Set(rows.map((r) => r.op))];
  for (const op of ops) {
    const one = rows.find((r) => r.op === op && r.conns === 1);
    const many = rows.find((r) => r.op === op && r.conns === 100);
    const ratio = many.opsPerSec / one.opsPerSec;
    const mark = target ? (ratio >= target ? '   ok' : '   BELOW') : '';
    console.log(`  ${op.padEnd(12)}${fmt(one.opsPerSec)}${fmt(many.opsPerSec)}   ${ratio.toFixed(2)}${mark}`);
  }
}

// ---- in-process: Node and QuickJS ----
// Two ways to size the store. "same store": both runs hold all 100 domains' subtrees and differ only in how
// many of those domains are connected (each connection with 3 watches), so the ratio measures connections,
// as the target asks. "own store": each run holds only its connections' subtrees, so the 1-connection run
// also has a 100 times smaller tree; kept to compare with figures measured before.
const STORES = [
  ['same store: 100 domains\' subtrees in both runs', 100],
  ['own store: 1 domain\'s subtree against 100 (tree size varies too)', 0],
];

async function inProcess() {
  const slice = Math.max(20, Math.round(MS / ROUNDS));
  const nodeFile = await bundle('src/xenstore/bench.ts', path.join(build, 'xs-bench.cjs'), 'cjs');
  const mod = await import(pathToFileURL(nodeFile).href);
  const bench = mod.benchInProcess || mod.default.benchInProcess;
  const nodeRows = [];
  for (const [title, domains] of STORES) {
    bench([1, 100], 100, 2, () => performance.now(), domains); // warm-up: let V8 optimize first
    const rows = bench([1, 100], slice, ROUNDS, () => performance.now(), domains);
    table(`In-process, Node, ${title} (ops/s, best of ${ROUNDS} alternating runs of ${slice} ms; transaction = start+read+write+commit)`, rows, TARGET);
    nodeRows.push(rows);
  }

  const qjsFile = await bundle('src/xenstore/bench.ts', path.join(build, 'xs-bench.qjs.js'), 'iife', 'XsBench');
  const { getQuickJS } = await import('quickjs-emscripten');
  const QuickJS = await getQuickJS();
  const qRows = [];
  {
    // Unmeasured warm-up: the WebAssembly engine running QuickJS compiles its hot code better after a while,
    // which would otherwise slow the first table down (both columns alike, but its figures would look low).
    const vm = QuickJS.newContext();
    const res = vm.evalCode(fs.readFileSync(qjsFile, 'utf8') + `\nXsBench.benchInProcess([1, 100], ${slice}, 2, Date.now, 100); 1`);
    (res.error || res.value).dispose();
    vm.dispose();
  }
  for (const [title, domains] of STORES) {
    // A fresh context per store size, so the second run does not inherit the first one's heap.
    const vm = QuickJS.newContext();
    const src = fs.readFileSync(qjsFile, 'utf8') +
      `\nXsBench.benchInProcess([1, 100], 50, 2, Date.now, ${domains}); JSON.stringify(XsBench.benchInProcess([1, 100], ${slice}, ${ROUNDS}, Date.now, ${domains}))`;
    const res = vm.evalCode(src);
    if (res.error) {
      const e = vm.dump(res.error);
      res.error.dispose();
      vm.dispose();
      throw new Error('QuickJS: ' + JSON.stringify(e));
    }
    const rows = JSON.parse(vm.dump(res.value));
    res.value.dispose();
    vm.dispose();
    table(`In-process, QuickJS (quickjs-emscripten), ${title}; same method`, rows, TARGET);
    qRows.push(rows);
  }
  return { nodeRows, qRows };
}

// ---- over the Unix socket ----
function encode(type, reqId, txId, payload) {
  const p = Buffer.from(payload, 'latin1');
  const b = Buffer.alloc(16 + p.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(reqId, 4);
  b.writeUInt32LE(txId, 8);
  b.writeUInt32LE(p.length, 12);
  p.copy(b, 16);
  return b;
}

/** A client with one request in flight, skipping watch events. */
function client(sock) {
  return new Promise((resolve) => {
    const s = net.connect(sock, () => resolve(c));
    let buf = Buffer.alloc(0);
    let waiting = null;
    let reqId = 0;
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32LE(12)) {
        const len = buf.readUInt32LE(12);
        const type = buf.readUInt32LE(0);
        const payload = buf.subarray(16, 16 + len).toString('latin1');
        buf = buf.subarray(16 + len);
        if (type === 15) continue;
        const w = waiting;
        waiting = null;
        if (type === 16) w.reject(new Error(payload));
        else w.resolve(payload);
      }
    });
    const c = {
      call: (type, payload, txId = 0) => new Promise((res, rej) => {
        waiting = { resolve: res, reject: rej };
        s.write(encode(type, ++reqId, txId, payload));
      }),
      close: () => s.destroy(),
    };
  });
}

async function socketBench(sock) {
  const rows = [];
  for (const n of [1, 100]) {
    const cs = [];
    for (let i = 0; i < n; i++) {
      const c = await client(sock);
      const base = `/bench/${i}`;
      for (const k of ['name', 'device/vbd/51712/state', 'device/vif/0/state', 'memory/target']) await c.call(11, `${base}/${k}\0value`);
      for (const w of ['device', 'memory/target', 'control']) await c.call(4, `${base}/${w}\0tok\0`);
      cs.push({ c, base });
    }
    const ops = {
      read: ({ c, base }) => c.call(2, `${base}/device/vbd/51712/state\0`),
      write: ({ c, base }) => c.call(11, `${base}/device/vbd/51712/state\0` + '4'),
      directory: ({ c, base }) => c.call(1, `${base}/device\0`),
      transaction: async ({ c, base }) => {
        const id = Number((await c.call(6, '\0')).replace('\0', ''));
        await c.call(2, `${base}/device/vbd/51712/state\0`, id);
        await c.call(11, `${base}/device/vif/0/state\0` + '4', id);
        await c.call(7, 'T\0', id);
      },
    };
    // Warm-up round so the server process's JIT is not measured.
    for (let k = 0; k < 2000; k++) for (const fn of Object.values(ops)) await fn(cs[k % cs.length]);
    for (const [name, fn] of Object.entries(ops)) {
      let count = 0;
      const t0 = performance.now();
      const end = t0 + MS;
      await Promise.all(cs.map(async (x) => {
        while (performance.now() < end) {
          await fn(x);
          count++;
        }
      }));
      rows.push({ op: name, conns: n, opsPerSec: (count * 1000) / (performance.now() - t0) });
    }
    for (const x of cs) x.c.close();
  }
  return rows;
}

// A tiny C client: one connection, one request in flight, N requests of one kind; prints operations per second.
const C_CLIENT = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
static int fd;
static void xfer(uint32_t type, const char *p, uint32_t len) {
  char buf[4200]; uint32_t h[4] = { type, 1, 0, len };
  memcpy(buf, h, 16); memcpy(buf + 16, p, len);
  if (write(fd, buf, 16 + len) != (ssize_t)(16 + len)) exit(2);
  for (;;) {
    uint32_t got = 0, rh[4];
    while (got < 16) { ssize_t r = read(fd, (char *)rh + got, 16 - got); if (r <= 0) exit(3); got += r; }
    got = 0; while (got < rh[3]) { ssize_t r = read(fd, buf + got, rh[3] - got); if (r <= 0) exit(3); got += r; }
    if (rh[0] == 16) { fprintf(stderr, "error %.*s\n", (int)rh[3], buf); exit(4); }
    if (rh[0] != 15) return;
  }
}
int main(int argc, char **argv) {
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  strncpy(a.sun_path, argv[1], sizeof(a.sun_path) - 1);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(fd, (void *)&a, sizeof a)) { perror("connect"); return 1; }
  int n = atoi(argv[3]);
  const char wr[] = "/cbench/state\0" "4";
  xfer(11, wr, sizeof wr - 1);
  const char rd[] = "/cbench/state";
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++) {
    if (!strcmp(argv[2], "read")) xfer(2, rd, sizeof rd);
    else xfer(11, wr, sizeof wr - 1);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.0f\n", n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
  return 0;
}
`;

// A C server that answers every message with "OK" and does nothing else: the ceiling any server (C xenstored too) can reach here.
const C_ECHO = String.raw`
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
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
    char buf[4200];
    for (;;) {
      uint32_t h[4], got = 0; ssize_t r;
      struct pollfd p = { c, POLLIN }; poll(&p, 1, -1);
      while (got < 16) { r = read(c, (char *)h + got, 16 - got); if (r <= 0) goto next; got += r; }
      got = 0; while (got < h[3]) { r = read(c, buf + got, h[3] - got); if (r <= 0) goto next; got += r; }
      h[3] = 3; memcpy(buf, h, 16); memcpy(buf + 16, "OK", 3); write(c, buf, 19);
    }
  next: close(c);
  }
}
`;

// A Node server that also only answers "OK" (framing whatever the chunking): Node's own floor for a Unix socket server here.
const NODE_ECHO = `
const net = require('net');
const path = process.argv[1];
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
  });
}).listen(path, () => console.log('listening'));
`;

/** Compiles a C source from the strings above into build/; returns the binary or null without gcc. */
function compile(name, source) {
  const src = path.join(build, name + '.c');
  const bin = path.join(build, name);
  fs.writeFileSync(src, source);
  return spawnSync('gcc', ['-O2', '-o', bin, src]).status === 0 ? bin : null;
}

/** Starts a server process that prints "listening" when ready. */
async function startServer(cmd, argv) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (c) => reject(new Error(cmd + ' exited ' + c)));
  });
  return child;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

/**
 * The C client against three servers side by side: the C server that only answers "OK" (the wake-up-latency
 * ceiling of this machine, what C xenstored can at best reach), the Node server that only answers "OK" (Node's
 * floor), and our xenstored. Runs alternate between them, ROUNDS times, so load from elsewhere hits all alike.
 */
async function cComparison(xsSock) {
  const client = compile('xs-bench-client', C_CLIENT);
  const echo = client && compile('xs-bench-echo', C_ECHO);
  if (!client || !echo) {
    console.log('\n(gcc not available: C client comparison skipped)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-xsecho-'));
  const cSock = path.join(dir, 'c-echo');
  const nSock = path.join(dir, 'node-echo');
  // The same xenstored with --busy-poll (see socketServer.ts): the event loop keeps polling 50 us after each request.
  const pSock = path.join(dir, 'xs-poll');
  const xsFile = await buildXenstored();
  const kids = [
    await startServer(echo, [cSock]),
    await startServer(process.execPath, ['-e', NODE_ECHO, nSock]),
    await startServer(process.execPath, ['-e', `require(${JSON.stringify(xsFile)}).main(['--socket', ${JSON.stringify(pSock)}, '--busy-poll', '50'])`]),
  ];
  const run = (sock, op) => Number(spawnSync(client, [sock, op, '30000'], { encoding: 'utf8' }).stdout);
  const r = { cOk: [], nodeOk: [], read: [], write: [], pollRead: [], pollWrite: [] };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      r.cOk.push(run(cSock, 'read'));
      r.nodeOk.push(run(nSock, 'read'));
      r.read.push(run(xsSock, 'read'));
      r.write.push(run(xsSock, 'write'));
      r.pollRead.push(run(pSock, 'read'));
      r.pollWrite.push(run(pSock, 'write'));
    }
  } finally {
    for (const k of kids) k.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ceiling = median(r.cOk);
  console.log(`\nUnix socket, C client, one connection, one request in flight (median of ${ROUNDS} alternating runs of 30000):`);
  const line = (name, xs) => console.log(`  ${name.padEnd(40)}${fmt(median(xs))} ops/s   ${(median(xs) / ceiling).toFixed(2)} of the C "OK" server   (runs: ${xs.map(Math.round).join(' ')})`);
  line('C server answering only "OK"', r.cOk);
  line('Node server answering only "OK"', r.nodeOk);
  line('zazen xenstored, read', r.read);
  line('zazen xenstored, write', r.write);
  line('zazen xenstored --busy-poll 50, read', r.pollRead);
  line('zazen xenstored --busy-poll 50, write', r.pollWrite);
  console.log(`  (load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs: busy-polling only pays while a CPU is free for it)`);
}

async function withServer(fn) {
  const file = await buildXenstored();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-xsbench-'));
  const sock = path.join(dir, 'socket');
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(file)}).main(['--socket', ${JSON.stringify(sock)}])`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (c) => reject(new Error('server exited ' + c)));
  });
  try {
    return await fn(sock);
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function fuzzRun(count) {
  const file = await bundle('test/xenstore/fuzzer.ts', path.join(build, 'xs-fuzzer.cjs'), 'cjs');
  const mod = await import(pathToFileURL(file).href);
  const fuzz = mod.fuzz || mod.default.fuzz;
  const t0 = performance.now();
  let done = 0;
  let seed = 1;
  const totals = { messages: 0, replies: 0, events: 0, closes: 0 };
  while (done < count) {
    const st = fuzz(seed++, Math.min(50000, count - done), () => performance.now());
    for (const k of Object.keys(totals)) totals[k] += st[k];
    done += st.messages;
  }
  console.log(`fuzz: ${totals.messages} messages (seeds 1..${seed - 1}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
    `${totals.replies} replies, ${totals.events} watch events, ${totals.closes} connections closed for oversize; no throw, store checks passed`);
}

fs.mkdirSync(build, { recursive: true });
const fuzzCount = opt('fuzz', 0);
if (fuzzCount > 0) {
  await fuzzRun(fuzzCount);
} else {
  if (!args.includes('--socket')) await inProcess();
  if (!args.includes('--in-process')) await withServer(async (sock) => {
    const rows = await socketBench(sock);
    table('Unix socket, Node clients in one process, one request in flight per connection (100/1 is concurrency, not a target)', rows);
    await cComparison(sock);
  });
}
