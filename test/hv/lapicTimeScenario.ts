// A deterministic run over vlapic, pvclock and guestAcpi whose figures must match in Node and in QuickJS.
import { scanAcpi } from '../../src/hv/acpi';
import { buildGuestAcpi } from '../../src/hv/guestAcpi';
import { GuestBytes, newRunstate, runstateChange, scaleDelta, timeScale, writeRunstate, writeVcpuTimeInfo, writeWallClock } from '../../src/hv/pvclock';
import { isFault, LapicBus, Vlapic } from '../../src/hv/vlapic';

/** Runs the three modules and returns plain JSON-able figures. */
export function runLapicTimeScenario(): Record<string, unknown> {
  const bytes = new Uint8Array(8192);
  const mem: GuestBytes = { read: (a, n) => bytes.slice(a, a + n), write: (a, b) => bytes.set(b, a) };
  const scales = [1e9, 2.0958e9, 3.7e9].map((hz) => timeScale(hz));
  const day = scales.map((s, i) => scaleDelta(BigInt([1e9, 2.0958e9, 3.7e9][i]) * 86400n, s).toString());
  writeVcpuTimeInfo(mem, 32, { tscTimestamp: 0xfedcba9876n, systemTimeNs: 123456789n, scale: scales[1], tscStable: true });
  writeWallClock(mem, 0, 1700000000123456789n);
  const r = newRunstate(0, 5n);
  runstateChange(r, 2, 105n);
  writeRunstate(mem, 4096, r, true);
  const dv = new DataView(bytes.buffer);

  const woken: number[] = [];
  const bus = new LapicBus((id) => woken.push(id));
  const a = new Vlapic(0, bus);
  const b = new Vlapic(1, bus);
  for (const l of [a, b]) l.writeMsr(0x80f, 0x1ffn, 0);
  a.writeMsr(0x830, (1n << 32n) | 0xe1n, 0);
  a.writeMsr(0x832, 0x200ecn, 0);
  a.writeMsr(0x83e, 0xbn, 0);
  a.writeMsr(0x838, 1000n, 10);
  const deadline = a.timerDeadline(2500);
  const gp = a.writeMsr(0x802, 1n, 0);

  const acpi = buildGuestAcpi({ gpa: 0x10000, vcpus: 3, online: 2 });
  const info = scanAcpi((addr, len) => acpi.bytes.slice(addr - acpi.gpa, addr - acpi.gpa + len), acpi.rsdpGpa);
  return {
    scales,
    day,
    timeInfo: [dv.getUint32(32, true), dv.getBigUint64(40, true).toString(), dv.getUint32(56, true), dv.getInt8(60), dv.getUint8(61)],
    wallClock: [dv.getUint32(3072, true), dv.getUint32(3076, true), dv.getUint32(3080, true), dv.getUint32(3084, true)],
    runstate: [dv.getUint32(4096, true), dv.getBigUint64(4104, true).toString(), dv.getBigUint64(4112, true).toString()],
    lapic: { bPending: b.nextInjectable(), aPending: a.nextInjectable(), deadline, count: String(a.readMsr(0x839, 2600)), gp: isFault(gp), woken },
    acpi: { warnings: info.warnings, tables: info.tables.map((t) => t.signature), cpus: info.madt ? info.madt.cpus.map((c) => [c.apicId, c.enabled]) : null },
  };
}
