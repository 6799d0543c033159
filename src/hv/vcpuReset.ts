// The register state a vCPU starts in after INIT and a STARTUP IPI: real mode at the SIPI vector's page.
import type { Vcpu } from './vcpu';

/** EFER.SVME: the shim requires it in every guest's EFER under SVM. */
const EFER_SVME = 0x1000;

/**
 * Puts v in the state a processor has after INIT then SIPI with this vector: real mode,
 * CS = vector << 8 (base vector << 12), IP 0, flat 64 KiB data segments, CR0 with only ET,
 * no paging, debug registers and PAT at their reset values (as Xen's hvm_vcpu_reset_state).
 * Linux's PVH guests start their secondary CPUs this way, through the LAPIC.
 */
export function resetToStartup(v: Vcpu, vector: number): void {
  for (let i = 0; i < 16; i++) v.setGprHalves(i, 0, 0);
  v.setReg('rip', 0);
  v.setReg('rflags', 0x2);
  v.setReg('cr0', 0x10);
  v.setReg('cr2', 0);
  v.setReg('cr3', 0);
  v.setReg('cr4', 0);
  v.setReg('efer', EFER_SVME);
  v.setReg('xcr0', 1);
  v.setReg('dr6', 0xffff0ff0);
  v.setReg('dr7', 0x400);
  v.setReg('pat', 0x0007040600070406n);
  // SVM's packed attributes: access byte in bits 0-7 (type, S, DPL, P), G/DB/L/AVL in 8-11.
  v.setSeg('cs', { sel: (vector << 8) & 0xffff, attr: 0x9b, limit: 0xffff, base: (vector & 0xff) * 0x1000 });
  for (const s of ['ds', 'es', 'ss', 'fs', 'gs'] as const) v.setSeg(s, { sel: 0, attr: 0x93, limit: 0xffff, base: 0 });
  v.setSeg('ldtr', { sel: 0, attr: 0x82, limit: 0xffff, base: 0 });
  v.setSeg('tr', { sel: 0, attr: 0x8b, limit: 0xffff, base: 0 });
  v.setSeg('gdtr', { sel: 0, attr: 0, limit: 0xffff, base: 0 });
  v.setSeg('idtr', { sel: 0, attr: 0, limit: 0xffff, base: 0 });
}
