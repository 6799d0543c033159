// vcpu_op sub-ops for a vCPU's shared areas and timers: vcpu_info, runstate and time areas, single-shot and periodic timers.
import { EFAULT, EINVAL, ENOSYS, ETIME } from '../errno';
import { domainServices } from '../evtchn/services';
import { guestTime, MIN_PERIOD_NS } from '../guestTime';
import { linearFromHalves } from '../guestPageWalk';
import type { Vcpu } from '../vcpu';
import type { HypercallCall } from './call';

export const VCPUOP_register_runstate_memory_area = 5;
export const VCPUOP_set_periodic_timer = 6;
export const VCPUOP_stop_periodic_timer = 7;
export const VCPUOP_set_singleshot_timer = 8;
export const VCPUOP_stop_singleshot_timer = 9;
export const VCPUOP_register_vcpu_info = 10;
export const VCPUOP_register_vcpu_time_memory_area = 13;
/** vcpu_set_singleshot_timer.flags: fail with -ETIME when the deadline has already passed. */
export const VCPU_SSHOTTMR_future = 1;
/** Xen's STIME_DELTA_MAX: the longest period a periodic timer may have (2^62 ns). */
const STIME_DELTA_MAX = 2 ** 62;
const TWO32 = 4294967296;

/** Reads the u64 at offset off of the argument: exact, or Infinity when 2^53 and up. */
function u64(bytes: Uint8Array, off: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hi = dv.getUint32(off + 4, true);
  return hi >= 0x200000 ? Infinity : hi * TWO32 + dv.getUint32(off, true);
}

/** Reads the argument struct (size bytes at arg 3). */
function argBytes(c: HypercallCall, size: number): Uint8Array | number {
  const p = c.ptr(3);
  if (p === null) return -EFAULT;
  return c.copyIn(p, size);
}

/** VCPUOP_register_vcpu_info {u64 mfn; u32 offset; u32 rsvd}: moves v's vcpu_info to that guest frame. */
function registerVcpuInfo(c: HypercallCall, v: Vcpu): number {
  const b = argBytes(c, 16);
  if (typeof b === 'number') return b;
  const gfn = u64(b, 0);
  const offset = new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  if (!(gfn < 2 ** 40)) return -EINVAL;
  const ge = domainServices(c.hv).guestEvents(c.domain.id);
  if (!ge) return -EINVAL;
  try {
    ge.registerVcpuInfo(v.id, gfn * 4096 + offset);
  } catch {
    // Crossing a page, a second registration, or a frame the guest does not have.
    return -EINVAL;
  }
  // The pvclock lives in vcpu_info: fill the new copy now, Linux reads it straight away.
  if (v === c.vcpu) guestTime(c.hv).refreshClock(c.domain, v);
  return 0;
}

/** Handles the area and timer sub-ops of vcpu_op for vCPU v; -ENOSYS for any other cmd. */
export function vcpuTimeOp(c: HypercallCall, cmd: number, v: Vcpu): number {
  const t = guestTime(c.hv);
  const d = c.domain;
  switch (cmd) {
    case VCPUOP_register_vcpu_info:
      return registerVcpuInfo(c, v);
    case VCPUOP_register_runstate_memory_area:
    case VCPUOP_register_vcpu_time_memory_area: {
      // { guest-virtual address }: 8 bytes (a 4-byte handle in the 32-bit ABI, read as the low half).
      // A 64-bit kernel passes a higher-half address (Linux: its per-CPU area, 0xffff88...),
      // kept sign-extended as the page walker wants it; a non-canonical one is -EFAULT.
      const b = argBytes(c, c.long64 ? 8 : 4);
      if (typeof b === 'number') return b;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const gla = c.long64 ? linearFromHalves(dv.getUint32(0, true), dv.getUint32(4, true)) : dv.getUint32(0, true);
      if (gla === null) return -EFAULT;
      if (cmd === VCPUOP_register_vcpu_time_memory_area) {
        t.registerTimeArea(v, gla);
        if (v === c.vcpu) t.refreshClock(d, v);
        return 0;
      }
      // Written at once, with the registering vCPU's page tables, so a bad address is -EFAULT now.
      return t.registerRunstate(d, v, gla) ? 0 : -EFAULT;
    }
    case VCPUOP_set_singleshot_timer: {
      // Xen arms single-shot timers only for the calling vCPU.
      if (v !== c.vcpu) return -EINVAL;
      const b = argBytes(c, 16);
      if (typeof b === 'number') return b;
      const deadline = u64(b, 0);
      const flags = new DataView(b.buffer, b.byteOffset).getUint32(8, true);
      if ((flags & VCPU_SSHOTTMR_future) && deadline < t.systemNs(d)) return -ETIME;
      t.setSingleshot(v, deadline);
      return 0;
    }
    case VCPUOP_stop_singleshot_timer:
      if (v !== c.vcpu) return -EINVAL;
      t.stopSingleshot(v);
      return 0;
    case VCPUOP_set_periodic_timer: {
      const b = argBytes(c, 8);
      if (typeof b === 'number') return b;
      const period = u64(b, 0);
      if (period < MIN_PERIOD_NS || period > STIME_DELTA_MAX) return -EINVAL;
      t.setPeriodic(d, v, period);
      return 0;
    }
    case VCPUOP_stop_periodic_timer:
      t.setPeriodic(d, v, null);
      return 0;
    default:
      return -ENOSYS;
  }
}
