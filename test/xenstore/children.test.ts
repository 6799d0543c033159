// The persistent child containers (vector, hash trie, child sets) against plain arrays and Maps, old versions included.
import { describe, expect, test } from '@jest/globals';
import { PVec, PV_EMPTY, pvGet, pvSet } from '../../src/xenstore/pvec';
import { Hamt, hamtForEach, hamtGet, hamtRemove, hamtSet, hamtSize, hashString } from '../../src/xenstore/hamt';
import { Children, NO_CHILDREN, childCount, childForEach, childGet, childList, childNames, withChild, withoutChild } from '../../src/xenstore/children';
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

describe('persistent vector', () => {
  test('random sets (growing and clearing) match an array, and old versions are untouched', () => {
    const r = rng(7);
    let v: PVec<number> = PV_EMPTY;
    const model: (number | undefined)[] = [];
    const history: [PVec<number>, (number | undefined)[]][] = [];
    for (let step = 0; step < 4000; step++) {
      // Mostly small positions, now and then far ones, so the trie grows by several levels.
      const i = r(10) === 0 ? r(70000) : r(300);
      const x = r(4) === 0 ? undefined : step;
      v = pvSet(v, i, x);
      model[i] = x;
      expect(pvGet(v, i)).toBe(x);
      if (step % 199 === 0) history.push([v, model.slice()]);
    }
    for (const [old, want] of history) for (let i = 0; i < want.length; i += 37) expect(pvGet(old, i)).toBe(want[i]);
    expect(pvGet(v, 2 ** 30)).toBeUndefined();
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
      if (step % 500 === 0) expect(hamtSize(t)).toBe(model.size);
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
    let c: Children = NO_CHILDREN;
    const model = new Map<string, XsNode>();
    const versions: [Children, [string, XsNode][]][] = [];
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
      expect(childCount(c)).toBe(model.size);
      expect(childGet(c, name)).toBe(model.get(name));
      if (step % 53 === 0) versions.push([c, Array.from(model.entries())]);
    }
    for (const [v, want] of versions) {
      const got: [string, XsNode][] = [];
      childForEach(v, (n, nm) => got.push([nm, n]));
      expect(got).toEqual(want);
      expect(childNames(v)).toEqual(want.map((e) => e[0]));
      expect(latin1String(childList(v))).toBe(want.map((e) => e[0] + '\0').join(''));
    }
  });

  test('a replaced child keeps its place; a removed and re-added one goes last', () => {
    let c: Children = NO_CHILDREN;
    for (let i = 0; i < 20; i++) c = withChild(c, 'd' + i, node(i));
    const before = childList(c);
    c = withChild(c, 'd5', node(100));
    expect(childList(c)).toBe(before);
    expect(childGet(c, 'd5')).toEqual(node(100));
    c = withChild(withoutChild(c, 'd5'), 'd5', node(101));
    expect(childNames(c).slice(-2)).toEqual(['d19', 'd5']);
    expect(childNames(c).length).toBe(20);
  });

  test('a large set that has built its native name index stays right through replacements, adds and removals', () => {
    let c: Children = NO_CHILDREN;
    const model = new Map<string, XsNode>();
    for (let i = 0; i < 50; i++) {
      const n = node(i);
      c = withChild(c, 'k' + i, n);
      model.set('k' + i, n);
    }
    // Enough lookups on one set of names to build the native index, then replacements that keep it.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 50; i++) expect(childGet(c, 'k' + i)).toBe(model.get('k' + i));
    const before = c;
    const beforeK7 = childGet(c, 'k7');
    for (let i = 0; i < 50; i += 3) {
      const n = node(1000 + i);
      c = withChild(c, 'k' + i, n);
      model.set('k' + i, n);
    }
    expect(childGet(before, 'k7')).toBe(beforeK7);
    expect(childGet(c, 'missing')).toBeUndefined();
    const added = node(5000);
    c = withoutChild(withChild(c, 'new', added), 'k10');
    model.set('new', added);
    model.delete('k10');
    const got: [string, XsNode][] = [];
    childForEach(c, (n, nm) => got.push([nm, n]));
    expect(got).toEqual(Array.from(model.entries()));
    expect(childNames(before).length).toBe(50);
  });
});
