// Xen's hypercall page: 128 32-byte stubs written into the guest page named by MSR 0x40000000.
import { E820_RAM } from './pvhLayout';
import type { GuestDomain } from './guestDomain';
import type { Vcpu } from './vcpu';

/** The MSR CPUID leaf base+2 names (EBX) for installing the page. */
export const HYPERCALL_PAGE_MSR = 0x40000000;
/** __HYPERVISOR_iret: its stub is UD2, as Xen does not support it from HVM guests. */
const HYPERCALL_IRET = 23;
const VEC_GP = 13;
const PAGE = 4096;

/**
 * The page's bytes: INT3 everywhere, then at i*32 "mov $i, %eax; vmmcall; ret" (VMCALL on
 * Intel), and slot 23 "ud2" (Xen's hvm hypercall page layout).
 */
export function hypercallPageBytes(vendor: 'amd' | 'intel' | 'other'): Uint8Array {
  const page = new Uint8Array(PAGE).fill(0xcc);
  const call = vendor === 'amd' ? [0x0f, 0x01, 0xd9] : [0x0f, 0x01, 0xc1];
  for (let i = 0; i < PAGE / 32; i++) {
    const p = i * 32;
    if (i === HYPERCALL_IRET) {
      page[p] = 0x0f;
      page[p + 1] = 0x0b;
      continue;
    }
    page[p] = 0xb8;
    page[p + 1] = i & 0xff;
    page[p + 2] = (i >>> 8) & 0xff;
    page[p + 3] = 0;
    page[p + 4] = 0;
    page.set(call, p + 5);
    page[p + 8] = 0xc3;
  }
  return page;
}

/** True when [gpa, gpa+4096) is guest RAM by the domain's memory map. */
function isRamPage(d: GuestDomain, gpa: number): boolean {
  if (!d.memory.isMapped(gpa / PAGE)) return false;
  return d.memmap.some((m) => m.type === E820_RAM && gpa >= m.addr && gpa + PAGE <= m.addr + m.size);
}

/**
 * Handles an access to the hypercall-page MSR (a forwarded MSR exit, RIP already past the
 * WRMSR/RDMSR). A write of (gpa | index) with index 0 and gpa in guest RAM fills the page;
 * anything else (a read, a non-zero index, a page that is not RAM) raises #GP on the
 * instruction, as Xen's guest_wrmsr_xen does.
 */
export function hypercallPageMsr(d: GuestDomain, v: Vcpu, write: boolean, lo: number, hi: number, vendor: 'amd' | 'intel' | 'other'): void {
  const index = lo & 0xfff;
  const gpa = hi * 4294967296 + (lo - index);
  if (!write || index !== 0 || hi >= 0x100000 || !isRamPage(d, gpa)) {
    v.rewindInstruction();
    v.injectException(VEC_GP, 0);
    return;
  }
  d.memory.write(gpa, hypercallPageBytes(vendor));
}
