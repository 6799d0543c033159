// The watch trie against a brute-force reading of xenstored's rules (is_child with depth), specials included.
import { describe, expect, test } from '@jest/globals';
import { WatchIndex, KEEP_SUBTREE, KEEP_DEPTH } from '../../src/xenstore/watchIndex';
import { Connection, Watch } from '../../src/xenstore/state';

/** xenstored's is_child with a depth limit, written out plainly as the reference. */
function below(child: string, parent: string): number {
  if (child === parent) return 0;
  if (parent === '/') return child.charCodeAt(0) === 47 ? child.split('/').length - 1 : -1;
  if (!child.startsWith(parent + '/')) return -1;
  return child.substring(parent.length).split('/').length - 1;
}

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

const PATHS = ['/', '/a', '/a/b', '/a/b/c', '/a/x', '/b', '/a/b/c/d', '@releaseDomain', '@releaseDomain/3', '@introduceDomain', '@introduceDomain/3/x'];

describe('watch index', () => {
  test('collect, exact, remove and size agree with brute force over random registrations', () => {
    const r = rng(5);
    const conn = new Connection(1, 0);
    const idx = new WatchIndex();
    let all: Watch[] = [];
    for (let step = 0; step < 3000; step++) {
      if (all.length > 0 && r(3) === 0) {
        const w = all[r(all.length)];
        idx.remove(w);
        all = all.filter((x) => x !== w);
      } else {
        const w: Watch = { conn, path: PATHS[r(PATHS.length)], token: 't' + step, depth: r(4) - 1, prefixLen: 0, seq: step };
        idx.add(w);
        all.push(w);
      }
      const path = PATHS[r(PATHS.length)];
      const subtree: Watch[] = [];
      idx.collect(path, KEEP_SUBTREE, subtree, null);
      const wantSubtree = all.filter((w) => {
        const l = below(path, w.path);
        return l >= 0 && (w.depth < 0 || l <= w.depth);
      });
      expect(subtree.map((w) => w.seq).sort((a, b) => a - b)).toEqual(wantSubtree.map((w) => w.seq));
      // The same walk given the path's components, as watches.ts passes them after a tree lookup.
      const names = path === '/' ? [] : path.charCodeAt(0) === 64 ? path.split('/') : path.substring(1).split('/');
      const byNames: Watch[] = [];
      idx.collect(path, KEEP_SUBTREE, byNames, names);
      expect(byNames).toEqual(subtree);
      const depthOut: Watch[] = [];
      idx.collect(path, KEEP_DEPTH, depthOut, null);
      const wantDepth = all.filter((w) => {
        const l = below(path, w.path);
        return l === 0 || (l > 0 && w.depth > 0 && l <= w.depth);
      });
      expect(depthOut.map((w) => w.seq).sort((a, b) => a - b)).toEqual(wantDepth.map((w) => w.seq));
      expect((idx.exact(path) || []).map((w) => w.seq)).toEqual(all.filter((w) => w.path === path).map((w) => w.seq));
      expect(idx.size).toBe(new Set(all.map((w) => w.path)).size);
    }
    const seen: string[] = [];
    idx.forEach((list, p) => {
      expect(list.every((w) => w.path === p)).toBe(true);
      seen.push(p);
    });
    expect(seen.sort()).toEqual(Array.from(new Set(all.map((w) => w.path))).sort());
    for (const w of all) idx.remove(w);
    expect(idx.size).toBe(0);
  });

  test('matching stops at the first path component nobody watches below', () => {
    const conn = new Connection(1, 0);
    const idx = new WatchIndex();
    for (let i = 0; i < 1000; i++) idx.add({ conn, path: '/local/domain/' + i + '/device', token: 't', depth: -1, prefixLen: 0, seq: i });
    const out: Watch[] = [];
    expect(idx.collect('/local/domain/7/device/vbd/51712/state', KEEP_SUBTREE, out, null)).toBe(1);
    expect(out.map((w) => w.seq)).toEqual([7]);
    expect(idx.collect('/local/domain/7/memory', KEEP_SUBTREE, [], null)).toBe(0);
    // A watch registered twice elsewhere and removed once leaves the other registration in place.
    const w = { conn, path: '/x', token: 'a', depth: -1, prefixLen: 0, seq: 5000 };
    idx.add(w);
    idx.remove({ ...w });
    expect(idx.exact('/x')).toEqual([w]);
  });
});
