// REPL commands named after Debian's xenstore-utils, as plain functions over an `xs` client.
import { XsClient, XsError, XsOps } from './client';
import { utf8String } from './bytes';

/** Prints one line of output. */
export type Out = (line: string) => void;
/** A REPL command: arguments as typed, an output sink; returns the exit status (0 = success). */
export type XsCommand = (args: string[], out: Out) => number;

/** Escapes a value like xenstore-ls's sanitise_value: printable ASCII kept, backslash and the rest escaped. */
export function sanitise(v: Uint8Array): string {
  let s = '';
  for (const c of v) {
    if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else if (c === 9) s += '\\t';
    else if (c === 10) s += '\\n';
    else if (c === 13) s += '\\r';
    else s += '\\' + ('00' + c.toString(8)).slice(-3);
  }
  return s;
}

function flags(args: string[], known: string): { opts: Set<string>; rest: string[] } {
  const opts = new Set<string>();
  const rest: string[] = [];
  for (const a of args) {
    if (a.length > 1 && a[0] === '-' && rest.length === 0 && a !== '--') {
      for (const ch of a.substring(1)) {
        if (known.indexOf(ch) < 0) throw new XsError('EINVAL', 'option', '-' + ch);
        opts.add(ch);
      }
    } else rest.push(a);
  }
  return { opts, rest };
}

function usage(out: Out, text: string): number {
  out('usage: ' + text);
  return 2;
}

/** Runs a command body, turning XenStore errors into a message and status 1. */
function guarded(name: string, fn: XsCommand): XsCommand {
  return (args, out) => {
    try {
      return fn(args, out);
    } catch (e) {
      if (e instanceof XsError) {
        out(name + ': ' + e.message);
        return 1;
      }
      throw e;
    }
  };
}

function lsTree(xs: XsOps, path: string, depth: number, full: boolean, perms: boolean, out: Out): void {
  let names: string[];
  try {
    names = xs.list(path);
  } catch (e) {
    // A node vanishing while we recurse is not an error (as in xenstore-ls).
    if (depth > 0 && e instanceof XsError && e.errno === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const p = path.endsWith('/') ? path + name : path + '/' + name;
    let line = full ? p : ' '.repeat(depth) + name;
    try {
      line += ' = "' + sanitise(xs.readBytes(p)) + '"';
    } catch (e) {
      if (!(e instanceof XsError)) throw e;
      line += ':';
    }
    if (perms) line += '  (' + xs.getPerms(p).join(',') + ')';
    out(line);
    lsTree(xs, p, depth + 1, full, perms, out);
  }
}

/** Makes the xenstore-* commands over a client; each returns 0 on success like the real tools. */
export function xenstoreCommands(xs: XsClient): Record<string, XsCommand> {
  const cmds: Record<string, XsCommand> = {
    'xenstore-read': (args, out) => {
      const { opts, rest } = flags(args, 'p');
      if (rest.length === 0) return usage(out, 'xenstore-read [-p] PATH...');
      for (const p of rest) out((opts.has('p') ? p + ': ' : '') + utf8String(xs.readBytes(p)));
      return 0;
    },
    'xenstore-write': (args, out) => {
      if (args.length === 0 || args.length % 2) return usage(out, 'xenstore-write PATH VALUE [PATH VALUE]...');
      const pairs = (t: XsOps): void => {
        for (let i = 0; i < args.length; i += 2) t.write(args[i], args[i + 1]);
      };
      if (args.length > 2) xs.transaction(pairs);
      else pairs(xs);
      return 0;
    },
    'xenstore-rm': (args, out) => {
      const { opts, rest } = flags(args, 't');
      if (rest.length === 0) return usage(out, 'xenstore-rm [-t] PATH...');
      for (const p of rest) {
        xs.rm(p);
        // -t: also remove parents left empty (no value, no children).
        if (opts.has('t')) {
          for (let q = p.substring(0, p.lastIndexOf('/')); q.length > 0; q = q.substring(0, q.lastIndexOf('/'))) {
            if (xs.list(q).length || xs.readBytes(q).length) break;
            xs.rm(q);
          }
        }
      }
      return 0;
    },
    'xenstore-list': (args, out) => {
      const { opts, rest } = flags(args, 'p');
      if (rest.length === 0) return usage(out, 'xenstore-list [-p] PATH...');
      for (const p of rest) for (const n of xs.list(p)) out(opts.has('p') ? (p.endsWith('/') ? p : p + '/') + n : n);
      return 0;
    },
    'xenstore-exists': (args, out) => {
      if (args.length === 0) return usage(out, 'xenstore-exists PATH...');
      for (const p of args) if (!xs.exists(p)) return 1;
      return 0;
    },
    'xenstore-chmod': (args, out) => {
      const { opts, rest } = flags(args, 'r');
      if (rest.length < 2) return usage(out, 'xenstore-chmod [-r] PATH PERM...');
      const [path, ...perms] = rest;
      const apply = (p: string): void => {
        xs.setPerms(p, perms);
        if (opts.has('r')) for (const n of xs.list(p)) apply(p === '/' ? '/' + n : p + '/' + n);
      };
      apply(path);
      return 0;
    },
    'xenstore-ls': (args, out) => {
      const { opts, rest } = flags(args, 'fp');
      if (rest.length > 1) return usage(out, 'xenstore-ls [-f] [-p] [PATH]');
      lsTree(xs, rest[0] || '/', 0, opts.has('f'), opts.has('p'), out);
      return 0;
    },
    'xenstore-watch': (args, out) => {
      // In the REPL a watch keeps printing events until `xenstore-watch -u PATH` (or -n COUNT events).
      let count = -1;
      let remove = false;
      const rest: string[] = [];
      for (let i = 0; i < args.length; i++) {
        if (args[i] === '-n' && i + 1 < args.length) count = Number(args[++i]);
        else if (args[i] === '-u') remove = true;
        else rest.push(args[i]);
      }
      if (rest.length !== 1 || !(count === -1 || (Number.isInteger(count) && count > 0))) return usage(out, 'xenstore-watch [-n COUNT] PATH | xenstore-watch -u PATH');
      const token = 'repl:' + rest[0];
      if (remove) {
        xs.unwatch(rest[0], token);
        return 0;
      }
      let seen = 0;
      xs.watch(rest[0], token, (p) => {
        if (count >= 0 && seen >= count) return;
        out(p);
        if (++seen === count) xs.unwatch(rest[0], token);
      });
      return 0;
    },
  };
  for (const k of Object.keys(cmds)) cmds[k] = guarded(k, cmds[k]);
  return cmds;
}
