// xl info / list / dmesg: real figures from the (fake) machine in xl's exact formats.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { formatHwCaps, hwCaps, topology, virtCaps } from '../../src/hv/cpuInfo';
import { DomainTable, createDomain0, domains, type Domain } from '../../src/hv/domains';
import { formatCpuMhz, hostInfo, resetHostInfoCache } from '../../src/hv/hostInfo';
import { LogRing, dmesg, hvLog, log } from '../../src/hv/log';
import { formatInfoLine, formatXlInfo } from '../../src/toolstack/xl/xlInfo';
import { XL_LIST_HEADER, domainRow, formatRow, formatXlList, listDomains } from '../../src/toolstack/xl/xlList';
import { createXlApi, createXlCommand } from '../../src/toolstack/xl/xl';
import { splitWords } from '../../src/toolstack/args';
import { FakeShim, QEMU64_SVM_CPUID } from '../fakeShim';

let fake: FakeShim;
// main.ts registers Domain-0 in the hypervisor's table at boot; do the same here.
if (!domains.get(0)) domains.register(createDomain0());
beforeEach(() => {
  fake = new FakeShim();
  setShim(fake);
  resetHostInfoCache();
  hvLog.clear();
});
afterEach(() => setShim(undefined));

function runXl(line: string): string {
  let out = '';
  const r = createXlCommand().run(splitWords(line), { write: (t) => (out += t) });
  expect(r).toBeUndefined();
  return out;
}

describe('cpuInfo', () => {
  test('hw_caps words follow Xen featureset order', () => {
    expect(formatHwCaps(hwCaps(fake))).toBe('078bfbfd:80002001:2191abff:00000005:00000000:00000000:00000000:00000000');
  });

  test('SVM with NPT is "hvm hap"; SVMDIS, missing NPT, VMX with and without EPT', () => {
    expect(virtCaps(fake)).toMatchObject({ vendor: 'svm', hvm: true, hap: true });
    const disabled = new FakeShim({ msrs: { 0xc0010114: 0x10n } });
    expect(virtCaps(disabled)).toMatchObject({ hvm: false, hap: false, notes: ['SVM disabled by firmware (VM_CR.SVMDIS)'] });
    const noNpt = new FakeShim({ cpuid: { ...QEMU64_SVM_CPUID, '0x8000000a': [1, 16, 0, 0] } });
    expect(virtCaps(noNpt)).toMatchObject({ hvm: true, hap: false });
    const intel = { '0': [0xd, 0x756e6547, 0x6c65746e, 0x49656e69] as [number, number, number, number], '1': [0x906ea, 0, 0x20, 0] as [number, number, number, number] };
    const ept = new FakeShim({ cpuid: intel, msrs: { 0x3a: 5n, 0x482: 1n << 63n, 0x48b: 1n << 33n } });
    expect(virtCaps(ept)).toMatchObject({ vendor: 'vmx', hvm: true, hap: true });
    expect(virtCaps(new FakeShim({ cpuid: intel }))).toMatchObject({ vendor: 'vmx', hvm: true, hap: false });
    expect(virtCaps(new FakeShim({ cpuid: intel, msrs: { 0x3a: 1n } }))).toMatchObject({ hvm: false });
    expect(virtCaps(new FakeShim({ cpuid: { '0': [1, 0, 0, 0] } }))).toMatchObject({ vendor: 'none', hvm: false });
  });

  test('topology from leaf 0xB, AMD leaves or leaf 1', () => {
    const leafB = new FakeShim({ cpuid: { '0': [0xb, 0, 0, 0], '0xb:0': [1, 2, 0x100, 0], '0xb:1': [4, 8, 0x201, 0], '0xb:2': [0, 0, 0, 0] } });
    expect(topology(leafB)).toEqual({ threadsPerCore: 2, coresPerSocket: 4 });
    expect(topology(fake)).toEqual({ threadsPerCore: 1, coresPerSocket: 1 });
    const htt = new FakeShim({ cpuid: { '0': [1, 0, 0, 0], '1': [0, 0x040000, 0, 1 << 28] } });
    expect(topology(htt)).toEqual({ threadsPerCore: 1, coresPerSocket: 4 });
  });
});

describe('xl info', () => {
  test('prints every field with xl key padding and real figures', () => {
    const text = runXl('info');
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, 25).trimEnd().replace(/ +:$/, ''))).toEqual([
      'host', 'release', 'version', 'machine', 'nr_cpus', 'max_cpu_id', 'nr_nodes', 'cores_per_socket', 'threads_per_core',
      'cpu_mhz', 'hw_caps', 'virt_caps', 'total_memory', 'free_memory', 'sharing_freed_memory', 'sharing_used_memory',
      'outstanding_claims', 'free_cpus', 'xen_major', 'xen_minor', 'xen_extra', 'xen_version', 'xen_caps', 'xen_scheduler',
      'xen_pagesize', 'platform_params', 'xen_changeset', 'xen_commandline', 'cc_compiler', 'cc_compile_by',
      'cc_compile_domain', 'cc_compile_date', 'build_id', 'xend_config_format',
    ]);
    expect(text).toContain('\nnr_cpus                : 1\n');
    expect(text).toContain('\ncpu_mhz                : 2994.375\n');
    expect(text).toContain('\nvirt_caps              : hvm hap\n');
    expect(text).toContain('\ntotal_memory           : 512\n');
    expect(text).toContain('\nfree_memory            : 480\n');
    expect(text).toContain('\nxen_version            : 4.17-zazen\n');
    expect(text).toContain('\nxen_commandline        : zazen.elf loglvl=all\n');
    expect(text).toContain('\nbuild_id               : \n');
    expect(text.endsWith('xend_config_format     : 4\n')).toBe(true);
  });

  test('a single field prints its value; bad fields and options are errors', () => {
    expect(runXl('info free_memory')).toBe('480\n');
    expect(() => runXl('info nope')).toThrow("no such field 'nope'");
    expect(() => runXl('info -n')).toThrow('not supported');
    expect(() => runXl('info a b')).toThrow('usage');
  });

  test('virt_caps is printed as xl prints it, including when empty', () => {
    expect(formatInfoLine('virt_caps', '')).toBe('virt_caps              :');
    expect(formatInfoLine('virt_caps', 'hvm')).toBe('virt_caps              : hvm');
    expect(formatInfoLine('xen_major', 4)).toBe('xen_major              : 4');
  });

  test('nr_cpus comes from the MADT when there is one; memory is truncated to MiB', () => {
    const info = hostInfo(new FakeShim({ memStats: { totalBytes: 1024 * 1024 * 1024 - 1, freeBytes: 5 * 1024 * 1024 + 1 } }));
    expect(info.total_memory).toBe(1023);
    expect(info.free_memory).toBe(5);
    expect(formatCpuMhz(1_000_000_999)).toBe('1000.000');
    expect(formatCpuMhz(3_400_012_345)).toBe('3400.012');
    expect(formatXlInfo(info)).toContain('max_cpu_id             : 0\n');
  });
});

describe('xl list', () => {
  test('Domain-0 in xl columns: memory = image + stacks + heap, time = uptime', () => {
    fake.advance(1234);
    const text = runXl('list');
    expect(text).toBe(
      `${XL_LIST_HEADER}\n` +
        'Domain-0                                     0    11     1     r-----       1.2\n',
    );
    expect(XL_LIST_HEADER).toBe('Name                                        ID   Mem VCPUs\tState\tTime(s)');
  });

  test('rows for other domains, state letters and selection by name or id', () => {
    const table = new DomainTable();
    table.register(createDomain0());
    const guest: Domain = {
      id: 7,
      name: 'a-guest-with-a-name-longer-than-forty-characters',
      vcpus: () => 2,
      memoryKiB: () => 524287,
      cpuTimeNs: () => 12.35e9,
      flags: () => ({ running: false, blocked: true, paused: true, shutdown: true, shutdownReason: 4, dying: true }),
    };
    table.register(guest);
    expect(formatRow(domainRow(guest))).toBe('a-guest-with-a-name-longer-than-forty-characters     7   511     2     -bpswd      12.3');
    expect(listDomains(table, ['7', 'Domain-0']).map((r) => r.id)).toEqual([7, 0]);
    expect(() => listDomains(table, ['ghost'])).toThrow("domain 'ghost' does not exist");
    expect(formatXlList([])).toBe(`${XL_LIST_HEADER}\n`);
    expect(() => table.register({ ...guest, id: 8 })).toThrow('already in use');
    expect(() => table.register({ ...guest, id: 7, name: 'x' })).toThrow('already in use');
    expect(() => table.register({ ...guest, id: -1, name: 'y' })).toThrow(RangeError);
    expect(table.nextFreeId()).toBe(1);
    expect(table.remove(7)).toBe(true);
  });

  test('unsupported options are refused clearly', () => {
    expect(() => runXl('list -v')).toThrow('--verbose is not supported yet');
  });
});

describe('xl dmesg and the log ring', () => {
  test('shim boot log, then TypeScript lines with timestamps; -c clears', () => {
    fake.advance(1500);
    log('zazen: REPL ready');
    expect(runXl('dmesg')).toBe('zazen: shim up\nzazen: 512 MiB RAM\n[   1.500000] zazen: REPL ready\n');
    expect(runXl('dmesg -c')).toContain('REPL ready');
    expect(runXl('dmesg')).toBe('');
    log('later');
    expect(dmesg()).toBe('[   1.500000] later\n');
  });

  test('the ring drops its oldest lines and says so', () => {
    const ring = new LogRing(2);
    ring.append('a\nb', 0);
    ring.append('c', 1e9);
    expect(ring.entries().map((e) => e.text)).toEqual(['b', 'c']);
    expect(ring.format()).toBe('(1 older lines dropped)\n[   0.000000] b\n[   1.000000] c\n');
  });
});

describe('the xl global', () => {
  test('mirrors the commands with data', () => {
    const api = createXlApi(createXlCommand(), splitWords);
    expect(api.info().nr_cpus).toBe(1);
    expect(api.list().map((r) => r.name)).toEqual(['Domain-0']);
    expect(api.run('info xen_minor')).toBe('17\n');
    expect(typeof api.dmesg()).toBe('string');
  });
});
