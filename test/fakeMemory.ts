// Host memory for the fake shim: lazily created 4 KiB pages, so physView of a whole page aliases it.

const PAGE = 4096;

/** A sparse physical address space of `size` bytes; untouched pages read as zeros. */
export class FakeMemory {
  private readonly pages = new Map<number, ArrayBuffer>();

  constructor(readonly size: number) {}

  /** The page's buffer (created on first use): writes through it are seen by every later access. */
  page(index: number): ArrayBuffer {
    let p = this.pages.get(index);
    if (!p) {
      p = new ArrayBuffer(PAGE);
      this.pages.set(index, p);
    }
    return p;
  }

  /** Throws RangeError unless [addr, addr+length) lies inside the memory. */
  check(addr: number, length: number, what: string): void {
    if (!Number.isInteger(addr) || !Number.isInteger(length) || addr < 0 || length <= 0 || addr + length > this.size) {
      throw new RangeError(`${what}: 0x${Number(addr).toString(16)}+${length} is not mapped memory`);
    }
  }

  /** Copies bytes out. */
  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const a = addr + done;
      const off = a % PAGE;
      const n = Math.min(PAGE - off, length - done);
      const p = this.pages.get(Math.floor(a / PAGE));
      if (p) out.set(new Uint8Array(p, off, n), done);
      done += n;
    }
    return out;
  }

  /** Copies bytes in. */
  write(addr: number, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      const a = addr + done;
      const off = a % PAGE;
      const n = Math.min(PAGE - off, bytes.length - done);
      new Uint8Array(this.page(Math.floor(a / PAGE)), off, n).set(bytes.subarray(done, done + n));
      done += n;
    }
  }

  /** Zeroes whole pages (frames handed out again start clean). */
  zeroPages(first: number, count: number): void {
    for (let i = 0; i < count; i++) this.pages.delete(first + i);
  }

  /**
   * What physView returns: the page itself for a page-aligned 4 KiB range (an alias, as the
   * real shim's views are), else a copy (Node cannot alias part of several buffers).
   */
  view(addr: number, length: number): ArrayBuffer {
    if (addr % PAGE === 0 && length === PAGE) return this.page(addr / PAGE);
    const copy = this.read(addr, length);
    return copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.byteLength) as ArrayBuffer;
  }
}
