// Table-driven protocol tests: (connection, transaction, request) -> expected reply, as xenstored answers.
import { describe, expect, test } from '@jest/globals';
import { Harness, Row, mismatches } from './harness';

function scenario(rows: Row[], setup?: (h: Harness) => void): Harness {
  const h = new Harness();
  h.add('dom0', 0);
  h.add('d1', 1);
  h.add('d2', 2);
  if (setup) setup(h);
  const got = mismatches(h.run(rows));
  expect(got).toEqual([]);
  expect(h.check()).toEqual([]);
  return h;
}

// dom0 prepares /local/domain/1 and /local/domain/2 owned by their domains, as a toolstack does.
const domains: Row[] = [
  { c: 'dom0', op: 'MKDIR', p: '/local/domain/1|', want: 'OK|' },
  { c: 'dom0', op: 'SET_PERMS', p: '/local/domain/1|n1|', want: 'OK|' },
  { c: 'dom0', op: 'MKDIR', p: '/local/domain/2|', want: 'OK|' },
  { c: 'dom0', op: 'SET_PERMS', p: '/local/domain/2|n2|r1|', want: 'OK|' },
];

describe('basic operations', () => {
  test.each<[string, Row[]]>([
    ['initial tree', [
      { c: 'dom0', op: 'DIRECTORY', p: '/|', want: 'tool|' },
      { c: 'dom0', op: 'DIRECTORY', p: '/tool|', want: 'xenstored|' },
      { c: 'dom0', op: 'READ', p: '/tool/xenstored|', want: '' },
      { c: 'dom0', op: 'GET_PERMS', p: '/|', want: 'n0|' },
      { c: 'dom0', op: 'GET_PERMS', p: '@releaseDomain|', want: 'n0|r32757|' },
      { c: 'dom0', op: 'GET_PERMS', p: '@introduceDomain|', want: 'n0|' },
    ]],
    ['write, read, directory', [
      { c: 'dom0', op: 'WRITE', p: '/a/b/c|hello', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/a/b/c|', want: 'hello' },
      { c: 'dom0', op: 'READ', p: '/a/b|', want: '' },
      { c: 'dom0', op: 'DIRECTORY', p: '/a|', want: 'b|' },
      { c: 'dom0', op: 'WRITE', p: '/a/b/d|', want: 'OK|' },
      { c: 'dom0', op: 'WRITE', p: '/a/b/e|x|y|z', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/a/b/e|', want: 'x|y|z' },
      { c: 'dom0', op: 'DIRECTORY', p: '/a/b|', want: 'c|d|e|' },
      { c: 'dom0', op: 'DIRECTORY', p: '/a/b/c|', want: '' },
      { c: 'dom0', op: 'READ', p: '/nope|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'DIRECTORY', p: '/nope|', want: 'E:ENOENT' },
    ]],
    ['mkdir keeps values', [
      { c: 'dom0', op: 'WRITE', p: '/m|v', want: 'OK|' },
      { c: 'dom0', op: 'MKDIR', p: '/m|', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/m|', want: 'v' },
      { c: 'dom0', op: 'MKDIR', p: '/m/n/o|', want: 'OK|' },
      { c: 'dom0', op: 'DIRECTORY', p: '/m/n|', want: 'o|' },
    ]],
    ['rm', [
      { c: 'dom0', op: 'WRITE', p: '/r/s/t|1', want: 'OK|' },
      { c: 'dom0', op: 'RM', p: '/r/s|', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/r/s/t|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'DIRECTORY', p: '/r|', want: '' },
      { c: 'dom0', op: 'RM', p: '/r/gone|', want: 'OK|' },
      { c: 'dom0', op: 'RM', p: '/r/gone/deeper|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'RM', p: '/|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'DIRECTORY', p: '/|', want: 'tool|r|' },
    ]],
    ['path validation', [
      { c: 'dom0', op: 'WRITE', p: '/bad path|x', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '/trailing/|x', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '/dou//ble|x', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '|x', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '@special|x', want: 'E:EINVAL' },
      { c: 'dom0', op: 'READ', p: '/a.b|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '/ok-_@/A9|x', want: 'OK|' },
      { c: 'dom0', op: 'WRITE', p: '/' + 'x'.repeat(3071) + '|v', want: 'OK|' },
      { c: 'dom0', op: 'WRITE', p: '/' + 'x'.repeat(3072) + '|v', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: 'rel/to/dom0|v', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/local/domain/0/rel/to/dom0|', want: 'v' },
    ]],
    ['malformed payloads', [
      { c: 'dom0', op: 'READ', p: '/tool', want: 'E:EINVAL' },
      { c: 'dom0', op: 'READ', p: '/tool||', want: 'E:EINVAL' },
      { c: 'dom0', op: 'READ', p: '', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WRITE', p: '/nonul', want: 'E:EINVAL' },
      { c: 'dom0', op: 'MKDIR', p: '/x|y|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'SET_PERMS', p: '/tool|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'SET_PERMS', p: '/tool|q0|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'SET_PERMS', p: '/tool|r|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'SET_PERMS', p: '/tool|r1x|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WATCH', p: '/tool|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'WATCH', p: '/tool|t|-1|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'UNWATCH', p: '/tool|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'TRANSACTION_END', p: 'X|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'DIRECTORY_PART', p: '/|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'GET_DOMAIN_PATH', p: 'abc|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'GET_DOMAIN_PATH', p: '65536|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'INTRODUCE', p: '5|0|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'INTRODUCE', p: '5|0|0|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'CONTROL', p: 'nosuch|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'CONTROL', p: '', want: 'E:EINVAL' },
    ]],
    ['unknown and reply-only types', [
      { c: 'dom0', op: 'WATCH_EVENT', p: '/a|b|', want: 'E:ENOSYS' },
      { c: 'dom0', op: 'ERROR', p: 'EINVAL|', want: 'E:ENOSYS' },
      { c: 'dom0', op: 20, p: '1|', want: 'E:ENOSYS' },
      { c: 'dom0', op: 23, p: '', want: 'E:ENOSYS' },
      { c: 'dom0', op: 27, p: '', want: 'E:ENOSYS' },
      { c: 'dom0', op: 0xffff, p: '', want: 'E:ENOSYS' },
      { c: 'dom0', op: 0xffffffff, p: '', want: 'E:ENOSYS' },
    ]],
    ['domain paths and introduction', [
      { c: 'dom0', op: 'GET_DOMAIN_PATH', p: '7|', want: '/local/domain/7|' },
      { c: 'd1', op: 'GET_DOMAIN_PATH', p: '007|', want: '/local/domain/7|' },
      { c: 'dom0', op: 'IS_DOMAIN_INTRODUCED', p: '9|', want: 'F|' },
      { c: 'dom0', op: 'IS_DOMAIN_INTRODUCED', p: '0|', want: 'T|' },
      { c: 'dom0', op: 'IS_DOMAIN_INTRODUCED', p: '32752|', want: 'T|' },
      { c: 'dom0', op: 'INTRODUCE', p: '9|1234|5|', want: 'OK|' },
      { c: 'dom0', op: 'IS_DOMAIN_INTRODUCED', p: '9|', want: 'T|' },
      { c: 'dom0', op: 'INTRODUCE', p: '9|1234|6|', want: 'OK|' },
      { c: 'dom0', op: 'INTRODUCE', p: '0|1|1|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'RESUME', p: '9|', want: 'OK|' },
      { c: 'dom0', op: 'RELEASE', p: '9|', want: 'OK|' },
      { c: 'dom0', op: 'IS_DOMAIN_INTRODUCED', p: '9|', want: 'F|' },
      { c: 'dom0', op: 'RELEASE', p: '9|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'RELEASE', p: '0|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'RESUME', p: '9|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'SET_TARGET', p: '1|2|', want: 'OK|' },
      { c: 'dom0', op: 'SET_TARGET', p: '1|99|', want: 'E:ENOENT' },
    ]],
    ['privileged operations from a guest', [
      { c: 'd1', op: 'INTRODUCE', p: '9|1|1|', want: 'E:EACCES' },
      { c: 'd1', op: 'RELEASE', p: '2|', want: 'E:EACCES' },
      { c: 'd1', op: 'IS_DOMAIN_INTRODUCED', p: '2|', want: 'E:EACCES' },
      { c: 'd1', op: 'RESUME', p: '2|', want: 'E:EACCES' },
      { c: 'd1', op: 'SET_TARGET', p: '1|2|', want: 'E:EACCES' },
      { c: 'd1', op: 'CONTROL', p: 'help|', want: 'E:EACCES' },
      { c: 'd1', op: 'GET_QUOTA', p: '', want: 'E:EACCES' },
    ]],
    ['control and quotas', [
      { c: 'dom0', op: 'CONTROL', p: 'check|', want: 'OK|' },
      { c: 'dom0', op: 'CONTROL', p: 'print|hello|', want: 'OK|' },
      { c: 'dom0', op: 'CONTROL', p: 'quota|set|nodes|50|', want: 'OK|' },
      { c: 'dom0', op: 'GET_QUOTA', p: 'nodes|', want: '50|' },
      { c: 'dom0', op: 'SET_QUOTA', p: '1|watches|3|', want: 'OK|' },
      { c: 'dom0', op: 'GET_QUOTA', p: '1|watches|', want: '3|' },
      { c: 'dom0', op: 'GET_QUOTA', p: '2|watches|', want: '128|' },
      { c: 'dom0', op: 'GET_QUOTA', p: 'bogus|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'CONTROL', p: 'quota|set|bogus|5|', want: 'E:EINVAL' },
      { c: 'dom0', op: 'CONTROL', p: 'quota|42|', want: 'E:ENOENT' },
    ]],
  ])('%s', (_name, rows) => {
    scenario(rows);
  });
});

describe('permissions', () => {
  test.each<[string, Row[]]>([
    ['guests see only what they may', [
      ...domains,
      { c: 'd1', op: 'READ', p: '/tool|', want: 'E:EACCES' },
      { c: 'd1', op: 'WRITE', p: '/tool/x|1', want: 'E:EACCES' },
      { c: 'd1', op: 'READ', p: '/nonexistent|', want: 'E:EACCES' },
      { c: 'd1', op: 'WRITE', p: 'data|1', want: 'OK|' },
      { c: 'd1', op: 'READ', p: '/local/domain/1/data|', want: '1' },
      { c: 'd1', op: 'READ', p: 'data|', want: '1' },
      { c: 'd1', op: 'READ', p: 'missing|', want: 'E:ENOENT' },
      { c: 'd1', op: 'GET_PERMS', p: 'data|', want: 'n1|' },
      { c: 'd2', op: 'READ', p: '/local/domain/1/data|', want: 'E:EACCES' },
      { c: 'd2', op: 'READ', p: '/local/domain/1/missing|', want: 'E:EACCES' },
      { c: 'd1', op: 'READ', p: '/local/domain/2|', want: '' },
      { c: 'd1', op: 'WRITE', p: '/local/domain/2/x|1', want: 'E:EACCES' },
      { c: 'd2', op: 'WRITE', p: 'sub/leaf|1', want: 'OK|' },
      { c: 'd2', op: 'GET_PERMS', p: 'sub/leaf|', want: 'n2|r1|' },
      { c: 'd1', op: 'READ', p: '/local/domain/2/sub/leaf|', want: '1' },
    ]],
    ['set_perms ownership rules', [
      ...domains,
      { c: 'd1', op: 'WRITE', p: 'k|v', want: 'OK|' },
      { c: 'd1', op: 'SET_PERMS', p: 'k|n1|r2|', want: 'OK|' },
      { c: 'd2', op: 'READ', p: '/local/domain/1/k|', want: 'v' },
      { c: 'd1', op: 'SET_PERMS', p: 'k|n2|', want: 'E:EPERM' },
      { c: 'd2', op: 'SET_PERMS', p: '/local/domain/1/k|n2|', want: 'E:EACCES' },
      { c: 'd1', op: 'SET_PERMS', p: 'k|b1|w2|', want: 'OK|' },
      { c: 'd2', op: 'WRITE', p: '/local/domain/1/k|by2', want: 'OK|' },
      { c: 'd2', op: 'READ', p: '/local/domain/1/k|', want: 'E:EACCES' },
      { c: 'dom0', op: 'SET_PERMS', p: '/local/domain/1/k|n2|', want: 'OK|' },
      { c: 'd2', op: 'READ', p: '/local/domain/1/k|', want: 'by2' },
      { c: 'dom0', op: 'SET_PERMS', p: '/local/domain/1/k|n0x10|r0|', want: 'OK|' },
      { c: 'dom0', op: 'GET_PERMS', p: '/local/domain/1/k|', want: 'n16|r0|' },
      { c: 'dom0', op: 'SET_PERMS', p: '@introduceDomain|n0|r1|', want: 'OK|' },
      { c: 'd1', op: 'GET_PERMS', p: '@introduceDomain|', want: 'n0|r1|' },
    ]],
    ['everyone entry (DOMID_ANY) and default access', [
      ...domains,
      { c: 'dom0', op: 'WRITE', p: '/pub|v', want: 'OK|' },
      { c: 'dom0', op: 'SET_PERMS', p: '/pub|n0|r32757|', want: 'OK|' },
      { c: 'd2', op: 'READ', p: '/pub|', want: 'v' },
      { c: 'dom0', op: 'SET_PERMS', p: '/pub|r0|', want: 'OK|' },
      { c: 'd1', op: 'READ', p: '/pub|', want: 'v' },
      { c: 'd1', op: 'WRITE', p: '/pub|w', want: 'E:EACCES' },
    ]],
    ['set_target grants the target owner rights', [
      ...domains,
      { c: 'd2', op: 'WRITE', p: 'secret|s', want: 'OK|' },
      { c: 'd2', op: 'SET_PERMS', p: 'secret|n2|', want: 'OK|' },
      { c: 'd1', op: 'READ', p: '/local/domain/2/secret|', want: 'E:EACCES' },
      { c: 'dom0', op: 'SET_TARGET', p: '1|2|', want: 'OK|' },
      { c: 'd1', op: 'READ', p: '/local/domain/2/secret|', want: 's' },
      { c: 'd1', op: 'WRITE', p: '/local/domain/2/secret|t', want: 'OK|' },
    ]],
  ])('%s', (_name, rows) => {
    scenario(rows);
  });

  test('a released domain loses its nodes and permission entries', () => {
    const h = scenario(domains);
    h.run([
      { c: 'd1', op: 'WRITE', p: 'mine/x|1', want: 'OK|' },
      { c: 'dom0', op: 'WRITE', p: '/shared|v', want: 'OK|' },
      { c: 'dom0', op: 'SET_PERMS', p: '/shared|n0|r1|b2|', want: 'OK|' },
    ]);
    expect(h.send('dom0', 'RELEASE', '1|')).toBe('OK|');
    expect(h.send('dom0', 'DIRECTORY', '/local/domain|')).toBe('2|');
    expect(h.send('dom0', 'GET_PERMS', '/shared|')).toBe('n0|b2|');
    expect(h.check()).toEqual([]);
  });
});

describe('DIRECTORY_PART and large replies', () => {
  test('pages through a child list too big for one reply', () => {
    const h = new Harness();
    h.add('dom0', 0);
    const names: string[] = [];
    for (let i = 0; i < 300; i++) {
      const n = 'child-with-a-long-name-' + String(i).padStart(4, '0');
      names.push(n);
      expect(h.send('dom0', 'MKDIR', '/big/' + n + '|')).toBe('OK|');
    }
    expect(h.send('dom0', 'DIRECTORY', '/big|')).toBe('E:E2BIG');
    const got: string[] = [];
    let off = 0;
    let gen = '';
    for (;;) {
      const r = h.send('dom0', 'DIRECTORY_PART', '/big|' + off + '|');
      const parts = r.split('|');
      if (gen) expect(parts[0]).toBe(gen);
      gen = parts[0];
      const list = parts.slice(1, -1);
      const done = r.endsWith('||');
      const chunk = done ? list.slice(0, -1) : list;
      got.push(...chunk);
      off += chunk.reduce((a, n) => a + n.length + 1, 0);
      expect(r.length).toBeLessThanOrEqual(4096);
      if (done) break;
    }
    expect(got).toEqual(names);
    expect(h.send('dom0', 'DIRECTORY_PART', '/big|99999|')).toBe(gen + '||');
  });

  test('generation count changes when the child list changes', () => {
    const h = new Harness();
    h.add('dom0', 0);
    h.send('dom0', 'MKDIR', '/g/a|');
    const g1 = h.send('dom0', 'DIRECTORY_PART', '/g|0|').split('|')[0];
    h.send('dom0', 'WRITE', '/g/a|value');
    expect(h.send('dom0', 'DIRECTORY_PART', '/g|0|').split('|')[0]).toBe(g1);
    h.send('dom0', 'MKDIR', '/g/b|');
    expect(h.send('dom0', 'DIRECTORY_PART', '/g|0|').split('|')[0]).not.toBe(g1);
  });
});

describe('guest path limits', () => {
  // Components of 99 characters plus a slash, so no node's child list outgrows the node-size quota.
  const long = (n: number): string => Array.from({ length: Math.ceil(n / 100) }, () => 'x'.repeat(99)).join('/').slice(0, n);

  test('path-max counts from after /local/domain/<id>/ for guests', () => {
    const h = scenario(domains);
    expect(long(2047).length).toBe(2047);
    expect(h.send('d1', 'WRITE', long(2047) + '|v')).toBe('OK|');
    expect(h.send('d1', 'WRITE', long(2048) + '|v')).toBe('E:EINVAL');
    expect(h.send('d1', 'READ', '/local/domain/1/' + long(2047) + '|')).toBe('v');
    expect(h.send('d1', 'WRITE', '/local/domain/1/' + long(2048) + '|v')).toBe('E:EINVAL');
  });

  test('a child list may not grow a guest node past node-size', () => {
    const h = scenario(domains);
    expect(h.send('d1', 'WRITE', 'y'.repeat(2030) + '|v')).toBe('E:ENOSPC');
    expect(h.send('dom0', 'WRITE', '/local/domain/1/' + 'y'.repeat(2030) + '|v')).toBe('OK|');
  });
});
