// ELF32/ELF64 little-endian x86 image parser: program headers, notes and Xen's PVH entry note.
import { hex } from './hex';
//
// Public API:
//   parseElf(bytes)            -> ElfImage: header, program headers, notes (PT_NOTE segments,
//                                 or SHT_NOTE sections when there is no PT_NOTE); throws ElfError.
//   loadSegments(image)        -> the PT_LOAD program headers with memsz > 0.
//   xenNotes(image, type?)     -> notes whose owner is "Xen" (optionally of one type).
//   phys32Entry(image)         -> the 32-bit physical entry from XEN_ELFNOTE_PHYS32_ENTRY (18);
//                                 throws ElfError when the image has no PVH note.
//   noteString(note), noteNumber(note) -> a note's descriptor as text or as an integer.
//
// Every offset and size read from the file is bounds-checked before use; 64-bit fields are
// read as two u32 halves. Fields the loader uses (offsets, sizes, physical addresses) must
// be below 2^53 or parsing fails; vaddr and entry are informational and may be rounded.

/** Parse failures: the message says what is wrong and where. */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const SHT_NOTE = 7;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const EM_386 = 3;
export const EM_X86_64 = 62;

/** Xen's ELF note types (xen/include/public/elfnote.h). */
export const XEN_ELFNOTE_ENTRY = 1;
export const XEN_ELFNOTE_HYPERCALL_PAGE = 2;
export const XEN_ELFNOTE_VIRT_BASE = 3;
export const XEN_ELFNOTE_XEN_VERSION = 5;
export const XEN_ELFNOTE_GUEST_OS = 6;
export const XEN_ELFNOTE_FEATURES = 10;
export const XEN_ELFNOTE_SUPPORTED_FEATURES = 17;
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export interface ElfSegment {
  type: number;
  /** PF_R | PF_W | PF_X bits. */
  flags: number;
  offset: number;
  /** Informational: may be rounded above 2^53 (kernel virtual addresses). */
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfNote {
  /** The note's name without its terminating NUL, e.g. "Xen" or "GNU". */
  owner: string;
  type: number;
  /** A view into the image's bytes (not a copy). */
  desc: Uint8Array;
}

export interface ElfImage {
  elfClass: 32 | 64;
  /** e_machine: EM_386 or EM_X86_64. */
  machine: number;
  /** e_type: 2 executable, 3 shared object. */
  fileType: number;
  /** Informational: may be rounded above 2^53. */
  entry: number;
  segments: ElfSegment[];
  notes: ElfNote[];
}

const TWO32 = 4294967296;

/** Bounds-checked little-endian reads over the file. */
class Reader {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  check(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw new ElfError(`truncated ${what}: needs bytes ${hex(offset)}-${hex(offset + size)}, file has ${hex(this.bytes.length)}`);
    }
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  /** A u64 field that must be exact (below 2^53). */
  u64(offset: number, what: string): number {
    const lo = this.view.getUint32(offset, true);
    const hi = this.view.getUint32(offset + 4, true);
    if (hi >= 0x200000) throw new ElfError(`${what} ${hex64(hi, lo)} is too large`);
    return hi * TWO32 + lo;
  }

  /** A u64 field that is only informational: rounded when above 2^53. */
  u64Loose(offset: number): number {
    return this.view.getUint32(offset + 4, true) * TWO32 + this.view.getUint32(offset, true);
  }
}

function hex64(hi: number, lo: number): string {
  return '0x' + hi.toString(16) + ('0000000' + lo.toString(16)).slice(-8);
}

/** Parses an x86 or x86-64 little-endian ELF image held in bytes; throws ElfError on any inconsistency. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const r = new Reader(bytes);
  if (r.length < 16 || r.u8(0) !== 0x7f || r.u8(1) !== 0x45 || r.u8(2) !== 0x4c || r.u8(3) !== 0x46) {
    throw new ElfError('not an ELF file (bad magic)');
  }
  const cls = r.u8(4);
  if (cls !== 1 && cls !== 2) throw new ElfError(`not an ELF file: unknown class ${cls}`);
  if (r.u8(5) !== 1) throw new ElfError('not an x86 image: ELF data is not little-endian');
  if (r.u8(6) !== 1) throw new ElfError(`unsupported ELF version ${r.u8(6)}`);
  const is64 = cls === 2;
  r.check(0, is64 ? 64 : 52, 'ELF header');
  const fileType = r.u16(16);
  const machine = r.u16(18);
  if (machine !== EM_386 && machine !== EM_X86_64) {
    throw new ElfError(`not an x86 image (e_machine ${machine})`);
  }
  if (fileType !== 2 && fileType !== 3) throw new ElfError(`not an executable ELF file (e_type ${fileType})`);
  const entry = is64 ? r.u64Loose(24) : r.u32(24);
  const phoff = is64 ? r.u64(32, 'e_phoff') : r.u32(28);
  const shoff = is64 ? r.u64(40, 'e_shoff') : r.u32(32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  if (phnum === 0xffff) throw new ElfError('extended program header numbering (PN_XNUM) is not supported');

  const segments = readProgramHeaders(r, is64, phoff, phentsize, phnum);
  let notes: ElfNote[] = [];
  let sawNoteSegment = false;
  for (const seg of segments) {
    if (seg.type !== PT_NOTE) continue;
    sawNoteSegment = true;
    r.check(seg.offset, seg.filesz, `PT_NOTE segment at ${hex(seg.offset)}`);
    notes = notes.concat(readNotes(r, seg.offset, seg.filesz, seg.align === 8 ? 8 : 4));
  }
  if (!sawNoteSegment && shnum > 0 && shoff > 0) {
    notes = readSectionNotes(r, is64, shoff, shentsize, shnum);
  }
  return { elfClass: is64 ? 64 : 32, machine, fileType, entry, segments, notes };
}

function readProgramHeaders(r: Reader, is64: boolean, phoff: number, entsize: number, num: number): ElfSegment[] {
  const segments: ElfSegment[] = [];
  if (num === 0) return segments;
  const minSize = is64 ? 56 : 32;
  if (entsize < minSize) throw new ElfError(`bad e_phentsize ${entsize} (need at least ${minSize})`);
  r.check(phoff, entsize * num, 'program header table');
  for (let i = 0; i < num; i++) {
    const o = phoff + i * entsize;
    let seg: ElfSegment;
    if (is64) {
      seg = {
        type: r.u32(o),
        flags: r.u32(o + 4),
        offset: r.u64(o + 8, `program header ${i} p_offset`),
        vaddr: r.u64Loose(o + 16),
        paddr: r.u64(o + 24, `program header ${i} p_paddr`),
        filesz: r.u64(o + 32, `program header ${i} p_filesz`),
        memsz: r.u64(o + 40, `program header ${i} p_memsz`),
        align: r.u64Loose(o + 48),
      };
    } else {
      seg = {
        type: r.u32(o),
        offset: r.u32(o + 4),
        vaddr: r.u32(o + 8),
        paddr: r.u32(o + 12),
        filesz: r.u32(o + 16),
        memsz: r.u32(o + 20),
        flags: r.u32(o + 24),
        align: r.u32(o + 28),
      };
    }
    if (seg.type === PT_LOAD) {
      if (seg.filesz > seg.memsz) {
        throw new ElfError(`program header ${i}: p_filesz ${hex(seg.filesz)} exceeds p_memsz ${hex(seg.memsz)}`);
      }
      if (seg.offset + seg.filesz > r.length) {
        throw new ElfError(`truncated program header ${i}: segment data ${hex(seg.offset)}+${hex(seg.filesz)} lies beyond the file's ${hex(r.length)} bytes`);
      }
      if (seg.paddr + seg.memsz > Number.MAX_SAFE_INTEGER) {
        throw new ElfError(`program header ${i}: p_paddr + p_memsz overflows`);
      }
    }
    segments.push(seg);
  }
  return segments;
}

function readSectionNotes(r: Reader, is64: boolean, shoff: number, entsize: number, num: number): ElfNote[] {
  const minSize = is64 ? 64 : 40;
  if (entsize < minSize) throw new ElfError(`bad e_shentsize ${entsize} (need at least ${minSize})`);
  r.check(shoff, entsize * num, 'section header table');
  let notes: ElfNote[] = [];
  for (let i = 0; i < num; i++) {
    const o = shoff + i * entsize;
    if (r.u32(o + 4) !== SHT_NOTE) continue;
    const offset = is64 ? r.u64(o + 24, `section ${i} sh_offset`) : r.u32(o + 16);
    const size = is64 ? r.u64(o + 32, `section ${i} sh_size`) : r.u32(o + 20);
    const align = is64 ? r.u64Loose(o + 48) : r.u32(o + 32);
    r.check(offset, size, `note section ${i}`);
    notes = notes.concat(readNotes(r, offset, size, align === 8 ? 8 : 4));
  }
  return notes;
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Reads the notes in [offset, offset+size); names and descriptors are padded to align bytes. */
function readNotes(r: Reader, offset: number, size: number, align: number): ElfNote[] {
  const notes: ElfNote[] = [];
  const end = offset + size;
  let p = offset;
  while (p < end) {
    if (end - p < 12) throw new ElfError(`truncated note header at ${hex(p)}`);
    const namesz = r.u32(p);
    const descsz = r.u32(p + 4);
    const type = r.u32(p + 8);
    const nameAt = p + 12;
    const descAt = nameAt + roundUp(namesz, align);
    const next = descAt + roundUp(descsz, align);
    if (descAt + descsz > end || nameAt + namesz > end) {
      throw new ElfError(`truncated note at ${hex(p)}: name ${namesz} and descriptor ${descsz} bytes overrun the note area`);
    }
    let owner = '';
    for (let i = 0; i < namesz; i++) {
      const c = r.u8(nameAt + i);
      if (c === 0) break;
      owner += String.fromCharCode(c);
    }
    notes.push({ owner, type, desc: r.bytes.subarray(descAt, descAt + descsz) });
    p = Math.min(next, end);
  }
  return notes;
}

/** Returns the PT_LOAD program headers that occupy memory (memsz > 0). */
export function loadSegments(image: ElfImage): ElfSegment[] {
  return image.segments.filter((s) => s.type === PT_LOAD && s.memsz > 0);
}

/** Returns the notes owned by "Xen", optionally only those of one type. */
export function xenNotes(image: ElfImage, type?: number): ElfNote[] {
  return image.notes.filter((n) => n.owner === 'Xen' && (type === undefined || n.type === type));
}

/** Returns a note's descriptor as text, up to its first NUL. */
export function noteString(note: ElfNote): string {
  let s = '';
  for (let i = 0; i < note.desc.length && note.desc[i] !== 0; i++) s += String.fromCharCode(note.desc[i]);
  return s;
}

/** Returns a 1-, 2-, 4- or 8-byte little-endian descriptor as a number; throws if it is another size or above 2^53. */
export function noteNumber(note: ElfNote): number {
  const d = note.desc;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  switch (d.length) {
    case 1:
      return d[0];
    case 2:
      return v.getUint16(0, true);
    case 4:
      return v.getUint32(0, true);
    case 8: {
      const hi = v.getUint32(4, true);
      if (hi >= 0x200000) throw new ElfError(`note type ${note.type}: value ${hex64(hi, v.getUint32(0, true))} is too large`);
      return hi * TWO32 + v.getUint32(0, true);
    }
    default:
      throw new ElfError(`note type ${note.type}: descriptor of ${d.length} bytes is not a number`);
  }
}

/** Returns the PVH 32-bit physical entry point (XEN_ELFNOTE_PHYS32_ENTRY, 4- or 8-byte descriptor). */
export function phys32Entry(image: ElfImage): number {
  const found = xenNotes(image, XEN_ELFNOTE_PHYS32_ENTRY);
  if (found.length === 0) {
    throw new ElfError('not a PVH kernel: no Xen PHYS32_ENTRY note (XEN_ELFNOTE_PHYS32_ENTRY, type 18)');
  }
  const note = found[0];
  if (note.desc.length !== 4 && note.desc.length !== 8) {
    throw new ElfError(`PHYS32_ENTRY note has a ${note.desc.length}-byte descriptor (expected 4 or 8)`);
  }
  const value = noteNumber(note);
  // The entry runs in 32-bit protected mode with paging off: it must be a 32-bit address.
  if (value >= TWO32) throw new ElfError(`PHYS32_ENTRY ${hex(value)} lies above 4 GiB`);
  return value;
}
