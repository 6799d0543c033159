// Node permissions: the "r1"/"w2"/"b3"/"n0" strings and xenstored's access rule.

/** Access bits of one permission entry. */
export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
/** Granted to a node's owner (and to privileged callers): may change permissions. */
export const PERM_OWNER = 4;

/** DOMID_ANY: an entry for it applies to every domain. */
export const DOMID_ANY = 0x7ff5;
/** DOMID_SELF: in IS_DOMAIN_INTRODUCED it means the caller. */
export const DOMID_SELF = 0x7ff0;
/** First domid reserved by Xen for special meanings. */
export const DOMID_FIRST_RESERVED = 0x7ff0;

/** One permission entry; the first entry of a list names the owner and the access of everyone unlisted. */
export interface Perm {
  readonly id: number;
  readonly access: number;
}
/** A node's permission list (never empty). */
export type Perms = readonly Perm[];

/** Who is asking: a domain id, whether it is privileged (dom0), and its SET_TARGET target if any. */
export interface Caller {
  readonly domid: number;
  readonly privileged: boolean;
  readonly target?: number;
}

const LETTER: Record<number, string> = { 0: 'n', 1: 'r', 2: 'w', 3: 'b' };

/** Formats one entry as xenstored does ("b0"; the id printed as a signed int). */
export function permToString(p: Perm): string {
  return LETTER[p.access & 3] + (p.id | 0);
}

/** Parses an id like C's strtol(s, &end, 0) with the whole string consumed; undefined otherwise. */
function parseId(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2];
  let n = body.length > 1 && (body[1] === 'x' || body[1] === 'X') ? parseInt(body.substring(2), 16) : body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10);
  if (m[1] === '-') n = -n;
  // The id lands in an unsigned int, so keep the low 32 bits.
  return n >>> 0;
}

/** Parses permission strings ("r1", ...); undefined when any is malformed (xenstored answers EINVAL). */
export function parsePerms(items: readonly string[]): Perm[] | undefined {
  const out: Perm[] = [];
  for (const s of items) {
    let access: number;
    switch (s[0]) {
      case 'r': access = PERM_READ; break;
      case 'w': access = PERM_WRITE; break;
      case 'b': access = PERM_READ | PERM_WRITE; break;
      case 'n': access = PERM_NONE; break;
      default: return undefined;
    }
    const id = parseId(s.substring(1));
    if (id === undefined) return undefined;
    out.push({ id, access });
  }
  return out;
}

function matches(c: Caller, id: number): boolean {
  return id === c.domid || (c.target !== undefined && id === c.target) || id === DOMID_ANY;
}

/** Access bits the caller has on a node with these permissions (xenstored's perm_for_conn). */
export function accessFor(c: Caller, perms: Perms): number {
  if (c.privileged || matches(c, perms[0].id)) return PERM_READ | PERM_WRITE | PERM_OWNER;
  for (let i = 1; i < perms.length; i++) if (matches(c, perms[i].id)) return perms[i].access;
  return perms[0].access;
}

/** True when two permission lists are equal entry by entry. */
export function permsEqual(a: Perms, b: Perms): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id || a[i].access !== b[i].access) return false;
  return true;
}
