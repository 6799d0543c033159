// Grant tables: frames and limits, backend maps with their checks and in-use flags, copies with bounds.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { harness, poke, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const GTF_permit_access = 1;
const GTF_readonly = 4;
const GTF_reading = 8;
const GTF_writing = 16;
const GNTST_general_error = -1;
const GNTST_bad_domain = -2;
const GNTST_bad_gntref = -3;
const GNTST_bad_handle = -4;
const GNTST_bad_page = -9;
const GNTST_bad_copy_arg = -10;

function setup() {
  const h = harness();
  const s = domainServices(h.hv);
  const d = h.create();
  return { h, s, d, gt: s.gnttab };
}

/** The 8-byte entry ref of d's table (frame 0 made to exist), as a DataView over the real frame. */
function entry(h: Harness, d: GuestDomain, ref: number): DataView {
  const g = domainServices(h.hv).gnttab.domain(d.id)!;
  const addr = g.table.frameHostAddr(Math.floor(ref / 512))!;
  return new DataView(h.fake.physView(addr, 4096), (ref % 512) * 8, 8);
}

/** The guest writes grant_entry_v1 {flags, domid, frame}. */
function grant(h: Harness, d: GuestDomain, ref: number, flags: number, domid: number, gfn: number): void {
  const e = entry(h, d, ref);
  e.setUint32(4, gfn, true);
  e.setUint16(2, domid, true);
  e.setUint16(0, flags, true);
}

const flagsOf = (h: Harness, d: GuestDomain, ref: number): number => entry(h, d, ref).getUint16(0, true);

describe('the table', () => {
  test('starts empty, grows one frame at a time up to 64, and maps frame idx at a host frame', () => {
    const { s, d } = setup();
    const g = s.gnttab.domain(d.id)!;
    expect([g.table.nrFrames, g.table.maxFrames]).toEqual([0, 64]);
    const before = d.memory.hostBytes;
    const a3 = g.table.frameHostAddr(3);
    expect(a3).not.toBeNull();
    expect(g.table.nrFrames).toBe(4);
    expect(g.table.nrEntries).toBe(2048);
    expect(d.memory.hostBytes - before).toBe(4 * 4096);
    expect(g.table.frameHostAddr(3)).toBe(a3);
    expect(g.table.frameHostAddr(64)).toBeNull();
    expect(g.table.grow(65)).toBe(false);
    expect(g.table.grow(64)).toBe(true);
    expect(s.gnttab.domain(999)).toBeNull();
  });
});

describe('backend maps', () => {
  test('a write map shows the granted page and sets reading and writing until unmapped', () => {
    const { h, gt, d } = setup();
    poke(d, 0x5000, 'ring page');
    grant(h, d, 7, GTF_permit_access, 0, 5);
    const r = gt.mapGrant(0, d.id, 7, false);
    expect(r.status).toBe(0);
    const m = r.mapping!;
    expect(Buffer.from(m.view.subarray(0, 9)).toString()).toBe('ring page');
    expect(flagsOf(h, d, 7)).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    m.view[0] = 0x52;
    expect(d.memory.readU8(0x5000)).toBe(0x52);
    expect(gt.unmapGrant(m.handle)).toBe(0);
    expect(flagsOf(h, d, 7)).toBe(GTF_permit_access);
    expect(gt.unmapGrant(m.handle)).toBe(GNTST_bad_handle);
  });

  test('a GTF_readonly grant maps read-only only; the flags clear after the last of several maps', () => {
    const { h, gt, d } = setup();
    grant(h, d, 3, GTF_permit_access | GTF_readonly, 0, 6);
    expect(gt.mapGrant(0, d.id, 3, false).status).toBe(GNTST_general_error);
    expect(flagsOf(h, d, 3)).toBe(GTF_permit_access | GTF_readonly);
    const a = gt.mapGrant(0, d.id, 3, true).mapping!;
    const b = gt.mapGrant(0, d.id, 3, true).mapping!;
    expect(flagsOf(h, d, 3)).toBe(GTF_permit_access | GTF_readonly | GTF_reading);
    gt.unmapGrant(a.handle);
    expect(flagsOf(h, d, 3) & GTF_reading).toBe(GTF_reading);
    gt.unmapGrant(b.handle);
    expect(flagsOf(h, d, 3)).toBe(GTF_permit_access | GTF_readonly);
    // Read and write uses of a writable grant: writing clears with the write map, reading with the last.
    grant(h, d, 4, GTF_permit_access, 0, 6);
    const w = gt.mapGrant(0, d.id, 4, false).mapping!;
    const rd = gt.mapGrant(0, d.id, 4, true).mapping!;
    gt.unmapGrant(w.handle);
    expect(flagsOf(h, d, 4)).toBe(GTF_permit_access | GTF_reading);
    gt.unmapGrant(rd.handle);
    expect(flagsOf(h, d, 4)).toBe(GTF_permit_access);
  });

  test('refused: wrong domid, no access, ref out of range, no such granter, a hole; nothing is left set', () => {
    const { h, gt, d } = setup();
    grant(h, d, 1, GTF_permit_access, 5, 6);
    expect(gt.mapGrant(0, d.id, 1, true).status).toBe(GNTST_general_error);
    grant(h, d, 2, 0, 0, 6);
    expect(gt.mapGrant(0, d.id, 2, true).status).toBe(GNTST_general_error);
    expect(gt.mapGrant(0, d.id, 512, true).status).toBe(GNTST_bad_gntref);
    expect(gt.mapGrant(0, d.id, -1, true).status).toBe(GNTST_bad_gntref);
    expect(gt.mapGrant(0, 77, 1, true).status).toBe(GNTST_bad_domain);
    grant(h, d, 9, GTF_permit_access, 0, 0x100000);
    expect(gt.mapGrant(0, d.id, 9, false).status).toBe(GNTST_bad_page);
    expect(flagsOf(h, d, 9)).toBe(GTF_permit_access);
    expect(flagsOf(h, d, 1)).toBe(GTF_permit_access);
    expect(gt.mappingsOf(0)).toEqual([]);
  });

  test('destroying the granter drops its mappings without touching its freed table', () => {
    const { h, gt, d } = setup();
    grant(h, d, 1, GTF_permit_access, 0, 6);
    expect(gt.mapGrant(0, d.id, 1, false).status).toBe(0);
    h.hv.destroy(d);
    expect(gt.mappingsOf(0)).toEqual([]);
    expect(gt.mapGrant(0, d.id, 1, false).status).toBe(GNTST_bad_domain);
  });
});

describe('copies', () => {
  test('to and from a grant with offsets; the flags are set only during the copy', () => {
    const { h, gt, d } = setup();
    poke(d, 0x6000 + 100, 'abcdef');
    grant(h, d, 1, GTF_permit_access, 0, 6);
    const r = gt.copyFromGrant(0, d.id, 1, 101, 4);
    expect(r.status).toBe(0);
    expect(Buffer.from(r.data!).toString()).toBe('bcde');
    expect(gt.copyToGrant(0, d.id, 1, 4094, new Uint8Array([1, 2]))).toBe(0);
    expect(d.memory.readU16(0x6ffe)).toBe(0x0201);
    expect(flagsOf(h, d, 1)).toBe(GTF_permit_access);
  });

  test('bounds and permissions: past the page, negative, read-only target, wrong domid', () => {
    const { h, gt, d } = setup();
    grant(h, d, 1, GTF_permit_access | GTF_readonly, 0, 6);
    expect(gt.copyFromGrant(0, d.id, 1, 4000, 97).status).toBe(GNTST_bad_copy_arg);
    expect(gt.copyFromGrant(0, d.id, 1, -1, 1).status).toBe(GNTST_bad_copy_arg);
    expect(gt.copyToGrant(0, d.id, 1, 4096, new Uint8Array(1))).toBe(GNTST_bad_copy_arg);
    expect(gt.copyToGrant(0, d.id, 1, 0, new Uint8Array(1))).toBe(GNTST_general_error);
    expect(gt.copyFromGrant(0, d.id, 1, 0, 4096).status).toBe(0);
    expect(gt.copyFromGrant(3, d.id, 1, 0, 1).status).toBe(GNTST_general_error);
    expect(flagsOf(h, d, 1)).toBe(GTF_permit_access | GTF_readonly);
  });
});
