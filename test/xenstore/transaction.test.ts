// Transactions: snapshot isolation, conflicts from what was read, and no conflicts between disjoint subtrees.
import { describe, expect, test } from '@jest/globals';
import { Harness, Row, mismatches } from './harness';

function setup(): Harness {
  const h = new Harness();
  h.add('dom0', 0);
  h.add('other', 0);
  for (let d = 1; d <= 3; d++) {
    h.add('d' + d, d);
    h.send('dom0', 'MKDIR', `/local/domain/${d}|`);
    h.send('dom0', 'SET_PERMS', `/local/domain/${d}|n${d}|`);
  }
  return h;
}

describe('transactions', () => {
  test.each<[string, Row[]]>([
    ['ids start at 1, are per connection, decimal', [
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '1|', save: 'A' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '2|', save: 'B' },
      { c: 'other', op: 'TRANSACTION_START', p: '|', want: '1|' },
      { c: 'dom0', tx: 'A', op: 'TRANSACTION_END', p: 'F|', want: 'OK|' },
      { c: 'dom0', tx: 'A', op: 'TRANSACTION_END', p: 'F|', want: 'E:ENOENT' },
      { c: 'dom0', tx: 'B', op: 'TRANSACTION_START', p: '|', want: 'E:EBUSY' },
      { c: 'dom0', tx: '99', op: 'READ', p: '/tool|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'TRANSACTION_END', p: 'T|', want: 'E:ENOENT' },
      { c: 'other', tx: 'B', op: 'TRANSACTION_END', p: 'T|', want: 'E:ENOENT' },
    ]],
    ['reads see own writes, others do not until commit', [
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/x/y|1', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/x/y|', want: '1' },
      { c: 'dom0', tx: 'T', op: 'DIRECTORY', p: '/x|', want: 'y|' },
      { c: 'other', op: 'READ', p: '/x/y|', want: 'E:ENOENT' },
      { c: 'dom0', op: 'READ', p: '/x/y|', want: 'E:ENOENT' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'other', op: 'READ', p: '/x/y|', want: '1' },
    ]],
    ['snapshot: later outside writes are invisible inside', [
      { c: 'dom0', op: 'WRITE', p: '/s|old', want: 'OK|' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'other', op: 'WRITE', p: '/s|new', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/s|', want: 'old' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
    ]],
    ['read then concurrent write: EAGAIN', [
      { c: 'dom0', op: 'WRITE', p: '/a|1', want: 'OK|' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/a|', want: '1' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/b|2', want: 'OK|' },
      { c: 'other', op: 'WRITE', p: '/a|changed', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
      { c: 'dom0', op: 'READ', p: '/b|', want: 'E:ENOENT' },
    ]],
    ['read of a missing node, created meanwhile: EAGAIN', [
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/p|', want: 'E:ENOENT' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/q|1', want: 'OK|' },
      { c: 'other', op: 'WRITE', p: '/p|x', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
    ]],
    ['directory read, child added meanwhile: EAGAIN', [
      { c: 'dom0', op: 'MKDIR', p: '/dir|', want: 'OK|' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'DIRECTORY', p: '/dir|', want: '' },
      { c: 'other', op: 'MKDIR', p: '/dir/new|', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/elsewhere|1', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
    ]],
    ['rm of a node that changed below: EAGAIN', [
      { c: 'dom0', op: 'WRITE', p: '/r/s|1', want: 'OK|' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'RM', p: '/r|', want: 'OK|' },
      { c: 'other', op: 'MKDIR', p: '/r/t|', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
      { c: 'dom0', op: 'DIRECTORY', p: '/r|', want: 's|t|' },
    ]],
    ['unrelated outside writes do not conflict', [
      { c: 'dom0', op: 'WRITE', p: '/a|1', want: 'OK|' },
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/a|', want: '1' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/a|2', want: 'OK|' },
      { c: 'other', op: 'WRITE', p: '/z|9', want: 'OK|' },
      { c: 'other', op: 'WRITE', p: '/tool/xenstored|v', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/a|', want: '2' },
      { c: 'dom0', op: 'READ', p: '/z|', want: '9' },
    ]],
    ['guests in their own subtrees never conflict', [
      { c: 'd1', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T1' },
      { c: 'd2', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T2' },
      { c: 'd3', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T3' },
      { c: 'd1', tx: 'T1', op: 'WRITE', p: 'device/vbd/51712/state|3', want: 'OK|' },
      { c: 'd2', tx: 'T2', op: 'WRITE', p: 'device/vbd/51712/state|3', want: 'OK|' },
      { c: 'd3', tx: 'T3', op: 'DIRECTORY', p: '|', want: 'E:EINVAL' },
      { c: 'd3', tx: 'T3', op: 'READ', p: 'control/shutdown|', want: 'E:ENOENT' },
      { c: 'd3', tx: 'T3', op: 'WRITE', p: 'memory/target|1024', want: 'OK|' },
      { c: 'd1', tx: 'T1', op: 'READ', p: 'device/vbd/51712/state|', want: '3' },
      { c: 'd2', tx: 'T2', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'd3', tx: 'T3', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'd1', tx: 'T1', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/local/domain/2/device/vbd/51712/state|', want: '3' },
      { c: 'dom0', op: 'GET_PERMS', p: '/local/domain/3/memory/target|', want: 'n3|' },
    ]],
    ['two transactions writing one node: the second loses', [
      { c: 'd1', op: 'WRITE', p: 'state|1', want: 'OK|' },
      { c: 'd1', op: 'TRANSACTION_START', p: '|', want: '*', save: 'A' },
      { c: 'd1', op: 'TRANSACTION_START', p: '|', want: '*', save: 'B' },
      { c: 'd1', tx: 'A', op: 'WRITE', p: 'state|2', want: 'OK|' },
      { c: 'd1', tx: 'B', op: 'WRITE', p: 'state|3', want: 'OK|' },
      { c: 'd1', tx: 'A', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'd1', tx: 'B', op: 'TRANSACTION_END', p: 'T|', want: 'E:EAGAIN' },
      { c: 'd1', op: 'READ', p: 'state|', want: '2' },
    ]],
    ['errors inside a transaction leave it usable', [
      { c: 'dom0', op: 'TRANSACTION_START', p: '|', want: '*', save: 'T' },
      { c: 'dom0', tx: 'T', op: 'READ', p: '/missing|', want: 'E:ENOENT' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/bad//path|x', want: 'E:EINVAL' },
      { c: 'dom0', tx: 'T', op: 'WRITE', p: '/good|x', want: 'OK|' },
      { c: 'dom0', tx: 'T', op: 'TRANSACTION_END', p: 'T|', want: 'OK|' },
      { c: 'dom0', op: 'READ', p: '/good|', want: 'x' },
    ]],
  ])('%s', (_n, rows) => {
    const h = setup();
    expect(mismatches(h.run(rows))).toEqual([]);
    expect(h.check()).toEqual([]);
  });

  test('node counts stay exact across commits and aborts', () => {
    const h = setup();
    const tx = Number(h.send('d1', 'TRANSACTION_START', '|').replace('|', ''));
    h.send('d1', 'WRITE', 'a/b/c|1', tx);
    h.send('d1', 'RM', 'a/b|', tx);
    h.send('d1', 'WRITE', 'x|1', tx);
    expect(h.send('d1', 'TRANSACTION_END', 'T|', tx)).toBe('OK|');
    expect(h.store.nodeCounts.get(1)).toBe(3);
    const tx2 = Number(h.send('d1', 'TRANSACTION_START', '|').replace('|', ''));
    h.send('d1', 'WRITE', 'y/z|1', tx2);
    expect(h.send('d1', 'TRANSACTION_END', 'F|', tx2)).toBe('OK|');
    expect(h.store.nodeCounts.get(1)).toBe(3);
    expect(h.check()).toEqual([]);
  });
});
