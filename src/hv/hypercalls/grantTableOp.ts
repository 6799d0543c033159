// grant_table_op (hypercall 20): GNTTABOP setup_table, query_size, set_version, get_version and copy for the calling domain.
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../errno';
import { domainServices } from '../evtchn/services';
import { ESRCH } from '../errno';
import { PAGE_SIZE } from '../guestMemory';
import { linearFromHalves } from '../guestPageWalk';
import { GNTST_bad_copy_arg, GNTST_bad_domain, GNTST_bad_page, GNTST_general_error, GNTST_okay, GNTST_permission_denied } from '../gnttab/grantStatus';
import type { HypercallCall } from './call';
import { DOMID_SELF } from './eventChannelOp';

export const HYPERVISOR_GRANT_TABLE_OP = 20;
const OP_setup_table = 2;
const OP_copy = 5;
const OP_query_size = 6;
const OP_set_version = 8;
const OP_get_version = 10;
/** GNTST_bad_virt_addr: setup_table could not write the frame list. */
const GNTST_bad_virt_addr = -5;
const GNTCOPY_source_gref = 1;
const GNTCOPY_dest_gref = 2;
/** An unmapped frame in setup_table's list (INVALID_GFN, all ones). */
const INVALID_GFN = 0xffffffff;
/**
 * Most GNTTABOP_copy entries taken in one call. Xen goes on through hypercall continuations;
 * zazen refuses more with -EINVAL so that one call cannot hold the CPU for long.
 */
export const GNTTAB_COPY_MAX = 1024;

/** Handles grant_table_op(cmd, uop, count). */
export function grantTableOp(c: HypercallCall): number {
  const cmd = c.int(1);
  const count = c.u32(3);
  if ((count | 0) < 0) return -EINVAL;
  if (cmd !== OP_setup_table && cmd !== OP_copy && cmd !== OP_query_size && cmd !== OP_set_version && cmd !== OP_get_version) {
    // map/unmap/transfer and the v2 ops: grants are mapped by zazen's own backends only.
    return -ENOSYS;
  }
  const uop = c.ptr(2);
  if (uop === null) return -EFAULT;
  if (cmd === OP_copy) return copyOps(c, uop, count);
  if (count !== 1) return -EINVAL;
  switch (cmd) {
    case OP_setup_table:
      return setupTable(c, uop);
    case OP_query_size:
      return querySize(c, uop);
    case OP_set_version: {
      const b = c.copyIn(uop, 4);
      const v = new DataView(b.buffer, b.byteOffset, 4);
      const want = v.getUint32(0, true);
      // Version 2 is not implemented: Xen answers -ENOSYS when its max version is 1, and Linux keeps v1.
      const rc = want === 1 ? 0 : want === 2 ? -ENOSYS : -EINVAL;
      v.setUint32(0, 1, true);
      c.copyOut(uop, b);
      return rc;
    }
    default: {
      const b = c.copyIn(uop, 8);
      const v = new DataView(b.buffer, b.byteOffset, 8);
      const dom = v.getUint16(0, true);
      if (dom !== DOMID_SELF && dom !== c.domain.id) return dom === 0 || c.hv.guest(dom) ? -EPERM : -ESRCH;
      v.setUint32(4, 1, true);
      c.copyOut(uop, b);
      return 0;
    }
  }
}

/** The GNTST_* answer for naming dom: 0 for the caller itself. */
function domStatus(c: HypercallCall, dom: number): number {
  if (dom === DOMID_SELF || dom === c.domain.id) return GNTST_okay;
  return dom === 0 || c.hv.guest(dom) ? GNTST_permission_denied : GNTST_bad_domain;
}

/** GNTTABOP_setup_table: grows the table to nr_frames and lists where each frame is mapped. */
function setupTable(c: HypercallCall, uop: number): number {
  // 64-bit: {u16 dom; u32 nr_frames @4; s16 status @8; frame_list @16 (u64 each)}; 32-bit: list ptr @12, u32 each.
  const size = c.long64 ? 24 : 16;
  const b = c.copyIn(uop, size);
  const v = new DataView(b.buffer, b.byteOffset, size);
  const nr = v.getUint32(4, true);
  let status = domStatus(c, v.getUint16(0, true));
  if (status === GNTST_okay) {
    const g = domainServices(c.hv).gnttab.domain(c.domain.id);
    if (!g || !g.table.grow(nr)) {
      status = GNTST_general_error;
    } else {
      const list = c.long64 ? linearFromHalves(v.getUint32(16, true), v.getUint32(20, true)) : v.getUint32(12, true);
      const w = c.long64 ? 8 : 4;
      if (list === null && nr > 0) status = GNTST_bad_virt_addr;
      for (let i = 0; list !== null && i < nr && status === GNTST_okay; i++) {
        const gfn = g.table.frameGfn(i);
        const e = new Uint8Array(w).fill(gfn === null ? 0xff : 0);
        if (gfn !== null) new DataView(e.buffer).setUint32(0, gfn, true);
        try {
          c.copyOut(list + i * w, e);
        } catch {
          status = GNTST_bad_virt_addr;
        }
      }
    }
  }
  v.setInt16(8, status, true);
  c.copyOut(uop, b);
  return 0;
}

/** GNTTABOP_query_size: current and maximum frames. */
function querySize(c: HypercallCall, uop: number): number {
  const b = c.copyIn(uop, 16);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  const status = domStatus(c, v.getUint16(0, true));
  if (status === GNTST_okay) {
    const g = domainServices(c.hv).gnttab.domain(c.domain.id);
    v.setUint32(4, g ? g.table.nrFrames : 0, true);
    v.setUint32(8, g ? g.table.maxFrames : 0, true);
  }
  v.setInt16(12, status, true);
  c.copyOut(uop, b);
  return 0;
}

/**
 * GNTTABOP_copy, entry by entry: each side is a grant (flag set: domid is the granter, which
 * must grant to the caller) or one of the caller's own gfns (domid DOMID_SELF). Each entry's
 * status is written back; the call itself returns 0.
 */
function copyOps(c: HypercallCall, uop: number, count: number): number {
  if (count > GNTTAB_COPY_MAX) return -EINVAL;
  // struct gnttab_copy: {ptr source; ptr dest; u16 len; u16 flags; s16 status}; ptr = {xen_pfn_t ref/gmfn;
  // u16 domid; u16 offset}, padded to 16 bytes in the 64-bit ABI (8 in the 32-bit one).
  const pw = c.long64 ? 16 : 8;
  const size = c.long64 ? 40 : 24;
  for (let i = 0; i < count; i++) {
    const at = uop + i * size;
    const b = c.copyIn(at, size);
    const v = new DataView(b.buffer, b.byteOffset, size);
    v.setInt16(2 * pw + 4, copyOne(c, v, pw), true);
    c.copyOut(at, b);
  }
  return 0;
}

function copyOne(c: HypercallCall, v: DataView, pw: number): number {
  const len = v.getUint16(2 * pw, true);
  const flags = v.getUint16(2 * pw + 2, true);
  const side = (base: number) => ({
    ref: v.getUint32(base, true),
    gfn: pw === 16 ? v.getUint32(base, true) + v.getUint32(base + 4, true) * 4294967296 : v.getUint32(base, true),
    domid: v.getUint16(base + pw / 2, true),
    offset: v.getUint16(base + pw / 2 + 2, true),
  });
  const src = side(0);
  const dst = side(pw);
  if (src.offset + len > PAGE_SIZE || dst.offset + len > PAGE_SIZE) return GNTST_bad_copy_arg;
  const gt = domainServices(c.hv).gnttab;
  const self = c.domain.id;
  let data: Uint8Array;
  if (flags & GNTCOPY_source_gref) {
    const r = gt.copyFromGrant(self, src.domid, src.ref, src.offset, len);
    if (r.status !== GNTST_okay || !r.data) return r.status;
    data = r.data;
  } else {
    const st = ownPage(c, src.domid, src.gfn);
    if (st !== GNTST_okay) return st;
    data = c.domain.memory.read(src.gfn * PAGE_SIZE + src.offset, len);
  }
  if (flags & GNTCOPY_dest_gref) return gt.copyToGrant(self, dst.domid, dst.ref, dst.offset, data);
  const st = ownPage(c, dst.domid, dst.gfn);
  if (st !== GNTST_okay) return st;
  c.domain.memory.write(dst.gfn * PAGE_SIZE + dst.offset, data);
  return GNTST_okay;
}

/** A plain (not granted) side of a copy must be the caller's own populated page. */
function ownPage(c: HypercallCall, domid: number, gfn: number): number {
  if (domid !== DOMID_SELF && domid !== c.domain.id) return GNTST_permission_denied;
  return c.domain.memory.isMapped(gfn) ? GNTST_okay : GNTST_bad_page;
}
