// The domain builder: config errors as xl prints them, exact memory accounting, initial vCPU state, XenStore entries.
import { afterEach, describe, expect, test } from '@jest/globals';
import { DIRTY_ALL, HCALL_FAST, setShim, STATE } from '../../src/hv/abi';
import { hostInfo, resetHostInfoCache } from '../../src/hv/hostInfo';
import { HOST_RESERVE_BYTES } from '../../src/toolstack/domainBuilder';
import { harness } from '../hv/guestHarness';
import { buildElf, leBytes } from '../hv/elfBuilder';
import { XsClient } from '../../src/xenstore/client';

afterEach(() => setShim(undefined));

describe('errors', () => {
  test('missing kernel, not an ELF, no PVH note, too much memory, duplicate name, no SVM', () => {
    const h = harness();
    h.files.set('/boot/text', new TextEncoder().encode('hello, not a kernel'));
    h.files.set('/boot/nopvh.elf', buildElf({ segments: [{ paddr: 0x100000, data: new Uint8Array(64) }] }));
    h.files.set('/boot/badnote.elf', buildElf({ segments: [{ paddr: 0x100000, data: new Uint8Array(64) }], notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x100000, 4).subarray(0, 2) }] }));
    const before = h.fake.liveFrames.size;
    expect(() => h.create({ kernel: 'nothere.elf' })).toThrow("kernel '/boot/nothere.elf': no such file");
    expect(() => h.create({ kernel: '/boot/text' })).toThrow("kernel '/boot/text': not an ELF file");
    expect(() => h.create({ kernel: 'nopvh.elf' })).toThrow("kernel '/boot/nopvh.elf' has no PVH entry (XEN_ELFNOTE_PHYS32_ENTRY)");
    expect(() => h.create({ kernel: 'badnote.elf' })).toThrow("kernel '/boot/badnote.elf': PHYS32_ENTRY note has a 2-byte descriptor");
    expect(() => h.create({ memory: 4096 })).toThrow('memory 4096 MiB exceeds free memory 480 MiB');
    expect(() => h.create({ memory: 475 })).toThrow(`memory 475 MiB exceeds free memory 480 MiB (zazen keeps ${HOST_RESERVE_BYTES / 1048576} MiB for itself)`);
    expect(() => h.create({ ramdisk: 'initrd.gz' })).toThrow("ramdisk '/boot/initrd.gz': no such file");
    expect(() => h.create({ kernel: 'k.elf', name: 'bad name' })).toThrow(/may only contain/);
    h.create({ name: 'one' });
    expect(() => h.create({ name: 'one' })).toThrow("domain name 'one' is already in use (domain 1)");
    h.fake.virt.caps = { ...h.fake.virt.caps, usable: false, reason: 'no nested paging' };
    expect(() => h.create({ name: 'two' })).toThrow('guests cannot run on this machine: no nested paging');
    // Nothing leaked on the way: only the one domain's frames are held.
    const one = h.hv.guests()[0];
    h.hv.destroy(one);
    expect(h.fake.liveFrames.size).toBe(before);
  });

  test('a kernel segment outside guest RAM is refused and everything allocated is freed', () => {
    const h = harness();
    h.files.set('/boot/high.elf', buildElf({ segments: [{ paddr: 0x7f00000, data: new Uint8Array(64) }], notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x7f00000, 4) }] }));
    const frames = h.fake.memStats().framesAllocatedBytes;
    expect(() => h.create({ kernel: 'high.elf', memory: 16 })).toThrow(/kernel '\/boot\/high.elf': kernel segment .* lies outside guest RAM/);
    expect(h.fake.memStats().framesAllocatedBytes).toBe(frames);
    expect(h.fake.virt.domains.size).toBe(0);
  });
});

describe('memory accounting', () => {
  test('free memory drops on create and returns exactly on destroy', () => {
    const h = harness();
    resetHostInfoCache();
    const free0 = h.fake.memStats().freeBytes;
    const info0 = hostInfo(h.fake).free_memory;
    const d = h.create({ memory: 32 });
    const used = free0 - h.fake.memStats().freeBytes;
    // Guest RAM plus the 8 special pages, plus the hypervisor's own: NPT, domain and vCPU control blocks.
    expect(used).toBeGreaterThan(32 * 1048576 + 8 * 4096);
    expect(used - (32 * 1048576 + 8 * 4096)).toBeLessThanOrEqual(128 * 1024);
    expect(hostInfo(h.fake).free_memory).toBe(info0 - 33);
    expect(h.xl('list vm')).toMatch(/^vm\s+1\s+32\s+1\s/m);
    h.xl('destroy vm');
    expect(h.fake.memStats().freeBytes).toBe(free0);
    expect(hostInfo(h.fake).free_memory).toBe(info0);
    expect(h.fake.liveFrames.size).toBe(0);
  });
});

describe('what is built', () => {
  test('vCPU 0 starts at the PVH entry in 32-bit protected mode; the others are offline; tables are set', () => {
    const h = harness();
    h.files.set('/boot/k2.elf', (() => {
      const k = buildElf({ segments: [{ paddr: 0x200000, data: new Uint8Array(8192) }], notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x200040, 8) }] });
      return k;
    })());
    const d = h.create({ kernel: 'k2.elf', vcpus: 2, maxvcpus: 3, memory: 8 });
    const v = d.vcpuList[0];
    expect(v.regNumber('rip')).toBe(0x200040);
    expect(d.memory.readU32(v.regNumber('rbx'))).toBe(0x336ec578);
    expect(v.regNumber('cr0')).toBe(0x11);
    expect(v.regNumber('efer')).toBe(0x1000);
    expect(v.regNumber('rflags')).toBe(2);
    expect(v.seg('cs')).toEqual({ sel: 8, attr: 0xc9b, limit: 0xffffffff, base: 0 });
    expect(v.seg('tr').attr).toBe(0x8b);
    expect(v.dirty & DIRTY_ALL).toBe(DIRTY_ALL);
    expect(d.vcpuList.map((x) => x.online)).toEqual([true, false, false]);
    expect(h.xl('list vm')).toMatch(/^vm\s+1\s+8\s+1\s+r-----/m);
    const vl = h.xl('vcpu-list vm').split('\n');
    expect(vl[2]).toMatch(/^vm\s+1\s+1\s+-\s+--p\s+0\.0  all \/ all$/);
    const fd = h.fake.virt.domains.get(d.handle)!;
    expect(fd.npt).toBe(d.memory.nptRoot);
    expect(fd.hypercalls[2 * 17]).toBe(HCALL_FAST);
    expect(fd.cpuid!.length % 7).toBe(0);
    expect(fd.msrs!.length % 4).toBe(0);
    expect(fd.vcpus.size).toBe(3);
    expect(h.fake.virt.vcpu(d.vcpuList[1].handle).page.getUint32(STATE.rip, true)).toBe(0xfff0);
  });

  test('each domain\'s CPUID table carries its own domid in Xen leaf base+4', () => {
    const h = harness();
    const [a, b] = [h.create({ name: 'a' }), h.create({ name: 'b' })];
    const ecx = (d: typeof a): number => {
      const t = h.fake.virt.domains.get(d.handle)!.cpuid!;
      for (let i = 0; i < t.length; i += 7) if (t[i] === 0x40000004) return t[i + 4];
      return -1;
    };
    expect([ecx(a), ecx(b)]).toEqual([a.id, b.id]);
  });

  test('domain ids count up from 1 and are not reused until they wrap', () => {
    const h = harness();
    const ids = ['a', 'b', 'c'].map((name) => h.create({ name }).id);
    expect(ids).toEqual([1, 2, 3]);
    h.xl('destroy b');
    expect(h.create({ name: 'd' }).id).toBe(4);
    expect(h.create({ name: 'b' }).id).toBe(5);
  });

  test('XenStore gets the entries xl writes, with guest permissions, and loses them on destroy', () => {
    const h = harness();
    const d = h.create({ name: 'web', memory: 8, maxmem: 16, vcpus: 1, maxvcpus: 2 });
    const home = `/local/domain/${d.id}`;
    expect(h.xs.read(`${home}/name`)).toBe('web');
    expect(h.xs.read(`${home}/domid`)).toBe(String(d.id));
    expect(h.xs.read(`${home}/memory/target`)).toBe('8192');
    expect(h.xs.read(`${home}/memory/static-max`)).toBe('16384');
    expect(h.xs.read(`${home}/cpu/0/availability`)).toBe('online');
    expect(h.xs.read(`${home}/cpu/1/availability`)).toBe('offline');
    expect(h.xs.getPerms(home)).toEqual(['n0', `r${d.id}`]);
    expect(h.xs.getPerms(`${home}/control`)).toEqual([`n${d.id}`]);
    // The guest may announce what it handles, and answer requests there (as a guest connection).
    const guest = new XsClient(h.store, d.id);
    guest.write(`${home}/control/feature-poweroff`, '1');
    expect(() => guest.write(`${home}/name`, 'evil')).toThrow(/EACCES/);
    guest.close();
    expect(h.xs.getPerms(`${home}/name`)).toEqual(['n0', `r${d.id}`]);
    expect(d.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    h.xl('destroy web');
    expect(h.xs.exists(home)).toBe(false);
    expect(h.xs.list('/local/domain')).toEqual(['0']);
  });
});
