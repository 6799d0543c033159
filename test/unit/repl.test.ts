// The REPL end to end over the fake shim's console: prompts, results, errors, commands, keys.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { createDomain0, domains } from '../../src/hv/domains';
import { resetHostInfoCache } from '../../src/hv/hostInfo';
import { splitWords } from '../../src/toolstack/args';
import { createHelpCommand } from '../../src/toolstack/help';
import { CommandRegistry } from '../../src/toolstack/registry';
import { Repl } from '../../src/toolstack/repl/repl';
import { createXlApi, createXlCommand } from '../../src/toolstack/xl/xl';
import { FakeShim } from '../fakeShim';

// Named like main.ts's boundary so the REPL trims its frames from stacks.
function zazenEvalBoundary(code: string): unknown {
  return (0, eval)(code);
}

const g = globalThis as unknown as Record<string, unknown>;
let fake: FakeShim;
let repl: Repl;
let commands: CommandRegistry;

if (!domains.get(0)) domains.register(createDomain0());

beforeEach(() => {
  fake = new FakeShim();
  setShim(fake);
  resetHostInfoCache();
  commands = new CommandRegistry();
  commands.register(createHelpCommand(commands));
  const xl = createXlCommand();
  commands.register(xl);
  g.xl = createXlApi(xl, splitWords);
  g.replTestObj = { alpha: 1, beta: 2 };
  repl = new Repl({
    out: { write: (t) => fake.consoleWrite(t) },
    commands,
    run: (code) => fake.runInterruptible(() => zazenEvalBoundary(code)),
    guard: (fn) => fake.runInterruptible(fn),
    global: g,
    readTextFile: (p) => {
      if (p === '/boot/script.js') return 'var loadedValue = 6 * 7;\nloadedValue';
      throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    },
  });
  repl.start();
});
afterEach(() => setShim(undefined));

/** Types bytes and returns what the REPL printed in response. */
function type(bytes: string): string {
  fake.takeOutput();
  repl.feed(bytes);
  return fake.takeOutput();
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('REPL', () => {
  test('shows the prompt and answers 1+1 and strings like Node', () => {
    expect(fake.output).toBe('zazen> ');
    expect(type('1+1\r')).toBe('1+1\n2\nzazen> ');
    expect(type("'a'\r")).toBe("'a'\n'a'\nzazen> ");
    expect(type('undefined\r')).toBe('undefined\nundefined\nzazen> ');
    expect(type('\r')).toBe('\nzazen> ');
  });

  test('input split across reads and CRLF line ends', () => {
    expect(type('2*')).toBe('2*');
    expect(type('21\r\n')).toBe('21\n42\nzazen> ');
  });

  test('errors print as Uncaught ... and the prompt returns', () => {
    expect(type('throw new Error("boom")\r')).toBe('throw new Error("boom")\nUncaught Error: boom\nzazen> ');
    expect(type('throw 42\r')).toContain('Uncaught 42\nzazen> ');
    expect(type('1 + )\r')).toMatch(/\nUncaught SyntaxError: Unexpected token '\)'\nzazen> $/);
    expect(type('function replThrower() { throw new TypeError("inner") }; replThrower()\r')).toMatch(/Uncaught TypeError: inner\n {4}at replThrower \(.*\)\nzazen> $/);
    expect(type('_error.message\r')).toContain("'inner'");
  });

  test('deep recursion and huge allocations are caught and printed', () => {
    expect(type('function replRecurse() { return replRecurse() }; replRecurse()\r')).toMatch(/Uncaught RangeError: Maximum call stack size exceeded[\s\S]*zazen> $/);
    expect(type('new Array(2 ** 32)\r')).toMatch(/Uncaught RangeError: Invalid array length\nzazen> $/);
  });

  test('Ctrl-C during evaluation (the shim interrupts) prints the InternalError', () => {
    fake.interruptNext = true;
    expect(type('while (true) {}\r')).toMatch(/^while \(true\) \{\}\nUncaught InternalError: interrupted\n[\s\S]*zazen> $/);
  });

  test('Ctrl-C while a result is being formatted stops the printing, not the REPL', () => {
    type('var replBig = { a: 1 }\r');
    const realGuard = fake.runInterruptible.bind(fake);
    let calls = 0;
    // Let the evaluation through, then interrupt the second guarded call: the formatting.
    fake.runInterruptible = <T>(fn: () => T): T => {
      calls++;
      if (calls === 2) fake.interruptNext = true;
      return realGuard(fn);
    };
    expect(type('replBig\r')).toMatch(/^replBig\n\[inspection failed: Uncaught InternalError: interrupted[\s\S]*\]\nzazen> $/);
    fake.runInterruptible = realGuard;
  });

  test('incomplete input continues with "... " until complete', () => {
    expect(type('function replAdd(a, b) {\r')).toBe('function replAdd(a, b) {\n... ');
    expect(type('  return a + b\r')).toBe('  return a + b\n... ');
    expect(type('}\r')).toBe('}\nundefined\nzazen> ');
    expect(type('replAdd(1,\r2)\r')).toBe('replAdd(1,\n... 2)\n3\nzazen> ');
  });

  test('Ctrl-C cancels the line or the multi-line input; on an empty prompt it explains', () => {
    expect(type('abc\x03')).toBe('abc^C\nzazen> ');
    expect(type('[1,\r\x03')).toBe('[1,\n... ^C\nzazen> ');
    expect(type('\x03')).toBe('^C\n(zazen is the hypervisor and cannot exit; type .help for commands)\nzazen> ');
    expect(type('\x04')).toBe('\n(zazen is the hypervisor and cannot exit; type .help for commands)\nzazen> ');
  });

  test('object literals, declarations that persist, and _', () => {
    expect(type('{ a: 1, b: [2] }\r')).toContain('{ a: 1, b: [ 2 ] }\nzazen> ');
    type('let replLet = 5\r');
    expect(type('replLet * 2\r')).toContain('\n10\n');
    expect(type('_ + 1\r')).toContain('\n11\n');
    expect(type('_ = 3\r')).toContain('Expression assignment to _ now disabled.\n3\n');
    type('100\r');
    expect(type('_\r')).toContain('\n3\n');
  });

  test('promises print once their reactions ran; await works', async () => {
    type('Promise.resolve(5)\r');
    await tick();
    expect(fake.takeOutput()).toMatch(/^Promise \{\s*5[\s\S]*\}\nzazen> $/);
    type('await Promise.resolve(7)\r');
    await tick();
    expect(fake.takeOutput()).toBe('7\nzazen> ');
    type('await Promise.reject(new Error("nope"))\r');
    await tick();
    expect(fake.takeOutput()).toMatch(/^Uncaught Error: nope/);
  });

  test('toolstack commands run as commands; xl alone and xl.info() are JavaScript', () => {
    expect(type('xl list\r')).toMatch(/^xl list\nName {40}ID {3}Mem VCPUs\tState\tTime\(s\)\nDomain-0 +0 +11 +1 +r----- +0\.0\nzazen> $/);
    expect(type('xl info\r')).toContain('\ntotal_memory           : 512\n');
    expect(type('xl info nr_cpus\r')).toBe('xl info nr_cpus\n1\nzazen> ');
    expect(type('xl.info().xen_minor\r')).toContain('\n17\n');
    expect(type('xl\r')).toContain('info: [Function: info]');
    expect(type('xl bogus\r')).toContain("xl: unknown subcommand 'bogus'; try 'xl help'\nzazen> ");
    expect(type('help\r')).toContain('  xl    Xen-compatible toolstack');
    expect(type('xl list "unterminated\r')).toContain('\nxl: unterminated double quote\nzazen> ');
  });

  test('a line that is neither a command nor valid JavaScript says so', () => {
    const out = type('frobnicate now\r');
    expect(out).toContain('Uncaught SyntaxError');
    expect(out).toContain('frobnicate: not a toolstack command (type help for the list)\nzazen> ');
    expect(type('xenstore-ls\r')).toContain('xenstore-ls: not a toolstack command');
    // Broken JavaScript starting with a keyword gets no command hint.
    expect(type('let 5 = x\r')).not.toContain('not a toolstack command');
  });

  test('a command interrupted by Ctrl-C prints the error and returns to the prompt', () => {
    fake.interruptNext = true;
    expect(type('xl info\r')).toMatch(/^xl info\nUncaught InternalError: interrupted\n[\s\S]*zazen> $/);
  });

  test('async commands hold the prompt until done; Ctrl-C stops waiting', async () => {
    let finish: () => void = () => undefined;
    commands.register({ name: 'slow', summary: '', run: (_a, io) => new Promise<void>((r) => (finish = () => { io.write('done\n'); r(); })) });
    expect(type('slow\r')).toBe('slow\n');
    expect(type('1\r')).toBe('');
    finish();
    await tick();
    expect(fake.takeOutput()).toBe('done\nzazen> 1\n1\nzazen> ');
    commands.register({ name: 'hang', summary: '', run: () => new Promise<void>(() => undefined) });
    expect(type('hang\r')).toBe('hang\n');
    expect(type('\x03')).toBe('^C\nzazen> ');
    commands.register({ name: 'fails', summary: '', run: () => Promise.reject(new Error('async failure')) });
    type('fails\r');
    await tick();
    expect(fake.takeOutput()).toContain('Uncaught Error: async failure');
  });

  test('output written while the prompt is shown appears above it', () => {
    type('partial');
    fake.takeOutput();
    repl.write('timer says hi\n');
    expect(fake.takeOutput()).toBe('\r\x1b[Ktimer says hi\nzazen> partial');
  });

  test('history recall and Tab completion of properties', () => {
    type('replTestObj.alpha\r');
    expect(type('\x1b[A')).toBe('\rzazen> replTestObj.alpha\x1b[K');
    type('\x15');
    expect(type('replTestObj.b\t')).toBe('replTestObj.beta'.slice(0, 0) + 'replTestObj.b' + 'eta');
    expect(type('\x15replTestObj.\t')).toMatch(/\nreplTestObj\.alpha +replTestObj\.beta\n\nreplTestObj\.__defineGetter__/);
    type('\x15');
    expect(type('xl in\t')).toBe('xl info'.slice(0, 5) + 'fo');
  });

  test('dot-commands: .help, .break, .editor, .load, invalid; .5 is a number', async () => {
    expect(type('.help\r')).toContain('.editor   Enter editor mode');
    expect(type('(1 +\r.break\r')).toBe('(1 +\n... .break\nzazen> ');
    expect(type('.nope\r')).toBe('.nope\nInvalid REPL keyword\nzazen> ');
    expect(type('.5 + 1\r')).toContain('\n1.5\n');
    expect(type('.editor\r')).toBe('.editor\n// Entering editor mode (Ctrl+D to finish, Ctrl+C to cancel)\n');
    type('const editorA = 20\r');
    expect(type('editorA + 1\x04')).toBe('editorA + 1\n21\nzazen> ');
    type('.editor\r');
    expect(type('junk(\x03')).toBe('junk(^C\nzazen> ');
    expect(type('.load /boot/script.js\r')).toContain('\n42\nzazen> ');
    expect(type('.load /nope\r')).toContain('Failed to load: /nope: ENOENT');
    expect(type('.exit\r')).toContain('cannot exit');
  });
});
