// Directories with many children (the trie-and-vector form) through the protocol, against a plain model:
// creation order, snapshots held by transactions, removal, and commits, as xenstored behaves.
import { describe, expect, test } from '@jest/globals';
import { Harness } from './harness';

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

describe('many siblings', () => {
  test('random writes and removals among 60 names match a model, and a transaction keeps its snapshot', () => {
    const h = new Harness();
    h.add('dom0', 0);
    h.add('tx', 0);
    const r = rng(9);
    expect(h.send('dom0', 'MKDIR', '/d|')).toBe('OK|');
    // The model: child name -> value, in creation order (a Map keeps insertion order; delete then set re-appends).
    const model = new Map<string, string>();
    const dir = (): string => Array.from(model.keys()).map((k) => k + '|').join('');
    let snap: { id: number; dir: string; values: Map<string, string> } | null = null;
    for (let step = 0; step < 1500; step++) {
      const name = 'n' + r(60);
      if (r(4) === 0) {
        expect(h.send('dom0', 'RM', '/d/' + name + '|')).toBe('OK|');
        model.delete(name);
      } else {
        const v = 'v' + step;
        expect(h.send('dom0', 'WRITE', '/d/' + name + '|' + v)).toBe('OK|');
        model.set(name, v);
      }
      if (step % 50 === 0) expect(h.send('dom0', 'DIRECTORY', '/d|')).toBe(dir());
      if (step === 700) {
        // A transaction taken mid-way keeps seeing this moment, whatever happens outside.
        const id = Number(h.send('tx', 'TRANSACTION_START', '|').replace('|', ''));
        snap = { id, dir: dir(), values: new Map(model) };
        expect(h.send('tx', 'DIRECTORY', '/d|', id)).toBe(snap.dir);
      }
    }
    expect(h.send('dom0', 'DIRECTORY', '/d|')).toBe(dir());
    for (const [k, v] of model) expect(h.send('dom0', 'READ', '/d/' + k + '|')).toBe(v);
    const s = snap as { id: number; dir: string; values: Map<string, string> };
    expect(h.send('tx', 'DIRECTORY', '/d|', s.id)).toBe(s.dir);
    for (const [k, v] of s.values) expect(h.send('tx', 'READ', '/d/' + k + '|', s.id)).toBe(v);
    // It read /d, which changed since: the commit must fail; a fresh one that writes a sibling succeeds.
    expect(h.send('tx', 'TRANSACTION_END', 'T|', s.id)).toBe('E:EAGAIN');
    const id2 = Number(h.send('tx', 'TRANSACTION_START', '|').replace('|', ''));
    expect(h.send('tx', 'WRITE', '/d/extra|x', id2)).toBe('OK|');
    expect(h.send('tx', 'TRANSACTION_END', 'T|', id2)).toBe('OK|');
    model.set('extra', 'x');
    expect(h.send('dom0', 'DIRECTORY', '/d|')).toBe(dir());
    expect(h.check()).toEqual([]);
  });
});
