// The Linux domain profile: chosen by the GUEST_OS note; x2APIC policy, ACPI tables, console and XenStore rings on their special pages.
import { afterEach, describe, expect, test } from '@jest/globals';
import { MSR_CONST, MSR_FORWARD, MSR_STORED, setShim } from '../../src/hv/abi';
import { domainAbi, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from '../../src/hv/domainAbi';
import { profileMsrs } from '../../src/hv/domainPolicy';
import { domainServices } from '../../src/hv/evtchn/services';
import { SHINFO_EVTCHN_PENDING, testBit } from '../../src/hv/evtchn/twoLevel';
import { kernelProfile } from '../../src/toolstack/domainBuilder';
import { RING } from '../../src/xenstore/ring';
import { buildElf, leBytes } from '../hv/elfBuilder';
import { harness, pvhKernel } from '../hv/guestHarness';

afterEach(() => setShim(undefined));

const text = (s: string) => new TextEncoder().encode(s);

/** A PVH kernel whose Xen GUEST_OS note says os. */
function kernelFor(os: string): Uint8Array {
  return buildElf({
    segments: [{ paddr: 0x100000, data: new Uint8Array(4096).fill(0x90) }],
    notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x100000, 4) }, { owner: 'Xen', type: 6, desc: text(os + '\0') }],
  });
}

/** The rows of a shim MSR table as [msr, action]. */
function msrRows(t: Uint32Array): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < t.length; i += 4) m.set(t[i], t[i + 1]);
  return m;
}

describe('profile selection', () => {
  test('a GUEST_OS "linux" note selects linux, anything else plain', () => {
    expect(kernelProfile(kernelFor('linux'))).toBe('linux');
    expect(kernelProfile(kernelFor('Linux'))).toBe('linux');
    expect(kernelProfile(kernelFor('FreeBSD'))).toBe('plain');
    expect(kernelProfile(pvhKernel())).toBe('plain');
  });

  test('the linux MSR rows forward APIC_BASE and the x2APIC range and add SYSCFG, TSC_AUX, NB_CFG', () => {
    const plain = new Map(profileMsrs('plain').map((e) => [e.msr, e.action]));
    const linux = new Map(profileMsrs('linux').map((e) => [e.msr, e.action]));
    expect(plain.get(0x1b)).toBe(MSR_CONST);
    expect(plain.has(0x800)).toBe(false);
    expect(linux.get(0x1b)).toBe(MSR_FORWARD);
    expect(linux.get(0x802)).toBe(MSR_FORWARD);
    expect(linux.get(0x83f)).toBe(MSR_FORWARD);
    expect(linux.get(0xc0010010)).toBe(MSR_CONST);
    expect(linux.get(0xc0000103)).toBe(MSR_STORED);
    expect(linux.get(0xc001001f)).toBe(MSR_STORED);
    expect(profileMsrs('linux').filter((e) => e.msr === 0x1b)).toHaveLength(1);
  });
});

describe('a linux domain', () => {
  function linuxDomain() {
    const h = harness();
    h.ctx.store = h.store;
    h.files.set('/boot/linux.elf', kernelFor('linux'));
    const d = h.create({ kernel: '/boot/linux.elf', name: 'lx', memory: 16 });
    return { h, d };
  }

  test('gets the x2APIC policy, ACPI tables in an ACPI range and their RSDP in the start info', () => {
    const { h, d } = linuxDomain();
    const fd = h.fake.virt.domains.get(d.handle)!;
    expect(msrRows(fd.msrs!).get(0x80f)).toBe(MSR_FORWARD);
    const acpi = d.memmap.find((e) => e.addr === 0xfc000000);
    expect(acpi).toEqual({ addr: 0xfc000000, size: 4096, type: 3 });
    expect(new TextDecoder().decode(d.memory.read(0xfc000000, 8))).toBe('RSD PTR ');
    // hvm_start_info.rsdp_paddr (offset 32); the start info is at EBX.
    const startInfo = Number(d.vcpuList[0].reg('rbx'));
    expect(d.memory.readU64(startInfo + 32)).toBe(0xfc000000);
    // A plain kernel gets none of it.
    const p = h.create({ name: 'plain' });
    expect(p.memmap.some((e) => e.type === 3)).toBe(false);
    expect(msrRows(h.fake.virt.domains.get(p.handle)!.msrs!).get(0x1b)).toBe(MSR_CONST);
  });

  test('its console ring output reaches the domain console when the guest sends on the console port', () => {
    const { h, d } = linuxDomain();
    const abi = domainAbi(d);
    expect(abi.param(HVM_PARAM_CONSOLE_PFN)).toBe(0xfefffn);
    const port = Number(abi.param(HVM_PARAM_CONSOLE_EVTCHN));
    expect(port).toBeGreaterThan(0);
    const page = 0xfefff000;
    d.memory.write(page + 1024, text('hello from hvc0\n'));
    d.memory.writeU32(page + 3084, 16);
    expect(domainServices(h.hv).evtchn.send(d.id, port)).toBe(0);
    expect(d.console.text()).toContain('hello from hvc0');
    expect(d.memory.readU32(page + 3080)).toBe(16);
  });

  test('its XenStore ring answers a read of its own name', () => {
    const { h, d } = linuxDomain();
    const abi = domainAbi(d);
    expect(abi.param(HVM_PARAM_STORE_PFN)).toBe(0xfeffcn);
    const port = Number(abi.param(HVM_PARAM_STORE_EVTCHN));
    const page = 0xfeffc000;
    const path = text(`/local/domain/${d.id}/name\0`);
    // xsd_sockmsg { type XS_READ (2), req_id 7, tx_id 0, len } + path.
    d.memory.writeU32(page, 2);
    d.memory.writeU32(page + 4, 7);
    d.memory.writeU32(page + 8, 0);
    d.memory.writeU32(page + 12, path.length);
    d.memory.write(page + 16, path);
    d.memory.writeU32(page + RING.REQ_PROD, 16 + path.length);
    expect(domainServices(h.hv).evtchn.send(d.id, port)).toBe(0);
    expect(d.memory.readU32(page + RING.REQ_CONS)).toBe(16 + path.length);
    expect(d.memory.readU32(page + RING.RSP_PROD)).toBe(16 + 2);
    expect(d.memory.readU32(page + RING.RSP + 0)).toBe(2);
    expect(d.memory.readU32(page + RING.RSP + 4)).toBe(7);
    expect(new TextDecoder().decode(d.memory.read(page + RING.RSP + 16, 2))).toBe('lx');
    // The response was signalled: the store port is pending in the guest's shared_info.
    const shared = domainServices(h.hv).guestEvents(d.id)!.sharedInfo();
    expect(testBit(shared, SHINFO_EVTCHN_PENDING, port)).toBe(true);
  });

  test('a watch fired by another connection reaches the guest\'s ring without a kick from the guest', async () => {
    const { h, d } = linuxDomain();
    const port = Number(domainAbi(d).param(HVM_PARAM_STORE_EVTCHN));
    const page = 0xfeffc000;
    const body = text(`/local/domain/${d.id}/control/shutdown\0tok\0`);
    // XS_WATCH (4): the reply and the initial event come at once.
    d.memory.writeU32(page, 4);
    d.memory.writeU32(page + 4, 1);
    d.memory.writeU32(page + 8, 0);
    d.memory.writeU32(page + 12, body.length);
    d.memory.write(page + 16, body);
    d.memory.writeU32(page + RING.REQ_PROD, 16 + body.length);
    domainServices(h.hv).evtchn.send(d.id, port);
    await Promise.resolve();
    const after = d.memory.readU32(page + RING.RSP_PROD);
    expect(after).toBeGreaterThan(0);
    // The guest consumed everything; now domain 0 writes the node.
    d.memory.writeU32(page + RING.RSP_CONS, after);
    h.xs.write(`/local/domain/${d.id}/control/shutdown`, 'poweroff');
    await new Promise((r) => setTimeout(r, 0));
    const prod = d.memory.readU32(page + RING.RSP_PROD);
    expect(prod).toBeGreaterThan(after);
    expect(d.memory.readU32(page + RING.RSP + (after % 1024))).toBe(15);
  });

  test('its XenStore connection and domain 0\'s two ports close when it is destroyed', () => {
    const { h, d } = linuxDomain();
    const ev = domainServices(h.hv).evtchn;
    const open0 = () => {
      let n = 0;
      for (let p = 1; p < 64; p++) {
        const st = ev.status(0, p);
        if (typeof st !== 'number' && st.status !== 0) n++;
      }
      return n;
    };
    const guestConns = () => Array.from(h.store.connections).filter((c) => c.domid === d.id && !c.closed).length;
    expect(guestConns()).toBe(1);
    expect(open0()).toBe(2);
    h.hv.destroy(d);
    expect(guestConns()).toBe(0);
    expect(open0()).toBe(0);
  });
});
