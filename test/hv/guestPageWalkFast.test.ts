// The long-mode fast walk agrees with the general walk: same translations, same faults, same accessed/dirty bits.
import { expect, test } from '@jest/globals';
import { GuestMemory } from '../../src/hv/guestMemory';
import { translateLinear, type PagingRegs, type WalkMemory, type WalkResult } from '../../src/hv/guestPageWalk';
import { FakeFrames } from './fakeFrames';

const PAGE = 4096;
const P = 1, RW = 2, US = 4, PS = 0x80;
const PG = 0x80000000, WP = 0x10000, PE = 1, PAE = 0x20;
const LME = 0x100, LMA = 0x400, NXE = 0x800;

/** A deterministic generator (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** The same memory without pageAt: translateLinear then always takes its general walk. */
function generalOnly(mem: GuestMemory): WalkMemory {
  return {
    readU32: (a) => mem.readU32(a),
    writeU32: (a, v) => mem.writeU32(a, v),
    read: (a, n) => mem.read(a, n),
    write: (a, b) => mem.write(a, b),
  };
}

/** Builds random 4-level tables in two identical memories; returns the CR3 and some addresses to try. */
function randomTables(mems: GuestMemory[], rand: () => number): { cr3: number; glas: number[] } {
  const pick = (n: number) => Math.floor(rand() * n);
  let next = 0x10;
  const newTable = () => next++ * PAGE;
  const set = (gpa: number, lo: number, hi: number) => {
    for (const m of mems) {
      m.writeU32(gpa, lo >>> 0);
      m.writeU32(gpa + 4, hi >>> 0);
    }
  };
  const flags = () => {
    let f = P | RW | US;
    if (rand() < 0.08) f &= ~P;
    if (rand() < 0.2) f &= ~RW;
    if (rand() < 0.2) f &= ~US;
    if (rand() < 0.5) f |= 0x20; // already accessed
    return f;
  };
  const cr3 = newTable();
  const glas: number[] = [];
  for (let n = 0; n < 40; n++) {
    const idx = [pick(512), pick(512), pick(512), pick(512)];
    let table = cr3;
    for (let level = 4; level >= 1; level--) {
      const at = table + idx[4 - level] * 8;
      const large = (level === 3 || level === 2) && rand() < 0.25;
      const nx = rand() < 0.1 ? 0x80000000 : 0;
      if (level === 1 || large) {
        // Page frames land inside the 16 MiB of memory; sometimes with bad low address bits.
        const base = level === 1 ? (0x400 + pick(0xb00)) * PAGE : level === 2 ? 0x200000 * (1 + pick(6)) : 0;
        const junk = rand() < 0.1 ? 0x2000 : rand() < 0.1 ? PAGE : 0; // PAT bit (fine) or a reserved bit
        set(at, base + junk + flags() + (large ? PS : 0), nx);
        break;
      }
      const t = newTable();
      set(at, t + flags() + (level === 4 && rand() < 0.05 ? PS : 0), nx);
      table = t;
    }
    let u = idx[0] * 2 ** 39 + idx[1] * 2 ** 30 + idx[2] * 2 ** 21 + idx[3] * 2 ** 12 + pick(PAGE);
    if (u >= 2 ** 47) u -= 2 ** 48; // the upper half, sign-extended
    glas.push(u);
  }
  return { cr3, glas };
}

test('fast and general walks agree on 2,000 random walks', () => {
  const rand = rng(12345);
  let translated = 0;
  let faulted = 0;
  for (let round = 0; round < 10; round++) {
    const fast = GuestMemory.create(new FakeFrames(), [{ gfn: 0, count: 4096 }]);
    const slow = GuestMemory.create(new FakeFrames(), [{ gfn: 0, count: 4096 }]);
    const { cr3, glas } = randomTables([fast, slow], rand);
    for (const gla of glas) {
      for (const access of [{}, { write: true }, { user: true }, { write: true, user: true }, { setAccessedDirty: false }]) {
        const regs: PagingRegs = { cr0: PE | PG | (rand() < 0.5 ? WP : 0), cr3, cr4: PAE, efer: LME | LMA | (rand() < 0.8 ? NXE : 0) };
        const a: WalkResult = translateLinear(fast, regs, gla, access);
        const b: WalkResult = translateLinear(generalOnly(slow), regs, gla, access);
        expect(a).toEqual(b);
        if (a.ok) translated++;
        else faulted++;
      }
    }
    // Accessed and dirty bits were set identically in both.
    expect(Buffer.from(fast.read(0x10000, 0x100000)).equals(Buffer.from(slow.read(0x10000, 0x100000)))).toBe(true);
  }
  // Both outcomes were exercised in quantity.
  expect(translated).toBeGreaterThan(300);
  expect(faulted).toBeGreaterThan(300);
});

test('the fast walk takes the general path for holes and non-canonical addresses', () => {
  const mem = GuestMemory.create(new FakeFrames(), [{ gfn: 0, count: 16 }]);
  const regs: PagingRegs = { cr0: PE | PG, cr3: 0x100000, cr4: PAE, efer: LME | LMA };
  const r = translateLinear(mem, regs, 0x1000);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.fault.kind).toBe('bad-gpa');
  const nc = translateLinear(mem, { ...regs, cr3: 0 }, 2 ** 47);
  expect(nc.ok).toBe(false);
  if (!nc.ok) expect(nc.fault.kind).toBe('non-canonical');
});
