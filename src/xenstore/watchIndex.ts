// The watch index: a trie of path components, so matching a change walks only the changed path's own
// ancestors (stopping where no watch lies below) and never looks at watches registered anywhere else.
import type { Watch } from './state';

interface TrieNode {
  /** Child components, created on demand. */
  kids: Map<string, TrieNode> | null;
  /** Watches on exactly this path, in registration order; null when none. */
  list: Watch[] | null;
}

function trieNode(): TrieNode {
  return { kids: null, list: null };
}

/** Number of components of a canonical path ("/" has none; "@name/x" has two). */
function depthOf(path: string): number {
  if (path === '/') return 0;
  let n = path.charCodeAt(0) === 64 ? 1 : 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

/** Appends the watches of one trie node that `keep` accepts; returns 1 if any, else 0. */
function take(n: TrieNode, levels: number, keep: (w: Watch, levels: number) => boolean, out: Watch[]): number {
  const list = n.list;
  if (list === null) return 0;
  const before = out.length;
  for (let i = 0; i < list.length; i++) if (keep(list[i], levels)) out.push(list[i]);
  return out.length > before ? 1 : 0;
}

/** Watches by watched path (absolute, or '@special' with optional "/..." below it). */
export class WatchIndex {
  /** The node of "/". */
  private readonly root = trieNode();
  /** Parent of the '@' special names; holds no watches itself ("/" is not an ancestor of them). */
  private readonly special = trieNode();
  private paths = 0;

  /** Number of distinct watched paths. */
  get size(): number {
    return this.paths;
  }

  /** Adds a watch on w.path. */
  add(w: Watch): void {
    let n = this.top(w.path);
    this.components(w.path, (name) => {
      if (n.kids === null) n.kids = new Map();
      let k = n.kids.get(name);
      if (k === undefined) {
        k = trieNode();
        n.kids.set(name, k);
      }
      n = k;
      return true;
    });
    if (n.list === null) {
      n.list = [];
      this.paths++;
    }
    n.list.push(w);
  }

  /** Removes a watch (nothing happens if it is not registered), pruning trie nodes left empty. */
  remove(w: Watch): void {
    const chain: TrieNode[] = [this.top(w.path)];
    const names: string[] = [];
    this.components(w.path, (name) => {
      const cur = chain[chain.length - 1];
      const k = cur.kids === null ? undefined : cur.kids.get(name);
      if (k === undefined) return false;
      chain.push(k);
      names.push(name);
      return true;
    });
    if (chain.length !== names.length + 1 || names.length !== depthOf(w.path)) return;
    const n = chain[chain.length - 1];
    const i = n.list === null ? -1 : n.list.indexOf(w);
    if (i < 0) return;
    (n.list as Watch[]).splice(i, 1);
    if ((n.list as Watch[]).length === 0) {
      n.list = null;
      this.paths--;
    }
    for (let d = chain.length - 1; d > 0; d--) {
      const c = chain[d];
      if (c.list !== null || (c.kids !== null && c.kids.size > 0)) break;
      const parent = chain[d - 1];
      (parent.kids as Map<string, TrieNode>).delete(names[d - 1]);
      if ((parent.kids as Map<string, TrieNode>).size === 0) parent.kids = null;
    }
  }

  /** The watches on exactly `path`. */
  exact(path: string): readonly Watch[] | null {
    let n: TrieNode = this.top(path);
    let start = path.charCodeAt(0) === 64 ? 0 : 1;
    while (start < path.length) {
      const end = path.indexOf('/', start);
      const k = n.kids === null ? undefined : n.kids.get(end < 0 ? path.substring(start) : path.substring(start, end));
      if (k === undefined) return null;
      n = k;
      if (end < 0) break;
      start = end + 1;
    }
    return n.list;
  }

  /**
   * Appends to `out` the watches on `path` and on its ancestors (nearest last) for which `keep(w, levels)`
   * holds, `levels` being how far below the watched path `path` is; returns how many trie nodes contributed.
   */
  collect(path: string, keep: (w: Watch, levels: number) => boolean, out: Watch[]): number {
    const total = depthOf(path);
    const isSpecial = path.charCodeAt(0) === 64;
    let n: TrieNode = isSpecial ? this.special : this.root;
    let lists = isSpecial ? 0 : take(n, total, keep, out);
    let d = 0;
    let start = isSpecial ? 0 : 1;
    while (start < path.length && n.kids !== null) {
      const end = path.indexOf('/', start);
      const k = n.kids.get(end < 0 ? path.substring(start) : path.substring(start, end));
      if (k === undefined) break;
      n = k;
      d++;
      lists += take(n, total - d, keep, out);
      if (end < 0) break;
      start = end + 1;
    }
    return lists;
  }

  /** Calls `f` with each watched path's watches. */
  forEach(f: (list: Watch[], path: string) => void): void {
    const visit = (n: TrieNode, path: string): void => {
      if (n.list !== null) f(n.list, path);
      if (n.kids !== null) n.kids.forEach((k, name) => visit(k, path === '/' ? '/' + name : path === '' ? name : path + '/' + name));
    };
    visit(this.root, '/');
    visit(this.special, '');
  }

  private top(path: string): TrieNode {
    return path.charCodeAt(0) === 64 ? this.special : this.root;
  }

  /** Calls `f` with each component of `path` in order until it returns false. */
  private components(path: string, f: (name: string) => boolean): void {
    if (path === '/') return;
    let start = path.charCodeAt(0) === 64 ? 0 : 1;
    for (;;) {
      const end = path.indexOf('/', start);
      if (!f(end < 0 ? path.substring(start) : path.substring(start, end)) || end < 0) return;
      start = end + 1;
    }
  }
}
