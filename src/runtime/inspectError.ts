// Formatting of Error objects for util.inspect, for V8-style and QuickJS-style stack strings.

/** QuickJS stacks hold frames only and can run to thousands of lines; V8 keeps 10 by default. */
export const STACK_FRAME_LIMIT = 10;

function safeString(get: () => unknown, fallback: string): string {
  try {
    const v = get();
    return v == null ? fallback : String(v);
  } catch {
    return fallback;
  }
}

/** Error.prototype.toString semantics without trusting the object: "Name: message". */
export function errorHeader(err: Error): string {
  const name = safeString(() => err.name, 'Error');
  const message = safeString(() => err.message, '');
  if (!name) return message;
  return message ? `${name}: ${message}` : name;
}

/**
 * The error's stack as V8 prints it: header line then frames. QuickJS stacks (frames only) get
 * the header prepended and are cut to STACK_FRAME_LIMIT frames.
 */
export function stackString(err: Error): string {
  const raw = safeString(() => err.stack, '');
  if (raw === '') return errorHeader(err);
  if (!/^\s+at /.test(raw)) return raw;
  const frames = raw.replace(/\s+$/, '').split('\n');
  let kept = frames.slice(0, STACK_FRAME_LIMIT);
  if (frames.length > STACK_FRAME_LIMIT) {
    kept = kept.concat(`    ... ${frames.length - STACK_FRAME_LIMIT} more frames`);
  }
  return `${errorHeader(err)}\n${kept.join('\n')}`;
}

/** Node's getPrefix, needed here to name errors whose constructor differs from their name. */
export type PrefixFn = (constructor: string | null, tag: string, fallback: string) => string;

/** Puts the constructor name in front of the stack when it differs from err.name (Node's improveStack). */
export function improveStack(stack: string, constructor: string | null, name: string, tag: string, getPrefix: PrefixFn): string {
  let len = name.length;
  const looksNormal =
    name.endsWith('Error') && stack.startsWith(name) && (stack.length === len || stack[len] === ':' || stack[len] === '\n');
  if (constructor !== null && !looksNormal) return stack;
  let fallback = 'Error';
  if (constructor === null) {
    const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n {4}at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
    fallback = (start && start[1]) || '';
    len = fallback.length;
    fallback = fallback || 'Error';
  }
  const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
  if (name === prefix) return stack;
  if (prefix.indexOf(name) !== -1) {
    return len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
  }
  return `${prefix} [${name}]${stack.slice(len)}`;
}

/** Drops name/message/stack from the listed keys when the stack already shows them. */
export function removeDuplicateErrorKeys(keys: (string | symbol)[], err: Error, stack: string): void {
  for (const name of ['name', 'message', 'stack']) {
    const index = keys.indexOf(name);
    if (index === -1) continue;
    const v = (err as unknown as Record<string, unknown>)[name];
    if (typeof v === 'string' ? stack.indexOf(v) !== -1 : stack.indexOf(String(v)) !== -1) keys.splice(index, 1);
  }
}

/** The error as Node's inspect shows it: the stack, or "[Name: message]" when there are no frames. */
export function formatErrorBase(
  err: Error,
  constructor: string | null,
  tag: string,
  keys: (string | symbol)[],
  indentation: number,
  showHidden: boolean,
  getPrefix: PrefixFn,
): string {
  const name = safeString(() => err.name, 'Error');
  let stack = stackString(err);
  if (!showHidden && keys.length !== 0) removeDuplicateErrorKeys(keys, err, stack);
  if ('cause' in err && keys.indexOf('cause') === -1) keys.push('cause');
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && keys.indexOf('errors') === -1) keys.push('errors');
  stack = improveStack(stack, constructor, name, tag, getPrefix);
  const message = safeString(() => err.message, '');
  let pos = (message && stack.indexOf(message)) || -1;
  if (pos !== -1) pos += message.length;
  if (stack.indexOf('\n    at', pos) === -1) stack = `[${stack}]`;
  if (indentation !== 0) stack = stack.split('\n').join(`\n${' '.repeat(indentation)}`);
  return stack;
}
