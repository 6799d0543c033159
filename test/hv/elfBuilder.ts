// Builds small ELF32/ELF64 images in memory for the ELF parser and PVH layout tests.

export interface BuildSegment {
  type?: number;
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number;
  flags?: number;
}

export interface BuildNote {
  owner: string;
  type: number;
  desc: Uint8Array;
}

export interface BuildOptions {
  elfClass?: 32 | 64;
  machine?: number;
  entry?: number;
  segments?: BuildSegment[];
  notes?: BuildNote[];
  /** Where notes go: a PT_NOTE segment (default), an SHT_NOTE section, or both. */
  notesIn?: 'segment' | 'section' | 'both';
}

/** Descriptor bytes of a little-endian integer of size 4 or 8. */
export function leBytes(value: number, size: 4 | 8): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, value % 4294967296, true);
  if (size === 8) v.setUint32(4, Math.floor(value / 4294967296), true);
  return b;
}

function noteBlob(notes: BuildNote[]): Uint8Array {
  const parts: number[] = [];
  const push32 = (n: number): void => {
    parts.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  };
  for (const n of notes) {
    push32(n.owner.length + 1);
    push32(n.desc.length);
    push32(n.type);
    for (let i = 0; i < n.owner.length; i++) parts.push(n.owner.charCodeAt(i));
    parts.push(0);
    while (parts.length % 4) parts.push(0);
    for (const b of n.desc) parts.push(b);
    while (parts.length % 4) parts.push(0);
  }
  return new Uint8Array(parts);
}

/** Returns the bytes of an ELF image with the given segments and notes. */
export function buildElf(opts: BuildOptions = {}): Uint8Array {
  const is64 = (opts.elfClass || 64) === 64;
  const segs = opts.segments || [];
  const notes = opts.notes || [];
  const where = opts.notesIn || 'segment';
  const blob = noteBlob(notes);
  const withNoteSeg = notes.length > 0 && where !== 'section';
  const withNoteSec = notes.length > 0 && where !== 'segment';
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const phnum = segs.length + (withNoteSeg ? 1 : 0);
  let off = ehsize + phnum * phentsize;
  const noteOff = off;
  off += blob.length;
  const dataOffs: number[] = [];
  for (const s of segs) {
    off = Math.ceil(off / 16) * 16;
    dataOffs.push(off);
    off += s.data.length;
  }
  off = Math.ceil(off / 8) * 8;
  const shoff = withNoteSec ? off : 0;
  const shnum = withNoteSec ? 2 : 0;
  const total = off + shnum * shentsize;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const u64 = (o: number, n: number): void => {
    v.setUint32(o, n % 4294967296, true);
    v.setUint32(o + 4, Math.floor(n / 4294967296), true);
  };
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, opts.machine === undefined ? (is64 ? 62 : 3) : opts.machine, true);
  v.setUint32(20, 1, true);
  if (is64) {
    u64(24, opts.entry || 0);
    u64(32, ehsize);
    u64(40, shoff);
    v.setUint16(52, ehsize, true);
    v.setUint16(54, phentsize, true);
    v.setUint16(56, phnum, true);
    v.setUint16(58, shentsize, true);
    v.setUint16(60, shnum, true);
  } else {
    v.setUint32(24, opts.entry || 0, true);
    v.setUint32(28, ehsize, true);
    v.setUint32(32, shoff, true);
    v.setUint16(40, ehsize, true);
    v.setUint16(42, phentsize, true);
    v.setUint16(44, phnum, true);
    v.setUint16(46, shentsize, true);
    v.setUint16(48, shnum, true);
  }
  const phdr = (i: number, type: number, flags: number, offset: number, vaddr: number, paddr: number, filesz: number, memsz: number, align: number): void => {
    const o = ehsize + i * phentsize;
    v.setUint32(o, type, true);
    if (is64) {
      v.setUint32(o + 4, flags, true);
      u64(o + 8, offset);
      u64(o + 16, vaddr);
      u64(o + 24, paddr);
      u64(o + 32, filesz);
      u64(o + 40, memsz);
      u64(o + 48, align);
    } else {
      v.setUint32(o + 4, offset, true);
      v.setUint32(o + 8, vaddr, true);
      v.setUint32(o + 12, paddr, true);
      v.setUint32(o + 16, filesz, true);
      v.setUint32(o + 20, memsz, true);
      v.setUint32(o + 24, flags, true);
      v.setUint32(o + 28, align, true);
    }
  };
  segs.forEach((s, i) => {
    phdr(i, s.type === undefined ? 1 : s.type, s.flags === undefined ? 5 : s.flags, dataOffs[i], s.vaddr === undefined ? s.paddr : s.vaddr, s.paddr, s.data.length, s.memsz === undefined ? s.data.length : s.memsz, 16);
    out.set(s.data, dataOffs[i]);
  });
  if (withNoteSeg) phdr(segs.length, 4, 4, noteOff, 0, 0, blob.length, blob.length, 4);
  out.set(blob, noteOff);
  if (withNoteSec) {
    const o = shoff + shentsize;
    v.setUint32(o + 4, 7, true);
    if (is64) {
      u64(o + 24, noteOff);
      u64(o + 32, blob.length);
      u64(o + 48, 4);
    } else {
      v.setUint32(o + 16, noteOff, true);
      v.setUint32(o + 20, blob.length, true);
      v.setUint32(o + 32, 4, true);
    }
  }
  return out;
}
