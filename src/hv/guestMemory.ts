// A domain's guest-physical memory: host frames, the gfn -> host-frame map and its nested page table.
//
// Public API:
//   GuestMemory.create(frames, ranges, opts?)  populates each gfn range with host frames
//       (large contiguous chunks first, halving on failure) and builds the nested page table.
//   mem.read(gpa, len) / mem.write(gpa, bytes) / mem.zero(gpa, len): bounds-checked copies
//       that may cross pages; a hole (unpopulated gfn) throws GuestMemoryError.
//   mem.readU8/U16/U32/U64(gpa), mem.writeU8/U16/U32/U64(gpa, value): little-endian scalars
//       (u64 as a number, exact below 2^53).
//   mem.translate(gpa) -> host-physical address; mem.isMapped(gfn).
//   mem.nptRoot: host-physical address of the nested PML4, for the VMCB's nCR3.
//   mem.mapGfn(gfn, hostAddr, {writable}) / mem.unmapGfn(gfn) -> NptChange: change one gfn
//       later (grant maps, shared_info, special pages); says whether a TLB flush is needed.
//   mem.allocFrames(count): extra host frames charged to the domain (freed by destroy).
//   mem.nptMappings(): every leaf of the nested page table (for checks and debugging).
//   mem.pages, mem.hostBytes, mem.tableBytes, mem.bookkeepingBytes: accounting (the first
//       three exact; bookkeeping is the typed arrays plus a small estimate for the rest).
//   mem.destroy(): frees exactly the frames this object allocated.
//
// The gfn map is one Uint32Array of host frame numbers per populated range (4 bytes a page,
// no object per page); gfns outside the ranges that get mapped later live in a small Map.
// The table format is in nestedPageTable.ts.

import { NestedPageTable, NptLeaf, NPT_P, NPT_RW, NPT_US } from './nestedPageTable';
import { hex } from './hex';

export type { NptLeaf };

/** The subset of the shim (src/hv/abi.ts Shim) that guest memory needs. */
export interface FrameSource {
  /** Physical address of count contiguous zeroed 4 KiB frames; throws (or returns 0) when short. */
  framesAlloc(count: number): number;
  framesFree(addr: number, count: number): void;
  /** Only ever called here with a page-aligned address and length 4096. */
  physView(addr: number, length: number): ArrayBuffer;
  /**
   * Set by test fakes whose physView can alias only one whole frame (Node cannot alias part
   * of a buffer as an ArrayBuffer); the shim's views span any range of host memory.
   */
  readonly physViewPerFrameOnly?: boolean;
}

/** A run of guest frame numbers to populate. */
export interface GfnRange {
  gfn: number;
  count: number;
}

export interface GuestMemoryOptions {
  /** Largest chunk asked of the frame source at once, in frames (default 262144 = 1 GiB). */
  maxChunkFrames?: number;
  /**
   * Give chunks of 512 frames or more a 2 MiB-aligned start, so the nested page table can
   * map them with 2 MiB pages: ask for 511 frames more and hand the unaligned head and tail
   * back at once. Needs a frame source that frees parts of an allocation (the shim's does);
   * if the larger request fails, the chunk is taken unaligned. Default false.
   */
  alignLargeChunks?: boolean;
}

/** What one map/unmap did to the nested page table. */
export interface NptChange {
  /** True when a present translation changed: the guest's TLB entries must be flushed. */
  flush: boolean;
  /** The host address the gfn mapped before, or null. */
  previous: number | null;
}

/** A bad guest-physical access: out of range, or a hole with no frame behind it. */
export class GuestMemoryError extends Error {
  constructor(message: string, readonly gpa: number) {
    super(message);
    this.name = 'GuestMemoryError';
  }
}

export const PAGE_SIZE = 4096;
const TWO32 = 4294967296;
/** Guest-physical addresses are at most 52 bits (the AMD64 architectural limit). */
const MAX_GFN = 2 ** 40;
const HOLE = 0xffffffff;
const LARGE = 512;
/**
 * Host pages whose views are kept (then the cache starts afresh). Making a view costs a
 * native call and two objects, thousands of instructions in QuickJS; the hot pages (the
 * guest's page tables, rings, shared structures) are few, so a small cache removes that
 * from every hypercall's pointer walk. Views are found by host frame after the gfn has
 * been translated, so a cached view is only used while the p2m still maps that frame.
 */
const VIEW_CACHE_PAGES = 256;

/** Views of one host page. */
interface PageViews {
  bytes: Uint8Array;
  data: DataView;
  words: Uint32Array;
}

interface Region {
  gfn: number;
  count: number;
  /** Host frame number per gfn, HOLE when unmapped. */
  hfn: Uint32Array;
  /** While creating: the host-contiguous runs populate made, [first index, first frame, frames] triples. */
  runs?: number[];
}

export class GuestMemory {
  private readonly regions: Region[] = [];
  private readonly foreign = new Map<number, number>();
  private readonly chunks: number[] = [];
  private readonly tables: number[] = [];
  private readonly extras: number[] = [];
  private npt: NestedPageTable | null = null;
  private readonly views = new Map<number, PageViews>();
  private ownPages = 0;
  private destroyed = false;

  private constructor(private readonly src: FrameSource) {}

  /** Populates the ranges (sorted, disjoint) with host frames and builds the nested page table. */
  static create(src: FrameSource, ranges: GfnRange[], opts: GuestMemoryOptions = {}): GuestMemory {
    const maxChunk = opts.maxChunkFrames === undefined ? 262144 : opts.maxChunkFrames;
    const align = opts.alignLargeChunks === true;
    if (!Number.isInteger(maxChunk) || maxChunk < 1) throw new RangeError(`maxChunkFrames must be a positive integer, got ${maxChunk}`);
    checkRanges(ranges);
    const mem = new GuestMemory(src);
    try {
      for (const r of ranges) mem.populate(r, maxChunk, align);
      const npt = new NestedPageTable({ alloc: () => mem.newTable(), view: (a) => mem.table(a) });
      mem.npt = npt;
      for (const r of mem.regions) {
        const runs = r.runs as number[];
        for (let i = 0; i < runs.length; i += 3) npt.mapContiguous(r.gfn + runs[i], runs[i + 1], runs[i + 2]);
        delete r.runs;
      }
    } catch (e) {
      mem.destroy();
      throw e;
    }
    return mem;
  }

  /** Host-physical address of the nested PML4 (the VMCB's nCR3). */
  get nptRoot(): number {
    return this.nested().root;
  }

  /** Guest pages populated with the domain's own frames. */
  get pages(): number {
    return this.ownPages;
  }

  /** Every byte of host memory this object holds: guest frames, extra frames and page tables. */
  get hostBytes(): number {
    let frames = this.tables.length;
    for (let i = 1; i < this.chunks.length; i += 2) frames += this.chunks[i];
    for (let i = 1; i < this.extras.length; i += 2) frames += this.extras[i];
    return frames * PAGE_SIZE;
  }

  /** Host bytes in nested page-table frames. */
  get tableBytes(): number {
    return this.tables.length * PAGE_SIZE;
  }

  /** Bytes of JavaScript-side bookkeeping: the typed gfn maps plus 8 bytes per recorded frame run or table. */
  get bookkeepingBytes(): number {
    let bytes = 0;
    for (const r of this.regions) bytes += r.hfn.byteLength + 32;
    return bytes + 8 * (this.chunks.length + this.tables.length + this.extras.length + 2 * this.foreign.size);
  }

  /** Host frame runs owned by this domain: guest RAM and extra frames (not page tables). */
  ownedRuns(): { addr: number; count: number }[] {
    const out: { addr: number; count: number }[] = [];
    for (const list of [this.chunks, this.extras]) {
      for (let i = 0; i < list.length; i += 2) out.push({ addr: list[i], count: list[i + 1] });
    }
    return out;
  }

  /** Host-physical addresses of the nested page-table frames. */
  tableFrames(): number[] {
    return this.tables.slice();
  }

  /** Allocates count contiguous host frames charged to the domain; destroy() frees them. */
  allocFrames(count: number): number {
    this.alive();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`frame count must be a positive integer, got ${count}`);
    const addr = this.tryAlloc(count);
    if (addr < 0) throw new RangeError(`out of memory: cannot allocate ${count} contiguous frames`);
    this.extras.push(addr, count);
    return addr;
  }

  /** Host-physical address behind a guest-physical address; throws GuestMemoryError on a hole. */
  translate(gpa: number): number {
    this.alive();
    checkGpa(gpa, 1);
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const hfn = this.lookup(gfn);
    if (hfn === HOLE) throw new GuestMemoryError(`guest-physical address ${hex(gpa)} is not populated (hole at gfn ${hex(gfn)})`, gpa);
    return hfn * PAGE_SIZE + (gpa % PAGE_SIZE);
  }

  /** True when the gfn has a frame behind it. */
  isMapped(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && gfn < MAX_GFN && this.lookup(gfn) !== HOLE;
  }

  /**
   * The views of the guest page holding gpa (its host frame's bytes and 1024 little-endian
   * words), or null when nothing backs it. For hot paths (page walks, rings) that would
   * otherwise pay a call per scalar; writes through them are writes to guest memory.
   */
  pageAt(gpa: number): PageViews | null {
    if (this.destroyed || !(gpa >= 0 && gpa < MAX_GFN * PAGE_SIZE)) return null;
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const r = this.regionOf(gfn);
    let hfn = r ? r.hfn[gfn - r.gfn] : HOLE;
    if (hfn === HOLE) {
      const f = this.foreign.get(gfn);
      if (f === undefined) return null;
      hfn = f;
    }
    return this.pageViews(hfn);
  }

  /** Copies len bytes starting at gpa out of guest memory. */
  read(gpa: number, len: number): Uint8Array {
    // One page, the common case: no per-page bookkeeping.
    const off = gpa % PAGE_SIZE;
    if (len >= 0 && off + len <= PAGE_SIZE) {
      const page = this.pageAt(gpa);
      if (page && Number.isInteger(gpa) && Number.isInteger(len)) return page.bytes.slice(off, off + len);
    }
    const out = new Uint8Array(checkGpa(gpa, len));
    this.eachPage(gpa, len, (page, off, n, done) => out.set(page.subarray(off, off + n), done));
    return out;
  }

  /** Copies bytes into guest memory at gpa. */
  write(gpa: number, bytes: Uint8Array): void {
    const off = gpa % PAGE_SIZE;
    if (off + bytes.length <= PAGE_SIZE) {
      const page = this.pageAt(gpa);
      if (page && Number.isInteger(gpa)) {
        page.bytes.set(bytes, off);
        return;
      }
    }
    checkGpa(gpa, bytes.length);
    this.eachPage(gpa, bytes.length, (page, off, n, done) => page.set(bytes.subarray(done, done + n), off));
  }

  /** Fills len bytes at gpa with zeros. */
  zero(gpa: number, len: number): void {
    checkGpa(gpa, len);
    this.eachPage(gpa, len, (page, off, n) => page.fill(0, off, off + n));
  }

  /** Reads a byte. */
  readU8(gpa: number): number {
    return this.scalar(gpa, 1).getUint8(0);
  }

  /** Reads a little-endian u16 (it may straddle pages, like every scalar here). */
  readU16(gpa: number): number {
    return this.scalar(gpa, 2).getUint16(0, true);
  }

  /** Reads a little-endian u32. */
  readU32(gpa: number): number {
    const page = this.scalarPage(gpa, 4);
    return page ? page.getUint32(this.scalarOff, true) : this.scalar(gpa, 4).getUint32(0, true);
  }

  /** Reads a u64; throws RangeError if it is 2^53 or more (read two u32 halves for such values). */
  readU64(gpa: number): number {
    const v = this.scalar(gpa, 8);
    const hi = v.getUint32(4, true);
    if (hi >= 0x200000) throw new RangeError(`u64 at ${hex(gpa)} does not fit in a number`);
    return hi * TWO32 + v.getUint32(0, true);
  }

  /** Writes a byte (0-255). */
  writeU8(gpa: number, value: number): void {
    this.writeScalar(gpa, 1, value, 0xff, (d) => d.setUint8(0, value));
  }

  /** Writes a little-endian u16. */
  writeU16(gpa: number, value: number): void {
    this.writeScalar(gpa, 2, value, 0xffff, (d) => d.setUint16(0, value, true));
  }

  /** Writes a little-endian u32. */
  writeU32(gpa: number, value: number): void {
    this.writeScalar(gpa, 4, value, 0xffffffff, (d) => d.setUint32(0, value, true));
  }

  /** Writes a u64 given as a safe non-negative integer. */
  writeU64(gpa: number, value: number): void {
    this.writeScalar(gpa, 8, value, Number.MAX_SAFE_INTEGER, (d) => {
      d.setUint32(0, value % TWO32, true);
      d.setUint32(4, Math.floor(value / TWO32), true);
    });
  }

  /** Maps one gfn to a host frame (splitting a large page if needed); reports whether to flush. */
  mapGfn(gfn: number, hostAddr: number, opts: { writable?: boolean } = {}): NptChange {
    this.alive();
    checkGfn(gfn);
    if (!Number.isInteger(hostAddr) || hostAddr < 0 || hostAddr % PAGE_SIZE !== 0 || hostAddr / PAGE_SIZE >= HOLE) {
      throw new RangeError(`host address ${hostAddr} is not a page-aligned frame address`);
    }
    // A read-only leaf is fine for data pages (grant maps), never for pages holding guest page tables.
    const before = this.lookup(gfn);
    const { flush } = this.nested().setLeaf(gfn, hostAddr, NPT_P | NPT_US | (opts.writable === false ? 0 : NPT_RW));
    this.record(gfn, hostAddr / PAGE_SIZE);
    return { flush, previous: before === HOLE ? null : before * PAGE_SIZE };
  }

  /** Removes one gfn's translation (the domain keeps owning its frame until destroy). */
  unmapGfn(gfn: number): NptChange {
    this.alive();
    checkGfn(gfn);
    const before = this.lookup(gfn);
    if (before === HOLE) return { flush: false, previous: null };
    const { flush } = this.nested().setLeaf(gfn, 0, 0);
    this.record(gfn, HOLE);
    return { flush, previous: before * PAGE_SIZE };
  }

  /** Lists every leaf of the nested page table by walking it from the root. */
  nptMappings(): NptLeaf[] {
    return this.nested().leaves();
  }

  /** Frees every frame this object allocated, exactly as allocated; the object is unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    let first: unknown = null;
    const free = (addr: number, count: number): void => {
      try {
        this.src.framesFree(addr, count);
      } catch (e) {
        if (first === null) first = e;
      }
    };
    for (const list of [this.chunks, this.extras]) {
      for (let i = 0; i < list.length; i += 2) free(list[i], list[i + 1]);
    }
    for (const t of this.tables) free(t, 1);
    this.chunks.length = 0;
    this.extras.length = 0;
    this.tables.length = 0;
    this.regions.length = 0;
    this.foreign.clear();
    this.views.clear();
    if (first !== null) throw first;
  }

  private alive(): void {
    if (this.destroyed) throw new Error('guest memory has been destroyed');
  }

  private nested(): NestedPageTable {
    this.alive();
    return this.npt as NestedPageTable;
  }

  /** Allocates count frames; -1 when the source refuses. Rejects malformed answers loudly. */
  private tryAlloc(count: number): number {
    let addr: number;
    try {
      addr = this.src.framesAlloc(count);
    } catch (e) {
      return -1;
    }
    if (addr === 0) return -1;
    if (!Number.isInteger(addr) || addr < 0 || addr % PAGE_SIZE !== 0) {
      throw new Error(`frame source returned a bad address ${addr} for ${count} frames`);
    }
    return addr;
  }

  /** count frames starting on a 2 MiB boundary (over-allocate, free head and tail); -1 if that fails. */
  private tryAllocAligned(count: number): number {
    const LARGE_BYTES = LARGE * PAGE_SIZE;
    const raw = this.tryAlloc(count + LARGE - 1);
    if (raw < 0) return -1;
    const start = Math.ceil(raw / LARGE_BYTES) * LARGE_BYTES;
    const head = (start - raw) / PAGE_SIZE;
    const tail = LARGE - 1 - head;
    if (head > 0) this.src.framesFree(raw, head);
    if (tail > 0) this.src.framesFree(start + count * PAGE_SIZE, tail);
    return start;
  }

  private populate(range: GfnRange, maxChunk: number, align: boolean): void {
    const hfn = new Uint32Array(range.count);
    const runs: number[] = [];
    let done = 0;
    let chunk = Math.min(maxChunk, range.count);
    while (done < range.count) {
      const want = Math.min(chunk, range.count - done);
      // Aligned only where the guest range is too: a 2 MiB page needs both sides aligned.
      const alignedGfn = (range.gfn + done) % LARGE === 0;
      let addr = align && want >= LARGE && alignedGfn ? this.tryAllocAligned(want) : -1;
      if (addr < 0) addr = this.tryAlloc(want);
      if (addr < 0) {
        if (want === 1) {
          throw new RangeError(`out of memory: populated ${this.ownPages} of the guest's pages, cannot get more frames`);
        }
        // Halve, staying a multiple of 512 frames while possible so 2 MiB alignment survives.
        chunk = want > LARGE ? Math.max(LARGE, Math.floor(want / 2 / LARGE) * LARGE) : Math.floor(want / 2);
        continue;
      }
      this.chunks.push(addr, want);
      // Frame numbers fit 32 bits (HOLE is the only reserved value); >>> 0 keeps them small
      // integers, so QuickJS runs this once-per-page loop on its integer fast path.
      const first = (addr / PAGE_SIZE) >>> 0;
      for (let i = 0; i < want; i++) hfn[done + i] = first + i;
      runs.push(done, first, want);
      done += want;
      this.ownPages += want;
    }
    this.regions.push({ gfn: range.gfn, count: range.count, hfn, runs });
  }

  private newTable(): number {
    const addr = this.tryAlloc(1);
    if (addr < 0) throw new RangeError('out of memory: cannot allocate a nested page-table frame');
    this.tables.push(addr);
    this.table(addr).fill(0);
    return addr;
  }

  private table(addr: number): Uint32Array {
    return new Uint32Array(this.src.physView(addr, PAGE_SIZE));
  }

  private regionOf(gfn: number): Region | null {
    let lo = 0;
    let hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions[mid];
      if (gfn < r.gfn) hi = mid - 1;
      else if (gfn >= r.gfn + r.count) lo = mid + 1;
      else return r;
    }
    return null;
  }

  private lookup(gfn: number): number {
    const r = this.regionOf(gfn);
    if (r) return r.hfn[gfn - r.gfn];
    const f = this.foreign.get(gfn);
    return f === undefined ? HOLE : f;
  }

  private record(gfn: number, hfn: number): void {
    const r = this.regionOf(gfn);
    if (r) r.hfn[gfn - r.gfn] = hfn;
    else if (hfn === HOLE) this.foreign.delete(gfn);
    else this.foreign.set(gfn, hfn);
  }

  /** Calls fn for each page piece of [gpa, gpa+len): the page's bytes, offset, length, bytes done. */
  /**
   * Calls fn for each run of host-contiguous pages under [gpa, gpa+len): a view of the run,
   * the offset of the range's bytes in it, their count, and the bytes done before. Guest RAM
   * comes in large host-contiguous chunks, so a big copy (a kernel image) is a few native
   * views instead of one per page. Everything is translated first, so a hole fails the
   * whole access before any byte moves.
   */
  private eachPage(gpa: number, len: number, fn: (page: Uint8Array, off: number, n: number, done: number) => void): void {
    this.alive();
    if (len === 0) return;
    const firstGfn = Math.floor(gpa / PAGE_SIZE);
    const lastGfn = Math.floor((gpa + len - 1) / PAGE_SIZE);
    const runs: number[] = []; // [host frame, pages] pairs
    for (let gfn = firstGfn; gfn <= lastGfn; ) {
      const r = this.regionOf(gfn);
      let hfn = r ? r.hfn[gfn - r.gfn] : HOLE;
      let n = 1;
      if (hfn === HOLE) {
        hfn = Math.floor(this.translate(Math.max(gfn * PAGE_SIZE, gpa)) / PAGE_SIZE); // a foreign frame, or the hole's error
      } else if (r) {
        const end = Math.min(lastGfn + 1, r.gfn + r.count);
        while (gfn + n < end && r.hfn[gfn + n - r.gfn] === hfn + n) n++;
      }
      const k = runs.length;
      if (k > 0 && runs[k - 2] + runs[k - 1] === hfn) runs[k - 1] += n;
      else runs.push(hfn, n);
      gfn += n;
    }
    const perFrame = this.src.physViewPerFrameOnly === true;
    let done = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const pages = runs[i + 1];
      if (pages === 1 || perFrame) {
        for (let k = 0; k < pages; k++) {
          const off = done === 0 ? gpa % PAGE_SIZE : 0;
          const n = Math.min(PAGE_SIZE - off, len - done);
          fn(this.pageViews(runs[i] + k).bytes, off, n, done);
          done += n;
        }
        continue;
      }
      const off = done === 0 ? gpa % PAGE_SIZE : 0;
      const n = Math.min(pages * PAGE_SIZE - off, len - done);
      fn(new Uint8Array(this.src.physView(runs[i] * PAGE_SIZE, pages * PAGE_SIZE)), off, n, done);
      done += n;
    }
  }

  /** The cached views of host frame hfn (made on first use). */
  private pageViews(hfn: number): PageViews {
    let v = this.views.get(hfn);
    if (v === undefined) {
      if (this.views.size >= VIEW_CACHE_PAGES) this.views.clear();
      const bytes = new Uint8Array(this.src.physView(hfn * PAGE_SIZE, PAGE_SIZE));
      v = { bytes, data: new DataView(bytes.buffer), words: new Uint32Array(bytes.buffer) };
      this.views.set(hfn, v);
    }
    return v;
  }

  /**
   * For a scalar inside one page: the page's DataView, with the offset in scalarOff;
   * otherwise null (the caller copies across the boundary).
   */
  private scalarPage(gpa: number, size: number): DataView | null {
    this.alive();
    checkGpa(gpa, size);
    const off = gpa % PAGE_SIZE;
    if (off + size > PAGE_SIZE) return null;
    const page = this.pageAt(gpa);
    if (!page) this.translate(gpa); // throws the hole's error
    this.scalarOff = off;
    return (page as PageViews).data;
  }

  private scalarOff = 0;

  private scalar(gpa: number, size: number): DataView {
    const page = this.scalarPage(gpa, size);
    if (page) return new DataView(page.buffer, this.scalarOff, size);
    const b = this.read(gpa, size);
    return new DataView(b.buffer);
  }

  private writeScalar(gpa: number, size: number, value: number, max: number, put: (d: DataView) => void): void {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`value ${value} does not fit in ${size * 8} bits`);
    }
    checkGpa(gpa, size);
    if ((gpa % PAGE_SIZE) + size <= PAGE_SIZE) {
      put(this.scalar(gpa, size));
      return;
    }
    const b = new Uint8Array(size);
    put(new DataView(b.buffer));
    this.write(gpa, b);
  }
}

/** Validates an access of len bytes at gpa; returns len. */
function checkGpa(gpa: number, len: number): number {
  if (!Number.isInteger(gpa) || gpa < 0) throw new GuestMemoryError(`bad guest-physical address ${gpa}`, gpa);
  if (!Number.isInteger(len) || len < 0) throw new RangeError(`bad length ${len}`);
  if (gpa + len > MAX_GFN * PAGE_SIZE) throw new GuestMemoryError(`access ${hex(gpa)}+${hex(len)} lies beyond the 52-bit guest-physical space`, gpa);
  return len;
}

function checkGfn(gfn: number): void {
  if (!Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN) throw new RangeError(`bad gfn ${gfn}`);
}

function checkRanges(ranges: GfnRange[]): void {
  let end = 0;
  for (const r of ranges) {
    if (!Number.isInteger(r.gfn) || !Number.isInteger(r.count) || r.gfn < 0 || r.count < 1 || r.gfn + r.count > MAX_GFN) {
      throw new RangeError(`bad gfn range ${r.gfn}+${r.count}`);
    }
    if (r.gfn < end) throw new RangeError(`gfn ranges must be sorted and disjoint (range at ${hex(r.gfn)})`);
    end = r.gfn + r.count;
  }
}
