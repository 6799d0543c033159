// Nodes by path for the one root that is being read over and over: a hit costs one hash lookup instead of a
// walk down the tree, touching a few cache lines rather than three or so per level.
//
// Nodes are immutable, so an entry can never be wrong for the root it was made for. The cache serves a single
// root and starts over when another root has been looked up in QUIET times in a row: every change of the store
// makes a new root, so while writes keep coming nothing is cached (and nothing is paid for it), and once reads
// settle on one root (the usual state of a XenStore) they are served from here.
import type { XsNode } from './tree';

/** Lookups a new root must get in a row before the cache switches to it. */
const QUIET = 32;
/** Most entries; the cache starts over when full. */
const MAX_ENTRIES = 4096;
/** Longest path kept (bounds the memory the keys take to MAX_ENTRIES times this). */
const MAX_PATH = 256;

let root: XsNode | null = null;
const nodes = new Map<string, XsNode>();
let candidate: XsNode | null = null;
let streak = 0;

/** The cached node at `path` under `r`, or undefined when not cached (not: absent). */
export function cachedNode(r: XsNode, path: string): XsNode | undefined {
  if (r === root) return nodes.get(path);
  if (r === candidate) {
    if (++streak >= QUIET) {
      nodes.clear();
      root = r;
      candidate = null;
    }
  } else {
    candidate = r;
    streak = 1;
  }
  return undefined;
}

/** Records the node found at `path` under `r` (kept only if `r` is the root the cache serves). */
export function cacheNode(r: XsNode, path: string, n: XsNode): void {
  if (r !== root || path.length > MAX_PATH) return;
  if (nodes.size >= MAX_ENTRIES) nodes.clear();
  nodes.set(path, n);
}
