// XenStore path rules: valid characters, relative paths, length limits, parents and subtree tests.
import { ABS_PATH_MAX } from './wire';

const VALID = /^[A-Za-z0-9\-/_@]*$/;
// xenstored measures the length of "/local/domain/<id>/..." paths after this prefix (sscanf "%5u/").
const LOCAL_PREFIX = /^\/local\/domain\/(?:-?[0-9]{1,4}|[0-9]{5})\//;

/** Returns the base path that relative paths of domain `domid` hang off. */
export function domainPath(domid: number): string {
  return '/local/domain/' + domid;
}

/**
 * Turns a request path into an absolute one, or undefined when xenstored would answer EINVAL:
 * bad characters, '@' where no special path is allowed, a trailing or doubled slash, or too long.
 * `pathMax` is the caller's path-max quota (0 = none): the part after "/local/domain/<id>/" must be shorter.
 */
export function canonicalize(node: string, implicit: string, allowSpecial: boolean, pathMax: number): string | undefined {
  if (!VALID.test(node)) return undefined;
  const c0 = node.charCodeAt(0);
  if (c0 === 64 /* @ */ && !allowSpecial) return undefined;
  const name = c0 === 47 /* / */ || c0 === 64 ? node : implicit + '/' + node;
  if (name.length > 1 && name.charCodeAt(name.length - 1) === 47) return undefined;
  if (name.indexOf('//') >= 0) return undefined;
  if (name.length > ABS_PATH_MAX) return undefined;
  if (pathMax > 0) {
    const m = LOCAL_PREFIX.exec(name);
    const off = m ? m[0].length : 0;
    if (name.length - off >= pathMax) return undefined;
  }
  return name;
}

/** Returns the parent of an absolute path ("/" for top-level nodes and for special '@' names). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}

/** Returns the last component of an absolute path other than "/". */
export function baseName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

/** Splits an absolute path into its components ("/" has none). */
export function segments(path: string): string[] {
  return path === '/' ? [] : path.substring(1).split('/');
}

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** True when `child` is `parent` or below it, at most `depth` levels down when depth >= 0 (xenstored's is_child). */
export function isChild(child: string, parent: string, depth: number): boolean {
  const len = parent.length;
  if (child.length < len || child.substring(0, len) !== parent) return false;
  if (len > 1 && child.length > len && child.charCodeAt(len) !== 47) return false;
  if (depth < 0 || child.length === len) return true;
  // Count the slashes that start each level below `parent`; "/" itself already supplies one.
  let levels = len === 1 ? 1 : 0;
  for (let i = len; i < child.length; i++) {
    if (child.charCodeAt(i) === 47) levels++;
    if (levels > depth) return false;
  }
  return true;
}

/** Lists `path` and its ancestors up to "/", nearest first; special '@' paths stop at their first component. */
export function selfAndAncestors(path: string): string[] {
  const out = [path];
  if (path.charCodeAt(0) === 64) {
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.substring(0, i));
    return out;
  }
  for (let p = path; p !== '/'; ) {
    p = parentPath(p);
    out.push(p);
  }
  return out;
}
