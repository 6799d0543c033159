// XenStore path rules: valid characters, relative paths, length limits, parents and components.
import { ABS_PATH_MAX } from './wire';

const VALID = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL = '/local/domain/';

/**
 * Length of a "/local/domain/<id>/" prefix, 0 when there is none: xenstored measures path-max after it. Its
 * sscanf("%5u/") takes at most five characters for the id, a leading '-' among them.
 */
function localPrefixLength(name: string): number {
  if (name.lastIndexOf(LOCAL, 0) !== 0) return 0;
  const at = LOCAL.length;
  const neg = name.charCodeAt(at) === 45 ? 1 : 0;
  let i = at + neg;
  while (i < name.length && i - at < 5) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i > at + neg && name.charCodeAt(i) === 47 ? i + 1 : 0;
}

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
    if (name.length - localPrefixLength(name) >= pathMax) return undefined;
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
