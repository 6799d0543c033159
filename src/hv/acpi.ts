// ACPI discovery: find the RSDP, walk the RSDT/XSDT and read the MADT's processors and I/O APICs.
import type { Shim } from './abi';

/** Reads host-physical memory; throws when the range is not readable. */
export type PhysReader = (addr: number, length: number) => Uint8Array;

/** A PhysReader over the shim's physView. */
export function shimPhysReader(s: Shim): PhysReader {
  return (addr, length) => new Uint8Array(s.physView(addr, length));
}

/** The Root System Description Pointer. */
export interface Rsdp {
  address: number;
  revision: number;
  oemId: string;
  rsdtAddress: number;
  /** 0 for ACPI 1.0 (revision 0). */
  xsdtAddress: number;
}

/** A system description table's header and where it lives. */
export interface TableHeader {
  signature: string;
  address: number;
  length: number;
  revision: number;
  oemId: string;
  oemTableId: string;
  checksumOk: boolean;
}

/** A processor the MADT lists (Local APIC or Local x2APIC entry). */
export interface MadtCpu {
  processorUid: number;
  apicId: number;
  enabled: boolean;
  onlineCapable: boolean;
  x2apic: boolean;
}

/** What zazen uses from the MADT. */
export interface Madt {
  localApicAddress: number;
  /** Bit 0: the machine also has dual 8259 PICs. */
  flags: number;
  cpus: MadtCpu[];
  ioApics: { id: number; address: number; gsiBase: number }[];
  overrides: { bus: number; source: number; gsi: number; flags: number }[];
}

/** Everything found, plus warnings about anything malformed that was skipped. */
export interface AcpiInfo {
  rsdp?: Rsdp;
  tables: TableHeader[];
  madt?: Madt;
  warnings: string[];
}

const SDT_HEADER_SIZE = 36;
// No sane table is this large; a bigger length means a corrupt header.
const MAX_TABLE_SIZE = 1 << 20;
const RSDP_SIGNATURE = 'RSD PTR ';

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function u64(b: Uint8Array, o: number): number {
  const high = u32(b, o + 4);
  // Host RAM and firmware tables lie far below 2^53, so a number holds any real address.
  if (high >= 0x200000) throw new RangeError('64-bit ACPI address beyond 2^53');
  return high * 2 ** 32 + u32(b, o);
}

function ascii(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[o + i]);
  return s.replace(/[\0 ]+$/, '');
}

/** True when the bytes sum to 0 modulo 256, ACPI's checksum rule. */
export function checksumOk(b: Uint8Array, start = 0, length = b.length): boolean {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum = (sum + b[i]) & 0xff;
  return sum === 0;
}

/** Parses and validates an RSDP image (20 bytes for revision 0, 36 for 2+); throws if invalid. */
export function parseRsdp(b: Uint8Array, address: number): Rsdp {
  if (b.length < 20 || ascii(b, 0, 8) !== RSDP_SIGNATURE.trimEnd()) throw new Error(`no RSDP signature at 0x${address.toString(16)}`);
  if (!checksumOk(b, 0, 20)) throw new Error(`RSDP at 0x${address.toString(16)}: bad checksum`);
  const revision = b[15];
  const rsdp: Rsdp = { address, revision, oemId: ascii(b, 9, 6), rsdtAddress: u32(b, 16), xsdtAddress: 0 };
  if (revision >= 2) {
    const length = u32(b, 20);
    if (length < 36 || length > b.length) throw new Error(`RSDP at 0x${address.toString(16)}: bad length ${length}`);
    if (!checksumOk(b, 0, length)) throw new Error(`RSDP at 0x${address.toString(16)}: bad extended checksum`);
    rsdp.xsdtAddress = u64(b, 24);
  }
  return rsdp;
}

function isSignatureAt(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 8; i++) if (b[o + i] !== RSDP_SIGNATURE.charCodeAt(i)) return false;
  return true;
}

function scanRegion(read: PhysReader, base: number, length: number): Rsdp | undefined {
  const b = read(base, length);
  // The RSDP sits on a 16-byte boundary (ACPI spec, "Finding the RSDP on IA-PC systems").
  for (let o = 0; o + 20 <= b.length; o += 16) {
    if (!isSignatureAt(b, o)) continue;
    try {
      return parseRsdp(b.subarray(o, Math.min(o + 36, b.length)), base + o);
    } catch {
      // A stray signature with a bad checksum: keep looking.
    }
  }
  return undefined;
}

/** Finds the RSDP: the boot loader's pointer if given, else the EBDA's first KiB, else 0xE0000-0xFFFFF. */
export function findRsdp(read: PhysReader, hint: number, warnings: string[]): Rsdp | undefined {
  if (hint) {
    try {
      return parseRsdp(read(hint, 36), hint);
    } catch (err) {
      warnings.push(`boot loader's RSDP pointer 0x${hint.toString(16)} unusable: ${(err as Error).message}`);
    }
  }
  try {
    // The BIOS data area word at 0x40E holds the EBDA's real-mode segment.
    const ebda = u16(read(0x40e, 2), 0) << 4;
    if (ebda >= 0x80000 && ebda < 0xa0000) {
      const found = scanRegion(read, ebda, 1024);
      if (found) return found;
    }
  } catch (err) {
    warnings.push(`EBDA not readable: ${(err as Error).message}`);
  }
  try {
    return scanRegion(read, 0xe0000, 0x20000);
  } catch (err) {
    warnings.push(`BIOS area 0xE0000-0xFFFFF not readable: ${(err as Error).message}`);
  }
  return undefined;
}

/** Reads a whole table at address, after checking its header's length. */
export function readTable(read: PhysReader, address: number): { header: TableHeader; bytes: Uint8Array } {
  const head = read(address, SDT_HEADER_SIZE);
  const length = u32(head, 4);
  if (length < SDT_HEADER_SIZE || length > MAX_TABLE_SIZE) {
    throw new Error(`table at 0x${address.toString(16)} has bad length ${length}`);
  }
  const bytes = read(address, length);
  const header: TableHeader = {
    signature: ascii(bytes, 0, 4),
    address,
    length,
    revision: bytes[8],
    oemId: ascii(bytes, 10, 6),
    oemTableId: ascii(bytes, 16, 8),
    checksumOk: checksumOk(bytes),
  };
  return { header, bytes };
}

/** Parses a MADT ("APIC") table's processor, I/O APIC and override entries. */
export function parseMadt(b: Uint8Array, warnings: string[] = []): Madt {
  const length = Math.min(u32(b, 4), b.length);
  const madt: Madt = { localApicAddress: u32(b, 36), flags: u32(b, 40), cpus: [], ioApics: [], overrides: [] };
  let o = 44;
  while (o + 2 <= length) {
    const type = b[o];
    const len = b[o + 1];
    if (len < 2 || o + len > length) {
      warnings.push(`MADT entry at offset ${o} has bad length ${len}; rest of table skipped`);
      break;
    }
    if (type === 0 && len >= 8) {
      const flags = u32(b, o + 4);
      madt.cpus.push({ processorUid: b[o + 2], apicId: b[o + 3], enabled: (flags & 1) !== 0, onlineCapable: (flags & 2) !== 0, x2apic: false });
    } else if (type === 1 && len >= 12) {
      madt.ioApics.push({ id: b[o + 2], address: u32(b, o + 4), gsiBase: u32(b, o + 8) });
    } else if (type === 2 && len >= 10) {
      madt.overrides.push({ bus: b[o + 2], source: b[o + 3], gsi: u32(b, o + 4), flags: u16(b, o + 8) });
    } else if (type === 9 && len >= 16) {
      const flags = u32(b, o + 8);
      madt.cpus.push({ processorUid: u32(b, o + 12), apicId: u32(b, o + 4), enabled: (flags & 1) !== 0, onlineCapable: (flags & 2) !== 0, x2apic: true });
    }
    o += len;
  }
  return madt;
}

/** Number of usable processors: enabled entries, each APIC ID counted once. */
export function enabledCpuCount(madt: Madt): number {
  const ids = new Set<number>();
  for (const cpu of madt.cpus) if (cpu.enabled) ids.add(cpu.apicId);
  return ids.size;
}

/** Finds the RSDP, lists the tables of the XSDT (or RSDT) and parses the MADT; never throws. */
export function scanAcpi(read: PhysReader, rsdpHint: number): AcpiInfo {
  const info: AcpiInfo = { tables: [], warnings: [] };
  try {
    info.rsdp = findRsdp(read, rsdpHint, info.warnings);
    if (!info.rsdp) {
      info.warnings.push('no ACPI RSDP found');
      return info;
    }
    const useXsdt = info.rsdp.xsdtAddress !== 0;
    const root = readTable(read, useXsdt ? info.rsdp.xsdtAddress : info.rsdp.rsdtAddress);
    info.tables.push(root.header);
    if (!root.header.checksumOk) info.warnings.push(`${root.header.signature}: bad checksum`);
    const entrySize = useXsdt ? 8 : 4;
    for (let o = SDT_HEADER_SIZE; o + entrySize <= root.header.length; o += entrySize) {
      const address = useXsdt ? u64(root.bytes, o) : u32(root.bytes, o);
      try {
        const table = readTable(read, address);
        info.tables.push(table.header);
        if (!table.header.checksumOk) info.warnings.push(`${table.header.signature} at 0x${address.toString(16)}: bad checksum`);
        if (table.header.signature === 'APIC' && !info.madt) info.madt = parseMadt(table.bytes, info.warnings);
      } catch (err) {
        info.warnings.push(`table at 0x${address.toString(16)} unreadable: ${(err as Error).message}`);
      }
    }
    if (!info.madt) info.warnings.push('no MADT (APIC table) found');
  } catch (err) {
    info.warnings.push(`ACPI scan failed: ${(err as Error).message}`);
  }
  return info;
}
