// Tests for the ELF parser: synthetic images for every rule and error, and real images from as/ld checked against readelf.
import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  ElfError,
  loadSegments,
  noteNumber,
  noteString,
  parseElf,
  phys32Entry,
  xenNotes,
  XEN_ELFNOTE_GUEST_OS,
  XEN_ELFNOTE_PHYS32_ENTRY,
} from '../../src/hv/elf';
import { buildElf, leBytes } from './elfBuilder';

const text = (s: string): Uint8Array => new Uint8Array(Array.from(s).map((c) => c.charCodeAt(0)));

function pvhElf(elfClass: 32 | 64, descSize: 4 | 8, notesIn: 'segment' | 'section' | 'both' = 'segment'): Uint8Array {
  return buildElf({
    elfClass,
    entry: 0x100000,
    segments: [
      { paddr: 0x100000, vaddr: elfClass === 64 ? 0x80100000 : 0xc0100000, data: new Uint8Array([0xf4, 0xeb, 0xfd]), flags: 5 },
      { paddr: 0x200000, data: new Uint8Array(100).fill(1), memsz: 0x3000, flags: 6 },
      { type: 6, paddr: 0, data: new Uint8Array(0) },
    ],
    notes: [
      { owner: 'GNU', type: 3, desc: new Uint8Array(20) },
      { owner: 'Xen', type: XEN_ELFNOTE_GUEST_OS, desc: text('linux\0') },
      { owner: 'Xen', type: XEN_ELFNOTE_PHYS32_ENTRY, desc: leBytes(0x100000, descSize) },
    ],
    notesIn,
  });
}

describe('parsing', () => {
  for (const elfClass of [32, 64] as const) {
    for (const descSize of [4, 8] as const) {
      test(`ELF${elfClass} with a ${descSize}-byte PHYS32_ENTRY note`, () => {
        const img = parseElf(pvhElf(elfClass, descSize));
        expect(img.elfClass).toBe(elfClass);
        expect(img.machine).toBe(elfClass === 64 ? 62 : 3);
        expect(img.entry).toBe(0x100000);
        const loads = loadSegments(img);
        expect(loads.map((s) => [s.paddr, s.filesz, s.memsz, s.flags])).toEqual([
          [0x100000, 3, 3, 5],
          [0x200000, 100, 0x3000, 6],
        ]);
        expect(loads[0].vaddr).toBe(elfClass === 64 ? 0x80100000 : 0xc0100000);
        expect(img.notes.map((n) => n.owner)).toEqual(['GNU', 'Xen', 'Xen']);
        expect(xenNotes(img)).toHaveLength(2);
        expect(noteString(xenNotes(img, XEN_ELFNOTE_GUEST_OS)[0])).toBe('linux');
        expect(phys32Entry(img)).toBe(0x100000);
      });
    }
  }

  test('notes come from SHT_NOTE sections when there is no PT_NOTE segment', () => {
    for (const elfClass of [32, 64] as const) {
      const img = parseElf(pvhElf(elfClass, 4, 'section'));
      expect(img.segments.some((s) => s.type === 4)).toBe(false);
      expect(phys32Entry(img)).toBe(0x100000);
    }
    // With both, the segment is used and the section is not read twice.
    expect(parseElf(pvhElf(64, 8, 'both')).notes).toHaveLength(3);
  });

  test('descriptor helpers', () => {
    const note = (desc: number[]): { owner: string; type: number; desc: Uint8Array } => ({ owner: 'Xen', type: 1, desc: new Uint8Array(desc) });
    expect(noteNumber(note([0x34, 0x12]))).toBe(0x1234);
    expect(noteNumber(note([1, 0, 0, 0, 1, 0, 0, 0]))).toBe(2 ** 32 + 1);
    expect(() => noteNumber(note([0, 0, 0, 0, 0, 0, 0, 0xff]))).toThrow(/too large/);
    expect(() => noteNumber(note([1, 2, 3]))).toThrow(/not a number/);
  });
});

describe('errors', () => {
  const good = pvhElf(64, 8);
  const patched = (mutate: (b: Uint8Array, v: DataView) => void, base = good): Uint8Array => {
    const b = base.slice();
    mutate(b, new DataView(b.buffer));
    return b;
  };

  test('not an ELF file', () => {
    expect(() => parseElf(new Uint8Array(0))).toThrow('not an ELF file');
    expect(() => parseElf(text('#!/bin/sh\necho hello\n'))).toThrow('not an ELF file');
    expect(() => parseElf(patched((b) => (b[4] = 3)))).toThrow(/unknown class 3/);
  });

  test('not an x86 image', () => {
    expect(() => parseElf(patched((b, v) => v.setUint16(18, 183, true)))).toThrow('not an x86 image (e_machine 183)');
    expect(() => parseElf(patched((b) => (b[5] = 2)))).toThrow(/not an x86 image: .*little-endian/);
    expect(() => parseElf(patched((b, v) => v.setUint16(16, 1, true)))).toThrow(/not an executable/);
  });

  test('truncated headers and data', () => {
    expect(() => parseElf(good.subarray(0, 40))).toThrow(/truncated ELF header/);
    expect(() => parseElf(good.subarray(0, 64 + 56 * 2))).toThrow(/truncated program header table/);
    // First PT_LOAD's data claims more bytes than the file holds.
    expect(() => parseElf(patched((b, v) => v.setUint32(64 + 32, 0x100000, true)))).toThrow(/p_filesz 0x100000 exceeds p_memsz/);
    expect(() => parseElf(patched((b, v) => { v.setUint32(64 + 32, 0x100000, true); v.setUint32(64 + 40, 0x100000, true); }))).toThrow(/truncated program header 0/);
    // The note segment's size runs past the end of the file.
    expect(() => parseElf(patched((b, v) => v.setUint32(64 + 3 * 56 + 32, 0x10000, true)))).toThrow(/truncated PT_NOTE segment/);
    expect(() => parseElf(patched((b, v) => v.setUint16(54, 20, true)))).toThrow(/bad e_phentsize/);
    expect(() => parseElf(patched((b, v) => v.setUint16(56, 0xffff, true)))).toThrow(/PN_XNUM/);
  });

  test('malformed notes', () => {
    const noteAt = new DataView(good.buffer).getUint32(64 + 3 * 56 + 8, true);
    // The first note's descsz is made huge.
    expect(() => parseElf(patched((b, v) => v.setUint32(noteAt + 4, 0x7fffffff, true)))).toThrow(/truncated note at/);
    // The note area is shrunk to 5 bytes: not even a header.
    expect(() => parseElf(patched((b, v) => v.setUint32(64 + 3 * 56 + 32, 5, true)))).toThrow(/truncated note header/);
  });

  test('oversized 64-bit fields', () => {
    expect(() => parseElf(patched((b, v) => v.setUint32(64 + 24 + 4, 0xffffffff, true)))).toThrow(/p_paddr 0xffffffff.* is too large/);
    expect(() => parseElf(patched((b, v) => v.setUint32(36, 0x00400000, true)))).toThrow(/e_phoff .* too large/);
  });

  test('no PVH note, or a bad one', () => {
    const plain = buildElf({ segments: [{ paddr: 0x100000, data: new Uint8Array(4) }] });
    expect(() => phys32Entry(parseElf(plain))).toThrow(/no Xen PHYS32_ENTRY note/);
    const wrongOwner = buildElf({ notes: [{ owner: 'Xen2', type: 18, desc: leBytes(0x1000, 4) }] });
    expect(() => phys32Entry(parseElf(wrongOwner))).toThrow(ElfError);
    const odd = buildElf({ notes: [{ owner: 'Xen', type: 18, desc: new Uint8Array(2) }] });
    expect(() => phys32Entry(parseElf(odd))).toThrow(/2-byte descriptor/);
    const high = buildElf({ notes: [{ owner: 'Xen', type: 18, desc: leBytes(2 ** 32 + 0x1000, 8) }] });
    expect(() => phys32Entry(parseElf(high))).toThrow(/above 4 GiB/);
  });

  test('random corruption never escapes as anything but ElfError', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const b = (round % 2 ? good : pvhElf(32, 4)).slice(0, 16 + rnd(good.length));
      for (let k = 0; k < 4; k++) b[rnd(b.length)] = rnd(256);
      b[0] = 0x7f;
      b[1] = 0x45;
      b[2] = 0x4c;
      b[3] = 0x46;
      try {
        const img = parseElf(b);
        try {
          phys32Entry(img);
        } catch (e) {
          expect(e).toBeInstanceOf(ElfError);
        }
      } catch (e) {
        expect(e).toBeInstanceOf(ElfError);
      }
    }
  });
});

describe('images built by the real toolchain (as, ld), checked against readelf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zazen-elf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (bits: 32 | 64): string => {
    const ptr = bits === 64 ? '.quad' : '.long';
    const base = bits === 64 ? '0xffffffff80000000' : '0xc0000000';
    const src = `
.section .note.Xen, "a", @note
.balign 4
.long 4; .long ${bits / 8}; .long 18
.asciz "Xen"
.balign 4
${ptr} pvh_start - ${base}
.balign 4
.text
.globl pvh_start
pvh_start: hlt; jmp pvh_start
.data
.long 0x12345678
.bss
.space 8192
`;
    const ld = `
OUTPUT_FORMAT("${bits === 64 ? 'elf64-x86-64' : 'elf32-i386'}")
ENTRY(pvh_start)
SECTIONS {
  . = ${base} + 0x1000000;
  .text : AT(ADDR(.text) - ${base}) { *(.text) }
  . = ALIGN(0x1000);
  .notes : AT(ADDR(.notes) - ${base}) { *(.note.*) }
  .data : AT(ADDR(.data) - ${base}) { *(.data) }
  .bss : AT(ADDR(.bss) - ${base}) { *(.bss) }
  /DISCARD/ : { *(.note.gnu.property) }
}
`;
    writeFileSync(join(dir, `k${bits}.S`), src);
    writeFileSync(join(dir, `k${bits}.ld`), ld);
    execFileSync('as', [`--${bits}`, '-o', join(dir, `k${bits}.o`), join(dir, `k${bits}.S`)]);
    execFileSync('ld', ['-m', bits === 64 ? 'elf_x86_64' : 'elf_i386', '-T', join(dir, `k${bits}.ld`), '-o', join(dir, `k${bits}.elf`), join(dir, `k${bits}.o`)]);
    return join(dir, `k${bits}.elf`);
  };

  for (const bits of [32, 64] as const) {
    test(`ELF${bits}: program headers and the PVH entry match readelf`, () => {
      const file = build(bits);
      const img = parseElf(new Uint8Array(readFileSync(file)));
      const listing = execFileSync('readelf', ['-lW', file]).toString();
      const rows = listing.split('\n').filter((l) => /^\s+(LOAD|NOTE)\s/.test(l));
      const loadsAndNotes = img.segments.filter((s) => s.type === 1 || s.type === 4);
      expect(loadsAndNotes).toHaveLength(rows.length);
      rows.forEach((row, i) => {
        const f = row.trim().split(/\s+/);
        const s = loadsAndNotes[i];
        expect(s.type).toBe(f[0] === 'LOAD' ? 1 : 4);
        expect(s.offset).toBe(parseInt(f[1], 16));
        expect(s.paddr).toBe(parseInt(f[3], 16));
        expect(s.filesz).toBe(parseInt(f[4], 16));
        expect(s.memsz).toBe(parseInt(f[5], 16));
        const flags = (f[6].indexOf('R') >= 0 ? 4 : 0) | (f[6].indexOf('W') >= 0 ? 2 : 0) | (row.indexOf(' E ') >= 0 || f[6].indexOf('E') >= 0 ? 1 : 0);
        expect(s.flags).toBe(flags);
      });
      const sym = execFileSync('readelf', ['-sW', file]).toString().split('\n').find((l) => / pvh_start$/.test(l)) as string;
      const vaddr = parseInt(sym.trim().split(/\s+/)[1], 16);
      expect(phys32Entry(img)).toBe(vaddr - (bits === 64 ? 0xffffffff80000000 : 0xc0000000));
      expect(phys32Entry(img)).toBe(0x1000000);
      expect(loadSegments(img).some((s) => s.memsz > s.filesz)).toBe(true);
    });
  }
});
