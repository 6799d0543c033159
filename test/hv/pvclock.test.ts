// Tests for pvclock: Xen's mul/shift against exact arithmetic, and the version protocol of every area written.
import { describe, expect, test } from '@jest/globals';
import {
  GuestBytes,
  newRunstate,
  pvclockRead,
  PVCLOCK_TSC_STABLE,
  RUNSTATE,
  runstateChange,
  scaleDelta,
  scaleToHz,
  timeScale,
  writeRunstate,
  writeVcpuTimeInfo,
  writeWallClock,
  XEN_RUNSTATE_UPDATE,
} from '../../src/hv/pvclock';

/** A 8 KiB guest memory that records every write, to check the order of the version protocol. */
class RecordingMemory implements GuestBytes {
  readonly bytes = new Uint8Array(8192);
  readonly writes: { addr: number; bytes: Uint8Array }[] = [];
  read(addr: number, len: number): Uint8Array {
    return this.bytes.slice(addr, addr + len);
  }
  write(addr: number, bytes: Uint8Array): void {
    this.writes.push({ addr, bytes: bytes.slice() });
    this.bytes.set(bytes, addr);
  }
  view(): DataView {
    return new DataView(this.bytes.buffer);
  }
}

const FREQS = [1000000000, 2095800000, 3700000000, 2500000, 7999999999];

describe('timeScale', () => {
  test('1 GHz (icount) is the identity: mul 2^31, shift 1', () => {
    expect(timeScale(1e9)).toEqual({ mul: 0x80000000, shift: 1 });
    expect(scaleDelta(123456789012345n, timeScale(1e9))).toBe(123456789012345n);
  });

  test('3.7 GHz halves once; 2.0958 GHz halves once; 2.5 MHz doubles nine times', () => {
    expect(timeScale(3.7e9).shift).toBe(-1);
    expect(timeScale(2.0958e9).shift).toBe(-1);
    expect(timeScale(2.5e6).shift).toBe(9);
  });

  test.each(FREQS)('the multiplier keeps 31+ bits and the guest reads back the frequency (%d Hz)', (hz) => {
    const s = timeScale(hz);
    expect(s.mul).toBeGreaterThanOrEqual(2 ** 31);
    expect(s.mul).toBeLessThan(2 ** 32);
    // Linux derives tsc_khz from mul/shift: within 1 ppm of the real rate.
    expect(Math.abs(scaleToHz(s) - hz) / hz).toBeLessThan(1e-6);
  });

  test.each(FREQS)('Linux formula vs exact delta·1e9/hz over deltas up to a day (%d Hz)', (hz) => {
    const s = timeScale(hz);
    for (const seconds of [0, 1e-6, 1, 60, 3600, 86400]) {
      const delta = BigInt(Math.round(seconds * hz));
      const exact = (delta * 1000000000n) / BigInt(hz);
      const got = scaleDelta(delta, s);
      // mul is floored (relative error < 2^-31) and a negative shift drops < 1 tick, so the clock
      // is never ahead when halving the rate was exact; Xen's halving truncates an odd rate
      // (< 1e-9 relative, the clock then runs ahead), so bound the error both ways.
      const err = got > exact ? got - exact : exact - got;
      expect(err).toBeLessThanOrEqual(exact / 536870912n + 2n);
      if (hz % 4 === 0) {
        expect(got).toBeLessThanOrEqual(exact + 1n);
        expect(exact - got).toBeLessThanOrEqual(exact / 2147483648n + 2n);
      }
    }
  });

  test('rejects nonsense frequencies', () => {
    expect(() => timeScale(0)).toThrow(RangeError);
    expect(() => timeScale(-5)).toThrow(RangeError);
    expect(() => timeScale(1.5)).toThrow(RangeError);
    expect(() => timeScale(NaN)).toThrow(RangeError);
  });

  test('scaleDelta is 64-bit like the guest: a backwards TSC wraps instead of going negative', () => {
    const s = timeScale(1e9);
    expect(scaleDelta(-1n, s)).toBe((((1n << 64n) - 1n) << 1n & ((1n << 64n) - 1n)) * BigInt(s.mul) >> 32n & ((1n << 64n) - 1n));
  });
});

describe('vcpu_time_info', () => {
  test('fields at their offsets, version even afterwards and odd during the write', () => {
    const mem = new RecordingMemory();
    const scale = timeScale(2.0958e9);
    const sample = { tscTimestamp: 0x123456789abn, systemTimeNs: 5000000000n, scale, tscStable: false };
    writeVcpuTimeInfo(mem, 32, sample);
    const dv = mem.view();
    expect(dv.getUint32(32, true)).toBe(2);
    expect(dv.getBigUint64(40, true)).toBe(0x123456789abn);
    expect(dv.getBigUint64(48, true)).toBe(5000000000n);
    expect(dv.getUint32(56, true)).toBe(scale.mul);
    expect(dv.getInt8(60)).toBe(-1);
    expect(dv.getUint8(61)).toBe(0);
    expect(mem.writes.map((w) => w.addr)).toEqual([32, 40, 32]);
    expect(new DataView(mem.writes[0].bytes.buffer).getUint32(0, true) & 1).toBe(1);

    writeVcpuTimeInfo(mem, 32, { ...sample, tscStable: true });
    expect(dv.getUint32(32, true)).toBe(4);
    expect(dv.getUint8(61)).toBe(PVCLOCK_TSC_STABLE);
  });

  test('an odd version left by an interrupted writer becomes even and larger (Xen: (v+1)|1, then +1)', () => {
    const mem = new RecordingMemory();
    mem.view().setUint32(0, 7, true);
    writeVcpuTimeInfo(mem, 0, { tscTimestamp: 0n, systemTimeNs: 0n, scale: timeScale(1e9), tscStable: false });
    expect(mem.view().getUint32(0, true)).toBe(10);
  });

  test('the version wraps at 2^32', () => {
    const mem = new RecordingMemory();
    mem.view().setUint32(0, 0xfffffffe, true);
    writeVcpuTimeInfo(mem, 0, { tscTimestamp: 0n, systemTimeNs: 0n, scale: timeScale(1e9), tscStable: false });
    expect(mem.view().getUint32(0, true)).toBe(0);
  });

  test('pvclockRead adds the scaled TSC delta to system_time', () => {
    const scale = timeScale(3.7e9);
    const s = { tscTimestamp: 1000n, systemTimeNs: 1000000n, scale, tscStable: true };
    expect(pvclockRead(s, 1000n + 3700000000n)).toBe(1000000n + scaleDelta(3700000000n, scale));
    expect(Number(pvclockRead(s, 1000n + 3700000000n) - 1000000n)).toBeCloseTo(1e9, -1);
  });

  test('rejects a scale that does not fit the structure', () => {
    const mem = new RecordingMemory();
    expect(() => writeVcpuTimeInfo(mem, 0, { tscTimestamp: 0n, systemTimeNs: 0n, scale: { mul: 2 ** 32, shift: 0 }, tscStable: false })).toThrow(RangeError);
    expect(() => writeVcpuTimeInfo(mem, 0, { tscTimestamp: 0n, systemTimeNs: 0n, scale: { mul: 1, shift: 200 }, tscStable: false })).toThrow(RangeError);
    expect(mem.writes).toHaveLength(0);
  });
});

describe('wall clock', () => {
  test('sec, nsec and sec_hi at 3072.. with the version protocol', () => {
    const mem = new RecordingMemory();
    const epoch = (0x1_2345_6789n * 1000000000n) + 987654321n;
    writeWallClock(mem, 4096, epoch);
    const dv = mem.view();
    expect(dv.getUint32(4096 + 3072, true)).toBe(2);
    expect(dv.getUint32(4096 + 3076, true)).toBe(0x23456789);
    expect(dv.getUint32(4096 + 3080, true)).toBe(987654321);
    expect(dv.getUint32(4096 + 3084, true)).toBe(1);
    expect(mem.writes[0].addr).toBe(4096 + 3072);
    expect(mem.writes[mem.writes.length - 1].addr).toBe(4096 + 3072);
    expect(() => writeWallClock(mem, 0, -1n)).toThrow(RangeError);
  });
});

describe('runstate', () => {
  test('time is charged to the state being left', () => {
    const r = newRunstate(RUNSTATE.running, 100n);
    runstateChange(r, RUNSTATE.blocked, 350n);
    runstateChange(r, RUNSTATE.runnable, 1350n);
    runstateChange(r, RUNSTATE.running, 1400n);
    expect(r.time).toEqual([250n, 50n, 1000n, 0n]);
    expect(r.state).toBe(RUNSTATE.running);
    expect(r.stateEntryTime).toBe(1400n);
    expect(() => runstateChange(r, 4, 1500n)).toThrow(RangeError);
  });

  test('without the update flag the 48-byte record is written once', () => {
    const mem = new RecordingMemory();
    const r = newRunstate(RUNSTATE.running, 10n);
    runstateChange(r, RUNSTATE.blocked, 30n);
    writeRunstate(mem, 64, r, false);
    const dv = mem.view();
    expect(mem.writes).toHaveLength(1);
    expect(dv.getUint32(64, true)).toBe(RUNSTATE.blocked);
    expect(dv.getBigUint64(72, true)).toBe(30n);
    expect(dv.getBigUint64(80, true)).toBe(20n);
  });

  test('with vm_assist runstate_update_flag, bit 63 is set first and cleared last', () => {
    const mem = new RecordingMemory();
    const r = newRunstate(RUNSTATE.running, 0x1234n);
    writeRunstate(mem, 64, r, true);
    expect(mem.writes.map((w) => w.addr)).toEqual([79, 64, 79]);
    expect(mem.writes[0].bytes[0] & 0x80).toBe(0x80);
    expect(new DataView(mem.writes[1].bytes.buffer).getBigUint64(8, true)).toBe(0x1234n | XEN_RUNSTATE_UPDATE);
    expect(mem.view().getBigUint64(72, true)).toBe(0x1234n);
  });
});
