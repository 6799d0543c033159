// Watch semantics: what fires, for whom, with which path, and when transactions release their events.
import { describe, expect, test } from '@jest/globals';
import { Harness } from './harness';

function setup(): Harness {
  const h = new Harness();
  h.add('dom0', 0);
  h.add('w', 0);
  h.add('d1', 1);
  h.add('d2', 2);
  h.send('dom0', 'MKDIR', '/local/domain/1|');
  h.send('dom0', 'SET_PERMS', '/local/domain/1|n1|');
  h.send('dom0', 'MKDIR', '/local/domain/2|');
  h.send('dom0', 'SET_PERMS', '/local/domain/2|n2|');
  return h;
}

describe('watches', () => {
  test.each<[string, string, [string, string, string][], string[]]>([
    ['fires once on registration', '/a', [], ['/a t']],
    ['create of the node', '/a', [['dom0', 'WRITE', '/a|1']], ['/a t', '/a t']],
    ['change and create below', '/a', [['dom0', 'WRITE', '/a|1'], ['dom0', 'WRITE', '/a|2'], ['dom0', 'WRITE', '/a/b/c|3']], ['/a t', '/a t', '/a t', '/a/b/c t']],
    ['removal below and of the node', '/a', [['dom0', 'WRITE', '/a/b/c|1'], ['dom0', 'RM', '/a/b|'], ['dom0', 'RM', '/a|']], ['/a t', '/a/b/c t', '/a/b t', '/a t']],
    ['removal of a parent fires the watched node itself', '/a/b/c', [['dom0', 'WRITE', '/a/b/c/d|1'], ['dom0', 'RM', '/a|']], ['/a/b/c t', '/a/b/c/d t', '/a/b/c t']],
    ['siblings and parents do not fire', '/a/b', [['dom0', 'WRITE', '/a|1'], ['dom0', 'WRITE', '/a/c|1'], ['dom0', 'WRITE', '/a/bb|1']], ['/a/b t']],
    ['mkdir of an existing node is silent', '/a', [['dom0', 'WRITE', '/a|1'], ['dom0', 'MKDIR', '/a|']], ['/a t', '/a t']],
    ['set_perms fires', '/a', [['dom0', 'WRITE', '/a|1'], ['dom0', 'SET_PERMS', '/a|n0|r1|']], ['/a t', '/a t', '/a t']],
    ['root watch sees everything', '/', [['dom0', 'WRITE', '/x|1'], ['dom0', 'RM', '/x|']], ['/ t', '/x t', '/x t']],
    ['failed requests fire nothing', '/a', [['dom0', 'RM', '/a/b/c|'], ['dom0', 'WRITE', '/a//b|1']], ['/a t']],
  ])('%s', (_n, path, steps, want) => {
    const h = setup();
    expect(h.send('w', 'WATCH', path + '|t|')).toBe('OK|');
    for (const [c, op, p] of steps) h.send(c, op as 'WRITE', p);
    expect(h.events('w')).toEqual(want);
  });

  test('depth limits which descendants fire', () => {
    const h = setup();
    h.send('w', 'WATCH', '/a|d0|0|');
    h.send('w', 'WATCH', '/a|d1|1|');
    h.events('w');
    h.send('dom0', 'WRITE', '/a|x');
    h.send('dom0', 'WRITE', '/a/b|x');
    h.send('dom0', 'WRITE', '/a/b/c|x');
    expect(h.events('w')).toEqual(['/a d0', '/a d1', '/a/b d1']);
  });

  test('relative watches report relative paths', () => {
    const h = setup();
    expect(h.send('d1', 'WATCH', 'device|tok|')).toBe('OK|');
    h.send('d1', 'WRITE', 'device/vbd/51712/state|1');
    h.send('dom0', 'RM', '/local/domain/1/device|');
    expect(h.events('d1')).toEqual(['device tok', 'device/vbd/51712/state tok', 'device tok']);
  });

  test('duplicate watch is EEXIST, unwatch works once', () => {
    const h = setup();
    expect(h.send('w', 'WATCH', '/a|t|')).toBe('OK|');
    expect(h.send('w', 'WATCH', '/a|t|')).toBe('E:EEXIST');
    expect(h.send('w', 'WATCH', '/a|u|')).toBe('OK|');
    expect(h.send('w', 'UNWATCH', '/a|t|')).toBe('OK|');
    expect(h.send('w', 'UNWATCH', '/a|t|')).toBe('E:ENOENT');
    h.events('w');
    h.send('dom0', 'WRITE', '/a|1');
    expect(h.events('w')).toEqual(['/a u']);
  });

  test('the watch transaction id is ignored', () => {
    const h = setup();
    expect(h.send('w', 'WATCH', '/a|t|', 12345)).toBe('OK|');
  });

  test('guests only hear about nodes they can read', () => {
    const h = setup();
    h.send('d2', 'WATCH', '/local/domain/1|spy|');
    h.send('d1', 'WATCH', 'x|own|');
    h.events('d1');
    h.events('d2');
    h.send('d1', 'WRITE', 'x|secret');
    expect(h.events('d2')).toEqual([]);
    expect(h.events('d1')).toEqual(['x own']);
  });

  test('a guest losing read access still hears the permission change', () => {
    const h = setup();
    h.send('dom0', 'WRITE', '/pub|v');
    h.send('dom0', 'SET_PERMS', '/pub|n0|r2|');
    h.send('d2', 'WATCH', '/pub|t|');
    h.events('d2');
    h.send('dom0', 'SET_PERMS', '/pub|n0|');
    expect(h.events('d2')).toEqual(['/pub t']);
    h.send('dom0', 'WRITE', '/pub|w');
    expect(h.events('d2')).toEqual([]);
  });

  test('@introduceDomain and @releaseDomain, plain and per domain', () => {
    const h = setup();
    h.send('w', 'WATCH', '@introduceDomain|i|');
    h.send('w', 'WATCH', '@releaseDomain|r|');
    h.send('w', 'WATCH', '@releaseDomain|r1|1|');
    h.send('w', 'WATCH', '@releaseDomain/7|only7|');
    h.send('d1', 'WATCH', '@releaseDomain|guest|');
    h.send('d2', 'WATCH', '@introduceDomain|guest|');
    h.events('w');
    h.events('d1');
    h.events('d2');
    expect(h.send('dom0', 'INTRODUCE', '7|100|3|')).toBe('OK|');
    expect(h.send('dom0', 'RELEASE', '7|')).toBe('OK|');
    expect(h.events('w')).toEqual(['@introduceDomain i', '@releaseDomain r', '@releaseDomain/7 r1', '@releaseDomain/7 only7']);
    // @releaseDomain is readable by all domains (DOMID_ANY), @introduceDomain only by dom0.
    expect(h.events('d1')).toEqual(['@releaseDomain guest']);
    expect(h.events('d2')).toEqual([]);
  });

  test('reset_watches drops watches and transactions', () => {
    const h = setup();
    h.send('w', 'WATCH', '/a|t|');
    const tx = Number(h.send('w', 'TRANSACTION_START', '|').replace('|', ''));
    expect(h.send('w', 'RESET_WATCHES', '|')).toBe('OK|');
    h.events('w');
    h.send('dom0', 'WRITE', '/a|1');
    expect(h.events('w')).toEqual([]);
    expect(h.send('w', 'READ', '/a|', tx)).toBe('E:ENOENT');
  });
});

describe('watches and transactions', () => {
  test('events are held until commit and fired once per node', () => {
    const h = setup();
    h.send('w', 'WATCH', '/t|w|');
    h.events('w');
    const tx = Number(h.send('dom0', 'TRANSACTION_START', '|').replace('|', ''));
    h.send('dom0', 'WRITE', '/t/a|1', tx);
    h.send('dom0', 'WRITE', '/t/a|2', tx);
    h.send('dom0', 'WRITE', '/t/b|1', tx);
    expect(h.events('w')).toEqual([]);
    expect(h.send('dom0', 'TRANSACTION_END', 'T|', tx)).toBe('OK|');
    expect(h.events('w')).toEqual(['/t/a w', '/t/b w']);
  });

  test('events are dropped on abort and on a failed commit', () => {
    const h = setup();
    h.send('w', 'WATCH', '/t|w|');
    h.events('w');
    const tx = Number(h.send('dom0', 'TRANSACTION_START', '|').replace('|', ''));
    h.send('dom0', 'WRITE', '/t/a|1', tx);
    expect(h.send('dom0', 'TRANSACTION_END', 'F|', tx)).toBe('OK|');
    const tx2 = Number(h.send('dom0', 'TRANSACTION_START', '|').replace('|', ''));
    h.send('dom0', 'READ', '/t/b|', tx2);
    h.send('dom0', 'WRITE', '/t/a|2', tx2);
    h.send('d1', 'WRITE', '/t/b|x'.replace('/t/b', 'b'));
    h.send('dom0', 'WRITE', '/t/b|conflict');
    h.events('w');
    expect(h.send('dom0', 'TRANSACTION_END', 'T|', tx2)).toBe('E:EAGAIN');
    expect(h.events('w')).toEqual([]);
    expect(h.send('dom0', 'READ', '/t/a|')).toBe('E:ENOENT');
  });
});
