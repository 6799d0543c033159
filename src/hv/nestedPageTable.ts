// The nested page table (AMD NPT) of one domain: AMD64 long-mode 4-level format in host frames.
//
// Public API (used by GuestMemory, which owns the frames):
//   new NestedPageTable(tables)          tables.alloc() gives a zeroed host frame for a table,
//                                        tables.view(addr) its 512 entries as 1024 u32 halves.
//   npt.root                             host-physical address of the PML4 (the VMCB's nCR3).
//   npt.mapRun(gfn, hfn, from, to)       maps gfn+from .. gfn+to-1 to the host frames hfn[from..to),
//                                        using a 2 MiB page wherever a 2 MiB-aligned guest range is
//                                        backed by one 2 MiB-aligned contiguous run of host frames.
//   npt.setLeaf(gfn, hostAddr, rights)   one 4 KiB entry (rights 0 = not present), splitting a
//                                        2 MiB page on the way; says whether a TLB flush is needed.
//   npt.leaves()                         every leaf, by walking the table from the root.
//
// Every entry has P, RW and US set: the guest's own page-table walks go through the nested
// table as user accesses that also write accessed/dirty bits, so a read-only or
// supervisor-only nested entry would fault them (an NPF with EXITINFO1 bit 33). PWT, PCD
// and PAT stay 0 (write-back; the guest's PAT refines it); NX stays 0.

export const NPT_P = 1;
export const NPT_RW = 2;
export const NPT_US = 4;
const NPT_PS = 0x80;
const ALL = NPT_P | NPT_RW | NPT_US;
const PAGE = 4096;
const TWO32 = 4294967296;
const LARGE = 512;

/** Where the table's frames come from. */
export interface TableFrames {
  alloc(): number;
  view(addr: number): Uint32Array;
}

/** One leaf of the nested page table. */
export interface NptLeaf {
  gfn: number;
  hostAddr: number;
  /** 1 or 512 frames. */
  frames: number;
  writable: boolean;
}

/** Index into the table at level (1 = PT ... 4 = PML4) for a gfn. */
function tableIndex(gfn: number, level: number): number {
  return Math.floor(gfn / 2 ** (9 * (level - 1))) % 512;
}

function entryAddr(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO32 + (lo >>> 12) * PAGE;
}

function put(t: Uint32Array, idx: number, addr: number, flags: number): void {
  t[2 * idx + 1] = Math.floor(addr / TWO32);
  t[2 * idx] = (addr % TWO32) + flags;
}

/** True when hfn[i..i+512) is one 2 MiB-aligned contiguous run of host frames. */
function isLargeRun(hfn: Uint32Array, i: number): boolean {
  const first = hfn[i];
  if (first % LARGE !== 0) return false;
  for (let k = 1; k < LARGE; k++) if (hfn[i + k] !== first + k) return false;
  return true;
}

export class NestedPageTable {
  readonly root: number;

  constructor(private readonly tables: TableFrames) {
    this.root = tables.alloc();
  }

  /** Maps gfn+from .. gfn+to-1 to hfn[from..to), with 2 MiB pages where alignment and contiguity allow. */
  mapRun(gfn: number, hfn: Uint32Array, from: number, to: number): void {
    let i = from;
    while (i < to) {
      const g = gfn + i;
      if (g % LARGE === 0 && i + LARGE <= to && isLargeRun(hfn, i)) {
        put(this.tables.view(this.walk(g, 2)), tableIndex(g, 2), hfn[i] * PAGE, ALL | NPT_PS);
        i += LARGE;
        continue;
      }
      const pt = this.tables.view(this.walk(g, 1));
      const end = Math.min(to, i + LARGE - (g % LARGE));
      // Consecutive gfns use consecutive entries of one page table. The entry's halves come
      // straight from the frame number (int32 shifts, as this loop runs once per page).
      for (let idx = g % LARGE; i < end; i++, idx++) {
        const f = hfn[i];
        pt[2 * idx] = ((f << 12) | ALL) >>> 0;
        pt[2 * idx + 1] = f >>> 20;
      }
    }
  }

  /**
   * Maps count gfns from gfn to the host-contiguous frames from hostFrame: 2 MiB pages where
   * both sides are 2 MiB-aligned, 4 KiB entries elsewhere. Without per-frame lookups this is
   * what building a large domain costs: a few thousand entries instead of a loop per page.
   */
  mapContiguous(gfn: number, hostFrame: number, count: number): void {
    let i = 0;
    while (i < count) {
      const g = gfn + i;
      const f = hostFrame + i;
      if (g % LARGE === 0 && f % LARGE === 0 && i + LARGE <= count) {
        put(this.tables.view(this.walk(g, 2)), tableIndex(g, 2), f * PAGE, ALL | NPT_PS);
        i += LARGE;
        continue;
      }
      const pt = this.tables.view(this.walk(g, 1));
      const end = Math.min(count, i + LARGE - (g % LARGE));
      for (let idx = g % LARGE; i < end; i++, idx++) {
        const frame = hostFrame + i;
        pt[2 * idx] = ((frame << 12) | ALL) >>> 0;
        pt[2 * idx + 1] = frame >>> 20;
      }
    }
  }

  /** Writes one 4 KiB leaf (rights 0 removes it); flush is true when a present translation changed. */
  setLeaf(gfn: number, hostAddr: number, rights: number): { flush: boolean } {
    const split = { happened: false };
    const t = this.tables.view(this.walk(gfn, 1, split));
    const idx = tableIndex(gfn, 1);
    const wasPresent = (t[2 * idx] & NPT_P) !== 0;
    if (rights === 0) {
      t[2 * idx] = 0;
      t[2 * idx + 1] = 0;
    } else {
      put(t, idx, hostAddr, rights);
    }
    // Only a present translation can sit in a TLB; a split changes the page size, which AMD
    // requires to be flushed before the smaller pages are relied on.
    return { flush: wasPresent || split.happened };
  }

  /** Lists every leaf by walking the table from the root. */
  leaves(): NptLeaf[] {
    const out: NptLeaf[] = [];
    const walk = (table: number, level: number, baseGfn: number): void => {
      const t = this.tables.view(table);
      const span = 2 ** (9 * (level - 1));
      for (let i = 0; i < 512; i++) {
        const lo = t[2 * i];
        if (!(lo & NPT_P)) continue;
        const addr = entryAddr(lo, t[2 * i + 1]);
        const gfn = baseGfn + i * span;
        if (level === 1 || (level === 2 && lo & NPT_PS)) {
          out.push({ gfn, hostAddr: addr, frames: level === 1 ? 1 : LARGE, writable: (lo & NPT_RW) !== 0 });
        } else {
          walk(addr, level - 1, gfn);
        }
      }
    };
    walk(this.root, 4, 0);
    return out;
  }

  /** Returns the table at `level` covering gfn, creating missing tables and splitting 2 MiB pages on the way. */
  private walk(gfn: number, level: number, split?: { happened: boolean }): number {
    let table = this.root;
    for (let l = 4; l > level; l--) {
      const t = this.tables.view(table);
      const idx = tableIndex(gfn, l);
      const lo = t[2 * idx];
      if (lo & NPT_P && !(lo & NPT_PS)) {
        table = entryAddr(lo, t[2 * idx + 1]);
        continue;
      }
      const fresh = this.tables.alloc();
      if (lo & NPT_P) {
        // A 2 MiB page: reproduce it with 512 small entries of the same rights.
        const base = entryAddr(lo, t[2 * idx + 1]);
        const small = this.tables.view(fresh);
        for (let i = 0; i < 512; i++) put(small, i, base + i * PAGE, lo & ALL);
        if (split) split.happened = true;
      }
      put(t, idx, fresh, ALL);
      table = fresh;
    }
    return table;
  }
}
