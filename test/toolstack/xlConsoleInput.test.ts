// `xl console` typing into a Linux domain's console ring (in[], in_prod, a notification), bounded; `xl create` finding configs in /etc/xen.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainAbi, HVM_PARAM_CONSOLE_EVTCHN } from '../../src/hv/domainAbi';
import { domainServices } from '../../src/hv/evtchn/services';
import { SHINFO_EVTCHN_PENDING, testBit } from '../../src/hv/evtchn/twoLevel';
import { linuxDevicesOf } from '../../src/hv/linuxDevices';
import { IN_CONS, IN_PROD, IN_SIZE, PENDING_MAX } from '../../src/drivers/consoleBackend';
import { inputCaptured, routeInput } from '../../src/toolstack/inputCapture';
import { consoleInputOf, inputBytes } from '../../src/toolstack/xl/xlConsole';
import { configCandidates } from '../../src/toolstack/xl/xlCreate';
import { createXlCommand } from '../../src/toolstack/xl/xl';
import { buildElf, leBytes } from '../hv/elfBuilder';
import { harness, type Harness } from '../hv/guestHarness';

afterEach(() => setShim(undefined));

/** The guest-physical address of the console ring page the builder gives a Linux domain. */
const RING = 0xfefff000;

/** A PVH kernel whose Xen GUEST_OS note says linux, so the domain gets a console ring. */
function linuxKernel(): Uint8Array {
  return buildElf({
    segments: [{ paddr: 0x100000, data: new Uint8Array(4096).fill(0x90) }],
    notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x100000, 4) }, { owner: 'Xen', type: 6, desc: new TextEncoder().encode('linux\0') }],
  });
}

function linuxDomain(name = 'lx') {
  const h = harness();
  h.ctx.store = h.store;
  h.files.set('/boot/linux.elf', linuxKernel());
  const d = h.create({ kernel: '/boot/linux.elf', name, memory: 16 });
  return { h, d };
}

/** Starts `xl console name`; returns what it printed so far and the session's promise. */
function attach(h: Harness, name: string) {
  const out = { text: '' };
  const session = createXlCommand(h.ctx).run(['console', name], { write: (t) => (out.text += t) }) as Promise<void>;
  return { out, session };
}

/** What the guest would read from in[]: everything between in_cons and in_prod; then consumes it. */
function guestReads(d: ReturnType<typeof linuxDomain>['d']): string {
  let cons = d.memory.readU32(RING + IN_CONS);
  const prod = d.memory.readU32(RING + IN_PROD);
  let s = '';
  while (cons !== prod) {
    s += String.fromCharCode(d.memory.read(RING + (cons & (IN_SIZE - 1)), 1)[0]);
    cons = (cons + 1) >>> 0;
  }
  d.memory.writeU32(RING + IN_CONS, cons);
  return s;
}

describe('xl console input', () => {
  test('keystrokes reach in[] as typed, in_prod moves, the console port is raised; Ctrl-] is not sent', async () => {
    const { h, d } = linuxDomain();
    const port = Number(domainAbi(d).param(HVM_PARAM_CONSOLE_EVTCHN));
    const shared = domainServices(h.hv).guestEvents(d.id)!.sharedInfo();
    expect(testBit(shared, SHINFO_EVTCHN_PENDING, port)).toBe(false);
    const { out, session } = attach(h, 'lx');
    expect(out.text).toBe('Connected to domain 1 (lx); Ctrl-] returns to the REPL.\n');
    // Enter arrives from the terminal as '\r' and goes on as '\r': the guest's tty maps it to '\n'.
    expect(routeInput('uname -r\r')).toBe('');
    expect(d.memory.readU32(RING + IN_PROD)).toBe(9);
    expect(testBit(shared, SHINFO_EVTCHN_PENDING, port)).toBe(true);
    expect(guestReads(d)).toBe('uname -r\r');
    // Ctrl-C and bytes >= 0x80 are bytes like any other.
    expect(routeInput('\x03\xe9')).toBe('');
    expect(guestReads(d)).toBe('\x03\xe9');
    // What precedes Ctrl-] goes to the guest, what follows it back to the REPL.
    expect(routeInput('ls\x1dxl list\r')).toBe('xl list\r');
    await session;
    expect(guestReads(d)).toBe('ls');
    expect(inputCaptured()).toBe(false);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(out.text).not.toMatch(/dropped/);
  });

  test('a guest that reads nothing: in[] fills, a bounded queue holds more, the rest is dropped and counted', async () => {
    const { h, d } = linuxDomain();
    const { out, session } = attach(h, 'lx');
    const chunk = 'y'.repeat(1000);
    const total = 7;
    for (let i = 0; i < total; i++) routeInput(chunk);
    const backend = linuxDevicesOf(d)!.console;
    expect(d.memory.readU32(RING + IN_PROD)).toBe(IN_SIZE);
    expect(backend.pendingInput).toBe(PENDING_MAX);
    const dropped = total * chunk.length - IN_SIZE - PENDING_MAX;
    expect(backend.droppedInput).toBe(dropped);
    routeInput('\x1d');
    await session;
    expect(out.text).toContain(`(${dropped} bytes of input were dropped: domain 1 is not reading its console)`);
    // The guest catches up: the queued bytes follow as it makes room and kicks.
    expect(guestReads(d)).toBe('y'.repeat(IN_SIZE));
    backend.kick();
    expect(guestReads(d)).toBe('y'.repeat(IN_SIZE));
  });

  test('a guest without a console ring (console_io only) gets no input, and nothing breaks', async () => {
    const h = harness();
    const d = h.create({ name: 'plain' });
    expect(consoleInputOf(d)).toBeNull();
    const { session } = attach(h, 'plain');
    expect(routeInput('typed\r')).toBe('');
    expect(routeInput('\x1d')).toBe('');
    await session;
    expect(inputCaptured()).toBe(false);
  });

  test('the input half goes away with the domain', () => {
    const { h, d } = linuxDomain();
    expect(consoleInputOf(d)).not.toBeNull();
    h.xl('destroy lx');
    expect(consoleInputOf(d)).toBeNull();
  });

  test('terminal text becomes bytes one char code each', () => {
    expect(Array.from(inputBytes('a\r\x1b[A\xff'))).toEqual([0x61, 0x0d, 0x1b, 0x5b, 0x41, 0xff]);
  });
});

describe('xl create finds its config file', () => {
  const cfg = (name: string) => new TextEncoder().encode(`name = "${name}"\ntype = "pvh"\nkernel = "/boot/k.elf"\nmemory = 4\n`);

  test('a relative name in /boot first, then in /etc/xen; an absolute path as it is', () => {
    expect(configCandidates('debian.cfg')).toEqual(['/boot/debian.cfg', '/etc/xen/debian.cfg']);
    expect(configCandidates('/etc/xen/debian.cfg')).toEqual(['/etc/xen/debian.cfg']);
    const h = harness();
    h.files.set('/etc/xen/vm.cfg', cfg('from-etc'));
    expect(h.xl('create vm.cfg')).toBe('Parsing config from vm.cfg\n');
    expect(h.table.byName('from-etc')).toBeDefined();
    h.xl('create /etc/xen/vm.cfg \'name="second"\'');
    expect(h.table.byName('second')).toBeDefined();
    h.files.set('/boot/vm.cfg', cfg('from-boot'));
    h.xl('create vm.cfg');
    expect(h.table.byName('from-boot')).toBeDefined();
    expect(() => h.xl('create /boot/nope.cfg')).toThrow('Failed to read config file: /boot/nope.cfg: No such file or directory');
    expect(() => h.xl('create nope.cfg')).toThrow('Failed to read config file: nope.cfg: No such file or directory');
  });
});
