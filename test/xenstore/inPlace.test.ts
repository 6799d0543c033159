// Value writes that change unshared nodes in place, and the read cache, against a model: transactions keep
// their snapshots, conflicts are still seen, and a write that fails leaves the value alone.
import { describe, expect, test } from '@jest/globals';
import { Harness } from './harness';

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

interface OpenTx {
  id: number;
  /** The values at its start: what it must read whatever happens outside. */
  values: Map<string, string>;
  /** Nodes it read (or wrote: that reads them too), with the value it saw. */
  read: Map<string, string>;
  /** Values it wrote, applied by a successful commit. */
  wrote: Map<string, string>;
}

describe('in-place writes and the read cache', () => {
  test('random writes, reads, removals and transactions agree with a model', () => {
    const h = new Harness();
    h.add('dom0', 0);
    for (let i = 0; i < 3; i++) h.add('tx' + i, 0);
    const r = rng(17);
    const names = ['/a', '/a/b', '/a/c', '/d/e/f', '/d/g', '/h'];
    const LEAVES = names.filter((n) => !names.some((m) => m.startsWith(n + '/')));
    const model = new Map<string, string>();
    const open: (OpenTx | null)[] = [null, null, null];
    const liveRead = (p: string): string => {
      const v = model.get(p);
      return v === undefined ? 'E:ENOENT' : v;
    };
    for (let step = 0; step < 2500; step++) {
      const p = names[r(names.length)];
      const k = r(20);
      if (k < 7) {
        const v = 'v' + step;
        expect(h.send('dom0', 'WRITE', p + '|' + v)).toBe('OK|');
        // Parents made on the way have empty values.
        for (let q = p.lastIndexOf('/'); q > 0; q = p.lastIndexOf('/', q - 1)) if (!model.has(p.substring(0, q))) model.set(p.substring(0, q), '');
        model.set(p, v);
      } else if (k < 13) {
        // Long runs of reads of one root: the read cache takes over.
        for (let i = 0; i < 40; i++) {
          const q = names[r(names.length)];
          expect(h.send('dom0', 'READ', q + '|')).toBe(liveRead(q));
        }
      } else if (k === 13) {
        if (model.has(p)) {
          expect(h.send('dom0', 'RM', p + '|')).toBe('OK|');
          for (const q of Array.from(model.keys())) if (q === p || q.startsWith(p + '/')) model.delete(q);
        }
      } else {
        const t = r(3);
        const conn = 'tx' + t;
        const o = open[t];
        if (o === null) {
          const id = Number(h.send(conn, 'TRANSACTION_START', '|').replace('|', ''));
          open[t] = { id, values: new Map(model), read: new Map(), wrote: new Map() };
        } else if (k < 18) {
          // Inside: reads see the snapshot taken at the start. Only leaves that exist are read, so the read set
          // is exactly these nodes (a failed read also records ancestors, and a parent changes with its children).
          const q = LEAVES[r(LEAVES.length)];
          const v = o.values.get(q);
          if (v !== undefined) {
            const mine = o.wrote.get(q);
            expect(h.send(conn, 'READ', q + '|', o.id)).toBe(mine === undefined ? v : mine);
            if (!o.read.has(q)) o.read.set(q, v);
          }
        } else if (k === 18) {
          // A write inside: committed alone, it is replayed on the live tree (in place when nothing else is open).
          const q = LEAVES[r(LEAVES.length)];
          const v = o.values.get(q);
          if (v !== undefined) {
            const w = 't' + step;
            expect(h.send(conn, 'WRITE', q + '|' + w, o.id)).toBe('OK|');
            if (!o.read.has(q)) o.read.set(q, v);
            o.wrote.set(q, w);
          }
        } else {
          // Commit: it fails exactly when something it read has changed (every write gives a new value, so a
          // changed leaf has a different value or is gone).
          let conflict = false;
          o.read.forEach((v, q) => {
            const now = model.get(q);
            if (now !== v) conflict = true;
          });
          expect(h.send(conn, 'TRANSACTION_END', 'T|', o.id)).toBe(conflict ? 'E:EAGAIN' : 'OK|');
          if (!conflict) o.wrote.forEach((w, q) => model.set(q, w));
          open[t] = null;
        }
      }
    }
    for (const q of names) expect(h.send('dom0', 'READ', q + '|')).toBe(liveRead(q));
    expect(h.check()).toEqual([]);
  });

  test('value writes inside a transaction, then removals, new nodes and permissions on top of them', () => {
    const h = new Harness();
    h.add('dom0', 0);
    h.add('t', 0);
    for (const p of ['/x/a', '/x/b', '/y']) expect(h.send('dom0', 'WRITE', p + '|old')).toBe('OK|');
    const id = Number(h.send('t', 'TRANSACTION_START', '|').replace('|', ''));
    // Value rewrites (noted over the snapshot), then changes of the tree that must see them.
    expect(h.send('t', 'WRITE', '/x/a|new-a', id)).toBe('OK|');
    expect(h.send('t', 'WRITE', '/x/b|new-b', id)).toBe('OK|');
    expect(h.send('t', 'WRITE', '/y|new-y', id)).toBe('OK|');
    expect(h.send('t', 'READ', '/x/a|', id)).toBe('new-a');
    expect(h.send('t', 'RM', '/x/a|', id)).toBe('OK|');
    expect(h.send('t', 'READ', '/x/a|', id)).toBe('E:ENOENT');
    expect(h.send('t', 'READ', '/x/b|', id)).toBe('new-b');
    expect(h.send('t', 'DIRECTORY', '/x|', id)).toBe('b|');
    expect(h.send('t', 'WRITE', '/x/b|newer-b', id)).toBe('OK|');
    expect(h.send('t', 'WRITE', '/x/c|c', id)).toBe('OK|');
    expect(h.send('t', 'SET_PERMS', '/y|n0|r5|', id)).toBe('OK|');
    expect(h.send('t', 'READ', '/y|', id)).toBe('new-y');
    expect(h.send('t', 'GET_PERMS', '/y|', id)).toBe('n0|r5|');
    expect(h.send('t', 'DIRECTORY', '/x|', id)).toBe('b|c|');
    // Outside, nothing has changed yet.
    expect(h.send('dom0', 'READ', '/x/a|')).toBe('old');
    expect(h.send('dom0', 'READ', '/y|')).toBe('old');
    expect(h.send('t', 'TRANSACTION_END', 'T|', id)).toBe('OK|');
    expect(h.send('dom0', 'DIRECTORY', '/x|')).toBe('b|c|');
    expect(h.send('dom0', 'READ', '/x/b|')).toBe('newer-b');
    expect(h.send('dom0', 'READ', '/y|')).toBe('new-y');
    expect(h.send('dom0', 'GET_PERMS', '/y|')).toBe('n0|r5|');
    // A transaction that rewrites a value and is then ended with F leaves no trace.
    const id2 = Number(h.send('t', 'TRANSACTION_START', '|').replace('|', ''));
    expect(h.send('t', 'WRITE', '/x/b|dropped', id2)).toBe('OK|');
    expect(h.send('t', 'TRANSACTION_END', 'F|', id2)).toBe('OK|');
    expect(h.send('dom0', 'READ', '/x/b|')).toBe('newer-b');
    expect(h.check()).toEqual([]);
  });

  test('a write over the node-size quota leaves the value in place unchanged', () => {
    const h = new Harness({ 'node-size': 64 });
    h.add('dom0', 0);
    h.add('guest', 5);
    expect(h.send('dom0', 'MKDIR', '/local/domain/5|')).toBe('OK|');
    expect(h.send('dom0', 'SET_PERMS', '/local/domain/5|n5|')).toBe('OK|');
    expect(h.send('guest', 'WRITE', 'x|one')).toBe('OK|');
    // The second write changes the node in place; the third is too big and must not touch it.
    expect(h.send('guest', 'WRITE', 'x|two')).toBe('OK|');
    expect(h.send('guest', 'WRITE', 'x|' + 'z'.repeat(80))).toBe('E:ENOSPC');
    expect(h.send('guest', 'READ', 'x|')).toBe('two');
    expect(h.check()).toEqual([]);
  });
});
