// xl's domain commands over the fake machine: create, list, lifecycle, shutdown actions and codes, console, uptime.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { DomainTable } from '../../src/hv/domains';
import { setHypervisorConsole } from '../../src/hv/consoleLog';
import { encodeUtf8 } from '../../src/runtime/utf8';
import { inputCaptured, routeInput } from '../../src/toolstack/inputCapture';
import { CommandError } from '../../src/toolstack/registry';
import { createXlCommand } from '../../src/toolstack/xl/xl';
import { formatUptime } from '../../src/toolstack/xl/xlUptime';
import { splitWords } from '../../src/toolstack/args';
import { halt, hypercall } from '../fakeVirt';
import { harness, harnessApi, poke, type Harness } from '../hv/guestHarness';

afterEach(() => {
  setShim(undefined);
  setHypervisorConsole(() => undefined);
});

/** Runs an xl line that may return a promise; resolves with its output. */
async function xlAsync(h: Harness, line: string): Promise<string> {
  let out = '';
  await createXlCommand(h.ctx).run(splitWords(line), { write: (t) => (out += t) });
  return out;
}

/** Makes the domain's vCPU 0 shut down with a reason, optionally latching a code first. */
function shutdownSteps(h: Harness, d: ReturnType<Harness['create']>, reason: number, code?: number): void {
  poke(d, 0x8000, new Uint8Array([reason, 0, 0, 0]));
  if (code !== undefined) poke(d, 0x8004, new Uint8Array([code, 0, 0, 0]));
  const v = h.vcpu(d);
  if (code !== undefined) v.queue(hypercall(29, [5, 0x8004]));
  v.queue(hypercall(29, [2, 0x8000]), halt());
}

describe('xl create', () => {
  test('from a file with key=value overrides, -p, -n, and xl\'s message for a missing file', () => {
    const h = harness();
    h.files.set('/boot/vm.cfg', encodeUtf8('name = "vm"\ntype = "pvh"\nkernel = "k.elf"\nmemory = 4\n# a comment\nvif = []\n'));
    const out = h.xl('create vm.cfg memory=8 -p');
    expect(out).toBe('Parsing config from vm.cfg\nWARNING: vm.cfg:6: ignoring unsupported key `vif\'\n');
    expect(h.xl('list vm')).toMatch(/^vm\s+1\s+8\s+1\s+--p---\s+0\.0$/m);
    expect(JSON.parse(h.xl('create -q -n vm.cfg \'name="dry"\'')).name).toBe('dry');
    expect(h.table.byName('dry')).toBeUndefined();
    expect(() => h.xl('create nothere.cfg')).toThrow('Failed to read config file: nothere.cfg: No such file or directory');
    expect(() => h.xl('create vm.cfg memory=')).toThrow(CommandError);
    expect(() => h.xl('create')).toThrow(/usage: xl create/);
  });

  test('xl.create({...}) and the other JavaScript calls', async () => {
    const h = harness();
    const xl = harnessApi(h);
    const id = xl.create!({ name: 'js', kernel: 'k.elf', memory: 4 }, { paused: true });
    expect(xl.list('js')[0]).toMatchObject({ id, state: '--p---', mem: 4 });
    xl.unpause!('js');
    expect(() => xl.unpause!('js')).toThrow('is not paused');
    xl.pause!(id);
    expect(xl.vcpuList!('js')[0]).toMatchObject({ domid: id, vcpu: 0, online: true, running: false });
    expect((xl.listLong!('js')[0] as { config: { c_info: { name: string } } }).config.c_info.name).toBe('js');
    await expect(xl.shutdown!('js')).rejects.toThrow('PV control interface not available');
    xl.destroy!('js');
    expect(() => xl.destroy!('js')).toThrow('js is an invalid domain identifier (rc=-6)');
    expect(() => xl.create!({ name: 'x' })).toThrow('a PVH guest needs a kernel');
  });
});

describe('xl list and friends', () => {
  test('list -l prints libxl\'s JSON; Domain-0 is left out as xl does', () => {
    const h = harness();
    h.create({ name: 'a', memory: 4, maxmem: 8, on_crash: 'coredump-restart', extra: 'quiet' });
    const j = JSON.parse(h.xl('list -l'));
    expect(j).toHaveLength(1);
    expect(j[0].domid).toBe(1);
    expect(j[0].config.c_info).toMatchObject({ type: 'pvh', name: 'a' });
    expect(j[0].config.b_info).toMatchObject({ max_vcpus: 1, avail_vcpus: [0], max_memkb: 8192, target_memkb: 4096, kernel: '/boot/k.elf', cmdline: 'quiet' });
    expect(j[0].config.on_crash).toBe('coredump_restart');
    expect(h.xl('list -l 0')).toBe('[]\n');
  });

  test('pause, unpause and destroy by name or id; Domain-0 and unknown names refused as xl does', () => {
    const h = harness();
    const d = h.create({ name: 'p' });
    h.xl('pause 1');
    h.xl('pause p');
    expect(d.pauseCount).toBe(2);
    h.xl('unpause p');
    expect(h.xl('list p')).toMatch(/--p---/);
    h.xl('unpause 1');
    expect(() => h.xl('unpause p')).toThrow('domain 1 (p) is not paused');
    expect(() => h.xl('pause Domain-0')).toThrow('cannot pause Domain-0: it is zazen itself');
    expect(() => h.xl('destroy 0')).toThrow('Cannot destroy privileged domain 0.');
    expect(() => h.xl('destroy ghost')).toThrow('ghost is an invalid domain identifier (rc=-6)');
    expect(() => h.xl('destroy')).toThrow('usage: xl destroy [-f] <Domain>');
    h.xl('destroy 1');
    expect(h.xl('list')).not.toMatch(/^p /m);
  });

  test('vcpu-list and uptime in xl\'s columns', () => {
    const h = harness();
    h.fake.advance(3723000);
    const d = h.create({ name: 'up' });
    h.fake.advance(65000);
    const vl = h.xl('vcpu-list').split('\n');
    expect(vl[0]).toBe('Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)');
    expect(vl[1]).toMatch(/^Domain-0\s+0\s+0\s+0\s+r--\s+\d+\.\d  all \/ all$/);
    // xl prints the CPU column right after the VCPU one ("%5u" then "%5u" without a space), as here.
    expect(vl[2]).toBe('up                                   1     0    0   r--       0.0  all / all');
    const up = h.xl('uptime').split('\n');
    expect(up[0]).toBe('Name                                ID Uptime');
    expect(up[1]).toBe('Domain-0                             0  1:03:08');
    expect(up[2]).toBe('up                                   1  0:01:05');
    expect(h.xl(`uptime -s ${d.id}`)).toMatch(/^ \d\d:\d\d:\d\d up  0:01, up \(1\)\n$/);
    expect(formatUptime(2 * 86400 + 3600 + 61, false)).toBe('2 days,  1:01:01');
    expect(formatUptime(86400 + 59, true)).toBe('1 day,  0:00');
  });

  test('sched-credit lists, shows one domain and sets weight and cap, with xl\'s range errors', () => {
    const h = harness();
    h.create({ name: 's', cpu_weight: 128 });
    expect(h.xl('sched-credit')).toBe('Cpupool Pool-0: tslice=30ms ratelimit=0us migration-delay=0us\n' +
      'Name                                ID Weight  Cap\nDomain-0                             0    256    0\ns                                    1    128    0\n');
    h.xl('sched-credit -d s -w 1000 -c 50');
    expect(h.xl('sched-credit -d s')).toBe('Name                                ID Weight  Cap\ns                                    1   1000   50\n');
    expect(() => h.xl('sched-credit -d s -w 70000')).toThrow(/Cpu weight out of range/);
    expect(() => h.xl('sched-credit -d s -c 150')).toThrow(/Cpu cap out of range, valid range is from 0 to 100/);
    expect(() => h.xl('sched-credit -w 5')).toThrow('Must specify a domain.');
  });

  test('names are looked up by index and follow renames', () => {
    const t = new DomainTable();
    const d = { id: 3, name: 'old', vcpus: () => 1, memoryKiB: () => 0, cpuTimeNs: () => 0, flags: () => ({ running: false, blocked: false, paused: false, shutdown: false, shutdownReason: 0, dying: false }) };
    t.register(d);
    t.register({ ...d, id: 4, name: 'other' });
    t.rename(d, 'new');
    expect(t.byName('old')).toBeUndefined();
    expect(t.find('new')).toBe(d);
    expect(() => t.rename(d, 'other')).toThrow("domain name 'other' is already in use");
    t.remove(3);
    expect(t.byName('new')).toBeUndefined();
  });

  test('domain ids wrap at 0x7fef back to the lowest free id', () => {
    const t = new DomainTable();
    t.register({ id: 1, name: 'one', vcpus: () => 1, memoryKiB: () => 0, cpuTimeNs: () => 0, flags: () => ({ running: false, blocked: false, paused: false, shutdown: false, shutdownReason: 0, dying: false }) });
    let last = 0;
    for (let i = 0; i < 0x7fee; i++) last = t.allocateId();
    expect(last).toBe(0x7fef);
    expect(t.allocateId()).toBe(2);
  });
});

describe('shutdown and reboot', () => {
  test('without a PV control interface: xl\'s error, and -F finds no ACPI button', () => {
    const h = harness();
    h.create({ name: 'g' });
    expect(() => h.xl('shutdown g')).toThrow('Shutting down domain 1\nPV control interface not available: external graceful shutdown not possible.\nUse "-F" to fallback to ACPI power event.');
    expect(() => h.xl('reboot -F g')).toThrow(/Rebooting domain 1\nPV control interface not available: sending ACPI reset button event.\ndomain 1 has no ACPI reset button/);
  });

  test('a guest that announced feature-poweroff gets control/shutdown; -w waits for its shutdown', async () => {
    const h = harness();
    const d = h.create({ name: 'pv', on_poweroff: 'preserve' });
    h.xs.write(`/local/domain/${d.id}/control/feature-poweroff`, '1');
    const waiting = xlAsync(h, 'shutdown -w pv');
    expect(h.xs.read(`/local/domain/${d.id}/control/shutdown`)).toBe('poweroff');
    shutdownSteps(h, d, 0);
    h.loop.run();
    expect(await waiting).toBe('Shutting down domain 1\nWaiting for 1 domains\nDomain 1 has been shut down, reason code 0\n');
  });
});

describe('on_poweroff / on_reboot / on_crash', () => {
  test('destroy, preserve, restart (same name, new id), rename-restart', () => {
    const h = harness();
    const a = h.create({ name: 'a' });
    const b = h.create({ name: 'b', on_poweroff: 'preserve' });
    const c = h.create({ name: 'c' });
    const r = h.create({ name: 'r', on_poweroff: 'rename-restart' });
    shutdownSteps(h, a, 0);
    shutdownSteps(h, b, 0);
    shutdownSteps(h, c, 1);
    shutdownSteps(h, r, 0);
    for (let i = 0; i < 4; i++) h.loop.run();
    expect(a.destroyed).toBe(true);
    expect(h.xl('list b')).toMatch(/^b\s+2\s+4\s+1\s+---s--/m);
    expect(c.destroyed).toBe(true);
    expect(h.table.byName('c')!.id).toBe(5);
    expect(r.destroyed).toBe(false);
    expect(r.name).toMatch(/^r-\d{8}T\d{4}Z$/);
    expect(h.table.byName('r')!.id).toBe(6);
    expect(h.dmesg()).toMatch(/xl: domain 3 restarted as domain 5/);
  });

  test('shutdown codes: the latched code is the reason reported, and picks the action', () => {
    const h = harness();
    const x = h.create({ name: 'x', on_poweroff: 'preserve', on_reboot: 'preserve', on_crash: 'preserve' });
    shutdownSteps(h, x, 0, 3);
    const y = h.create({ name: 'y', on_poweroff: 'preserve' });
    shutdownSteps(h, y, 0, 42);
    h.loop.run();
    h.loop.run();
    expect(x.shutdownReason).toBe(3);
    expect(h.xl('list x')).toMatch(/---sc-/);
    // An unknown reason code: xl destroys the domain.
    expect(y.destroyed).toBe(true);
    expect(h.dmesg()).toMatch(/unknown shutdown reason code 42\. Destroying domain\./);
  });

  test('soft reset rebuilds the domain; suspend leaves it shut down', () => {
    const h = harness();
    const s = h.create({ name: 's' });
    const z = h.create({ name: 'z' });
    shutdownSteps(h, s, 5);
    shutdownSteps(h, z, 2);
    h.loop.run();
    h.loop.run();
    expect(s.destroyed).toBe(true);
    expect(h.table.byName('s')!.id).toBe(3);
    expect(h.xl('list z')).toMatch(/---ss-/);
  });
});

describe('xl console', () => {
  test('shows the log, streams output, mutes the (dN) echo, and Ctrl-] returns with the rest of the input', async () => {
    const h = harness();
    const echoed: string[] = [];
    setHypervisorConsole((t) => echoed.push(t));
    const d = h.create({ name: 'c' });
    poke(d, 0x3000, 'early\nlate\n');
    h.vcpu(d).queue(hypercall(18, [0, 6, 0x3000]), halt());
    h.loop.run();
    let out = '';
    const session = createXlCommand(h.ctx).run(['console', 'c'], { write: (t) => (out += t) }) as Promise<void>;
    expect(out).toBe('Connected to domain 1 (c); Ctrl-] returns to the REPL.\nearly\n');
    expect(inputCaptured()).toBe(true);
    expect(routeInput('typed')).toBe('');
    h.vcpu(d).queue(hypercall(18, [0, 5, 0x3006]), halt());
    h.hv.pause(d);
    h.hv.unpause(d);
    h.loop.run();
    expect(out.endsWith('early\nlate\n')).toBe(true);
    expect(echoed).toEqual(['(d1) early\n']);
    expect(routeInput('\x1dxl list\r')).toBe('xl list\r');
    await session;
    expect(inputCaptured()).toBe(false);
    expect(() => h.xl('console c extra')).toThrow(/usage/);
  });

  test('the session ends when the domain goes away', async () => {
    const h = harness();
    h.create({ name: 'gone' });
    const session = xlAsync(h, 'console gone');
    h.xl('destroy gone');
    await expect(session).resolves.toContain('Connected to domain 1 (gone)');
    expect(inputCaptured()).toBe(false);
  });
});
