// A domain's console: sanitised log and "(dN)" echo, raw terminal bytes for an attached xl console.
import { afterEach, expect, test } from '@jest/globals';
import { DomainConsole, setHypervisorConsole } from '../../src/hv/consoleLog';

afterEach(() => setHypervisorConsole(() => undefined));

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('terminal output reaches raw listeners as is; the log, the echo and plain listeners get printable text', () => {
  const echoed: string[] = [];
  setHypervisorConsole((t) => echoed.push(t));
  const c = new DomainConsole(3);
  const raw: string[] = [];
  const plain: string[] = [];
  const stopRaw = c.listen((t) => raw.push(t), true);
  c.listen((t) => plain.push(t));
  c.write(bytes('/ # \x1b[6nls\r\n'), true);
  expect(raw).toEqual(['/ # \x1b[6nls\r\n']);
  expect(plain).toEqual(['/ # [6nls\n']);
  expect(c.text()).toBe('/ # [6nls\n');
  expect(echoed.join('')).toContain('(d3) / # [6nls');
  // console_io output (not a terminal) is sanitised for everyone, as Xen's hypervisor console is.
  c.write(bytes('a\x07b\n'));
  expect(raw[1]).toBe('ab\n');
  // The log drops the ESC and keeps the printable rest; raw listeners get the whole sequence.
  c.write(bytes('\x1b[J'), true);
  expect(raw[2]).toBe('\x1b[J');
  expect(c.text()).toBe('/ # [6nls\nab\n[J');
  stopRaw();
  c.write(bytes('x\n'), true);
  expect(raw.length).toBe(3);
});
