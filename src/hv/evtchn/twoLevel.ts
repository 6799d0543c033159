// The 2-level event ABI's bits: pending and mask bitmaps in shared_info, selector and upcall flag in vcpu_info.
//
// All views are little-endian byte arrays over the real pages. Bit n of a u64 array is bit
// (n & 7) of byte n >> 3, so byte-wise bit operations see exactly the guest's u64 words.
// Nothing runs concurrently with the hypervisor's JS (a guest vCPU is stopped while its exit
// is handled and zazen runs guests on one CPU), so plain read-modify-write is atomic enough.

/** shared_info.evtchn_pending[64] (u64 each). */
export const SHINFO_EVTCHN_PENDING = 0x800;
/** shared_info.evtchn_mask[64]. */
export const SHINFO_EVTCHN_MASK = 0xa00;
/** vcpu_info.evtchn_upcall_pending (u8). */
export const VCPU_INFO_UPCALL_PENDING = 0;
/** vcpu_info.evtchn_pending_sel (u64): bit w says word w of evtchn_pending may have bits set. */
export const VCPU_INFO_PENDING_SEL = 8;
/** Size of struct vcpu_info. */
export const VCPU_INFO_SIZE = 64;
/** Ports per selector bit (bits in one xen_ulong_t). */
const WORD_BITS = 64;

/** Sets bit n of the bitmap at byte offset base; returns its previous value. */
function testAndSet(view: Uint8Array, base: number, n: number): boolean {
  const i = base + (n >> 3);
  const m = 1 << (n & 7);
  const old = (view[i] & m) !== 0;
  view[i] |= m;
  return old;
}

/** Clears bit n; returns its previous value. */
function testAndClear(view: Uint8Array, base: number, n: number): boolean {
  const i = base + (n >> 3);
  const m = 1 << (n & 7);
  const old = (view[i] & m) !== 0;
  view[i] &= ~m;
  return old;
}

/** Reads bit n. */
export function testBit(view: Uint8Array, base: number, n: number): boolean {
  return (view[base + (n >> 3)] & (1 << (n & 7))) !== 0;
}

/** Sets the selector bit of port's word and, when newly set, the upcall flag; true when the upcall flag went 0 -> 1. */
function flagWord(vcpuInfo: Uint8Array | null, port: number): boolean {
  if (vcpuInfo === null) return false;
  if (testAndSet(vcpuInfo, VCPU_INFO_PENDING_SEL, Math.floor(port / WORD_BITS))) return false;
  return markUpcall(vcpuInfo);
}

/** Sets evtchn_upcall_pending; true when it was clear (Xen's vcpu_mark_events_pending then kicks the vCPU). */
export function markUpcall(vcpuInfo: Uint8Array): boolean {
  if (vcpuInfo[VCPU_INFO_UPCALL_PENDING] !== 0) return false;
  vcpuInfo[VCPU_INFO_UPCALL_PENDING] = 1;
  return true;
}

/**
 * Marks port pending (Xen's evtchn_2l_set_pending). An already-pending port changes nothing;
 * a masked one stays quiet until unmask. Returns true when the vCPU must get the upcall.
 */
export function setPending(sharedInfo: Uint8Array, vcpuInfo: Uint8Array | null, port: number): boolean {
  if (testAndSet(sharedInfo, SHINFO_EVTCHN_PENDING, port)) return false;
  if (testBit(sharedInfo, SHINFO_EVTCHN_MASK, port)) return false;
  return flagWord(vcpuInfo, port);
}

/** Clears port's pending bit (a freed port must not fire when reused). */
export function clearPending(sharedInfo: Uint8Array, port: number): void {
  testAndClear(sharedInfo, SHINFO_EVTCHN_PENDING, port);
}

/** Clears port's mask bit; a pending event is delivered now (evtchn_2l_unmask). Returns true when an upcall is due. */
export function unmask(sharedInfo: Uint8Array, vcpuInfo: Uint8Array | null, port: number): boolean {
  if (!testAndClear(sharedInfo, SHINFO_EVTCHN_MASK, port)) return false;
  if (!testBit(sharedInfo, SHINFO_EVTCHN_PENDING, port)) return false;
  return flagWord(vcpuInfo, port);
}
