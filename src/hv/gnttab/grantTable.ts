// One domain's v1 grant table: hypervisor-owned frames, grown on demand up to the domain's limit, and its entries.
import { PAGE_SIZE } from '../guestMemory';
import { DEFAULT_MAX_GRANT_FRAMES, ENTRIES_PER_FRAME, GRANT_ENTRY_SIZE } from './grantStatus';

/** What a grant table needs from the machine. */
export interface GrantTableHost {
  /** One zeroed host frame charged to the domain (GuestMemory.allocFrames(1), freed with the domain). */
  allocFrame(): number;
  /** A view of a page-aligned 4 KiB range of host memory (the shim's physView). */
  physView(addr: number, length: number): ArrayBuffer;
}

/** A domain's grant table (version 1 only). */
export class GrantTable {
  readonly maxFrames: number;
  /** Grant table version; only 1 is implemented. */
  readonly version = 1;
  private readonly frames: number[] = [];
  private readonly views: DataView[] = [];
  private readonly gfns: (number | null)[] = [];

  constructor(private readonly host: GrantTableHost, maxFrames = DEFAULT_MAX_GRANT_FRAMES) {
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 1024) throw new RangeError(`max grant frames must be 1-1024, got ${maxFrames}`);
    this.maxFrames = maxFrames;
  }

  /** Frames the table has now. */
  get nrFrames(): number {
    return this.frames.length;
  }

  /** Grant references the table has now (512 per frame). */
  get nrEntries(): number {
    return this.frames.length * ENTRIES_PER_FRAME;
  }

  /** Grows the table to at least n frames (Xen's gnttab_grow_table); false when n is over the limit. */
  grow(n: number): boolean {
    if (!Number.isInteger(n) || n < 0 || n > this.maxFrames) return false;
    while (this.frames.length < n) {
      const addr = this.host.allocFrame();
      this.frames.push(addr);
      this.views.push(new DataView(this.host.physView(addr, PAGE_SIZE)));
    }
    return true;
  }

  /**
   * Host-physical address of frame idx, growing the table to idx + 1 frames as Xen does when
   * the guest maps that frame (XENMEM_add_to_physmap, XENMAPSPACE_grant_table); null past the limit.
   */
  frameHostAddr(idx: number): number | null {
    if (!this.grow(idx + 1)) return null;
    return this.frames[idx];
  }

  /** Records the gfn at which the guest mapped frame idx (memory_op's job), or null when unmapped. */
  setFrameGfn(idx: number, gfn: number | null): void {
    if (Number.isInteger(idx) && idx >= 0 && idx < this.frames.length) this.gfns[idx] = gfn;
  }

  /** The gfn frame idx is mapped at, or null. */
  frameGfn(idx: number): number | null {
    return this.gfns[idx] ?? null;
  }

  /** Entry ref's flags (u16). The ref must be below nrEntries. */
  flags(ref: number): number {
    return this.view(ref).getUint16(this.off(ref), true);
  }

  /** Entry ref's domid (u16). */
  domid(ref: number): number {
    return this.view(ref).getUint16(this.off(ref) + 2, true);
  }

  /** Entry ref's frame (u32 gfn). */
  frame(ref: number): number {
    return this.view(ref).getUint32(this.off(ref) + 4, true);
  }

  /** Flags and domid read as one u32, as Xen reads them for its compare-and-exchange. */
  header(ref: number): number {
    return this.view(ref).getUint32(this.off(ref), true);
  }

  /**
   * Replaces the flags when the header still reads `expected` (a compare-and-exchange: the
   * guest may rewrite its entry at any time, so the check is made again right at the write).
   */
  updateFlags(ref: number, expected: number, flags: number): boolean {
    if (this.header(ref) !== expected) return false;
    this.view(ref).setUint16(this.off(ref), flags, true);
    return true;
  }

  private view(ref: number): DataView {
    return this.views[Math.floor(ref / ENTRIES_PER_FRAME)];
  }

  private off(ref: number): number {
    return (ref % ENTRIES_PER_FRAME) * GRANT_ENTRY_SIZE;
  }
}
