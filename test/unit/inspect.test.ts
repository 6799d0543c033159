// Compares zazen's inspect with Node's util.inspect over a table of values.
import { describe, expect, test } from '@jest/globals';
import * as util from 'node:util';
import { inspect } from '../../src/runtime/inspect';
import { trackPromise } from '../../src/runtime/promiseState';

class Foo {
  x = 1;
  y = 'two';
}
class Bar extends Foo {}
class Empty {}
function namedFn(): void {}
const circular: Record<string, unknown> = { name: 'loop' };
circular.self = circular;
const circular2: Record<string, unknown> = { a: { b: {} } };
(circular2.a as Record<string, unknown>).back = circular2;
const arrCirc: unknown[] = [1];
arrCirc.push(arrCirc);
const withGetters = {
  get g() {
    return 1;
  },
  get gs() {
    return 2;
  },
  set gs(v: number) {
    void v;
  },
  set s(v: number) {
    void v;
  },
};
const sym = Symbol('tag');
const withSymbol = { [sym]: 1, plain: 2 };
const arrayWithProps = Object.assign([1, 2], { extra: 'x' });
const nullProto = Object.create(null);
const nullProtoWithKey = Object.assign(Object.create(null), { k: 1 });
const fnWithProps = Object.assign(function decorated() {}, { meta: true });
const tagged = { [Symbol.toStringTag]: 'Custom' };
class Tagged {
  get [Symbol.toStringTag]() {
    return 'TG';
  }
}
const holes = [1, , 3, , , 6]; // eslint-disable-line no-sparse-arrays
const trailingHoles = new Array(5);
const custom = { [Symbol.for('nodejs.util.inspect.custom')]: () => 'CUSTOM!' };
const customObj = { [Symbol.for('nodejs.util.inspect.custom')]: () => ({ replaced: true }) };
const nested = { l1: { l2: { l3: { l4: 'deep' } } }, arr: [[[[1]]]] };
const longArray = Array.from({ length: 130 }, (_, i) => i);
const numbers30 = Array.from({ length: 30 }, (_, i) => i * 7);
const mixed = ['apple', 'banana', 'cherry', 'date', 'elderberry', 'fig', 'grape', 'honeydew', 'kiwi', 'lemon'];
const longStr = 'x'.repeat(100);
const multiLine = { text: 'first line of a long text\nsecond line of a long text\nthird line that ends it' };
const wideObject = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`key${i}`, `value number ${i}`]));
const errWithProps = Object.assign(new Error('with props'), { code: 'E_CODE', detail: 42 });
const typeErr = new TypeError('bad type');
class MyError extends Error {}
const myErr = new MyError('custom');
const renamed = new Error('renamed');
renamed.name = 'RenamedError';
const noStack = new Error('no stack');
noStack.stack = '';
const buf = new ArrayBuffer(4);
new Uint8Array(buf).set([1, 2, 0xab, 255]);
const bigBuf = new ArrayBuffer(120);

const table: [string, unknown][] = [
  ['string', 'hello'],
  ['string with single quote', "it's"],
  ['string with both quotes', `it's "x"`],
  ['string with all quotes', 'it\'s "x" `y`'],
  ['string escapes', 'tab\there\nnew\u0001\u007f\\'],
  ['lone surrogate', 'a\ud800b'],
  ['emoji', 'smile 😀'],
  ['empty string', ''],
  ['number', 42],
  ['negative zero', -0],
  ['float', 0.1 + 0.2],
  ['NaN', NaN],
  ['Infinity', -Infinity],
  ['bigint', 123n],
  ['symbol', Symbol('desc')],
  ['symbol no desc', Symbol()],
  ['undefined', undefined],
  ['null', null],
  ['true', true],
  ['named function', namedFn],
  ['anonymous function', (() => () => 1)()],
  ['arrow named', (() => { const arrowName = () => 1; return arrowName; })()],
  ['async function', async function af() {}],
  ['generator function', function* gen() {}],
  ['async generator', async function* ag() {}],
  ['class', Foo],
  ['derived class', Bar],
  ['anonymous class', (() => class {})()],
  ['function with props', fnWithProps],
  ['empty array', []],
  ['array', [1, 'two', [3, [4, [5, [6]]]]]],
  ['holes', holes],
  ['only holes', trailingHoles],
  ['array with props', arrayWithProps],
  ['long array', longArray],
  ['grouped numbers', numbers30],
  ['grouped strings', mixed],
  ['empty object', {}],
  ['object', { a: 1, 'b-c': 2, 'valid_key': 3, '1x': 4, __proto__x: 5 }],
  ['nested', nested],
  ['class instance', new Foo()],
  ['derived instance', new Bar()],
  ['empty instance', new Empty()],
  ['null prototype', nullProto],
  ['null prototype with key', nullProtoWithKey],
  ['circular', circular],
  ['circular nested', circular2],
  ['circular array', arrCirc],
  ['getters', withGetters],
  ['symbol key', withSymbol],
  ['toStringTag own', tagged],
  ['toStringTag class', new Tagged()],
  ['Map', new Map<unknown, unknown>([['a', 1], [{ k: 1 }, [2]]])],
  ['empty Map', new Map()],
  ['Set', new Set([1, 'x', { y: 2 }])],
  ['empty Set', new Set()],
  ['WeakMap', new WeakMap()],
  ['WeakSet', new WeakSet()],
  ['Date', new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123))],
  ['invalid Date', new Date(NaN)],
  ['RegExp', /ab+c/gi],
  ['RegExp with props', Object.assign(/x/, { p: 1 })],
  ['Uint8Array', new Uint8Array([1, 2, 3])],
  ['Float64Array', new Float64Array([1.5, -0])],
  ['BigInt64Array', new BigInt64Array([1n, -2n])],
  ['empty typed array', new Int16Array(0)],
  ['long typed array', new Uint8Array(120)],
  ['ArrayBuffer', buf],
  ['big ArrayBuffer', bigBuf],
  ['DataView', new DataView(buf, 1, 2)],
  ['boxed number', Object(5)],
  ['boxed string', Object('str')],
  ['boxed boolean', Object(false)],
  ['boxed bigint', Object(7n)],
  ['boxed symbol', Object(Symbol('b'))],
  ['custom inspect string', custom],
  ['custom inspect object', customObj],
  ['long string in object', { s: longStr }],
  ['multi-line string in object', multiLine],
  ['wide object', wideObject],
  ['array of objects', [{ a: 1, b: 2 }, { a: 3, b: 4 }]],
  ['nested maps', new Map([['outer', new Map([['inner', new Set([1])]])]])],
  ['Math', Math],
  ['JSON', JSON],
  ['error without frames', noStack],
  ['arguments', (function (..._a: unknown[]) { return arguments; })(1, 2)], // eslint-disable-line prefer-rest-params
  ['object with undefined', { u: undefined, n: null }],
  ['sparse big', Object.assign(new Array(200), { 150: 'x' })],
  ['deep array', [[[[[['too deep']]]]]]],
  ['mixed nested', { list: [1, 2, 3], map: new Map([[1, { deep: { deeper: { deepest: 1 } } }]]) }],
];

describe('inspect matches util.inspect', () => {
  test.each(table)('%s', (_name, value) => {
    expect(inspect(value)).toBe(util.inspect(value));
  });

  test.each(table)('%s (depth 0, breakLength 40)', (_name, value) => {
    expect(inspect(value, { depth: 0, breakLength: 40 })).toBe(util.inspect(value, { depth: 0, breakLength: 40 }));
  });

  // Known deviations with showHidden: no prototype-level properties of class instances, no
  // WeakMap/WeakSet contents (V8 internals), functions and built-in namespaces list engine-specific keys.
  const hiddenComparable = table.filter(([name, value]) => {
    if (typeof value === 'function' || value instanceof Error || value === Math || value === JSON || ArrayBuffer.isView(value)) return false;
    return !['toStringTag class', 'WeakMap', 'WeakSet'].includes(name);
  });
  test.each(hiddenComparable)('%s (showHidden)', (_name, value) => {
    expect(inspect(value, { showHidden: true })).toBe(util.inspect(value, { showHidden: true }));
  });
});

describe('errors', () => {
  test('error stacks print like Node', () => {
    for (const e of [new Error('plain'), typeErr, errWithProps, myErr, renamed]) {
      expect(inspect(e)).toBe(util.inspect(e));
      expect(inspect({ nested: e })).toBe(util.inspect({ nested: e }));
    }
  });

  test('a QuickJS-style stack (frames only) gets its header line and a 10-frame cap', () => {
    const e = new RangeError('too far');
    e.stack = Array.from({ length: 14 }, (_, i) => `    at f${i} (<input>)`).join('\n') + '\n';
    const lines = inspect(e).split('\n');
    expect(lines[0]).toBe('RangeError: too far');
    expect(lines[1]).toBe('    at f0 (<input>)');
    expect(lines).toHaveLength(12);
    expect(lines[11]).toBe('    ... 4 more frames');
  });

  test('an error with an empty QuickJS stack prints in brackets', () => {
    const e = new Error('bare');
    e.stack = '';
    expect(inspect(e)).toBe('[Error: bare]');
  });
});

// Jest turns on async hooks, which put enumerable symbols on every promise; strip them.
function plainPromise<T>(p: Promise<T>): Promise<T> {
  for (const s of Object.getOwnPropertySymbols(p)) delete (p as unknown as Record<symbol, unknown>)[s];
  return p;
}

describe('promises', () => {
  test('untracked promises say their state is unknown', () => {
    expect(inspect(plainPromise(Promise.resolve(1)))).toBe('Promise { <unknown> }');
  });

  test('tracked promises show their settled value once jobs ran', async () => {
    const ok = plainPromise(Promise.resolve({ v: 1 }));
    const bad = plainPromise(Promise.reject(new Error('no')));
    const never = plainPromise(new Promise(() => undefined));
    for (const p of [ok, bad, never]) {
      trackPromise(p);
      plainPromise(p);
    }
    expect(inspect(ok)).toBe('Promise { <pending> }');
    await new Promise((r) => setTimeout(r, 0));
    [ok, bad, never].forEach((p) => plainPromise(p));
    expect(inspect(ok)).toBe('Promise { { v: 1 } }');
    expect(inspect(bad)).toMatch(/^Promise \{\n {2}<rejected> Error: no\n {6}at /);
    expect(inspect(never)).toBe('Promise { <pending> }');
  });
});

describe('options', () => {
  test('depth null and maxArrayLength', () => {
    const v = { a: { b: { c: { d: { e: [1, 2, 3, 4] } } } } };
    expect(inspect(v, { depth: null })).toBe(util.inspect(v, { depth: null }));
    expect(inspect(longArray, { maxArrayLength: 3 })).toBe(util.inspect(longArray, { maxArrayLength: 3 }));
    expect(inspect('abcdef', { maxStringLength: 2 })).toBe(util.inspect('abcdef', { maxStringLength: 2 }));
    expect(inspect(wideObject, { compact: false })).toBe(util.inspect(wideObject, { compact: false }));
    expect(inspect(wideObject, { compact: true })).toBe(util.inspect(wideObject, { compact: true }));
    expect(inspect({ b: 1, a: 2, c: [3] }, { sorted: true })).toBe(util.inspect({ b: 1, a: 2, c: [3] }, { sorted: true }));
  });

  test('custom inspect receives depth and options', () => {
    let seen: unknown[] = [];
    const obj = {
      [Symbol.for('nodejs.util.inspect.custom')](depth: number, opts: { depth: number }, fn: unknown) {
        seen = [depth, opts.depth, typeof fn];
        return 'ok';
      },
    };
    expect(inspect({ wrap: obj })).toBe('{ wrap: ok }');
    expect(seen).toEqual([1, 2, 'function']);
  });

  test('a throwing getter is not called; proxies of plain objects still format', () => {
    const o = Object.defineProperty({}, 'boom', { enumerable: true, get() { throw new Error('called'); } });
    expect(inspect(o)).toBe('{ boom: [Getter] }');
    expect(inspect(new Proxy({ a: 1 }, {}))).toBe('{ a: 1 }');
  });
});
