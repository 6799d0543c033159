// Naming for util.inspect: the "Foo [tag] " prefixes and the [Function: f] / [class X] bases.
import * as types from './inspectTypes';

const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Node's prefix before the braces: "Foo ", "Map(2) ", "[Object: null prototype] ", with [tag]. */
export function getPrefix(constructor: string | null, tag: string, fallback: string, size = ''): string {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

/** The prefix for objects without a dedicated format; null-prototype objects name their engine class. */
export function getCtxStyle(value: object, constructor: string | null, tag: string): string {
  let fallback = '';
  if (constructor === null) {
    fallback = types.internalClassName(value);
    if (fallback === tag) fallback = 'Object';
  }
  return getPrefix(constructor, tag, fallback);
}

function getClassBase(value: Function, constructor: string | null, tag: string): string {
  const name = (hasOwn(value, 'name') && value.name) || '(anonymous)';
  let base = `class ${name}`;
  if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  if (constructor !== null) {
    const superName = (Object.getPrototypeOf(value) as { name?: unknown }).name;
    if (superName) base += ` extends ${superName}`;
  } else {
    base += ' extends [null prototype]';
  }
  return `[${base}]`;
}

function looksLikeClass(fn: Function): boolean {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return false;
  }
  if (!source.startsWith('class') || !source.endsWith('}')) return false;
  const slice = source.slice(5, -1);
  const brace = slice.indexOf('{');
  if (brace === -1) return false;
  if (slice.slice(0, brace).indexOf('(') === -1) return true;
  const stripped = slice.replace(/(\/\/.*?\n)|(\/\*(.|\n)*?\*\/)/g, '');
  return /^(\s+[^(]*?)\s*{/.test(stripped);
}

/** "[Function: f]", "[AsyncFunction: g]" or "[class X extends Y]", with prototype and tag notes. */
export function getFunctionBase(value: Function, constructor: string | null, tag: string): string {
  if (looksLikeClass(value)) return getClassBase(value, constructor, tag);
  const type = types.functionType(value);
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  base += value.name === '' ? ' (anonymous)' : `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

