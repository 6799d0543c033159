// The per-domain policy pushed to the shim as data: CPUID table, MSR table, hypercall table, hypercall page.
import { describe, expect, test } from '@jest/globals';
import { CPUID_APIC_ID_EBX, CPUID_OSXSAVE, CPUID_VCPU_ID_EBX, HCALL_ENOSYS, HCALL_FAST, HCALL_FORWARD, MSR_CONST, MSR_FORWARD, MSR_GUEST, MSR_STORED } from '../../src/hv/abi';
import { ANY, buildCpuidPolicy, cpuidLookup, cpuidTable } from '../../src/hv/cpuidPolicy';
import { hypercallPageBytes } from '../../src/hv/hypercallPage';
import { hypercallTable } from '../../src/hv/hypercallPolicy';
import { HYPERCALLS } from '../../src/hv/hypercalls/dispatch';
import { buildMsrPolicy, msrTable } from '../../src/hv/msrPolicy';
import { FakeShim, QEMU64_SVM_CPUID } from '../fakeShim';

/** QEMU's EPYC model as TCG shows it to zazen (the leaves the policy reads). */
const EPYC: Record<string, [number, number, number, number]> = {
  ...QEMU64_SVM_CPUID,
  '0': [0xd, 0x68747541, 0x444d4163, 0x69746e65],
  '1': [0x800f12, 0x00010800, 0xfed83203, 0x178bfbff],
  '5': [0x40, 0x40, 3, 0],
  '7:0': [0, 0x209c01a9, 0x10, 0],
  '0xd:0': [7, 0x340, 0x340, 0],
  '0xd:1': [0xf, 0, 0, 0],
  '0xd:2': [0x100, 0x240, 0, 0],
  '0x80000000': [0x8000001f, 0x68747541, 0x444d4163, 0x69746e65],
  '0x80000001': [0x800f12, 0, 0x35c233ff, 0x2fd3fbff],
  '0x80000008': [0x3030, 0, 0x3, 0],
};

function policy(domid = 5) {
  const host = new FakeShim({ cpuid: EPYC });
  return buildCpuidPolicy({ host: (l, s) => host.cpuid(l, s), domid, tscKhz: 2096025 });
}

describe('CPUID policy', () => {
  test('Xen leaves: signature, max leaf, 4.17, hypercall page, TSC kHz, vCPU and domain ids', () => {
    const p = policy(5);
    expect(cpuidLookup(p, 0x40000000, 0, 0)).toEqual([0x40000005, 0x566e6558, 0x65584d4d, 0x4d4d566e]);
    expect(cpuidLookup(p, 0x40000001, 0, 0)).toEqual([0x00040011, 0, 0, 0]);
    expect(cpuidLookup(p, 0x40000002, 0, 0)).toEqual([1, 0x40000000, 0, 0]);
    expect(cpuidLookup(p, 0x40000003, 0, 0)[2]).toBe(2096025);
    expect(cpuidLookup(p, 0x40000003, 1, 0)).toEqual([0, 0, 0, 0]);
    expect(cpuidLookup(p, 0x40000004, 0, 3)).toEqual([(1 << 3) | (1 << 4), 3, 5, 0]);
    expect(p.find((e) => e.leaf === 0x40000004)!.flags).toBe(CPUID_VCPU_ID_EBX);
  });

  test('host leaves filtered: SVM, VMX, MONITOR, x2APIC hidden; hypervisor bit set; APIC id and OSXSAVE per vCPU', () => {
    const p = policy();
    const [, ebx, ecx, edx] = cpuidLookup(p, 1, 0, 2, false);
    expect(ecx & (1 << 3)).toBe(0); // MONITOR
    expect(ecx & (1 << 5)).toBe(0); // VMX
    expect(ecx & (1 << 21)).toBe(0); // x2APIC
    expect(ecx & (1 << 24)).toBe(0); // TSC deadline
    expect(ecx >>> 31).toBe(1); // hypervisor
    expect(ecx & (1 << 27)).toBe(0);
    expect(cpuidLookup(p, 1, 0, 2, true)[2] & (1 << 27)).not.toBe(0);
    expect(ebx >>> 24).toBe(2);
    expect((ebx >>> 16) & 0xff).toBe(1);
    expect(edx & (1 << 28)).toBe(0); // HTT
    expect(edx & (1 << 9)).not.toBe(0); // APIC kept
    expect(p.find((e) => e.leaf === 1)!.flags).toBe(CPUID_APIC_ID_EBX | CPUID_OSXSAVE);
    expect(cpuidLookup(p, 0x80000001, 0, 0)[2] & (1 << 2)).toBe(0); // SVM
    expect(cpuidLookup(p, 0x80000001, 0, 0)[2] & (1 << 29)).toBe(0); // MONITORX
    expect(cpuidLookup(p, 5, 0, 0)).toEqual([0, 0, 0, 0]); // MONITOR leaf
    expect(cpuidLookup(p, 0x8000000a, 0, 0)).toEqual([0, 0, 0, 0]); // SVM leaf
    expect(cpuidLookup(p, 0x80000000, 0, 0)[0]).toBe(0x80000008);
    expect(cpuidLookup(p, 0, 0, 0)).toEqual(EPYC['0']);
    expect(cpuidLookup(p, 0xd, 1, 0)[0] & 8).toBe(0); // XSAVES
    expect(cpuidLookup(p, 0xd, 2, 0)).toEqual(EPYC['0xd:2']);
    expect(cpuidLookup(p, 0x80000008, 0, 0)[2]).toBe(0); // one core
  });

  test('the table is 7 words per entry, subleaf ANY for leaves without subleaves, within the shim limit', () => {
    const p = policy();
    const t = cpuidTable(p);
    expect(t.length).toBe(p.length * 7);
    expect(p.length).toBeLessThanOrEqual(146);
    const i = p.findIndex((e) => e.leaf === 0x40000000);
    expect(Array.from(t.subarray(i * 7, i * 7 + 7))).toEqual([0x40000000, ANY, 0x40000005, 0x566e6558, 0x65584d4d, 0x4d4d566e, 0]);
    const keys = p.map((e) => `${e.leaf}:${e.subleaf}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('MSR policy', () => {
  test('VMCB MSRs are the guest\'s, APIC_BASE and MTRRcap constant, MTRRs per vCPU, the hypercall MSR forwarded', () => {
    const p = buildMsrPolicy();
    const action = (msr: number) => p.find((e) => e.msr === msr);
    for (const msr of [0x10, 0x174, 0x175, 0x176, 0x277, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102]) {
      expect(action(msr)!.action).toBe(MSR_GUEST);
    }
    expect(action(0x1b)).toEqual({ msr: 0x1b, action: MSR_CONST, value: 0xfee00900n });
    expect(action(0xfe)!.action).toBe(MSR_CONST);
    expect(action(0x2ff)).toEqual({ msr: 0x2ff, action: MSR_STORED, value: 0xc06n });
    expect(action(0x250)!.value).toBe(0x0606060606060606n);
    expect(action(0x40000000)!.action).toBe(MSR_FORWARD);
    expect(action(0xc0011234)).toBeUndefined();
    expect(p.filter((e) => e.action === MSR_STORED).length).toBeLessThanOrEqual(32);
    const t = msrTable(p);
    const i = p.findIndex((e) => e.msr === 0x250);
    expect(Array.from(t.subarray(i * 4, i * 4 + 4))).toEqual([0x250, MSR_STORED, 0x06060606, 0x06060606]);
  });
});

describe('hypercall table and page', () => {
  test('xen_version, vcpu_op, sched_op and event_channel_op fast, console_io forwarded, all others -ENOSYS in C', () => {
    const t = hypercallTable();
    expect(t.length).toBe(128);
    expect([t[34], t[35]]).toEqual([HCALL_FAST, 0x00040011]);
    expect(t[58]).toBe(HCALL_FAST);
    expect(t[64]).toBe(HCALL_FAST);
    expect(t[48]).toBe(HCALL_FAST);
    expect(t[36]).toBe(HCALL_FORWARD);
    // Every other hypercall: forwarded when TypeScript has a handler for it, else -ENOSYS in C.
    for (let nr = 0; nr < 64; nr++) if (nr !== 17 && nr !== 24 && nr !== 29 && nr !== 32) expect([nr, t[2 * nr]]).toEqual([nr, HYPERCALLS[nr] ? HCALL_FORWARD : HCALL_ENOSYS]);
  });

  test('VMCALL stubs on Intel, VMMCALL on AMD; INT3 between stubs; iret is UD2', () => {
    const intel = hypercallPageBytes('intel');
    expect(Array.from(intel.subarray(32 * 127, 32 * 127 + 10))).toEqual([0xb8, 127, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3, 0xcc]);
    const amd = hypercallPageBytes('amd');
    expect(Array.from(amd.subarray(32 * 29, 32 * 29 + 9))).toEqual([0xb8, 29, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3]);
    expect(Array.from(amd.subarray(32 * 23, 32 * 24)).slice(0, 2)).toEqual([0x0f, 0x0b]);
    expect(amd.filter((b) => b === 0xcc).length).toBe(4096 - 127 * 9 - 2);
  });
});
