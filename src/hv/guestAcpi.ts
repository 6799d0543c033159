// The ACPI tables a PVH domU gets, as Xen's libxl builds them: RSDP, XSDT, hardware-reduced FADT, DSDT, MADT.
//
// Why Linux needs them at all: without a MADT listing local APICs, Linux picks
// APIC_VIRTUAL_WIRE_NO_CONFIG and never calls xen_time_init, so the guest has no timer (see
// docs/xen-abi.md §1). Like libxl with table_flags 0 the tables describe no IOAPIC, HPET,
// PM timer, RTC, VGA or 8042: the FADT is hardware-reduced (no SCI, no PM blocks) and the
// MADT's flags are 0 (no 8259 pair). The DSDT holds only its header: Linux finds CPUs in the
// MADT and needs no processor objects to boot. Every table lies in one page at a caller-chosen
// guest-physical address, which the domain builder marks ACPI (type 3) in the memory map.

import { E820_ACPI, ExtraRegion } from './pvhLayout';

/** Where zazen puts the tables by default: libxl's ACPI info area, the start of the MMIO hole above low RAM. */
export const GUEST_ACPI_GPA = 0xfc000000;
/** The local APIC's MMIO base, reported in the MADT (unused in x2APIC mode but required). */
export const LOCAL_APIC_ADDRESS = 0xfee00000;
/** Type-0 MADT entries carry an 8-bit APIC ID and 0xFF means broadcast, so at most 255 vCPUs (Xen HVM allows 128). */
export const MAX_GUEST_ACPI_VCPUS = 128;

/** FADT flags bit 20: HW_REDUCED_ACPI. */
export const FADT_HW_REDUCED_ACPI = 1 << 20;
/** FADT IAPC_BOOT_ARCH: bit 2 VGA not present, bit 5 CMOS RTC not present (bits 0/1 clear: no ISA devices, no 8042). */
export const IAPC_NO_VGA = 1 << 2;
export const IAPC_NO_CMOS_RTC = 1 << 5;

/** What the tables describe. */
export interface GuestAcpiInput {
  /** Guest-physical, page-aligned base of the page holding the tables. */
  gpa: number;
  /** vCPUs the domain has (maxvcpus); vCPU n has APIC ID and ACPI processor UID n. */
  vcpus: number;
  /** vCPUs online at boot (the first `online` of them); the rest are listed disabled. Default: all. */
  online?: number;
}

/** The built tables. */
export interface GuestAcpi {
  /** The page(s) to copy to gpa. */
  bytes: Uint8Array;
  gpa: number;
  /** Where the RSDP is: hvm_start_info.rsdp_paddr. */
  rsdpGpa: number;
  /** The region to hand planGuestPhysical: populated and typed ACPI in the memory map. */
  region: ExtraRegion;
  /** Each table's guest-physical address, by signature (RSDP, XSDT, FACP, DSDT, APIC). */
  tables: { [signature: string]: number };
}

/** Thrown for an impossible configuration. */
export class GuestAcpiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestAcpiError';
  }
}

const PAGE = 4096;
const HEADER = 36;
const OEM_ID = 'ZAZEN ';
const OEM_TABLE_ID = 'ZAZENPVH';
const CREATOR_ID = 'ZZEN';
const RSDP_SIZE = 36;
/** ACPI 5.0 FADT: up to and including SLEEP_STATUS_REG. */
const FADT_SIZE = 268;
const FADT_REVISION = 5;
const MADT_ENTRY_LAPIC = 0;
const MADT_LAPIC_SIZE = 8;

function ascii(b: Uint8Array, o: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i);
}

function sum(b: Uint8Array, start: number, length: number): number {
  let s = 0;
  for (let i = start; i < start + length; i++) s = (s + b[i]) & 0xff;
  return s;
}

/** Sets the checksum byte at checksumAt so that [start, start+length) sums to 0 mod 256. */
function fixChecksum(b: Uint8Array, start: number, length: number, checksumAt: number): void {
  b[checksumAt] = 0;
  b[checksumAt] = (256 - sum(b, start, length)) & 0xff;
}

/** Writes a standard table header at o with the given signature, length and revision (checksum set later). */
function header(page: Uint8Array, dv: DataView, o: number, signature: string, length: number, revision: number): void {
  ascii(page, o, signature);
  dv.setUint32(o + 4, length, true);
  page[o + 8] = revision;
  ascii(page, o + 10, OEM_ID);
  ascii(page, o + 16, OEM_TABLE_ID);
  dv.setUint32(o + 24, 1, true);
  ascii(page, o + 28, CREATOR_ID);
  dv.setUint32(o + 32, 1, true);
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

function setU64(dv: DataView, o: number, v: number): void {
  dv.setUint32(o, v % 4294967296, true);
  dv.setUint32(o + 4, Math.floor(v / 4294967296), true);
}

/** Builds the tables for a domain; throws GuestAcpiError on a bad address or vCPU count. */
export function buildGuestAcpi(input: GuestAcpiInput): GuestAcpi {
  const { gpa, vcpus } = input;
  const online = input.online === undefined ? vcpus : input.online;
  if (!Number.isInteger(gpa) || gpa <= 0 || gpa % PAGE !== 0 || gpa + PAGE > 2 ** 52) {
    throw new GuestAcpiError(`ACPI tables need a page-aligned guest-physical address above 0, got ${gpa}`);
  }
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_GUEST_ACPI_VCPUS) {
    throw new GuestAcpiError(`vCPU count must be 1-${MAX_GUEST_ACPI_VCPUS}, got ${vcpus}`);
  }
  if (!Number.isInteger(online) || online < 1 || online > vcpus) {
    throw new GuestAcpiError(`online vCPUs must be 1-${vcpus}, got ${online}`);
  }

  const madtSize = HEADER + 8 + MADT_LAPIC_SIZE * vcpus;
  const at = { RSDP: 0, XSDT: 0, FACP: 0, DSDT: 0, APIC: 0 };
  let o = 0;
  at.RSDP = o;
  o = align16(o + RSDP_SIZE);
  at.XSDT = o;
  o = align16(o + HEADER + 8 * 2);
  at.FACP = o;
  o = align16(o + FADT_SIZE);
  at.DSDT = o;
  o = align16(o + HEADER);
  at.APIC = o;
  o += madtSize;
  const size = Math.ceil(o / PAGE) * PAGE;
  const page = new Uint8Array(size);
  const dv = new DataView(page.buffer);
  const addr = (name: keyof typeof at): number => gpa + at[name];

  // XSDT: the FADT and the MADT (the DSDT is reached through the FADT, never listed).
  header(page, dv, at.XSDT, 'XSDT', HEADER + 16, 1);
  setU64(dv, at.XSDT + HEADER, addr('FACP'));
  setU64(dv, at.XSDT + HEADER + 8, addr('APIC'));
  fixChecksum(page, at.XSDT, HEADER + 16, at.XSDT + 9);

  // FADT: no SCI, SMI port, PM blocks or GPEs (all zero), as the hardware-reduced model allows.
  const f = at.FACP;
  header(page, dv, f, 'FACP', FADT_SIZE, FADT_REVISION);
  // 32-bit DSDT and X_DSDT agree (tables lie below 4 GiB), as libxl writes them.
  dv.setUint32(f + 40, gpa + at.DSDT < 2 ** 32 ? addr('DSDT') : 0, true);
  dv.setUint16(f + 109, IAPC_NO_VGA | IAPC_NO_CMOS_RTC, true);
  dv.setUint32(f + 112, FADT_HW_REDUCED_ACPI, true);
  page[f + 131] = 0; // FADT minor version: 5.0
  setU64(dv, f + 140, addr('DSDT'));
  fixChecksum(page, f, FADT_SIZE, f + 9);

  // DSDT revision 2: 64-bit AML integers; an empty term list is valid AML.
  header(page, dv, at.DSDT, 'DSDT', HEADER, 2);
  fixChecksum(page, at.DSDT, HEADER, at.DSDT + 9);

  // MADT revision 3 (ACPI 5.0): flags 0, so no PCAT_COMPAT 8259s; one Processor Local APIC per vCPU.
  const m = at.APIC;
  header(page, dv, m, 'APIC', madtSize, 3);
  dv.setUint32(m + 36, LOCAL_APIC_ADDRESS, true);
  dv.setUint32(m + 40, 0, true);
  for (let i = 0; i < vcpus; i++) {
    const e = m + HEADER + 8 + MADT_LAPIC_SIZE * i;
    page[e] = MADT_ENTRY_LAPIC;
    page[e + 1] = MADT_LAPIC_SIZE;
    page[e + 2] = i; // ACPI processor UID
    page[e + 3] = i; // APIC ID = vCPU id, what the vLAPIC's ID register reports
    // Enabled for online vCPUs; 0 for the others, which Linux counts as hot-pluggable (libacpi does the same).
    dv.setUint32(e + 4, i < online ? 1 : 0, true);
  }
  fixChecksum(page, m, madtSize, m + 9);

  // RSDP revision 2: the first checksum covers the ACPI 1.0 part (20 bytes), the second all 36.
  ascii(page, at.RSDP, 'RSD PTR ');
  ascii(page, at.RSDP + 9, OEM_ID);
  page[at.RSDP + 15] = 2;
  dv.setUint32(at.RSDP + 16, 0, true); // no RSDT: every reader of a revision-2 RSDP takes the XSDT
  dv.setUint32(at.RSDP + 20, RSDP_SIZE, true);
  setU64(dv, at.RSDP + 24, addr('XSDT'));
  fixChecksum(page, at.RSDP, 20, at.RSDP + 8);
  fixChecksum(page, at.RSDP, RSDP_SIZE, at.RSDP + 32);

  const tables: { [signature: string]: number } = {};
  for (const k of Object.keys(at) as (keyof typeof at)[]) tables[k] = addr(k);
  return { bytes: page, gpa, rsdpGpa: addr('RSDP'), region: { gpa, size, type: E820_ACPI }, tables };
}
