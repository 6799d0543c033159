// The REPL's xenstore-* commands over the in-process client.
import { describe, expect, test } from '@jest/globals';
import { XenStore } from '../../src/xenstore/state';
import { XsClient } from '../../src/xenstore/client';
import { xenstoreCommands } from '../../src/xenstore/commands';

function setup(): { run: (line: string) => [number, string[]]; xs: XsClient; store: XenStore } {
  const store = new XenStore();
  const xs = new XsClient(store);
  const cmds = xenstoreCommands(xs);
  const run = (line: string): [number, string[]] => {
    const [name, ...args] = line.split(' ');
    const out: string[] = [];
    return [cmds[name](args, (l) => out.push(l)), out];
  };
  return { run, xs, store };
}

describe('REPL commands', () => {
  test.each<[string[], string, number, string[]]>([
    [['xenstore-write /a/b 1 /a/c 2'], 'xenstore-read /a/b /a/c', 0, ['1', '2']],
    [['xenstore-write /a/b 1'], 'xenstore-read -p /a/b', 0, ['/a/b: 1']],
    [[], 'xenstore-read /missing', 1, ['xenstore-read: read /missing: ENOENT']],
    [[], 'xenstore-read', 2, ['usage: xenstore-read [-p] PATH...']],
    [['xenstore-write /a/b 1 /a/c 2'], 'xenstore-list /a', 0, ['b', 'c']],
    [['xenstore-write /a/b 1'], 'xenstore-list -p /a', 0, ['/a/b']],
    [['xenstore-write /a/b 1'], 'xenstore-exists /a/b', 0, []],
    [[], 'xenstore-exists /a/b', 1, []],
    [['xenstore-write /a/b/c x'], 'xenstore-ls /a', 0, ['b = ""', ' c = "x"']],
    [['xenstore-write /a/b/c x'], 'xenstore-ls -f /a', 0, ['/a/b = ""', '/a/b/c = "x"']],
    [['xenstore-write /a/b x', 'xenstore-chmod /a/b n0 r2'], 'xenstore-ls -p /a', 0, ['b = "x"  (n0,r2)']],
    [['xenstore-write /a/b/c x', 'xenstore-chmod -r /a b1'], 'xenstore-ls -p /a', 0, ['b = ""  (b1)', ' c = "x"  (b1)']],
    [['xenstore-write /a/b/c x', 'xenstore-rm -t /a/b/c'], 'xenstore-exists /a', 1, []],
    [['xenstore-write /a/b/c x', 'xenstore-rm /a/b'], 'xenstore-list /a', 0, []],
    [[], 'xenstore-write /a', 2, ['usage: xenstore-write PATH VALUE [PATH VALUE]...']],
    [[], 'xenstore-chmod /tool q9', 1, ['xenstore-chmod: set_perms /tool: EINVAL']],
    [[], 'xenstore-ls -z', 1, ['xenstore-ls: option -z: EINVAL']],
  ])('%j then %s', (before, line, code, out) => {
    const { run } = setup();
    for (const b of before) expect(run(b)[0]).toBe(0);
    expect(run(line)).toEqual([code, out]);
  });

  test('xenstore-watch prints events until -u, or COUNT with -n', () => {
    const { run, xs } = setup();
    const out: string[] = [];
    const cmds = xenstoreCommands(xs);
    expect(cmds['xenstore-watch'](['/w'], (l) => out.push(l))).toBe(0);
    xs.write('/w/x', '1');
    expect(cmds['xenstore-watch'](['-u', '/w'], () => undefined)).toBe(0);
    xs.write('/w/y', '1');
    expect(out).toEqual(['/w', '/w/x']);
    const two: string[] = [];
    cmds['xenstore-watch'](['-n', '2', '/v'], (l) => two.push(l));
    xs.write('/v', '1');
    xs.write('/v', '2');
    expect(two).toEqual(['/v', '/v']);
    expect(run('xenstore-watch -n 0 /v')[0]).toBe(2);
  });

  test('the xs object: transactions retry on conflict', () => {
    const { xs, store } = setup();
    const other = new XsClient(store);
    xs.write('/counter', '0');
    let attempts = 0;
    xs.transaction((t) => {
      attempts++;
      const n = Number(t.read('/counter'));
      if (attempts === 1) other.write('/counter', '100');
      t.write('/counter', String(n + 1));
    });
    expect(attempts).toBe(2);
    expect(xs.read('/counter')).toBe('101');
  });
});
