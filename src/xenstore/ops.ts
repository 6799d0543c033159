// The node operations (READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS) as xenstored does them.
import { View, getNode, putNode, putValueInTx, nodeCount, addNodes, mayChangeInPlace } from './view';
import { XsNode, leaf, nodeSize, withFields, nodeEpoch, setValueInPlace } from './tree';
import { NO_CHILDREN, withChild, childList, childForEach } from './children';
import { canonicalize, parentPath, baseName, childPath } from './path';
import { PERM_READ, PERM_WRITE, PERM_OWNER, Perm, accessFor, parsePerms, permToString } from './perms';
import { latin1Bytes, latin1String, nulJoin, nulStrings, countNuls, atoi } from './bytes';
import { exceeds } from './quota';
import { fireWatches, Match } from './watches';
import { fail, XsFail } from './fail';

const EMPTY = new Uint8Array(0);

/** The single argument of a payload that must be exactly "arg\0" (xenstored's onearg); fails with EINVAL otherwise. */
export function oneArg(p: Uint8Array): string {
  const n = p.length;
  if (n === 0 || p[n - 1] !== 0 || p.indexOf(0) !== n - 1) fail('EINVAL');
  return latin1String(p, 0, n - 1);
}

/** Canonicalizes a request path for the caller, failing with EINVAL like xenstored. */
export function canon(v: View, path: string, allowSpecial: boolean): string {
  const c = v.caller;
  const max = c.privileged ? 0 : v.store.quota(c.domid, 'path-max');
  const name = canonicalize(path, c.implicit, allowSpecial, max);
  if (name === undefined) fail('EINVAL');
  return name;
}

/**
 * Gets a node the caller holds `perm` on. Failing, it answers like xenstored's errno_from_parents: the real
 * error (ENOENT, EACCES) only if the nearest existing ancestor grants some of `perm`, else EACCES.
 */
export function getChecked(v: View, path: string, perm: number): XsNode {
  const n = getNode(v, path);
  if (n && (accessFor(v.caller, n.perms) & perm) === perm) return n;
  const err = n ? 'EACCES' : 'ENOENT';
  let p = path;
  let anc: XsNode | undefined;
  do {
    p = parentPath(p);
    anc = getNode(v, p);
  } while (!anc && p !== '/');
  return fail(anc && accessFor(v.caller, anc.perms) & perm ? err : 'EACCES');
}

function isEnoent(e: unknown): boolean {
  return e instanceof XsFail && e.errno === 'ENOENT';
}

function checkSize(v: View, size: number): void {
  if (v.caller.privileged) return;
  v.store.noteMax(v.caller.domid, 'node-size', size);
  if (exceeds(size, v.store.quota(v.caller.domid, 'node-size'))) fail('ENOSPC');
}

function fire(v: View, path: string, node: XsNode | undefined, match: Match, old?: readonly Perm[]): void {
  if (v.events) fireWatches(v.store, v.events, v.snap, path, node, match, old);
}

/** READ: the node's value. */
export function opRead(v: View, payload: Uint8Array): Uint8Array {
  return getChecked(v, canon(v, oneArg(payload), false), PERM_READ).value;
}

/** DIRECTORY: the children's names, each followed by a NUL. */
export function opDirectory(v: View, payload: Uint8Array): Uint8Array {
  const n = getChecked(v, canon(v, oneArg(payload), false), PERM_READ);
  return childList(n.children);
}

/** DIRECTORY_PART "path\0offset\0": "<generation>\0" then the child list from byte `offset`, a final empty name marking its end. */
export function opDirectoryPart(v: View, payload: Uint8Array, max: number): Uint8Array {
  if (countNuls(payload) !== 2) fail('EINVAL');
  const args = nulStrings(payload);
  const n = getChecked(v, canon(v, args[0], false), PERM_READ);
  const off = atoi(args[1]);
  const list = childList(n.children);
  const gen = String(n.generation) + '\0';
  if (off < 0 || off >= list.length) return latin1Bytes(gen + '\0');
  // Whole names only, as long as they fit (xenstored's loop: len + strlen(child) < maxlen).
  const maxLen = max - gen.length - 1;
  let len = 0;
  let c = off;
  for (;;) {
    let end = c;
    while (list[end] !== 0) end++;
    const clen = end - c;
    if (len + clen >= maxLen) break;
    len += clen + 1;
    c = end + 1;
    if (off + len === list.length) break;
  }
  const last = off + len === list.length;
  const out = new Uint8Array(gen.length + len + (last ? 1 : 0));
  out.set(latin1Bytes(gen), 0);
  out.set(list.subarray(off, off + len), gen.length);
  return out;
}

/** GET_PERMS: the permission strings, special '@' nodes included. */
export function opGetPerms(v: View, payload: Uint8Array): Uint8Array {
  const n = getChecked(v, canon(v, oneArg(payload), true), PERM_READ);
  return nulJoin(n.perms.map(permToString));
}

/** Creates a node and any missing parents, which inherit the nearest existing ancestor's permissions. */
function createNode(v: View, path: string, value: Uint8Array): XsNode {
  const c = v.caller;
  const missing = [path];
  let p = parentPath(path);
  let anc = getNode(v, p);
  while (!anc) {
    missing.push(p);
    p = parentPath(p);
    anc = getNode(v, p);
  }
  // Unprivileged domains own what they create.
  const perms: Perm[] = anc.perms.slice();
  if (!c.privileged) perms[0] = { id: c.domid, access: perms[0].access };
  const owner = perms[0].id;
  if (!c.privileged) {
    const limit = v.store.quota(c.domid, 'nodes');
    const total = nodeCount(v, c.domid) + missing.length;
    v.store.noteMax(c.domid, 'nodes', total);
    for (let k = 1; k <= missing.length; k++) if (exceeds(nodeCount(v, c.domid) + k, limit)) fail('ENOSPC');
  }
  const top = baseName(missing[missing.length - 1]);
  checkSize(v, nodeSize(anc) + top.length + 1);
  const created = leaf(perms, v.store.nextGen(), value);
  checkSize(v, nodeSize(created));
  let node = created;
  for (let i = 0; i < missing.length - 1; i++) {
    const name = baseName(missing[i]);
    node = { value: EMPTY, perms, children: withChild(NO_CHILDREN, name, node), childLen: name.length + 1, generation: v.store.nextGen(), epoch: nodeEpoch() };
    checkSize(v, nodeSize(node));
  }
  putNode(v, missing[missing.length - 1], node, v.store.nextGen());
  addNodes(v, owner, missing.length);
  return created;
}

/** WRITE "path\0value": sets a value, creating the node and its missing parents. */
export function opWrite(v: View, payload: Uint8Array): Uint8Array {
  const nul = payload.indexOf(0);
  if (nul < 0) fail('EINVAL');
  const path = latin1String(payload, 0, nul);
  const value = payload.subarray(nul + 1);
  const name = canon(v, path, false);
  let node: XsNode;
  try {
    const old = getChecked(v, name, PERM_WRITE);
    const generation = v.store.nextGen();
    checkSize(v, nodeSize({ value, perms: old.perms, childLen: old.childLen }));
    if (mayChangeInPlace(v, old)) {
      // Nothing below can fail, and no snapshot holds this node: change it where it is.
      setValueInPlace(old, value, generation);
      node = old;
    } else {
      node = withFields(old, { value, generation });
      // Inside a transaction the new value is laid over its snapshot (nothing below can fail either).
      if (v.tx !== null) putValueInTx(v, name, node);
      else putNode(v, name, node, 0);
    }
  } catch (e) {
    if (!isEnoent(e)) throw e;
    node = createNode(v, name, value);
  }
  fire(v, name, node, Match.Subtree);
  return OK;
}

/** MKDIR: creates the node (and parents) with an empty value unless it exists. */
export function opMkdir(v: View, payload: Uint8Array): Uint8Array {
  const name = canon(v, oneArg(payload), false);
  try {
    getChecked(v, name, PERM_WRITE);
    return OK;
  } catch (e) {
    if (!isEnoent(e)) throw e;
  }
  const node = createNode(v, name, EMPTY);
  fire(v, name, node, Match.Subtree);
  return OK;
}

/** RM: deletes a node and its subtree; fine if it is already gone but its parent exists; never the root. */
export function opRm(v: View, payload: Uint8Array): Uint8Array {
  const name = canon(v, oneArg(payload), false);
  let node: XsNode;
  try {
    node = getChecked(v, name, PERM_WRITE);
  } catch (e) {
    if (!isEnoent(e)) throw e;
    if (getNode(v, parentPath(name))) return OK;
    return fail('ENOENT');
  }
  if (name === '/') fail('EINVAL');
  if (!getNode(v, parentPath(name))) fail('EINVAL');
  const before = v.snap;
  // Children before parents, as xenstored's tree walk deletes; the removal's root fires ancestors' watches too.
  const visit = (p: string, n: XsNode): void => {
    childForEach(n.children, (ch, nm) => visit(childPath(p, nm), ch));
    addNodes(v, n.perms[0].id, -1);
    if (v.events) fireWatches(v.store, v.events, before, p, n, p === name ? Match.Subtree : Match.Exact);
  };
  visit(name, node);
  putNode(v, name, undefined, v.store.nextGen());
  return OK;
}

/** SET_PERMS "path\0perm\0...": replaces the permissions; owners and dom0 only, and only dom0 may change the owner. */
export function opSetPerms(v: View, payload: Uint8Array): Uint8Array {
  const c = v.caller;
  const count = countNuls(payload);
  if (count < 2) fail('EINVAL');
  const num = count - 1;
  if (!c.privileged) {
    v.store.noteMax(c.domid, 'node-permissions', num);
    if (exceeds(num, v.store.quota(c.domid, 'node-permissions'))) fail('ENOSPC');
  }
  const args = nulStrings(payload);
  const perms = parsePerms(args.slice(1, 1 + num));
  if (!perms) return fail('EINVAL');
  const name = canon(v, args[0], true);
  const old = getChecked(v, name, PERM_WRITE | PERM_OWNER);
  if (!c.privileged && perms[0].id !== old.perms[0].id) fail('EPERM');
  const node = withFields(old, { perms, generation: v.store.nextGen() });
  checkSize(v, nodeSize(node));
  putNode(v, name, node, 0);
  if (perms[0].id !== old.perms[0].id) {
    addNodes(v, old.perms[0].id, -1);
    addNodes(v, perms[0].id, 1);
  }
  fire(v, name, node, Match.Subtree, old.perms);
  return OK;
}

/** The "OK\0" acknowledgement. */
export const OK = latin1Bytes('OK\0');
