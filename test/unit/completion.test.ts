// Tab completion: commands, subcommands and their arguments, globals and property chains.
import { describe, expect, test } from '@jest/globals';
import { isCommandLine } from '../../src/toolstack/commandLine';
import { completeLine, propertyGroups } from '../../src/toolstack/repl/completion';
import { CommandGroup, CommandRegistry } from '../../src/toolstack/registry';

const commands = new CommandRegistry();
const xl = new CommandGroup('xl', 'toolstack');
xl.subcommands.register({ name: 'info', summary: '', run: () => undefined, complete: () => ['free_memory', 'nr_cpus'] });
xl.subcommands.register({ name: 'list', summary: '', run: () => undefined });
commands.register(xl);
commands.register({ name: 'xenstore-ls', summary: '', run: () => undefined });

class Base {
  inherited(): void {}
}
class Thing extends Base {
  own = 1;
  other = 2;
}
const global = {
  hv: { info: () => 1, inspect: 2, log: 3, nested: { deep: { x: 1 } } },
  xl: { info: () => 1 },
  thing: new Thing(),
  text: 'abc',
  'not-an-identifier': 1,
};
const env = { global, commands, isCommandLine: (line: string) => isCommandLine(line, commands, (n) => n in global) };
const complete = (line: string) => completeLine(line, env);

describe('completion', () => {
  test('properties of a name chain, own first then each prototype level', () => {
    const c = complete('hv.in');
    expect(c.token).toBe('hv.in');
    expect(c.candidates.filter((x) => x.startsWith('hv.in'))).toEqual(['hv.info', 'hv.inspect']);
    expect(complete('x = hv.nested.deep.').candidates[0]).toBe('hv.nested.deep.x');
    const groups = propertyGroups(global.thing, 't.');
    expect(groups.slice(0, 3)).toEqual(['t.other', 't.own', '']);
    expect(groups).toContain('t.inherited');
    expect(groups).toContain('t.hasOwnProperty');
    expect(complete('text.toUpp').candidates).toContain('text.toUpperCase');
  });

  test('global names, keywords and (at line start) commands', () => {
    const c = complete('t');
    expect(c.candidates).toEqual(expect.arrayContaining(['thing', 'text', 'typeof', 'toString']));
    expect(c.candidates).not.toContain('not-an-identifier');
    expect(complete('x').candidates).toContain('xl');
    expect(complete('xen').candidates).toEqual(expect.arrayContaining(['xenstore-ls']));
    expect(complete('1 + xe').candidates).not.toContain('xenstore-ls');
  });

  test('command subcommands and arguments', () => {
    expect(complete('xl ')).toEqual({ candidates: ['help', 'info', 'list'], token: '' });
    expect(complete('xl in')).toEqual({ candidates: ['help', 'info', 'list'], token: 'in' });
    expect(complete('xl info fr')).toEqual({ candidates: ['free_memory', 'nr_cpus'], token: 'fr' });
    expect(complete('xl list ').candidates).toEqual([]);
    expect(complete('xenstore-ls ').candidates).toEqual([]);
  });

  test('unknown roots, bracket expressions and numbers complete to nothing', () => {
    expect(complete('nothing.he').candidates).toEqual([]);
    expect(complete('a[0].').candidates).toEqual([]);
    expect(complete('f().').candidates).toEqual([]);
    expect(complete('1.').candidates).toEqual([]);
    expect(complete('xl "open').candidates).toEqual([]);
  });
});
