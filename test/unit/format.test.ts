// util.format and the console: placeholders and argument joining, compared with Node.
import { describe, expect, test } from '@jest/globals';
import * as util from 'node:util';
import { format } from '../../src/runtime/format';
import { createConsole } from '../../src/runtime/console';

class WithToString {
  toString(): string {
    return 'custom-string';
  }
}
const circ: Record<string, unknown> = {};
circ.me = circ;

const cases: unknown[][] = [
  ['plain'],
  ['%s and %s', 'a', 'b'],
  ['%s', 42],
  ['%s', -0],
  ['%s', 5n],
  ['%s', null],
  ['%s', undefined],
  ['%s', Symbol('s')],
  ['%s', { a: { b: { c: 1 } } }],
  ['%s', [1, [2, [3]]]],
  ['%s', new WithToString()],
  ['%s', new Error('in %s')],
  ['%d', '42'],
  ['%d', 1.5],
  ['%d', 7n],
  ['%d', Symbol('x')],
  ['%d', {}],
  ['%i', '42.9px'],
  ['%i', 9n],
  ['%f', '1.25e2'],
  ['%f', Symbol('x')],
  ['%j', { a: [1, 'x'] }],
  ['%j', circ],
  ['%o', [1, { a: 2 }]],
  ['%O', { deep: { deeper: { deepest: { gone: 1 } } } }],
  ['%c styled', 'color: red'],
  ['100%% sure', 1],
  ['%% alone'],
  ['%x unknown %s', 'y'],
  ['%s'],
  ['trailing %', 1],
  ['more args', 1, 'two', { three: 3 }],
  [1, 2, 'three'],
  [{ a: 1 }, 'text'],
  ['%s:%s', 'only-one'],
  ['a%sb%sc', '1', '2', 'extra', 4],
];

describe('format matches util.format', () => {
  test.each(cases.map((c) => [JSON.stringify(c.map(String)), c]))('%s', (_label, args) => {
    expect(format(...(args as unknown[]))).toBe(util.format(...(args as unknown[])));
  });
});

describe('console', () => {
  function capture() {
    const lines: string[] = [];
    let now = 1000;
    const c = createConsole((t) => lines.push(t), () => now);
    return { c, lines, tick: (ms: number) => (now += ms) };
  }

  test('log/info/debug/warn/error format and end with a newline', () => {
    const { c, lines } = capture();
    c.log('x=%d', 5);
    c.info({ a: 1 });
    c.debug('d');
    c.warn('w', 1);
    c.error(new Map([[1, 2]]));
    expect(lines).toEqual(['x=5\n', '{ a: 1 }\n', 'd\n', 'w 1\n', 'Map(1) { 1 => 2 }\n']);
  });

  test('group indents, assert, count and time', () => {
    const { c, lines, tick } = capture();
    c.group('outer');
    c.log('a\nb');
    c.groupEnd();
    c.log('c');
    c.assert(true, 'not shown');
    c.assert(false, 'shown %s', 'here');
    c.count();
    c.count();
    c.count('x');
    c.countReset();
    c.count();
    c.time('t');
    tick(12.5);
    c.timeEnd('t');
    c.timeEnd('t');
    expect(lines).toEqual([
      'outer\n', '  a\n  b\n', 'c\n', 'Assertion failed: shown here\n',
      'default: 1\n', 'default: 2\n', 'x: 1\n', 'default: 1\n',
      't: 12.500ms\n', "Warning: No such label 't' for console.timeEnd()\n",
    ]);
  });

  test('dir ignores custom inspectors; trace prints a stack', () => {
    const { c, lines } = capture();
    const value = { [Symbol.for('nodejs.util.inspect.custom')]: () => 'custom', v: 1 };
    c.dir(value);
    expect(lines[0]).toBe(`${util.inspect(value, { customInspect: false })}\n`);
    c.trace('where %d', 1);
    expect(lines[1]).toMatch(/^Trace: where 1\n {4}at /);
  });
});
