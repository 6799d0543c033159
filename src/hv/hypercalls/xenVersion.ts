// xen_version (hypercall 17): every XENVER_* sub-op a domU may use, as Xen 4.17 answers them.
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../errno';
import { XEN_EXTRA, XEN_MAJOR, XEN_MINOR } from '../version';
import type { HypercallCall } from './call';

export const HYPERVISOR_XEN_VERSION = 17;
/** XENVER_version's answer: (major << 16) | minor. */
export const XEN_VERSION_WORD = (XEN_MAJOR << 16) | XEN_MINOR;
/**
 * XENVER_get_features submap 0 for a PVH domU, as Xen 4.17 reports it (xen-abi.md §2):
 * writable_page_tables, auto_translated_physmap, hvm_callback_vector, hvm_safe_pvclock,
 * memory_op_vnode_supported, not_direct_mapped, runstate_phys_area, vcpu_time_phys_area,
 * dm_msix_all_writes.
 */
export const PVH_FEATURES_SUBMAP0 = 0x1d2305;
/** What the string sub-ops answer (xl info shows the same). */
export const XEN_CAPABILITIES = 'hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64';
export const XEN_CHANGESET = 'unavailable';
export const COMPILE_INFO = { compiler: 'unavailable', compileBy: 'unavailable', compileDomain: 'unavailable', compileDate: 'unavailable' };

const XENVER_version = 0;
const XENVER_extraversion = 1;
const XENVER_compile_info = 2;
const XENVER_capabilities = 3;
const XENVER_changeset = 4;
const XENVER_platform_parameters = 5;
const XENVER_get_features = 6;
const XENVER_pagesize = 7;
const XENVER_guest_handle = 8;
const XENVER_commandline = 9;
const XENVER_build_id = 10;

/** A NUL-padded char[size] holding text (cut to size - 1 bytes, as Xen's safe_strcpy does). */
function fixed(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < text.length && i < size - 1; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** The 16 bytes of a textual UUID. */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16) || 0;
  return out;
}

/** Handles xen_version: returns the value for RAX (a result or -errno). */
export function xenVersion(c: HypercallCall): number {
  const cmd = c.int(1);
  switch (cmd) {
    case XENVER_version:
      return XEN_VERSION_WORD;
    case XENVER_pagesize:
      return 4096;
    case XENVER_commandline:
    case XENVER_build_id:
      // XSM's default policy keeps these for privileged domains.
      return -EPERM;
  }
  const arg = c.ptr(2);
  if (cmd < XENVER_extraversion || cmd > XENVER_guest_handle) return -ENOSYS;
  if (arg === null) return -EFAULT;
  switch (cmd) {
    case XENVER_extraversion:
      c.copyOut(arg, fixed(XEN_EXTRA, 16));
      return 0;
    case XENVER_compile_info: {
      // struct xen_compile_info: compiler[64], compile_by[16], compile_domain[32], compile_date[32].
      const b = new Uint8Array(144);
      b.set(fixed(COMPILE_INFO.compiler, 64), 0);
      b.set(fixed(COMPILE_INFO.compileBy, 16), 64);
      b.set(fixed(COMPILE_INFO.compileDomain, 32), 80);
      b.set(fixed(COMPILE_INFO.compileDate, 32), 112);
      c.copyOut(arg, b);
      return 0;
    }
    case XENVER_capabilities:
      c.copyOut(arg, fixed(XEN_CAPABILITIES, 1024));
      return 0;
    case XENVER_changeset:
      c.copyOut(arg, fixed(XEN_CHANGESET, 64));
      return 0;
    case XENVER_platform_parameters:
      // { unsigned long virt_start }: 0 for HVM/PVH guests; 4 bytes in the 32-bit ABI.
      c.copyOut(arg, new Uint8Array(c.long64 ? 8 : 4));
      return 0;
    case XENVER_get_features: {
      // struct xen_feature_info { unsigned int submap_idx; uint32_t submap; }
      const info = c.copyIn(arg, 8);
      const idx = info[0] | (info[1] << 8) | (info[2] << 16) | (info[3] << 24);
      if (idx !== 0) return -EINVAL;
      const out = new Uint8Array(8);
      new DataView(out.buffer).setUint32(4, PVH_FEATURES_SUBMAP0, true);
      c.copyOut(arg, out);
      return 0;
    }
    default:
      // XENVER_guest_handle: the domain's 16-byte handle (its UUID).
      c.copyOut(arg, uuidBytes(c.domain.uuid));
      return 0;
  }
}
