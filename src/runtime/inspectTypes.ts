// Brand checks for built-in object types, done without engine internals (works in QuickJS and V8).

const objectToString = Object.prototype.toString;
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTagGetter = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get!;
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;
const dataViewByteLength = Object.getOwnPropertyDescriptor(DataView.prototype, 'byteLength')!.get!;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get!;
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')!.get!;
const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get!;

/** Calls fn with value as this; true when the engine accepted the receiver (a brand check). */
function accepts(fn: (...args: any[]) => unknown, value: unknown, ...args: unknown[]): boolean {
  try {
    fn.apply(value, args);
    return true;
  } catch {
    return false;
  }
}

/** The primitive types that have wrapper objects. */
export type BoxedType = 'Number' | 'String' | 'Boolean' | 'BigInt' | 'Symbol';

/** The name of the typed array class (e.g. 'Uint8Array') if value is one, else undefined. */
export function typedArrayName(value: object): string | undefined {
  return typedArrayTagGetter.call(value) as string | undefined;
}

/** True for ArrayBuffer instances (not SharedArrayBuffer). */
export function isArrayBuffer(value: object): value is ArrayBuffer {
  return accepts(arrayBufferByteLength, value);
}

/** True for DataView instances. */
export function isDataView(value: object): value is DataView {
  return accepts(dataViewByteLength, value);
}

/** True for Map instances. */
export function isMap(value: object): value is Map<unknown, unknown> {
  return accepts(mapSize, value);
}

/** True for Set instances. */
export function isSet(value: object): value is Set<unknown> {
  return accepts(setSize, value);
}

/** True for WeakMap instances. */
export function isWeakMap(value: object): boolean {
  return accepts(WeakMap.prototype.has, value, {});
}

/** True for WeakSet instances. */
export function isWeakSet(value: object): boolean {
  return accepts(WeakSet.prototype.has, value, {});
}

/** True for Date instances. */
export function isDate(value: object): value is Date {
  return accepts(Date.prototype.getTime, value);
}

/** True for RegExp instances (RegExp.prototype itself answers the source getter, so exclude it). */
export function isRegExp(value: object): value is RegExp {
  return value !== RegExp.prototype && accepts(regExpSource, value);
}

/** True for Error instances, including ones from other realms. */
export function isError(value: object): value is Error {
  return value instanceof Error || objectToString.call(value) === '[object Error]';
}

/** True for native promises. */
export function isPromise(value: object): value is Promise<unknown> {
  return value instanceof Promise || objectToString.call(value) === '[object Promise]';
}

/** True for the arguments object of a sloppy or strict function. */
export function isArgumentsObject(value: object): boolean {
  return objectToString.call(value) === '[object Arguments]';
}

/** The primitive type a boxed primitive (new Number(1), Object(1n), ...) wraps, if any. */
export function boxedType(value: object): BoxedType | undefined {
  if (accepts(Number.prototype.valueOf, value)) return 'Number';
  if (accepts(String.prototype.valueOf, value)) return 'String';
  if (accepts(Boolean.prototype.valueOf, value)) return 'Boolean';
  if (typeof BigInt === 'function' && accepts(BigInt.prototype.valueOf, value)) return 'BigInt';
  if (accepts(Symbol.prototype.valueOf, value)) return 'Symbol';
  return undefined;
}

/** The primitive inside a boxed primitive of the given type. */
export function unbox(value: object, type: BoxedType): unknown {
  switch (type) {
    case 'Number': return Number.prototype.valueOf.call(value);
    case 'String': return String.prototype.valueOf.call(value);
    case 'Boolean': return Boolean.prototype.valueOf.call(value);
    case 'BigInt': return BigInt.prototype.valueOf.call(value);
    default: return Symbol.prototype.valueOf.call(value);
  }
}

const GeneratorFunctionProto = Object.getPrototypeOf(function* () { /* probe */ }) as object;
const AsyncFunctionProto = Object.getPrototypeOf(async function () { /* probe */ }) as object;
const AsyncGeneratorFunctionProto = Object.getPrototypeOf(async function* () { /* probe */ }) as object;

function protoChainHas(value: object, proto: object): boolean {
  for (let p = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
    if (p === proto) return true;
  }
  return false;
}

/** 'Function', 'GeneratorFunction', 'AsyncFunction' or 'AsyncGeneratorFunction'. */
export function functionType(fn: object): string {
  if (protoChainHas(fn, AsyncGeneratorFunctionProto)) return 'AsyncGeneratorFunction';
  if (protoChainHas(fn, GeneratorFunctionProto)) return 'GeneratorFunction';
  if (protoChainHas(fn, AsyncFunctionProto)) return 'AsyncFunction';
  return 'Function';
}

/** The engine's class name of an object (the [[Class]] in Object.prototype.toString). */
export function internalClassName(value: object): string {
  return objectToString.call(value).slice(8, -1);
}

const typedArrayLengthGetter = Object.getOwnPropertyDescriptor(typedArrayProto, 'length')!.get!;

/** The element count of a typed array, read through the intrinsic getter (works without a prototype). */
export function typedArrayLength(value: object): number {
  return typedArrayLengthGetter.call(value) as number;
}

/** The size of a Map or Set, read through the intrinsic getters (works without a prototype). */
export function collectionSize(value: object): number {
  return (isMap(value) ? mapSize.call(value) : setSize.call(value)) as number;
}
