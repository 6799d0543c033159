// Quotas: xenstored's defaults and checks (refused once a count reaches the quota), dom0 exempt, configurable.
import { describe, expect, test } from '@jest/globals';
import { Harness } from './harness';
import { defaultQuotas } from '../../src/xenstore/quota';

function setup(quotas = {}): Harness {
  const h = new Harness(quotas);
  h.add('dom0', 0);
  h.add('d1', 1);
  h.send('dom0', 'MKDIR', '/local/domain/1|');
  h.send('dom0', 'SET_PERMS', '/local/domain/1|n1|');
  return h;
}

describe('quotas', () => {
  test('defaults are xenstored\'s', () => {
    expect(defaultQuotas()).toEqual({
      nodes: 1000, watches: 128, outstanding: 20, transactions: 10,
      'transaction-nodes': 1024, 'node-permissions': 5, 'path-max': 2048, 'node-size': 2048,
    });
  });

  test('nodes per domain', () => {
    const h = setup({ nodes: 10 });
    // dom1 owns /local/domain/1 already; the 10th node would reach the quota.
    for (let i = 0; i < 8; i++) expect(h.send('d1', 'WRITE', `n${i}|v`)).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'n8|v')).toBe('E:ENOSPC');
    expect(h.send('d1', 'WRITE', 'n0|changed')).toBe('OK|');
    expect(h.send('d1', 'RM', 'n0|')).toBe('OK|');
    expect(h.send('d1', 'MKDIR', 'n8|')).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'deep/er|v')).toBe('E:ENOSPC');
    for (let i = 0; i < 20; i++) expect(h.send('dom0', 'WRITE', `/dom0/${i}|v`)).toBe('OK|');
    expect(h.check()).toEqual([]);
  });

  test('default of 1000 nodes per domain', () => {
    const h = setup();
    let i = 0;
    while (h.send('d1', 'MKDIR', `a${Math.floor(i / 50)}/n${i}|`) === 'OK|') i++;
    expect(h.store.nodeCounts.get(1)).toBe(999);
  });

  test('node size covers value, permissions and child list', () => {
    const h = setup();
    expect(h.send('d1', 'WRITE', 'big|' + 'v'.repeat(2048 - 16 - 8 - 1))).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'big|' + 'v'.repeat(2048 - 16 - 8))).toBe('E:ENOSPC');
    expect(h.send('d1', 'SET_PERMS', 'big|n1|r0|')).toBe('E:ENOSPC');
    expect(h.send('dom0', 'WRITE', '/local/domain/1/big|' + 'v'.repeat(4000))).toBe('OK|');
  });

  test('permissions per node', () => {
    const h = setup();
    h.send('d1', 'WRITE', 'p|');
    expect(h.send('d1', 'SET_PERMS', 'p|n1|r2|r3|r4|')).toBe('OK|');
    expect(h.send('d1', 'SET_PERMS', 'p|n1|r2|r3|r4|r5|')).toBe('E:ENOSPC');
    expect(h.send('dom0', 'SET_PERMS', '/local/domain/1/p|n1|r2|r3|r4|r5|r6|')).toBe('OK|');
  });

  test('watches per domain', () => {
    const h = setup({ watches: 4 });
    for (let i = 0; i < 3; i++) expect(h.send('d1', 'WATCH', `w${i}|t|`)).toBe('OK|');
    expect(h.send('d1', 'WATCH', 'w3|t|')).toBe('E:ENOSPC');
    expect(h.send('d1', 'UNWATCH', 'w0|t|')).toBe('OK|');
    expect(h.send('d1', 'WATCH', 'w3|t|')).toBe('OK|');
    for (let i = 0; i < 10; i++) expect(h.send('dom0', 'WATCH', `/w${i}|t|`)).toBe('OK|');
  });

  test('transactions per domain', () => {
    const h = setup({ transactions: 3 });
    const a = h.send('d1', 'TRANSACTION_START', '|');
    h.send('d1', 'TRANSACTION_START', '|');
    expect(h.send('d1', 'TRANSACTION_START', '|')).toBe('E:ENOSPC');
    h.send('d1', 'TRANSACTION_END', 'F|', Number(a.replace('|', '')));
    expect(h.send('d1', 'TRANSACTION_START', '|')).not.toMatch(/^E:/);
  });

  test('nodes touched per transaction', () => {
    const h = setup({ 'transaction-nodes': 5 });
    const tx = Number(h.send('d1', 'TRANSACTION_START', '|').replace('|', ''));
    let last = '';
    for (let i = 0; i < 6 && last !== 'E:ENOSPC'; i++) last = h.send('d1', 'READ', `n${i}|`, tx);
    expect(last).toBe('E:ENOSPC');
    expect(h.send('d1', 'TRANSACTION_END', 'T|', tx)).toBe('E:ENOMEM');
  });

  test('per-domain override and quota 0 disables', () => {
    const h = setup({ nodes: 3 });
    expect(h.send('d1', 'WRITE', 'a|')).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'b|')).toBe('E:ENOSPC');
    expect(h.send('dom0', 'SET_QUOTA', '1|nodes|0|')).toBe('OK|');
    for (let i = 0; i < 50; i++) expect(h.send('d1', 'WRITE', `c${i}|`)).toBe('OK|');
  });

  test('quota commit check: transaction creating nodes beyond the quota', () => {
    const h = setup({ nodes: 4 });
    const t1 = Number(h.send('d1', 'TRANSACTION_START', '|').replace('|', ''));
    const t2 = Number(h.send('d1', 'TRANSACTION_START', '|').replace('|', ''));
    expect(h.send('d1', 'WRITE', 'x|', t1)).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'x2|', t1)).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'y|', t2)).toBe('OK|');
    expect(h.send('d1', 'WRITE', 'y2|', t2)).toBe('OK|');
    expect(h.send('d1', 'TRANSACTION_END', 'T|', t1)).toBe('OK|');
    expect(h.send('d1', 'TRANSACTION_END', 'T|', t2)).toBe('E:EAGAIN');
    expect(h.check()).toEqual([]);
  });
});
