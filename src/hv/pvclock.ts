// Xen guest time: the TSC→ns scale, vcpu_time_info (pvclock), the shared_info wall clock and the runstate area.
//
// Every structure here is written with Xen's version protocol: a guest reading it copies the
// version, the fields, then the version again, and retries while the version is odd or
// changed. So the writer makes the version odd, writes the fields, then makes it even, each
// as its own store, in that order (zazen's TypeScript runs while the reading vCPU may run on
// another core).

/** Where guest bytes are read and written (GuestMemory, or a guest-virtual view for the runstate area). */
export interface GuestBytes {
  read(addr: number, len: number): Uint8Array;
  write(addr: number, bytes: Uint8Array): void;
}

/** A TSC→ns scale as Linux's pvclock_scale_delta applies it. */
export interface TimeScale {
  /** 32.32 fixed-point ns per (shifted) tick. */
  mul: number;
  /** Applied to the TSC delta before the multiply: << shift when ≥ 0, >> -shift otherwise. */
  shift: number;
}

/** vcpu_time_info.flags bit 0: the TSC is invariant and synchronised across vCPUs. */
export const PVCLOCK_TSC_STABLE = 1;
/** vcpu_time_info.flags bit 1: the guest was paused (set only by a hypervisor that stops guests). */
export const PVCLOCK_GUEST_STOPPED = 2;
/** Size of vcpu_time_info; it sits at offset 32 of each 64-byte vcpu_info. */
export const VCPU_TIME_INFO_SIZE = 32;
export const VCPU_INFO_TIME_OFFSET = 32;
/** shared_info offsets of the wall clock: wc_version, wc_sec, wc_nsec, wc_sec_hi (u32 each). */
export const SHARED_INFO_WC = 3072;
/** Size of vcpu_runstate_info. */
export const RUNSTATE_INFO_SIZE = 48;
/** Runstates (RUNSTATE_* in public/vcpu.h). */
export const RUNSTATE = { running: 0, runnable: 1, blocked: 2, offline: 3 } as const;
/** Bit 63 of state_entry_time while the area is being rewritten (VMASST_TYPE_runstate_update_flag). */
export const XEN_RUNSTATE_UPDATE = 1n << 63n;

const NS_PER_S = 1000000000;
const TWO32 = 4294967296;
const U64 = (1n << 64n) - 1n;

/**
 * The mul/shift for a TSC of hz ticks per second, as Xen's set_time_scale: the rate is halved
 * (shift--) until it is ≤ 2e9 and doubled (shift++) until it is > 1e9, so the multiplier
 * 1e9·2^32 / rate lies in [2^31, 2^32) and keeps 31+ significant bits.
 */
export function timeScale(hz: number): TimeScale {
  if (!Number.isInteger(hz) || hz < 1 || hz > Number.MAX_SAFE_INTEGER) throw new RangeError(`TSC frequency must be a positive integer in Hz, got ${hz}`);
  let rate = hz;
  let shift = 0;
  while (rate > 2 * NS_PER_S) {
    rate = Math.floor(rate / 2);
    shift--;
  }
  while (rate <= NS_PER_S) {
    rate *= 2;
    shift++;
  }
  // rate ≤ 2e9 < 2^31 and 1e9·2^32 < 2^63: exact in BigInt, floored like Xen's div_frac.
  const mul = Number((BigInt(NS_PER_S) << 32n) / BigInt(rate));
  return { mul, shift };
}

/** Nanoseconds for a TSC delta, exactly as Linux's pvclock_scale_delta (64-bit shift, 96-bit product >> 32). */
export function scaleDelta(delta: bigint, scale: TimeScale): bigint {
  let d = BigInt.asUintN(64, delta);
  if (scale.shift >= 0) d = (d << BigInt(scale.shift)) & U64;
  else d >>= BigInt(-scale.shift);
  return BigInt.asUintN(64, (d * BigInt(scale.mul)) >> 32n);
}

/** The TSC frequency a guest derives from a scale (Linux's pvclock_tsc_khz formula, in Hz). */
export function scaleToHz(scale: TimeScale): number {
  let hz = (BigInt(NS_PER_S) << 32n) / BigInt(scale.mul);
  hz = scale.shift >= 0 ? hz >> BigInt(scale.shift) : hz << BigInt(-scale.shift);
  return Number(hz);
}

/** What one vcpu_time_info update says. */
export interface PvclockSample {
  tscTimestamp: bigint;
  /** ns since the domain's time origin at tscTimestamp. */
  systemTimeNs: bigint;
  scale: TimeScale;
  /** Set PVCLOCK_TSC_STABLE only when the TSC really is invariant and synchronised. */
  tscStable: boolean;
}

/** The time a guest computes from a sample at TSC value tsc (Linux's __pvclock_read_cycles). */
export function pvclockRead(s: PvclockSample, tsc: bigint): bigint {
  return BigInt.asUintN(64, s.systemTimeNs + scaleDelta(tsc - s.tscTimestamp, s.scale));
}

function u32At(mem: GuestBytes, addr: number): number {
  const b = mem.read(addr, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Runs write between an odd and an even version at versionAddr (Xen's version_update_begin/end). */
function versioned(mem: GuestBytes, versionAddr: number, write: () => void): void {
  const begin = ((u32At(mem, versionAddr) + 1) | 1) >>> 0;
  mem.write(versionAddr, u32Bytes(begin));
  write();
  mem.write(versionAddr, u32Bytes((begin + 1) >>> 0));
}

/** Writes a vcpu_time_info at addr (vcpu_info + 32, or a time memory area) with the version protocol. */
export function writeVcpuTimeInfo(mem: GuestBytes, addr: number, s: PvclockSample): void {
  if (s.scale.shift < -128 || s.scale.shift > 127 || !Number.isInteger(s.scale.shift)) throw new RangeError(`tsc_shift ${s.scale.shift} does not fit an s8`);
  if (!Number.isInteger(s.scale.mul) || s.scale.mul < 0 || s.scale.mul >= TWO32) throw new RangeError(`tsc_to_system_mul ${s.scale.mul} does not fit a u32`);
  const body = new Uint8Array(VCPU_TIME_INFO_SIZE - 8);
  const dv = new DataView(body.buffer);
  dv.setBigUint64(0, BigInt.asUintN(64, s.tscTimestamp), true);
  dv.setBigUint64(8, BigInt.asUintN(64, s.systemTimeNs), true);
  dv.setUint32(16, s.scale.mul, true);
  dv.setInt8(20, s.scale.shift);
  dv.setUint8(21, s.tscStable ? PVCLOCK_TSC_STABLE : 0);
  versioned(mem, addr, () => mem.write(addr + 8, body));
}

/** Writes the wall clock (the epoch time at system time 0) into shared_info at sharedInfo. */
export function writeWallClock(mem: GuestBytes, sharedInfo: number, epochNsAtZero: bigint): void {
  if (epochNsAtZero < 0n) throw new RangeError('wall clock before 1970 is not representable');
  const sec = epochNsAtZero / 1000000000n;
  const nsec = Number(epochNsAtZero % 1000000000n);
  const body = new Uint8Array(8);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, Number(sec & 0xffffffffn), true);
  dv.setUint32(4, nsec, true);
  versioned(mem, sharedInfo + SHARED_INFO_WC, () => {
    mem.write(sharedInfo + SHARED_INFO_WC + 4, body);
    mem.write(sharedInfo + SHARED_INFO_WC + 12, u32Bytes(Number((sec >> 32n) & 0xffffffffn)));
  });
}

/** A vCPU's runstate record, as kept by the hypervisor and copied into the guest's area. */
export interface RunstateInfo {
  state: number;
  /** ns of system time when the state was entered. */
  stateEntryTime: bigint;
  /** ns spent in each RUNSTATE_* so far. */
  time: [bigint, bigint, bigint, bigint];
}

/** A fresh record: in state since now. */
export function newRunstate(state: number, now: bigint): RunstateInfo {
  return { state, stateEntryTime: now, time: [0n, 0n, 0n, 0n] };
}

/** Moves the record to newState at now, charging the time since the last change to the old state. */
export function runstateChange(r: RunstateInfo, newState: number, now: bigint): void {
  if (!Number.isInteger(newState) || newState < 0 || newState > 3) throw new RangeError(`runstate ${newState} is not 0-3`);
  const spent = now - r.stateEntryTime;
  if (spent > 0n) r.time[r.state] += spent;
  r.state = newState;
  r.stateEntryTime = now > r.stateEntryTime ? now : r.stateEntryTime;
}

function runstateBytes(r: RunstateInfo, entryTime: bigint): Uint8Array {
  const b = new Uint8Array(RUNSTATE_INFO_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, r.state, true);
  dv.setBigUint64(8, BigInt.asUintN(64, entryTime), true);
  for (let i = 0; i < 4; i++) dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, r.time[i]), true);
  return b;
}

/**
 * Copies the record to the guest's runstate area. With updateFlag (vm_assist
 * VMASST_TYPE_runstate_update_flag, type 5) it follows Xen's update_runstate_area: first
 * only the top byte of state_entry_time gets XEN_RUNSTATE_UPDATE, then the whole record is
 * written with the flag still set, then the flag is cleared, so a reader on another vCPU can
 * tell a torn copy. Without it, the record is written in one go as Xen does.
 */
export function writeRunstate(mem: GuestBytes, addr: number, r: RunstateInfo, updateFlag: boolean): void {
  if (!updateFlag) {
    mem.write(addr, runstateBytes(r, r.stateEntryTime));
    return;
  }
  const flagged = BigInt.asUintN(64, r.stateEntryTime) | XEN_RUNSTATE_UPDATE;
  const top = mem.read(addr + 15, 1);
  mem.write(addr + 15, new Uint8Array([top[0] | 0x80]));
  mem.write(addr, runstateBytes(r, flagged));
  mem.write(addr + 15, new Uint8Array([Number((flagged & ~XEN_RUNSTATE_UPDATE) >> 56n)]));
}
