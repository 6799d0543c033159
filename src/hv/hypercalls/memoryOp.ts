// memory_op (hypercall 12): add_to_physmap for shared_info and grant-table frames, and the domain's memory map.
import { shim } from '../abi';
import { domainAbi } from '../domainAbi';
import { domainServices } from '../evtchn/services';
import { EFAULT, EINVAL, ENOSYS, EPERM, ESRCH } from '../errno';
import type { GuestDomain } from '../guestDomain';
import type { HypercallCall } from './call';

export const HYPERVISOR_MEMORY_OP = 12;
export const XENMEM_add_to_physmap = 7;
export const XENMEM_memory_map = 9;
export const XENMAPSPACE_shared_info = 0;
export const XENMAPSPACE_grant_table = 1;
/** Set in a grant_table idx to name a v2 status frame; zazen offers only v1 tables. */
export const XENMAPIDX_grant_table_status = 0x80000000;
export const DOMID_SELF = 0x7ff0;
/** The low 6 bits of cmd are the sub-op; the rest carry a continuation's start extent (MEMOP_CMD_MASK). */
const MEMOP_CMD_MASK = 0x3f;
/** Packed struct e820entry: u64 addr, u64 size, u32 type. */
const E820_ENTRY_SIZE = 20;
/** Guest frame numbers stop at 2^40 (52-bit guest-physical addresses). */
const MAX_GFN = 2 ** 40;
const TWO32 = 4294967296;

/** Resolves a domid argument a domU may name (itself only): the domain, or -errno. */
export function selfDomain(c: HypercallCall, domid: number): GuestDomain | number {
  if (domid === DOMID_SELF || domid === c.domain.id) return c.domain;
  // A domU may not act on other domains (Xen's XSM default policy): -EPERM when the domain exists.
  return c.hv.guest(domid) ? -EPERM : -ESRCH;
}

/** A u64 or xen_ulong_t field of the argument struct; null when 2^53 or more. */
function ulongAt(dv: DataView, off: number, long64: boolean): number | null {
  if (!long64) return dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  return hi >= 0x200000 ? null : hi * TWO32 + dv.getUint32(off, true);
}

/** Maps host frame addr at gfn in d's nested page table, flushing the guest's TLB when a translation changed. */
function mapFrame(d: GuestDomain, gfn: number, addr: number, oldGfn: number | null): void {
  let flush = d.memory.mapGfn(gfn, addr).flush;
  // The frame moves: its old gfn becomes a hole, as Xen's guest_physmap_remove_page leaves it.
  if (oldGfn !== null && oldGfn !== gfn) flush = d.memory.unmapGfn(oldGfn).flush || flush;
  if (flush) shim().domainSetNpt(d.handle, d.memory.nptRoot);
}

/**
 * XENMEM_add_to_physmap: struct xen_add_to_physmap {u16 domid; u16 size; u32 space;
 * xen_ulong_t idx; xen_pfn_t gpfn} (24 bytes; 16 in the 32-bit ABI, idx and gpfn 4 bytes each).
 */
function addToPhysmap(c: HypercallCall, arg: number): number {
  const bytes = c.copyIn(arg, c.long64 ? 24 : 16);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = selfDomain(c, dv.getUint16(0, true));
  if (typeof d === 'number') return d;
  const space = dv.getUint32(4, true);
  const idx = ulongAt(dv, 8, c.long64);
  const gfn = ulongAt(dv, c.long64 ? 16 : 12, c.long64);
  if (idx === null || gfn === null || gfn >= MAX_GFN) return -EINVAL;
  const s = domainServices(c.hv);
  switch (space) {
    case XENMAPSPACE_shared_info: {
      if (idx !== 0) return -EINVAL;
      const ge = s.guestEvents(d.id);
      if (!ge) return -ESRCH;
      const abi = domainAbi(d);
      mapFrame(d, gfn, ge.sharedInfoAddr, abi.sharedInfoGfn);
      abi.sharedInfoGfn = gfn;
      return 0;
    }
    case XENMAPSPACE_grant_table: {
      if (idx >= XENMAPIDX_grant_table_status) return -EINVAL;
      const g = s.gnttab.domain(d.id);
      if (!g) return -ESRCH;
      const addr = g.table.frameHostAddr(idx);
      if (addr === null) return -EINVAL;
      mapFrame(d, gfn, addr, g.table.frameGfn(idx));
      g.table.setFrameGfn(idx, gfn);
      return 0;
    }
    default:
      // gmfn, gmfn_range, gmfn_foreign, dev_mmio: not offered (Linux's PVH boot does not use them).
      return -ENOSYS;
  }
}

/**
 * XENMEM_memory_map: struct xen_memory_map {u32 nr_entries; handle buffer} (16 bytes; 8 in the
 * 32-bit ABI). nr_entries is the buffer's capacity in and the count written out, as in Xen.
 */
function memoryMap(c: HypercallCall, arg: number): number {
  const bytes = c.copyIn(arg, c.long64 ? 16 : 8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const capacity = dv.getUint32(0, true);
  const buffer = c.long64 ? ulongAt(dv, 8, true) : dv.getUint32(4, true);
  const map = c.domain.memmap;
  const n = Math.min(capacity, map.length);
  if (n > 0) {
    if (buffer === null || buffer === 0) return -EFAULT;
    const out = new Uint8Array(n * E820_ENTRY_SIZE);
    const o = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      const e = map[i];
      const at = i * E820_ENTRY_SIZE;
      o.setUint32(at, e.addr % TWO32, true);
      o.setUint32(at + 4, Math.floor(e.addr / TWO32), true);
      o.setUint32(at + 8, e.size % TWO32, true);
      o.setUint32(at + 12, Math.floor(e.size / TWO32), true);
      o.setUint32(at + 16, e.type, true);
    }
    c.copyOut(buffer, out);
  }
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, n, true);
  c.copyOut(arg, count);
  return 0;
}

/** Handles memory_op(cmd, arg): returns 0 or -errno. */
export function memoryOp(c: HypercallCall): number {
  const cmd = c.u32(1) & MEMOP_CMD_MASK;
  if (cmd !== XENMEM_add_to_physmap && cmd !== XENMEM_memory_map) return -ENOSYS;
  const arg = c.ptr(2);
  if (arg === null) return -EFAULT;
  return cmd === XENMEM_add_to_physmap ? addToPhysmap(c, arg) : memoryMap(c, arg);
}
