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

/** collect's filter for a change of a node: watches without a depth limit, or within it (Match.Subtree). */
export const KEEP_SUBTREE = 1;
/** collect's filter for a special event: the exact path, or a positive depth reaching it (Match.Depth). */
export const KEEP_DEPTH = 2;

/** Appends the watches of one trie node that the filter accepts; returns 1 if any, else 0. */
function take(n: TrieNode, levels: number, keep: number, out: Watch[]): number {
  const list = n.list;
  if (list === null) return 0;
  const before = out.length;
  for (let i = 0; i < list.length; i++) {
    const w = list[i];
    if (keep === KEEP_SUBTREE ? w.depth < 0 || levels <= w.depth : levels === 0 || (w.depth > 0 && levels <= w.depth)) out.push(w);
  }
  return out.length > before ? 1 : 0;
}

/** The trie nodes holding watches on a path or its ancestors, and how many levels below each the path is. */
interface Hits {
  readonly nodes: TrieNode[];
  readonly levels: number[];
}

const NO_HITS: Hits = { nodes: [], levels: [] };
/** Most paths whose hits are remembered, and the longest such path (bounding what the memory holds). */
const HITS_MAX = 1024;
const HITS_PATH_MAX = 256;

/** Watches by watched path (absolute, or '@special' with optional "/..." below it). */
export class WatchIndex {
  /** The node of "/". */
  private readonly root = trieNode();
  /** Parent of the '@' special names; holds no watches itself ("/" is not an ancestor of them). */
  private readonly special = trieNode();
  private paths = 0;
  /**
   * Hits of recently changed paths: a node changes again and again (a device's state, a memory target), and
   * then one hash lookup replaces the walk down the trie. Forgotten whenever a watch comes or goes.
   */
  private readonly hits = new Map<string, Hits>();

  /** Number of distinct watched paths. */
  get size(): number {
    return this.paths;
  }

  /** Adds a watch on w.path. */
  add(w: Watch): void {
    if (this.hits.size > 0) this.hits.clear();
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
    if (this.hits.size > 0) this.hits.clear();
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
   * Appends to `out` the watches on `path` and on its ancestors (nearest last) that the filter `keep`
   * (KEEP_SUBTREE or KEEP_DEPTH) accepts, given how far below the watched path `path` is; returns how many
   * trie nodes contributed. `names`, when given, are the path's components (saves cutting them out again).
   */
  collect(path: string, keep: number, out: Watch[], names: readonly string[] | null): number {
    let hits = this.hits.get(path);
    if (hits === undefined) {
      hits = this.walk(path, names);
      if (path.length <= HITS_PATH_MAX) {
        if (this.hits.size >= HITS_MAX) this.hits.clear();
        this.hits.set(path, hits);
      }
    }
    let lists = 0;
    for (let i = 0; i < hits.nodes.length; i++) lists += take(hits.nodes[i], hits.levels[i], keep, out);
    return lists;
  }

  /** Finds the hits of a path by walking the trie down its components, stopping where nobody watches below. */
  private walk(path: string, names: readonly string[] | null): Hits {
    const total = depthOf(path);
    const isSpecial = path.charCodeAt(0) === 64;
    let n: TrieNode = isSpecial ? this.special : this.root;
    let hits: Hits = NO_HITS;
    const note = (node: TrieNode, levels: number): void => {
      if (node.list === null) return;
      if (hits === NO_HITS) hits = { nodes: [], levels: [] };
      hits.nodes.push(node);
      hits.levels.push(levels);
    };
    if (!isSpecial) note(n, total);
    let start = isSpecial ? 0 : 1;
    for (let d = 0; d < total && n.kids !== null; d++) {
      const end = names === null ? path.indexOf('/', start) : 0;
      const name = names !== null ? names[d] : end < 0 ? path.substring(start) : path.substring(start, end);
      const k = n.kids.get(name);
      if (k === undefined) break;
      n = k;
      note(n, total - d - 1);
      start = end + 1;
    }
    return hits;
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
