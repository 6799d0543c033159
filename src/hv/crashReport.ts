// The register dump logged when a domain crashes, in the spirit of Xen's "Domain N (vcpu#M) crashed".
import { STATE } from './abi';
import type { RegName, SegName, Vcpu } from './vcpu';

function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function regs(v: Vcpu, names: RegName[]): string {
  return '  ' + names.map((n) => `${n.padEnd(3)} ${hex16(v.reg(n))}`).join(' ');
}

function seg(v: Vcpu, name: SegName): string {
  const s = v.seg(name);
  return `${name} ${s.sel.toString(16).padStart(4, '0')}/${s.attr.toString(16).padStart(3, '0')}/${s.base.toString(16)}+${s.limit.toString(16)}`;
}

/** The lines of a crash report: the headline, then registers from the vCPU's state page. */
export function crashReport(domid: number, name: string, v: Vcpu, why: string): string[] {
  const lines = [`domain ${domid} (${name}) vcpu ${v.id} crashed: ${why}`];
  lines.push(regs(v, ['rip', 'rsp', 'rflags']));
  lines.push(regs(v, ['rax', 'rbx', 'rcx', 'rdx']));
  lines.push(regs(v, ['rsi', 'rdi', 'rbp', 'r8']));
  lines.push(regs(v, ['r9', 'r10', 'r11', 'r12']));
  lines.push(regs(v, ['r13', 'r14', 'r15']));
  lines.push(regs(v, ['cr0', 'cr2', 'cr3', 'cr4']));
  lines.push(regs(v, ['efer', 'pat']));
  lines.push(`  ${seg(v, 'cs')} ${seg(v, 'ss')} ${seg(v, 'ds')} ${seg(v, 'tr')}`);
  const g = v.table('gdtr');
  const i = v.table('idtr');
  lines.push(`  gdtr ${g.base.toString(16)}+${g.limit.toString(16)} idtr ${i.base.toString(16)}+${i.limit.toString(16)}`);
  lines.push(`  exit reason ${v.exitReason} qual ${v.qual(0).toString(16)} ${v.qual(1).toString(16)} gpa ${v.u64(STATE.exitGpa).toString(16)}` +
    ` raw ${v.u64(STATE.rawExitCode).toString(16)} info1 ${v.u64(STATE.rawInfo1).toString(16)} info2 ${v.u64(STATE.rawInfo2).toString(16)}` +
    ` intinfo ${v.u64(STATE.rawIntInfo).toString(16)}`);
  return lines;
}
