// The persistent child containers (B+tree, hash trie, child sets) against a plain Map, old versions included.
import { describe, expect, test } from '@jest/globals';
import { BTree, btCheck, btForEach, btGet, btRemove, btSet } from '../../src/xenstore/btree';
import { Hamt, hamtForEach, hamtGet, hamtRemove, hamtSet, hashString } from '../../src/xenstore/hamt';
import { ChildMap, NO_CHILDREN, childList, childNames, withChild, withoutChild } from '../../src/xenstore/children';
import { XsNode, leaf } from '../../src/xenstore/tree';
import { latin1String } from '../../src/xenstore/bytes';

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

describe('persistent B+tree', () => {
  test('random inserts and removals match a sorted map, keep invariants, and leave old roots intact', () => {
    const r = rng(7);
    let t: BTree<number, string> = null;
    const model = new Map<number, string>();
    const history: [BTree<number, string>, [number, string][]][] = [];
    for (let step = 0; step < 6000; step++) {
      const k = r(700);
      if (r(3) === 0) {
        t = btRemove(t, k);
        model.delete(k);
      } else {
        t = btSet(t, k, 'v' + step);
        model.set(k, 'v' + step);
      }
      if (step % 97 === 0) {
        expect(btCheck(t)).toBe('');
        history.push([t, Array.from(model.entries()).sort((a, b) => a[0] - b[0])]);
      }
      expect(btGet(t, k)).toBe(model.get(k));
    }
    for (const [root, want] of history) {
      const got: [number, string][] = [];
      btForEach(root, (v, k) => got.push([k, v]));
      expect(got).toEqual(want);
    }
    // Empty it completely.
    for (const k of Array.from(model.keys())) t = btRemove(t, k);
    expect(t).toBeNull();
  });

  test('string keys and sequential appends (the child-order use)', () => {
    let t: BTree<string, number> = null;
    for (let i = 0; i < 300; i++) t = btSet(t, 'k' + String(i).padStart(4, '0'), i);
    expect(btCheck(t)).toBe('');
    for (let i = 0; i < 300; i += 2) t = btRemove(t, 'k' + String(i).padStart(4, '0'));
    expect(btCheck(t)).toBe('');
    const vals: number[] = [];
    btForEach(t, (v) => vals.push(v));
    expect(vals).toEqual(Array.from({ length: 150 }, (_x, i) => 2 * i + 1));
    expect(btGet(t, 'k0001')).toBe(1);
    expect(btGet(t, 'k0002')).toBeUndefined();
  });
});

describe('persistent hash trie', () => {
  test('random operations match a Map and old roots are untouched', () => {
    const r = rng(11);
    let t: Hamt<number> = null;
    const model = new Map<string, number>();
    const history: [Hamt<number>, Map<string, number>][] = [];
    for (let step = 0; step < 8000; step++) {
      const k = 'n' + r(1500);
      if (r(3) === 0) {
        t = hamtRemove(t, k);
        model.delete(k);
      } else {
        t = hamtSet(t, k, step);
        model.set(k, step);
      }
      expect(hamtGet(t, k)).toBe(model.get(k));
      if (step % 211 === 0) history.push([t, new Map(model)]);
    }
    for (const [root, want] of history) {
      const got = new Map<string, number>();
      hamtForEach(root, (v, k) => got.set(k, v));
      expect(got).toEqual(want);
    }
    for (const k of Array.from(model.keys())) t = hamtRemove(t, k);
    expect(t).toBeNull();
  });

  test('keys whose 32-bit hashes collide share a bucket and stay distinct', () => {
    // Two names found by a brute-force search for equal hashes.
    const a = 'x496069';
    const b = 'x1035124';
    expect(hashString(a)).toBe(hashString(b));
    let t: Hamt<string> = hamtSet(hamtSet(hamtSet(null, a, 'A'), 'other', 'O'), b, 'B');
    expect([hamtGet(t, a), hamtGet(t, b), hamtGet(t, 'other')]).toEqual(['A', 'B', 'O']);
    t = hamtSet(t, b, 'B2');
    expect(hamtGet(t, b)).toBe('B2');
    t = hamtRemove(t, a);
    expect([hamtGet(t, a), hamtGet(t, b)]).toEqual([undefined, 'B2']);
    t = hamtRemove(hamtRemove(t, b), 'other');
    expect(t).toBeNull();
  });

  test('setting an existing key to the same value returns the same trie', () => {
    const t = hamtSet(hamtSet(null, 'a', 1), 'b', 2);
    expect(hamtSet(t, 'a', 1)).toBe(t);
    expect(hamtRemove(t, 'zz')).toBe(t);
  });
});

describe('child sets', () => {
  const node = (g: number): XsNode => leaf([{ id: 0, access: 0 }], g);

  test('keeps creation order through growth past the array form, replacement, removal and shrinking', () => {
    const r = rng(3);
    let c: ChildMap = NO_CHILDREN;
    const model = new Map<string, XsNode>();
    const versions: [ChildMap, [string, XsNode][]][] = [];
    for (let step = 0; step < 5000; step++) {
      // Sizes wander between 0 and ~40, crossing the array/trie boundary often.
      const name = 'c' + r(40);
      if (r(2) === 0) {
        c = withoutChild(c, name);
        model.delete(name);
      } else {
        const n = node(step);
        c = withChild(c, name, n);
        model.set(name, n);
      }
      expect(c.size).toBe(model.size);
      expect(c.get(name)).toBe(model.get(name));
      if (step % 53 === 0) versions.push([c, Array.from(model.entries())]);
    }
    for (const [v, want] of versions) {
      const got: [string, XsNode][] = [];
      v.forEach((n, nm) => got.push([nm, n]));
      expect(got).toEqual(want);
      expect(childNames(v)).toEqual(want.map((e) => e[0]));
      expect(latin1String(childList(v))).toBe(want.map((e) => e[0] + '\0').join(''));
    }
  });

  test('a replaced child keeps its place; a removed and re-added one goes last', () => {
    let c: ChildMap = NO_CHILDREN;
    for (let i = 0; i < 20; i++) c = withChild(c, 'd' + i, node(i));
    const before = childList(c);
    c = withChild(c, 'd5', node(100));
    expect(childList(c)).toBe(before);
    expect(c.get('d5')).toEqual(node(100));
    c = withChild(withoutChild(c, 'd5'), 'd5', node(101));
    expect(childNames(c).slice(-2)).toEqual(['d19', 'd5']);
    expect(childNames(c).length).toBe(20);
  });
});
