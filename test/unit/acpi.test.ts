// ACPI discovery over fake host memory: RSDP search, RSDT/XSDT walk and MADT parsing.
import { describe, expect, test } from '@jest/globals';
import { checksumOk, enabledCpuCount, parseMadt, parseRsdp, scanAcpi, shimPhysReader } from '../../src/hv/acpi';
import { FakeShim } from '../fakeShim';

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}
function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}
function fixChecksum(b: number[], at: number, from = 0, to = b.length): number[] {
  b[at] = 0;
  const sum = b.slice(from, to).reduce((a, x) => (a + x) & 0xff, 0);
  b[at] = (0x100 - sum) & 0xff;
  return b;
}
function table(sig: string, body: number[], revision = 1): number[] {
  const length = 36 + body.length;
  const b = [...ascii(sig), ...le(length, 4), revision, 0, ...ascii('ZAZEN '), ...ascii('TESTTBL '), ...le(1, 4), ...ascii('ZZ  '), ...le(1, 4), ...body];
  return fixChecksum(b, 9);
}
function rsdp(revision: number, rsdt: number, xsdt: number): number[] {
  const b = [...ascii('RSD PTR '), 0, ...ascii('ZAZEN '), revision, ...le(rsdt, 4)];
  fixChecksum(b, 8, 0, 20);
  if (revision < 2) return b;
  const ext = [...b, ...le(36, 4), ...le(xsdt, 8), 0, 0, 0, 0];
  return fixChecksum(ext, 32);
}
const lapic = (uid: number, id: number, flags: number) => [0, 8, uid, id, ...le(flags, 4)];
const x2apic = (uid: number, id: number, flags: number) => [9, 16, 0, 0, ...le(id, 4), ...le(flags, 4), ...le(uid, 4)];
const ioapic = (id: number, addr: number, gsi: number) => [1, 12, id, 0, ...le(addr, 4), ...le(gsi, 4)];
const override = (src: number, gsi: number, flags: number) => [2, 10, 0, src, ...le(gsi, 4), ...le(flags, 2)];

function madt(entries: number[][]): number[] {
  return table('APIC', [...le(0xfee00000, 4), ...le(1, 4), ...entries.flat()], 3);
}

function machine(opts: { rsdpAt?: number; revision?: number; hint?: boolean; madtEntries?: number[][]; ebda?: boolean } = {}) {
  const shim = new FakeShim({ rsdp: opts.hint ? opts.rsdpAt : 0 });
  const revision = opts.revision ?? 2;
  const entries = opts.madtEntries ?? [lapic(0, 0, 1), lapic(1, 1, 1), lapic(2, 2, 2), x2apic(3, 300, 1), ioapic(4, 0xfec00000, 0), override(0, 2, 0)];
  shim.writePhys(0x7200, new Uint8Array(madt(entries)));
  shim.writePhys(0x7100, new Uint8Array(table('FACP', new Array(80).fill(0))));
  shim.writePhys(0x7000, new Uint8Array(table('XSDT', [...le(0x7100, 8), ...le(0x7200, 8)])));
  shim.writePhys(0x6000, new Uint8Array(table('RSDT', [...le(0x7100, 4), ...le(0x7200, 4)])));
  const at = opts.rsdpAt ?? 0xf6a20;
  if (opts.ebda) shim.writePhys(0x40e, new Uint8Array(le(at >> 4, 2)));
  shim.writePhys(at, new Uint8Array(rsdp(revision, 0x6000, 0x7000)));
  return shim;
}

describe('RSDP', () => {
  test('parses revision 0 and 2 and rejects bad checksums', () => {
    const v0 = parseRsdp(new Uint8Array(rsdp(0, 0x1234, 0)), 0xe0000);
    expect(v0).toEqual({ address: 0xe0000, revision: 0, oemId: 'ZAZEN', rsdtAddress: 0x1234, xsdtAddress: 0 });
    expect(parseRsdp(new Uint8Array(rsdp(2, 1, 0x123456789)), 0).xsdtAddress).toBe(0x123456789);
    const bad = rsdp(2, 1, 2);
    bad[10] ^= 1;
    expect(() => parseRsdp(new Uint8Array(bad), 0)).toThrow('bad checksum');
    const badExt = rsdp(2, 1, 2);
    badExt[30] ^= 1;
    expect(() => parseRsdp(new Uint8Array(badExt), 0)).toThrow('bad extended checksum');
    expect(() => parseRsdp(new Uint8Array(20), 0)).toThrow('no RSDP signature');
    expect(checksumOk(new Uint8Array([1, 0xff]))).toBe(true);
  });
});

describe('scanAcpi', () => {
  test('finds the RSDP in the BIOS area, walks the XSDT and counts enabled CPUs', () => {
    const shim = machine();
    const info = scanAcpi(shimPhysReader(shim), 0);
    expect(info.rsdp?.address).toBe(0xf6a20);
    expect(info.tables.map((t) => t.signature)).toEqual(['XSDT', 'FACP', 'APIC']);
    expect(info.tables.every((t) => t.checksumOk)).toBe(true);
    expect(info.madt?.localApicAddress).toBe(0xfee00000);
    expect(info.madt?.cpus).toEqual([
      { processorUid: 0, apicId: 0, enabled: true, onlineCapable: false, x2apic: false },
      { processorUid: 1, apicId: 1, enabled: true, onlineCapable: false, x2apic: false },
      { processorUid: 2, apicId: 2, enabled: false, onlineCapable: true, x2apic: false },
      { processorUid: 3, apicId: 300, enabled: true, onlineCapable: false, x2apic: true },
    ]);
    expect(info.madt?.ioApics).toEqual([{ id: 4, address: 0xfec00000, gsiBase: 0 }]);
    expect(info.madt?.overrides).toEqual([{ bus: 0, source: 0, gsi: 2, flags: 0 }]);
    expect(enabledCpuCount(info.madt!)).toBe(3);
    expect(info.warnings).toEqual([]);
  });

  test('uses the RSDT for ACPI 1.0, the EBDA, and the loader hint', () => {
    const v1 = scanAcpi(shimPhysReader(machine({ revision: 0 })), 0);
    expect(v1.tables[0].signature).toBe('RSDT');
    expect(enabledCpuCount(v1.madt!)).toBe(3);
    const ebda = scanAcpi(shimPhysReader(machine({ rsdpAt: 0x9fc00, ebda: true })), 0);
    expect(ebda.rsdp?.address).toBe(0x9fc00);
    const hinted = scanAcpi(shimPhysReader(machine({ rsdpAt: 0x5000, hint: true })), 0x5000);
    expect(hinted.rsdp?.address).toBe(0x5000);
  });

  test('a bad hint falls back to scanning, with a warning', () => {
    const shim = machine();
    const info = scanAcpi(shimPhysReader(shim), 0x100);
    expect(info.rsdp?.address).toBe(0xf6a20);
    expect(info.warnings[0]).toMatch(/^boot loader's RSDP pointer 0x100 unusable/);
  });

  test('duplicate APIC IDs count once; a corrupt entry stops the walk with a warning', () => {
    const warnings: string[] = [];
    const m = parseMadt(new Uint8Array(madt([lapic(0, 5, 1), x2apic(1, 5, 1), [0, 0], lapic(2, 6, 1)])), warnings);
    expect(enabledCpuCount(m)).toBe(1);
    expect(warnings[0]).toMatch(/bad length 0/);
  });

  test('no RSDP, unreadable memory and corrupt tables give warnings, never exceptions', () => {
    expect(scanAcpi(shimPhysReader(new FakeShim()), 0).warnings).toContain('no ACPI RSDP found');
    const tiny = new FakeShim({ memoryBytes: 0x1000 });
    const info = scanAcpi(shimPhysReader(tiny), 0);
    expect(info.rsdp).toBeUndefined();
    expect(info.warnings.some((w) => /not readable/.test(w))).toBe(true);
    const shim = machine();
    shim.writePhys(0x7204, new Uint8Array(le(0xffffffff, 4)));
    const corrupt = scanAcpi(shimPhysReader(shim), 0);
    expect(corrupt.madt).toBeUndefined();
    expect(corrupt.warnings.some((w) => /bad length/.test(w))).toBe(true);
    const badSum = machine();
    badSum.writePhys(0x7100 + 40, new Uint8Array([1]));
    expect(scanAcpi(shimPhysReader(badSum), 0).warnings).toEqual(['FACP at 0x7100: bad checksum']);
  });
});
