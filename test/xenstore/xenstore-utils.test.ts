// Debian's real xenstore-utils (libxenstore 4.17) against `npm run xenstored -- --socket PATH`.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TOOLS = ['xenstore-read', 'xenstore-write', 'xenstore-ls', 'xenstore-rm', 'xenstore-chmod', 'xenstore-watch', 'xenstore-list', 'xenstore-exists'];
const root = path.resolve(__dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-xs-'));
const sock = path.join(dir, 'socket');
let daemon: ChildProcess;

function tool(name: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(name, args, { env: { ...process.env, XENSTORED_PATH: sock }, encoding: 'utf8', timeout: 10000 });
  return { code: r.status === null ? -1 : r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', 'command -v ' + t]).status !== 0);
  if (missing.length) throw new Error('xenstore-utils missing (' + missing.join(', ') + '): install the Debian package xenstore-utils');
  daemon = spawn(process.execPath, [path.join(root, 'scripts/xenstored.mjs'), '--socket', sock], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('xenstored did not start: ' + out)), 20000);
    daemon.stdout?.on('data', (d) => {
      out += d;
      if (out.indexOf('listening on') >= 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    daemon.stderr?.on('data', (d) => (out += d));
    daemon.on('exit', (code) => reject(new Error('xenstored exited with ' + code + ': ' + out)));
  });
}, 30000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const done = new Promise((r) => daemon.on('exit', r));
    daemon.kill('SIGTERM');
    await done;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('xenstore-utils against the Node server', () => {
  test('write, read, exists, list', () => {
    expect(tool('xenstore-write', '/vm/1/name', 'guest-one', '/vm/1/uuid', 'abc').code).toBe(0);
    expect(tool('xenstore-read', '/vm/1/name')).toMatchObject({ code: 0, out: 'guest-one\n' });
    expect(tool('xenstore-read', '/vm/1/uuid', '/vm/1/name').out).toBe('abc\nguest-one\n');
    expect(tool('xenstore-exists', '/vm/1/uuid').code).toBe(0);
    expect(tool('xenstore-exists', '/vm/2').code).not.toBe(0);
    expect(tool('xenstore-list', '/vm/1').out).toBe('name\nuuid\n');
    const miss = tool('xenstore-read', '/vm/none');
    expect(miss.code).not.toBe(0);
    expect(miss.err).toMatch(/couldn't read path/);
  });

  test('relative paths are under /local/domain/0 for a dom0 socket', () => {
    expect(tool('xenstore-write', 'rel', 'v').code).toBe(0);
    expect(tool('xenstore-read', '/local/domain/0/rel').out).toBe('v\n');
  });

  test('ls with and without permissions', () => {
    tool('xenstore-write', '/ls/a/b', 'hello', '/ls/c', 'plain');
    expect(tool('xenstore-ls', '/ls').out).toBe('a = ""\n b = "hello"\nc = "plain"\n');
    expect(tool('xenstore-chmod', '/ls/a', 'n0', 'r5').code).toBe(0);
    const ls = tool('xenstore-ls', '-p', '/ls').out.split('\n');
    expect(ls[0]).toMatch(/^a = "" [. ]+ \(n0,r5\)$/);
    expect(ls[1]).toMatch(/^ b = "hello" [. ]+ \(n0\)$/);
    expect(tool('xenstore-ls', '-f', '/ls').out).toBe('/ls/a = ""\n/ls/a/b = "hello"\n/ls/c = "plain"\n');
  });

  test('chmod -r recurses', () => {
    tool('xenstore-write', '/perm/x/y', '1');
    expect(tool('xenstore-chmod', '-r', '/perm', 'b3').code).toBe(0);
    expect(tool('xenstore-ls', '-p', '/perm').out).toMatch(/\(b3\)\n.*\(b3\)\n$/);
  });

  test('rm removes subtrees; rm of something gone is fine if its parent exists', () => {
    tool('xenstore-write', '/gone/a/b', '1');
    expect(tool('xenstore-rm', '/gone/a').code).toBe(0);
    expect(tool('xenstore-list', '/gone').out).toBe('');
    expect(tool('xenstore-rm', '/gone/a').code).toBe(0);
    expect(tool('xenstore-rm', '/gone/a/b/c').code).not.toBe(0);
  });

  test('watch sees the initial event, changes below, and removal', async () => {
    const w = spawn('xenstore-watch', ['-n', '4', '/w'], { env: { ...process.env, XENSTORED_PATH: sock } });
    let out = '';
    w.stdout.on('data', (d) => (out += d));
    const waitFor = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && out.split('\n').length <= n; i++) await new Promise((r) => setTimeout(r, 25));
    };
    await waitFor(1);
    tool('xenstore-write', '/w/x', '1');
    await waitFor(2);
    tool('xenstore-write', '/other', '1');
    tool('xenstore-write', '/w', 'v');
    await waitFor(3);
    tool('xenstore-rm', '/w');
    const code = await new Promise((r) => w.on('exit', r));
    expect(code).toBe(0);
    expect(out).toBe('/w\n/w/x\n/w\n/w\n');
  });

  test('write of a big value and unusual bytes round-trips', () => {
    const big = 'q'.repeat(4000);
    expect(tool('xenstore-write', '/big', big).code).toBe(0);
    expect(tool('xenstore-read', '/big').out).toBe(big + '\n');
    expect(tool('xenstore-write', '/bad path', 'x').code).not.toBe(0);
  });
});
