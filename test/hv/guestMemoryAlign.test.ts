// Guest memory with 2 MiB-aligned chunks: large NPT pages, fewer tables, frames handed back exactly.
import { describe, expect, test } from '@jest/globals';
import { GuestMemory } from '../../src/hv/guestMemory';
import { FakeShim } from '../fakeShim';

describe('alignLargeChunks', () => {
  test('RAM from gfn 0 gets 2 MiB pages; the over-allocation is returned at once and destroy frees the rest', () => {
    const fake = new FakeShim({ memoryBytes: 128 * 1048576 });
    // Skew the pool so that the next allocation is not 2 MiB-aligned by chance.
    const skew = fake.framesAlloc(3);
    const plain = GuestMemory.create(fake, [{ gfn: 0, count: 8192 }]);
    expect(plain.nptMappings().every((l) => l.frames === 1)).toBe(true);
    plain.destroy();
    const aligned = GuestMemory.create(fake, [{ gfn: 0, count: 8192 }, { gfn: 0xfeff8, count: 8 }], { alignLargeChunks: true });
    const leaves = aligned.nptMappings();
    expect(leaves.filter((l) => l.frames === 512)).toHaveLength(16);
    expect(leaves.filter((l) => l.frames === 1)).toHaveLength(8);
    for (const l of leaves.filter((x) => x.frames === 512)) expect(l.hostAddr % 0x200000).toBe(0);
    // PML4, PDPTs and PDs for low RAM and the special pages, one PT for the special pages.
    expect(aligned.tableBytes).toBeLessThanOrEqual(6 * 4096);
    expect(fake.memStats().framesAllocatedBytes).toBe(3 * 4096 + aligned.hostBytes);
    aligned.write(0x1ffffe, new Uint8Array([1, 2, 3, 4]));
    expect(Array.from(aligned.read(0x1ffffe, 4))).toEqual([1, 2, 3, 4]);
    aligned.destroy();
    fake.framesFree(skew, 3);
    expect(fake.liveFrames.size).toBe(0);
  });
});
