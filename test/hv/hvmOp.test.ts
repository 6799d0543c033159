// hvm_op set/get_param and vm_assist through the hypercall path.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainAbi } from '../../src/hv/domainAbi';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { halt, hypercall } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const DOMID_SELF = 0x7ff0;
const ARG = 0x3000;

/** Runs hypercall nr with args on vCPU 0; returns its signed result. */
function call(h: Harness, d: GuestDomain, nr: number, args: (number | bigint)[]): number {
  const v = h.vcpu(d);
  v.queue(hypercall(nr, args), halt());
  if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
  h.loop.run();
  return Number(BigInt.asIntN(64, v.results[v.results.length - 1]));
}

/** Writes a xen_hvm_param at ARG. */
function param(d: GuestDomain, domid: number, index: number, value: bigint): void {
  d.memory.zero(ARG, 16);
  d.memory.writeU16(ARG, domid);
  d.memory.writeU32(ARG + 4, index);
  d.memory.write(ARG + 8, new Uint8Array(new BigUint64Array([value]).buffer));
}

const readValue = (d: GuestDomain): bigint => new BigUint64Array(d.memory.read(ARG + 8, 8).slice().buffer)[0];

describe('hvm_op', () => {
  test('set_param CALLBACK_IRQ takes Linux\'s vector value; get_param reads it and the toolstack\'s params', () => {
    const h = harness();
    const d = h.create();
    const linux = (2n << 56n) | 0xf3n;
    param(d, DOMID_SELF, 0, linux);
    expect(call(h, d, 34, [0, ARG])).toBe(0);
    expect(domainAbi(d).callbackVector()).toBe(0xf3);
    param(d, d.id, 0, 0n);
    expect(call(h, d, 34, [1, ARG])).toBe(0);
    expect(readValue(d)).toBe(linux);
    domainAbi(d).params[17] = 0xfefffn;
    param(d, DOMID_SELF, 17, 0n);
    expect(call(h, d, 34, [1, ARG])).toBe(0);
    expect(readValue(d)).toBe(0xfefffn);
    // An unset param reads 0.
    param(d, DOMID_SELF, 2, 123n);
    expect(call(h, d, 34, [1, ARG])).toBe(0);
    expect(readValue(d)).toBe(0n);
  });

  test('bad values, other params, indexes, domains and ops are refused', () => {
    const h = harness();
    const d = h.create();
    const other = h.create({ name: 'other' });
    for (const bad of [(2n << 56n) | 0x0en, (1n << 56n) | 5n, 5n, (2n << 56n) | 0x1f3n]) {
      param(d, DOMID_SELF, 0, bad);
      expect(call(h, d, 34, [0, ARG])).toBe(-22);
    }
    expect(domainAbi(d).callbackVector()).toBeNull();
    param(d, DOMID_SELF, 1, 0x1234n);
    expect(call(h, d, 34, [0, ARG])).toBe(-1);
    param(d, DOMID_SELF, 39, 0n);
    expect(call(h, d, 34, [1, ARG])).toBe(-22);
    param(d, other.id, 1, 0n);
    expect(call(h, d, 34, [1, ARG])).toBe(-1);
    param(d, 700, 1, 0n);
    expect(call(h, d, 34, [1, ARG])).toBe(-3);
    expect(call(h, d, 34, [1, 0x7fff0000])).toBe(-14);
    expect(call(h, d, 34, [9, ARG])).toBe(-38);
    expect(d.shutdownReason).toBeNull();
  });
});

describe('vm_assist', () => {
  test('runstate_update_flag can be enabled and disabled; other types and commands are refused', () => {
    const h = harness();
    const d = h.create();
    expect(call(h, d, 21, [0, 5])).toBe(0);
    expect(domainAbi(d).vmAssist).toBe(1 << 5);
    expect(call(h, d, 21, [1, 5])).toBe(0);
    expect(domainAbi(d).vmAssist).toBe(0);
    expect(call(h, d, 21, [0, 0])).toBe(-22);
    expect(call(h, d, 21, [0, 64])).toBe(-22);
    expect(call(h, d, 21, [2, 5])).toBe(-38);
  });
});
