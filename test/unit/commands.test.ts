// Toolstack plumbing: word splitting, option parsing, the registry, groups and command-vs-JS detection.
import { describe, expect, test } from '@jest/globals';
import { parseArgs, splitWords } from '../../src/toolstack/args';
import { isCommandLine, leadingCommand } from '../../src/toolstack/commandLine';
import { createHelpCommand } from '../../src/toolstack/help';
import { CommandError, CommandGroup, CommandRegistry } from '../../src/toolstack/registry';
import { createToolstack } from '../../src/toolstack/toolstack';

function registry() {
  const r = new CommandRegistry();
  r.register(createHelpCommand(r));
  const xl = new CommandGroup('xl', 'toolstack');
  xl.subcommands.register({ name: 'info', summary: 'host info', run: (args, io) => io.write(`info ${args.join(',')}\n`) });
  xl.subcommands.register({ name: 'list', summary: 'domains', run: () => Promise.resolve(), complete: () => ['Domain-0'] });
  r.register(xl);
  r.register({ name: 'xenstore-ls', summary: 'list the store', run: (_a, io) => io.write('/\n') });
  return { r, xl };
}

function run(r: CommandRegistry, line: string): string {
  let out = '';
  r.run(splitWords(line), { write: (t) => (out += t) });
  return out;
}

describe('splitWords', () => {
  test('splits on blanks, honours quotes and backslashes', () => {
    expect(splitWords('  xl  create  /boot/a.cfg ')).toEqual(['xl', 'create', '/boot/a.cfg']);
    expect(splitWords(`say 'one two' "three \\"four\\"" five\\ six ''`)).toEqual(['say', 'one two', 'three "four"', 'five six', '']);
    expect(() => splitWords('say "open')).toThrow(CommandError);
    expect(() => splitWords("say 'open")).toThrow('unterminated single quote');
  });
});

describe('parseArgs', () => {
  const spec = { flags: { l: 'long', v: 'verbose' }, values: { p: 'pool' } };
  test('short, clustered, long and valued options, and --', () => {
    expect(parseArgs(['-lv', 'dom1', '--pool=x', '--', '-l'], spec)).toEqual({ options: { long: true, verbose: true, pool: 'x' }, positional: ['dom1', '-l'] });
    expect(parseArgs(['-p', 'a', '--long', '-pb'], spec).options).toEqual({ pool: 'b', long: true });
    expect(parseArgs(['--pool', 'c', '-'], spec)).toEqual({ options: { pool: 'c' }, positional: ['-'] });
  });
  test('errors are CommandErrors with clear messages', () => {
    expect(() => parseArgs(['-x'], spec)).toThrow("unknown option '-x'");
    expect(() => parseArgs(['--nope'], spec)).toThrow("unknown option '--nope'");
    expect(() => parseArgs(['-p'], spec)).toThrow("option '-p' needs a value");
    expect(() => parseArgs(['--pool'], spec)).toThrow("option '--pool' needs a value");
    expect(() => parseArgs(['--long=1'], spec)).toThrow('takes no value');
  });
});

describe('CommandRegistry', () => {
  test('dispatches commands and subcommands', () => {
    const { r } = registry();
    expect(run(r, 'xl info a b')).toBe('info a,b\n');
    expect(run(r, 'xenstore-ls')).toBe('/\n');
    expect(run(r, 'xl')).toContain('xl subcommands:\n\n info  host info\n list  domains\n');
    expect(run(r, 'help')).toContain('  xenstore-ls  list the store\n');
    expect(run(r, 'help xl')).toContain('Usage: xl <subcommand> [args]');
    expect(run(r, 'help xenstore-ls')).toBe('Usage: xenstore-ls\nlist the store\n');
    expect(() => run(r, 'help nope')).toThrow("no such command 'nope'");
    expect(() => run(r, 'xl nope')).toThrow("unknown subcommand 'nope'");
    expect(() => r.run(['nope'], { write: () => undefined })).toThrow(CommandError);
  });

  test('async handlers return their promise', async () => {
    const { r } = registry();
    await expect(r.run(['xl', 'list'], { write: () => undefined }) as Promise<void>).resolves.toBeUndefined();
  });

  test('rejects bad, duplicate and keyword names; unregister works', () => {
    const { r } = registry();
    const cmd = (name: string) => ({ name, summary: '', run: () => undefined });
    expect(() => r.register(cmd('xl'))).toThrow('already registered');
    expect(() => r.register(cmd('let'))).toThrow('keyword');
    expect(() => r.register(cmd('9lives'))).toThrow('invalid command name');
    expect(() => r.register(cmd('a b'))).toThrow('invalid command name');
    expect(r.unregister('xenstore-ls')).toBe(true);
    expect(r.get('xenstore-ls')).toBeUndefined();
  });

  test('groups complete subcommands, then delegate', () => {
    const { xl } = registry();
    expect(xl.complete([''])).toEqual(['info', 'list', 'help']);
    expect(xl.complete(['list', ''])).toEqual(['Domain-0']);
    expect(xl.complete(['info', ''])).toEqual([]);
  });
});

describe('command or JavaScript?', () => {
  const { r } = registry();
  const globals = new Set(['xl', 'hv', 'console']);
  const isCmd = (line: string) => isCommandLine(line, r, (n) => globals.has(n));

  test.each([
    ['xl info', true],
    ['  xl list -l', true],
    ['xl list Domain-0', true],
    ['xl create "my dom.cfg"', true],
    ['xl 5', true],
    ['xl --help', true],
    ['help', true],
    ['help xl', true],
    ['xenstore-ls', true],
    ['xenstore-ls /local', true],
    ['xl', false],
    ['xl.info()', false],
    ['xl .info()', false],
    ['xl = 5', false],
    ['xl == 5', false],
    ['xl + 1', false],
    ['xl - 1', false],
    ['xl in obj', false],
    ['xl instanceof Object', false],
    ['xl[0]', false],
    ['xl (1)', false],
    ['xl /boot/x', false],
    ['help /boot/x', true],
    ['help = 1', false],
    ['help()', false],
    ['hv info', false],
    ['console.log(1)', false],
    ['let x = 1', false],
    ['', false],
  ])('%s -> %s', (line, expected) => {
    expect(isCmd(line)).toBe(expected);
  });

  test('leadingCommand names the registered first word', () => {
    expect(leadingCommand('xl.info()', r)).toBe('xl');
    expect(leadingCommand('foo bar', r)).toBeUndefined();
  });
});

describe('createToolstack', () => {
  test('registers help and xl with info, list and dmesg', () => {
    const { commands, xl } = createToolstack();
    expect(commands.list().map((c) => c.name)).toEqual(['help', 'xl']);
    expect(commands.get('xl')).toBe(xl);
    expect(xl.subcommands.list().map((c) => c.name)).toEqual(['dmesg', 'info', 'list']);
  });
});
