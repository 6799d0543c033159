// Tests for the guest ACPI tables: parsed back with zazen's own host-side ACPI parser, every checksum and field checked.
import { describe, expect, test } from '@jest/globals';
import { checksumOk, PhysReader, readTable, scanAcpi } from '../../src/hv/acpi';
import {
  buildGuestAcpi,
  FADT_HW_REDUCED_ACPI,
  GuestAcpi,
  GuestAcpiError,
  GUEST_ACPI_GPA,
  IAPC_NO_CMOS_RTC,
  IAPC_NO_VGA,
  LOCAL_APIC_ADDRESS,
} from '../../src/hv/guestAcpi';
import { GuestMemory } from '../../src/hv/guestMemory';
import { E820_ACPI, planGuestPhysical } from '../../src/hv/pvhLayout';
import { FakeFrames } from './fakeFrames';

/** A reader over the built page only: anything outside it throws, as unmapped memory would. */
function readerOf(acpi: GuestAcpi): PhysReader {
  return (addr, length) => {
    const o = addr - acpi.gpa;
    if (o < 0 || o + length > acpi.bytes.length) throw new RangeError(`0x${addr.toString(16)}+${length} outside the tables`);
    return acpi.bytes.slice(o, o + length);
  };
}

function u32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
}

describe('buildGuestAcpi', () => {
  test('RSDP → XSDT → FADT, MADT parse cleanly with the host parser', () => {
    const acpi = buildGuestAcpi({ gpa: GUEST_ACPI_GPA, vcpus: 2 });
    const info = scanAcpi(readerOf(acpi), acpi.rsdpGpa);
    expect(info.warnings).toEqual([]);
    expect(info.rsdp).toMatchObject({ address: GUEST_ACPI_GPA, revision: 2, rsdtAddress: 0, xsdtAddress: acpi.tables.XSDT });
    expect(info.tables.map((t) => t.signature)).toEqual(['XSDT', 'FACP', 'APIC']);
    expect(info.tables.every((t) => t.checksumOk)).toBe(true);
    expect(info.madt).toEqual({
      localApicAddress: LOCAL_APIC_ADDRESS,
      flags: 0,
      cpus: [
        { processorUid: 0, apicId: 0, enabled: true, onlineCapable: false, x2apic: false },
        { processorUid: 1, apicId: 1, enabled: true, onlineCapable: false, x2apic: false },
      ],
      ioApics: [],
      overrides: [],
    });
    expect(acpi.bytes.length).toBe(4096);
    expect(acpi.region).toEqual({ gpa: GUEST_ACPI_GPA, size: 4096, type: E820_ACPI });
  });

  test('the FADT is revision 5, hardware-reduced, no VGA or CMOS RTC, and points at a valid DSDT', () => {
    const acpi = buildGuestAcpi({ gpa: 0x10000, vcpus: 1 });
    const read = readerOf(acpi);
    const fadt = readTable(read, acpi.tables.FACP);
    expect(fadt.header).toMatchObject({ signature: 'FACP', revision: 5, length: 268, checksumOk: true });
    const f = fadt.bytes;
    expect(u32(f, 112)).toBe(FADT_HW_REDUCED_ACPI);
    expect(f[109] | (f[110] << 8)).toBe(IAPC_NO_VGA | IAPC_NO_CMOS_RTC);
    // No SCI interrupt, no SMI command port, no PM1a event/control blocks.
    expect(f[46] | (f[47] << 8)).toBe(0);
    expect(u32(f, 48)).toBe(0);
    expect(u32(f, 56)).toBe(0);
    expect(u32(f, 64)).toBe(0);
    const xDsdt = u32(f, 140) + u32(f, 144) * 2 ** 32;
    expect(xDsdt).toBe(acpi.tables.DSDT);
    expect(u32(f, 40)).toBe(acpi.tables.DSDT);
    const dsdt = readTable(read, xDsdt);
    expect(dsdt.header).toMatchObject({ signature: 'DSDT', length: 36, revision: 2, checksumOk: true });
  });

  test('both RSDP checksums hold and a flipped byte breaks them', () => {
    const acpi = buildGuestAcpi({ gpa: 0x10000, vcpus: 4 });
    const o = acpi.rsdpGpa - acpi.gpa;
    expect(checksumOk(acpi.bytes, o, 20)).toBe(true);
    expect(checksumOk(acpi.bytes, o, 36)).toBe(true);
    const broken = { ...acpi, bytes: acpi.bytes.slice() };
    broken.bytes[o + 30] ^= 1;
    const info = scanAcpi(readerOf(broken), broken.rsdpGpa);
    expect(info.rsdp).toBeUndefined();
    expect(info.warnings.join(' ')).toMatch(/extended checksum/);
  });

  test('offline vCPUs are listed disabled; 128 vCPUs, the maximum, are all listed', () => {
    const some = buildGuestAcpi({ gpa: 0x20000, vcpus: 4, online: 1 });
    const madt = scanAcpi(readerOf(some), some.rsdpGpa).madt!;
    expect(madt.cpus.map((c) => c.enabled)).toEqual([true, false, false, false]);

    const big = buildGuestAcpi({ gpa: 0x20000, vcpus: 128 });
    const info = scanAcpi(readerOf(big), big.rsdpGpa);
    expect(info.warnings).toEqual([]);
    expect(info.madt!.cpus.map((c) => c.apicId)).toEqual(Array.from({ length: 128 }, (_, i) => i));
    expect(big.bytes.length % 4096).toBe(0);
    expect(big.region.size).toBe(big.bytes.length);
  });

  test('bad input gets a clear error', () => {
    expect(() => buildGuestAcpi({ gpa: 0x10001, vcpus: 1 })).toThrow(GuestAcpiError);
    expect(() => buildGuestAcpi({ gpa: 0, vcpus: 1 })).toThrow(/page-aligned/);
    expect(() => buildGuestAcpi({ gpa: 0x10000, vcpus: 0 })).toThrow(/vCPU count/);
    expect(() => buildGuestAcpi({ gpa: 0x10000, vcpus: 129 })).toThrow(/vCPU count/);
    expect(() => buildGuestAcpi({ gpa: 0x10000, vcpus: 2, online: 3 })).toThrow(/online/);
    expect(() => buildGuestAcpi({ gpa: 0x10000, vcpus: 2.5 })).toThrow(GuestAcpiError);
  });

  test('placed through the PVH plan into guest memory, the tables read back from the guest and are typed ACPI', () => {
    const acpi = buildGuestAcpi({ gpa: GUEST_ACPI_GPA, vcpus: 2 });
    const plan = planGuestPhysical(16, { extra: [acpi.region] });
    expect(plan.memmap).toContainEqual({ addr: GUEST_ACPI_GPA, size: 4096, type: E820_ACPI });
    const frames = new FakeFrames({ frames: 8192 });
    const mem = GuestMemory.create(frames, plan.populate);
    try {
      mem.write(acpi.gpa, acpi.bytes);
      const info = scanAcpi((addr, len) => mem.read(addr, len), acpi.rsdpGpa);
      expect(info.warnings).toEqual([]);
      expect(info.madt!.cpus).toHaveLength(2);
    } finally {
      mem.destroy();
    }
  });
});
