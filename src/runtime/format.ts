// util.format: printf-like formatting with %s %d %i %f %j %o %O %c %%, as in Node.
import { inspect, formatNumber, InspectOptions } from './inspect';

/** Names of global constructors whose toString counts as built-in for %s. */
const BUILT_IN_NAMES = new Set([
  'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'Date', 'Promise', 'RegExp',
  'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
  'AggregateError', 'InternalError', 'ArrayBuffer', 'DataView', 'Map', 'Set', 'WeakMap', 'WeakSet',
  'BigInt', 'Proxy', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]);

/** True unless the object (or a non-built-in prototype) supplies its own toString/toPrimitive. */
function hasBuiltInToString(value: object): boolean {
  const obj = value as Record<PropertyKey, unknown>;
  const own = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);
  let checkToString = true;
  let checkToPrimitive = true;
  if (typeof obj.toString !== 'function') {
    if (typeof obj[Symbol.toPrimitive] !== 'function') return true;
    if (own(obj, Symbol.toPrimitive)) return false;
    checkToString = false;
  } else if (own(obj, 'toString')) {
    return false;
  } else if (typeof obj[Symbol.toPrimitive] !== 'function') {
    checkToPrimitive = false;
  } else if (own(obj, Symbol.toPrimitive)) {
    return false;
  }
  let pointer: object | null = value;
  do {
    pointer = Object.getPrototypeOf(pointer) as object | null;
    if (pointer === null) return true;
  } while (!(checkToString && own(pointer, 'toString')) && !(checkToPrimitive && own(pointer, Symbol.toPrimitive)));
  const desc = Object.getOwnPropertyDescriptor(pointer, 'constructor');
  return desc !== undefined && typeof desc.value === 'function' && BUILT_IN_NAMES.has(desc.value.name);
}

function stringify(value: unknown): string {
  try {
    return String(JSON.stringify(value));
  } catch (err) {
    // Circular structures print as Node prints them; other errors (BigInt, throwing toJSON) propagate.
    if (err instanceof TypeError && /circular/i.test(err.message)) return '[Circular]';
    throw err;
  }
}

function formatBigInt(n: bigint): string {
  return `${n}n`;
}

function placeholder(code: number, arg: unknown, options: InspectOptions): string | undefined {
  switch (code) {
    case 115: // %s
      if (typeof arg === 'number') return formatNumber(arg);
      if (typeof arg === 'bigint') return formatBigInt(arg);
      if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) return String(arg);
      return inspect(arg, { ...options, depth: 0, compact: 3 });
    case 106: // %j
      return stringify(arg);
    case 100: // %d
      if (typeof arg === 'bigint') return formatBigInt(arg);
      return typeof arg === 'symbol' ? 'NaN' : formatNumber(Number(arg));
    case 79: // %O
      return inspect(arg, options);
    case 111: // %o
      return inspect(arg, { ...options, showHidden: true, depth: 4 });
    case 105: // %i
      if (typeof arg === 'bigint') return formatBigInt(arg);
      return typeof arg === 'symbol' ? 'NaN' : formatNumber(parseInt(arg as string));
    case 102: // %f
      return typeof arg === 'symbol' ? 'NaN' : formatNumber(parseFloat(arg as string));
    case 99: // %c: CSS, meaningless on a serial console
      return '';
    default:
      return undefined;
  }
}

/** Formats arguments like Node's util.formatWithOptions. */
export function formatWithOptions(options: InspectOptions, ...args: unknown[]): string {
  const first = args[0];
  let a = 0;
  let str = '';
  let join = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const next = first.charCodeAt(++i);
      if (a + 1 !== args.length) {
        if (next === 37) {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
          continue;
        }
        const text = placeholder(next, args[a + 1], options);
        if (text === undefined) continue;
        a++;
        if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
        str += text;
        lastPos = i + 1;
      } else if (next === 37) {
        str += first.slice(lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = ' ';
      if (lastPos < first.length) str += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    str += join + (typeof value !== 'string' ? inspect(value, options) : value);
    join = ' ';
    a++;
  }
  return str;
}

/** Formats arguments like Node's util.format. */
export function format(...args: unknown[]): string {
  return formatWithOptions({}, ...args);
}
