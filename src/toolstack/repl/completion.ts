// Tab completion: toolstack commands and their arguments, global names, and property chains (hv.in<Tab>).
import { splitWords } from '../args';
import type { CommandRegistry } from '../registry';
import type { Completion } from './lineEditor';

/** What completion looks at. */
export interface CompletionEnv {
  global: object;
  commands: CommandRegistry;
  isCommandLine(line: string): boolean;
}

const KEYWORDS = (
  'async await break case catch class const continue debugger default delete do else export extends false ' +
  'finally for function if import in instanceof let new null return static super switch this throw true try ' +
  'typeof undefined var void while with yield'
).split(' ');
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function sorted(names: Iterable<string>): string[] {
  return Array.from(new Set(names)).sort();
}

/** Property names along the prototype chain, one sorted group per level, groups separated by ''. */
export function propertyGroups(value: unknown, prefix: string): string[] {
  if (value === null || value === undefined) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (let obj: object | null = Object(value); obj !== null; obj = Object.getPrototypeOf(obj) as object | null) {
    const names = sorted(Object.getOwnPropertyNames(obj).filter((n) => IDENTIFIER.test(n) && !seen.has(n)));
    names.forEach((n) => seen.add(n));
    if (names.length === 0) continue;
    if (out.length) out.push('');
    for (const n of names) out.push(prefix + n);
  }
  return out;
}

function resolvePath(global: object, path: string[]): unknown {
  let value: unknown = global;
  for (const name of path) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

function completeCommandArgs(line: string, env: CompletionEnv): Completion | undefined {
  const m = /^\s*([A-Za-z][\w-]*)(\s+)([\s\S]*)$/.exec(line);
  if (!m) return undefined;
  const cmd = env.commands.get(m[1]);
  // Ask "is this a command?" with the partial last word replaced by a plain one: a half-typed
  // argument such as "in" (for info) would otherwise read as the JavaScript operator.
  const probe = line.replace(/[\w-]*$/, 'x');
  if (!cmd || !env.isCommandLine(probe)) return undefined;
  let args: string[];
  try {
    args = splitWords(m[3]);
  } catch {
    return { candidates: [], token: '' };
  }
  if (/\s$/.test(line) || args.length === 0) args.push('');
  const token = args[args.length - 1];
  return { candidates: sorted(cmd.complete ? cmd.complete(args) : []), token };
}

/** Completes the text before the cursor. */
export function completeLine(line: string, env: CompletionEnv): Completion {
  const commandArgs = completeCommandArgs(line, env);
  if (commandArgs) return commandArgs;
  const first = /^\s*([A-Za-z][\w-]*)$/.exec(line);
  if (first && first[1].indexOf('-') !== -1) {
    return { candidates: sorted(env.commands.list().map((c) => c.name)), token: first[1] };
  }
  const m = /((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/.exec(line);
  if (!m) return { candidates: [], token: '' };
  const before = line[m.index - 1];
  // After '.', ']', ')' or a digit the object is not a plain name chain; do not guess.
  if (before !== undefined && /[\w$.\])'"`]/.test(before)) return { candidates: [], token: '' };
  const chain = m[1];
  const token = chain + (m[2] ?? '');
  if (chain === '') {
    const atLineStart = line.slice(0, m.index).trim() === '';
    const commands = atLineStart ? env.commands.list().map((c) => c.name) : [];
    const globals = propertyGroups(env.global, '').filter((n) => n !== '');
    return { candidates: sorted(globals.concat(KEYWORDS, commands)), token };
  }
  let target: unknown;
  try {
    target = resolvePath(env.global, chain.slice(0, -1).split('.'));
  } catch {
    return { candidates: [], token };
  }
  return { candidates: propertyGroups(target, chain), token };
}
