// A fake host-frame allocator with per-frame backing buffers, counting every alloc and free.
import { FrameSource } from '../../src/hv/guestMemory';

export interface FakeFramesOptions {
  /** Host-physical address of frame 0 of the fake pool (default 4 GiB, so addresses exceed 32 bits). */
  base?: number;
  /** Frames in the pool (default 65536 = 256 MiB). */
  frames?: number;
  /** 'aligned': requests of 512+ frames start on a 2 MiB boundary (like a buddy allocator);
   *  'unaligned': plain first fit from frame 1, so chunks are off 2 MiB alignment. */
  mode?: 'aligned' | 'unaligned';
  /** Requests larger than this many frames throw, like a fragmented pool. */
  maxChunk?: number;
  /** Report failure by returning 0 instead of throwing. */
  failWithZero?: boolean;
}

const PAGE = 4096;

export class FakeFrames implements FrameSource {
  /** Node cannot alias part of a buffer: views are of one whole frame (see FrameSource). */
  readonly physViewPerFrameOnly = true;
  readonly base: number;
  readonly size: number;
  readonly used: Uint8Array;
  readonly live = new Map<number, number>();
  readonly buffers = new Map<number, ArrayBuffer>();
  allocCalls = 0;
  failedAllocs = 0;
  freeCalls = 0;
  views = 0;
  private readonly opts: FakeFramesOptions;

  constructor(opts: FakeFramesOptions = {}) {
    this.opts = opts;
    this.base = opts.base === undefined ? 0x100000000 : opts.base;
    this.size = opts.frames === undefined ? 65536 : opts.frames;
    this.used = new Uint8Array(this.size);
  }

  /** Frames currently handed out. */
  get allocatedFrames(): number {
    let n = 0;
    this.live.forEach((c) => (n += c));
    return n;
  }

  framesAlloc(count: number): number {
    this.allocCalls++;
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`bad count ${count}`);
    const fail = (): number => {
      this.failedAllocs++;
      if (this.opts.failWithZero) return 0;
      throw new RangeError('out of frames');
    };
    if (this.opts.maxChunk !== undefined && count > this.opts.maxChunk) return fail();
    const unaligned = this.opts.mode === 'unaligned';
    const step = count >= 512 && !unaligned ? 512 : 1;
    const skew = unaligned ? 1 : 0;
    for (let start = skew; start + count <= this.size; start += step) {
      let ok = true;
      for (let i = 0; i < count; i++) {
        if (this.used[start + i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      for (let i = 0; i < count; i++) this.used[start + i] = 1;
      const addr = this.base + start * PAGE;
      this.live.set(addr, count);
      for (let i = 0; i < count; i++) this.buffers.delete(addr + i * PAGE);
      return addr;
    }
    return fail();
  }

  framesFree(addr: number, count: number): void {
    this.freeCalls++;
    if (this.live.get(addr) !== count) throw new RangeError(`framesFree(${addr.toString(16)}, ${count}) does not match an allocation`);
    this.live.delete(addr);
    const first = (addr - this.base) / PAGE;
    for (let i = 0; i < count; i++) {
      this.used[first + i] = 0;
      this.buffers.delete(addr + i * PAGE);
    }
  }

  physView(addr: number, length: number): ArrayBuffer {
    this.views++;
    if (length !== PAGE || addr % PAGE !== 0) throw new RangeError(`physView(${addr.toString(16)}, ${length}): only whole frames`);
    const frame = (addr - this.base) / PAGE;
    if (frame < 0 || frame >= this.size || !this.used[frame]) throw new RangeError(`physView of unallocated frame ${addr.toString(16)}`);
    let b = this.buffers.get(addr);
    if (!b) {
      b = new ArrayBuffer(PAGE);
      this.buffers.set(addr, b);
    }
    return b;
  }

  /** True when the frame at addr is currently allocated. */
  isAllocated(addr: number): boolean {
    const frame = (addr - this.base) / PAGE;
    return Number.isInteger(frame) && frame >= 0 && frame < this.size && this.used[frame] === 1;
  }
}
