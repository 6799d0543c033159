// util.inspect for zazen: Node-compatible text for any value, used by console and the REPL.
import { formatKey, quoteString } from './inspectString';
import { reduceToSingleString } from './inspectLayout';
import { formatErrorBase } from './inspectError';
import { promiseState } from './promiseState';
import * as types from './inspectTypes';
import { getCtxStyle, getFunctionBase, getPrefix } from './inspectNames';

/** The options Node's util.inspect accepts that zazen honours. */
export interface InspectOptions {
  depth?: number | null;
  showHidden?: boolean;
  breakLength?: number;
  compact?: number | boolean;
  maxArrayLength?: number | null;
  maxStringLength?: number | null;
  customInspect?: boolean;
  sorted?: boolean | ((a: string, b: string) => number);
}

interface Context {
  depth: number;
  showHidden: boolean;
  breakLength: number;
  compact: number | boolean;
  maxArrayLength: number;
  maxStringLength: number;
  customInspect: boolean;
  sorted: boolean | ((a: string, b: string) => number);
  indentationLvl: number;
  currentDepth: number;
  seen: object[];
  circular?: Map<object, number>;
  budget: Record<number, number>;
  userOptions: InspectOptions;
}

/** Objects with a method under this symbol format themselves, as in Node. */
export const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

const DEFAULTS = { depth: 2, showHidden: false, breakLength: 80, compact: 3, maxArrayLength: 100, maxStringLength: 10000, customInspect: true, sorted: false };
const MIN_LINE_WIDTH = 16;
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;
const hasOwn = (o: object, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);
const remainingText = (n: number): string => `... ${n} more item${n > 1 ? 's' : ''}`;

/** Formats any value as Node's util.inspect does (no colours). */
export function inspect(value: unknown, options: InspectOptions = {}): string {
  const ctx: Context = {
    depth: options.depth === null ? Infinity : options.depth ?? DEFAULTS.depth,
    showHidden: options.showHidden ?? DEFAULTS.showHidden,
    breakLength: options.breakLength ?? DEFAULTS.breakLength,
    compact: options.compact ?? DEFAULTS.compact,
    maxArrayLength: options.maxArrayLength === null ? Infinity : options.maxArrayLength ?? DEFAULTS.maxArrayLength,
    maxStringLength: options.maxStringLength === null ? Infinity : options.maxStringLength ?? DEFAULTS.maxStringLength,
    customInspect: options.customInspect ?? DEFAULTS.customInspect,
    sorted: options.sorted ?? DEFAULTS.sorted,
    indentationLvl: 0,
    currentDepth: 0,
    seen: [],
    budget: {},
    userOptions: options,
  };
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspectSymbol;

/** Formats a number, keeping the sign of -0. */
export function formatNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : `${n}`;
}

function splitAfterNewlines(str: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < str.length; i++) {
    if (str.charCodeAt(i) === 10) {
      pieces.push(str.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < str.length || pieces.length === 0) pieces.push(str.slice(start));
  return pieces;
}

function formatPrimitive(ctx: Context, value: unknown): string {
  if (typeof value === 'string') {
    let trailer = '';
    if (value.length > ctx.maxStringLength) {
      const remaining = value.length - ctx.maxStringLength;
      value = value.slice(0, ctx.maxStringLength);
      trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
    }
    const str = value as string;
    // Long strings in nested positions are split after their newlines, one piece per line.
    if (ctx.compact !== true && str.length > MIN_LINE_WIDTH && str.length > ctx.breakLength - ctx.indentationLvl - 4) {
      return splitAfterNewlines(str).map(quoteString).join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer;
    }
    return quoteString(str) + trailer;
  }
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return String(value);
  return String(value);
}

function formatValue(ctx: Context, value: unknown, recurseTimes: number): string {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(ctx, value);
  if (value === null) return 'null';
  const obj = value as Record<PropertyKey, unknown>;
  if (ctx.customInspect) {
    const custom = obj[customInspectSymbol];
    const ctor = obj.constructor as { prototype?: unknown } | undefined;
    if (typeof custom === 'function' && custom !== inspect && !(ctor && ctor.prototype === obj)) {
      const depth = ctx.depth - recurseTimes;
      const opts = { ...DEFAULTS, ...ctx.userOptions, depth: ctx.depth, stylize: (s: string) => s };
      const ret = custom.call(obj, depth, opts, inspect);
      if (ret !== obj) {
        if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
        return ret.split('\n').join(`\n${' '.repeat(ctx.indentationLvl)}`);
      }
    }
  }
  if (ctx.seen.indexOf(obj) !== -1) {
    if (ctx.circular === undefined) ctx.circular = new Map();
    let index = ctx.circular.get(obj);
    if (index === undefined) {
      index = ctx.circular.size + 1;
      ctx.circular.set(obj, index);
    }
    return `[Circular *${index}]`;
  }
  return formatRaw(ctx, obj, recurseTimes);
}

function isInstance(obj: object, ctor: unknown): boolean {
  try {
    return obj instanceof (ctor as new () => unknown);
  } catch {
    return false;
  }
}

/** The name of the nearest constructor on the prototype chain, null for null-prototype objects. */
function getConstructorName(obj: object, ctx: Context, recurseTimes: number): string | null {
  let firstProto: object | null | undefined;
  let cur: object | null = obj;
  while (cur) {
    const desc = Object.getOwnPropertyDescriptor(cur, 'constructor');
    if (desc !== undefined && typeof desc.value === 'function' && desc.value.name !== '' && isInstance(obj, desc.value)) {
      return String(desc.value.name);
    }
    cur = Object.getPrototypeOf(cur) as object | null;
    if (firstProto === undefined) firstProto = cur;
  }
  if (firstProto === null) return null;
  const res = types.internalClassName(obj);
  if (recurseTimes > ctx.depth) return `${res} <Complex prototype>`;
  const protoName = getConstructorName(firstProto as object, ctx, recurseTimes + 1);
  if (protoName === null) {
    return `${res} <${inspect(firstProto, { ...ctx.userOptions, customInspect: false, depth: -1 })}>`;
  }
  return `${res} <${protoName}>`;
}

function getKeys(value: object, showHidden: boolean): (string | symbol)[] {
  const symbols = Object.getOwnPropertySymbols(value);
  if (showHidden) return (Object.getOwnPropertyNames(value) as (string | symbol)[]).concat(symbols);
  const keys: (string | symbol)[] = Object.keys(value);
  for (const s of symbols) if (Object.prototype.propertyIsEnumerable.call(value, s)) keys.push(s);
  return keys;
}

function isArrayIndex(key: string | symbol): boolean {
  return typeof key === 'string' && ARRAY_INDEX.test(key) && Number(key) < 4294967295;
}

function getNonIndexKeys(value: object, showHidden: boolean): (string | symbol)[] {
  const all = showHidden ? Reflect.ownKeys(value) : getKeys(value, false);
  return all.filter((k) => !isArrayIndex(k));
}

function getBoxedBase(ctx: Context, value: object, type: types.BoxedType, keys: (string | symbol)[], constructor: string | null, tag: string): string {
  // Index keys of a boxed string only repeat its characters.
  if (type === 'String') keys.splice(0, (value as unknown as string).length);
  let base = `[${type}`;
  if (type !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
  base += `: ${formatPrimitive(ctx, types.unbox(value, type))}]`;
  if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
  return base;
}

type Formatter = (ctx: Context, value: any, recurseTimes: number) => string[];
const formatNothing: Formatter = () => [];

function formatArray(ctx: Context, value: unknown[], recurseTimes: number): string[] {
  const len = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
  const output: string[] = [];
  for (let i = 0; i < len; i++) {
    if (!hasOwn(value, i)) return formatSparseArray(ctx, value, recurseTimes, len, output, i);
    output.push(formatProperty(ctx, value, recurseTimes, String(i), true));
  }
  if (value.length > len) output.push(remainingText(value.length - len));
  return output;
}

/** Arrays with holes: runs of missing indices print as "<n empty items>". */
function formatSparseArray(ctx: Context, value: unknown[], recurseTimes: number, maxLength: number, output: string[], i: number): string[] {
  const keys = Object.keys(value);
  let index = i;
  for (; i < keys.length && output.length < maxLength; i++) {
    const key = keys[i];
    const num = +key;
    if (num > 2 ** 32 - 2) break;
    if (`${index}` !== key) {
      if (!ARRAY_INDEX.test(key)) break;
      const empty = num - index;
      output.push(`<${empty} empty item${empty > 1 ? 's' : ''}>`);
      index = num;
      if (output.length === maxLength) break;
    }
    output.push(formatProperty(ctx, value, recurseTimes, key, true));
    index++;
  }
  const remaining = value.length - index;
  if (output.length !== maxLength) {
    if (remaining > 0) output.push(`<${remaining} empty item${remaining > 1 ? 's' : ''}>`);
  } else if (remaining > 0) {
    output.push(remainingText(remaining));
  }
  return output;
}

function formatTypedArray(ctx: Context, value: ArrayLike<number | bigint>, recurseTimes: number): string[] {
  const length = types.typedArrayLength(value as unknown as object);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const output: string[] = [];
  for (let i = 0; i < max; i++) {
    const v = value[i];
    output.push(typeof v === 'number' ? formatNumber(v) : `${v}n`);
  }
  if (length > max) output.push(remainingText(length - max));
  if (ctx.showHidden) {
    const fields = value as unknown as Record<string, unknown>;
    ctx.indentationLvl += 2;
    for (const key of ['BYTES_PER_ELEMENT', 'length', 'byteLength', 'byteOffset']) {
      output.push(`[${key}]: ${formatValue(ctx, fields[key], recurseTimes)}`);
    }
    // Node shows the backing buffer by its size only, not its bytes again.
    const buffer = fields.buffer as ArrayBuffer;
    const bufferName = getConstructorName(buffer, ctx, recurseTimes);
    output.push(`[buffer]: ${getPrefix(bufferName, '', 'ArrayBuffer')}{ byteLength: ${formatNumber(buffer.byteLength)} }`);
    ctx.indentationLvl -= 2;
  }
  return output;
}

function formatArrayBuffer(ctx: Context, value: ArrayBuffer): string[] {
  const bytes = new Uint8Array(value);
  const shown = Math.min(ctx.maxArrayLength, bytes.length);
  const hex: string[] = [];
  for (let i = 0; i < shown; i++) hex.push(bytes[i].toString(16).padStart(2, '0'));
  let str = hex.join(' ');
  const remaining = bytes.length - ctx.maxArrayLength;
  if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
  return [`[Uint8Contents]: <${str}>`];
}

function formatSet(ctx: Context, value: Set<unknown>, recurseTimes: number): string[] {
  const size = types.collectionSize(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output: string[] = [];
  ctx.indentationLvl += 2;
  for (const v of Set.prototype.values.call(value)) {
    if (output.length >= max) break;
    output.push(formatValue(ctx, v, recurseTimes));
  }
  if (size > max) output.push(remainingText(size - max));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx: Context, value: Map<unknown, unknown>, recurseTimes: number): string[] {
  const size = types.collectionSize(value);
  const max = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output: string[] = [];
  ctx.indentationLvl += 2;
  for (const [k, v] of Map.prototype.entries.call(value)) {
    if (output.length >= max) break;
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
  }
  if (size > max) output.push(remainingText(size - max));
  ctx.indentationLvl -= 2;
  return output;
}

/** Promise contents are only known for promises the runtime tracked (see promiseState.ts). */
function formatPromise(ctx: Context, value: Promise<unknown>, recurseTimes: number): string[] {
  const st = promiseState(value);
  if (st === undefined) return ['<unknown>'];
  if (st.state === 'pending') return ['<pending>'];
  ctx.indentationLvl += 2;
  const str = formatValue(ctx, st.state === 'fulfilled' ? st.value : st.reason, recurseTimes);
  ctx.indentationLvl -= 2;
  return [st.state === 'rejected' ? `<rejected> ${str}` : str];
}

function formatProperty(ctx: Context, value: object, recurseTimes: number, key: string | symbol, inArray: boolean): string {
  const desc = Object.getOwnPropertyDescriptor(value, key) || { value: (value as Record<PropertyKey, unknown>)[key], enumerable: true };
  let str: string;
  if (desc.value !== undefined) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, desc.value, recurseTimes);
    ctx.indentationLvl -= 2;
  } else if (desc.get !== undefined) {
    str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  } else if (desc.set !== undefined) {
    str = '[Setter]';
  } else {
    str = 'undefined';
  }
  if (inArray) return str;
  return `${formatKey(key, desc.enumerable !== false)}: ${str}`;
}

function isStackOverflow(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err.name === 'InternalError' && /stack overflow/.test(err.message)) || (err.name === 'RangeError' && /call stack/.test(err.message));
}

interface Shape {
  keys: (string | symbol)[];
  base: string;
  braces: [string, string];
  formatter: Formatter;
  isArrayLike: boolean;
  done?: string;
}

/** Works out braces, base text and entry formatter for iterable built-ins (arrays, maps, ...). */
function iterableShape(ctx: Context, value: any, constructor: string | null, tag: string): Shape | undefined {
  if (Array.isArray(value)) {
    const prefix = constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
    const keys = getNonIndexKeys(value, ctx.showHidden);
    const shape: Shape = { keys, base: '', braces: [`${prefix}[`, ']'], formatter: formatArray, isArrayLike: true };
    if (value.length === 0 && keys.length === 0) shape.done = `${prefix}[]`;
    return shape;
  }
  if (types.isSet(value) || types.isMap(value)) {
    const isSet = types.isSet(value);
    const size = types.collectionSize(value);
    const prefix = getPrefix(constructor, tag, isSet ? 'Set' : 'Map', `(${size})`);
    const keys = getKeys(value, ctx.showHidden);
    const formatter = (isSet ? formatSet : formatMap) as Formatter;
    const shape: Shape = { keys, base: '', braces: [`${prefix}{`, '}'], formatter, isArrayLike: false };
    if (size === 0 && keys.length === 0) shape.done = `${prefix}{}`;
    return shape;
  }
  const typedName = types.typedArrayName(value);
  if (typedName !== undefined) {
    const keys = getNonIndexKeys(value, ctx.showHidden);
    const length = types.typedArrayLength(value);
    const prefix = getPrefix(constructor, tag, constructor === null ? typedName : '', `(${length})`);
    const shape: Shape = { keys, base: '', braces: [`${prefix}[`, ']'], formatter: formatTypedArray as Formatter, isArrayLike: true };
    if (length === 0 && keys.length === 0 && !ctx.showHidden) shape.done = `${prefix}[]`;
    return shape;
  }
  return undefined;
}

/** Works out the shape of every other object: plain, function, RegExp, Date, Error, buffers, ... */
function plainShape(ctx: Context, value: any, constructor: string | null, tag: string, recurseTimes: number): Shape {
  const keys = getKeys(value, ctx.showHidden);
  const shape: Shape = { keys, base: '', braces: ['{', '}'], formatter: formatNothing, isArrayLike: false };
  const finishIfEmpty = (text: string): void => {
    if (keys.length === 0) shape.done = text;
  };
  if (typeof value === 'function') {
    shape.base = getFunctionBase(value, constructor, tag);
    finishIfEmpty(shape.base);
  } else if (constructor === 'Object') {
    if (types.isArgumentsObject(value)) shape.braces[0] = '[Arguments] {';
    else if (tag !== '') shape.braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
    finishIfEmpty(`${shape.braces[0]}}`);
  } else if (types.isRegExp(value)) {
    shape.base = RegExp.prototype.toString.call(constructor !== null ? value : new RegExp(value));
    const prefix = getPrefix(constructor, tag, 'RegExp');
    if (prefix !== 'RegExp ') shape.base = `${prefix}${shape.base}`;
    if (keys.length === 0 || recurseTimes > ctx.depth) shape.done = shape.base;
  } else if (types.isDate(value)) {
    const time = Date.prototype.getTime.call(value);
    shape.base = Number.isNaN(time) ? Date.prototype.toString.call(value) : Date.prototype.toISOString.call(value);
    const prefix = getPrefix(constructor, tag, 'Date');
    if (prefix !== 'Date ') shape.base = `${prefix}${shape.base}`;
    finishIfEmpty(shape.base);
  } else if (types.isError(value)) {
    shape.base = formatErrorBase(value, constructor, tag, keys, ctx.indentationLvl, ctx.showHidden, getPrefix);
    finishIfEmpty(shape.base);
  } else if (types.isArrayBuffer(value)) {
    shape.braces[0] = `${getPrefix(constructor, tag, 'ArrayBuffer')}{`;
    shape.formatter = formatArrayBuffer as Formatter;
    keys.unshift('byteLength');
  } else if (types.isDataView(value)) {
    shape.braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
    keys.unshift('byteLength', 'byteOffset', 'buffer');
  } else if (types.isPromise(value)) {
    shape.braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
    shape.formatter = formatPromise as Formatter;
  } else if (types.isWeakSet(value) || types.isWeakMap(value)) {
    shape.braces[0] = `${getPrefix(constructor, tag, types.isWeakSet(value) ? 'WeakSet' : 'WeakMap')}{`;
    shape.formatter = () => ['<items unknown>'];
  } else {
    const boxed = types.boxedType(value);
    if (boxed !== undefined) {
      shape.base = getBoxedBase(ctx, value, boxed, keys, constructor, tag);
      finishIfEmpty(shape.base);
    } else {
      finishIfEmpty(`${getCtxStyle(value, constructor, tag)}{}`);
      shape.braces[0] = `${getCtxStyle(value, constructor, tag)}{`;
    }
  }
  return shape;
}

function formatRaw(ctx: Context, value: any, recurseTimes: number): string {
  const constructor = getConstructorName(value, ctx, recurseTimes);
  let tag = value[Symbol.toStringTag];
  // A tag the object owns (enumerable) is shown among its keys, not again in the prefix.
  const ownTag = ctx.showHidden ? hasOwn(value, Symbol.toStringTag) : Object.prototype.propertyIsEnumerable.call(value, Symbol.toStringTag);
  if (typeof tag !== 'string' || (tag !== '' && ownTag)) tag = '';
  let shape: Shape | undefined;
  if (Symbol.iterator in value || constructor === null) shape = iterableShape(ctx, value, constructor, tag);
  if (shape === undefined) shape = plainShape(ctx, value, constructor, tag, recurseTimes);
  if (shape.done !== undefined) return shape.done;

  if (recurseTimes > ctx.depth) {
    const name = getCtxStyle(value, constructor, tag).slice(0, -1);
    return constructor !== null ? `[${name}]` : name;
  }
  recurseTimes += 1;
  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  let output: string[];
  const indentationLvl = ctx.indentationLvl;
  try {
    output = shape.formatter(ctx, value, recurseTimes);
    for (const key of shape.keys) output.push(formatProperty(ctx, value, recurseTimes, key, false));
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    ctx.seen.pop();
    ctx.indentationLvl = indentationLvl;
    const name = getCtxStyle(value, constructor, tag).slice(0, -1);
    return `[${name}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`;
  }
  let base = shape.base;
  const index = ctx.circular?.get(value);
  if (index !== undefined) {
    const reference = `<ref *${index}>`;
    if (ctx.compact !== true) base = base === '' ? reference : `${reference} ${base}`;
    else shape.braces[0] = `${reference} ${shape.braces[0]}`;
  }
  ctx.seen.pop();
  if (ctx.sorted) {
    const cmp = ctx.sorted === true ? undefined : ctx.sorted;
    if (!shape.isArrayLike) output.sort(cmp);
    else if (shape.keys.length > 1) {
      const tail = output.splice(output.length - shape.keys.length).sort(cmp);
      output.push(...tail);
    }
  }
  const res = reduceToSingleString(ctx, output, base, shape.braces, shape.isArrayLike, recurseTimes, value);
  const budget = (ctx.budget[ctx.indentationLvl] || 0) + res.length;
  ctx.budget[ctx.indentationLvl] = budget;
  // Stop descending once the text grows huge, so one inspect cannot exhaust the heap.
  if (budget > 2 ** 27) ctx.depth = -1;
  return res;
}
