// REPL evaluation: incomplete-input detection (V8 and QuickJS), object literals, declarations, await.
import { describe, expect, test } from '@jest/globals';
import { evaluateInput, isRecoverable, trimReplFrames, wrapObjectLiteral } from '../../src/toolstack/repl/evaluate';
import { persistDeclarations } from '../../src/toolstack/repl/declarations';
import { scanJs } from '../../src/toolstack/repl/jsScanner';

// Named like main.ts's boundary so trimReplFrames finds it.
function zazenEvalBoundary(code: string): unknown {
  return (0, eval)(code);
}

function quickjsSyntaxError(message: string, line: number, nested = false): SyntaxError {
  const e = new SyntaxError(message);
  e.stack = `    at <input>:${line}\n${nested ? '    at <eval> (<input>:1)\n' : ''}    at eval (native)\n    at zazenEvalBoundary (zazen.js:10)\n`;
  return e;
}

describe('incomplete input', () => {
  const incomplete = ['1 +', 'foo(', '[1,', '{', 'function f() {', 'if (x)', 'x = `abc', 'x = `a${', '/* comment', 'a =>', "'abc\\"];
  const complete = ['1 + 1', 'x = 1;', 'function f() {}', '"str"', '`t${1}`', '// just a comment'];
  const broken = ['1 + )', '"abc', '(1 2', 'a b c', 'return', '}'];

  test.each(incomplete)('V8: %s waits for more lines', (src) => {
    expect(evaluateInput(`${src}\n`, zazenEvalBoundary)).toEqual({ kind: 'incomplete' });
  });

  test.each(broken)('V8: %s is a syntax error', (src) => {
    const out = evaluateInput(`${src}\n`, zazenEvalBoundary);
    expect(out.kind).toBe('error');
    expect((out as { error: Error }).error.name).toBe('SyntaxError');
  });

  test.each(complete)('%s evaluates', (src) => {
    expect(evaluateInput(`${src}\n`, zazenEvalBoundary).kind).toBe('value');
  });

  test('QuickJS: an error on the line after the last newline is end of input', () => {
    expect(isRecoverable(quickjsSyntaxError("unexpected token in expression: ''", 2), '1 +\n')).toBe(true);
    expect(isRecoverable(quickjsSyntaxError('expecting field name', 3), 'a\n.\n')).toBe(true);
    expect(isRecoverable(quickjsSyntaxError("unexpected token in expression: ')'", 1), '1 + )\n')).toBe(false);
    expect(isRecoverable(quickjsSyntaxError('unexpected end of string', 1), '"abc\n')).toBe(false);
    // A SyntaxError from an eval inside the user's code is not about the user's input.
    expect(isRecoverable(quickjsSyntaxError("unexpected token in expression: ''", 2, true), 'eval("1 +")\n')).toBe(false);
    expect(isRecoverable(new TypeError('x'), '1\n')).toBe(false);
  });

  test('multi-line input accumulates until complete', () => {
    let buf = '';
    for (const line of ['function add(a, b) {', '  return a + b', '}']) {
      const out = evaluateInput(`${buf}${line}\n`, zazenEvalBoundary);
      if (out.kind === 'incomplete') buf += `${line}\n`;
      else buf = '';
    }
    expect(buf).toBe('');
    expect(evaluateInput('add(2, 3)\n', zazenEvalBoundary)).toEqual({ kind: 'value', value: 5, awaited: false });
  });

  test('blank input is empty', () => {
    expect(evaluateInput('  \n', zazenEvalBoundary)).toEqual({ kind: 'empty' });
  });
});

describe('source adjustments', () => {
  test('{ a: 1 } is an object literal; blocks and statements stay as they are', () => {
    expect(wrapObjectLiteral('{ a: 1 }\n')).toBe('({ a: 1 })\n');
    expect(wrapObjectLiteral('{ a: 1 };\n')).toBe('{ a: 1 };\n');
    expect(wrapObjectLiteral('{ let x = 1; x }\n')).toBe('{ let x = 1; x }\n');
    expect(evaluateInput('{ a: 1, b: [2] }\n', zazenEvalBoundary)).toEqual({ kind: 'value', value: { a: 1, b: [2] }, awaited: false });
  });

  test('top-level let/const/class persist across inputs', () => {
    evaluateInput('let persistA = 1; const persistB = 2\n', zazenEvalBoundary);
    evaluateInput('class PersistC { v() { return 3 } }\n', zazenEvalBoundary);
    expect(evaluateInput('persistA + persistB + new PersistC().v()\n', zazenEvalBoundary)).toMatchObject({ value: 6 });
  });

  test('persistDeclarations rewrites only top-level statement starts', () => {
    expect(persistDeclarations('let a = 1\n')).toBe('var a = 1\n');
    expect(persistDeclarations('const [x, y] = [1, 2]; let {z} = o\n')).toBe('var [x, y] = [1, 2]; var {z} = o\n');
    expect(persistDeclarations('for (let i = 0; i < 2; i++) { let j = i }\n')).toBe('for (let i = 0; i < 2; i++) { let j = i }\n');
    expect(persistDeclarations('class A extends B { m() { return {} } }\nA\n')).toBe('var A = class A extends B { m() { return {} } };\nA\n');
    expect(persistDeclarations('x = "let y = 1"; `const ${let_}`\n')).toBe('x = "let y = 1"; `const ${let_}`\n');
    expect(persistDeclarations('a = 1\nlet b = a\n')).toBe('a = 1\nvar b = a\n');
    expect(persistDeclarations('x = let\n')).toBe('x = let\n');
    expect(persistDeclarations('class Incomplete {\n')).toBe('class Incomplete {\n');
  });

  test('top-level await of an expression resolves to its value', async () => {
    const out = evaluateInput('await Promise.resolve(41 + 1)\n', zazenEvalBoundary);
    expect(out).toMatchObject({ kind: 'value', awaited: true });
    await expect((out as { value: Promise<number> }).value).resolves.toBe(42);
  });
});

describe('scanJs', () => {
  test('tracks brackets, templates, comments, strings and regexes', () => {
    expect(scanJs('f(a, [b, {c').open).toEqual(['(', '[', '{']);
    expect(scanJs('`a ${ {b: `c`} } d`').open).toEqual([]);
    expect(scanJs('`a ${ b').open).toEqual(['`']);
    expect(scanJs('`abc').unterminated).toBe('template');
    expect(scanJs('/* x').unterminated).toBe('comment');
    expect(scanJs('"a\\\n').continuation).toBe(true);
    expect(scanJs('x = /[)]/g; (1)').open).toEqual([]);
    expect(scanJs('a / b / c').tokens.filter((t) => t.type === 'regex')).toEqual([]);
    expect(scanJs('(]').mismatch).toBe(true);
  });
});

describe('trimReplFrames', () => {
  test('V8: cuts the boundary and the top-level eval frame', () => {
    let err: Error | undefined;
    try {
      zazenEvalBoundary('(function inner() { throw new Error("deep") })()');
    } catch (e) {
      err = e as Error;
    }
    trimReplFrames(err);
    const lines = err!.stack!.split('\n');
    expect(lines[0]).toBe('Error: deep');
    expect(lines[1]).toMatch(/^\s+at inner /);
    expect(lines).toHaveLength(2);
  });

  test('QuickJS: frames-only stacks lose everything from the boundary down; SyntaxErrors lose all', () => {
    const e = new Error('q');
    e.stack = '    at f (<input>)\n    at <eval> (<input>)\n    at eval (native)\n    at zazenEvalBoundary (zazen.js)\n    at runInterruptible (native)\n';
    trimReplFrames(e);
    expect(e.stack).toBe('    at f (<input>)\n');
    const s = quickjsSyntaxError('bad', 1);
    trimReplFrames(s);
    expect(s.stack).toBe('');
    trimReplFrames(42);
    trimReplFrames(Object.freeze(new Error('frozen')));
  });
});
