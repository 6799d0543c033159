// The single-shot timer lives in the vCPU's state page: what the shim's fast path writes there is the timer TypeScript fires.
import { afterEach, expect, test } from '@jest/globals';
import { setShim, STATE } from '../../src/hv/abi';
import { VIRQ_TIMER } from '../../src/hv/evtchn/eventChannels';
import { domainServices } from '../../src/hv/evtchn/services';
import { guestTime } from '../../src/hv/guestTime';
import { halt } from '../fakeVirt';
import { harness } from './guestHarness';

afterEach(() => setShim(undefined));

const W = STATE.singleshotNs / 4;
const W_BASE = STATE.timerBaseNs / 4;

test('a deadline written in the page as the shim does is the one that fires; firing stops it', () => {
  const h = harness();
  const d = h.create();
  const v = d.vcpuList[0];
  const t = guestTime(h.hv);
  const port = domainServices(h.hv).evtchn.bindVirq(d.id, VIRQ_TIMER, 0);
  h.vcpu(d).queue(halt());
  h.loop.run();
  // After the first entry: stopped (all-ones) and the base is the domain's creation time.
  expect([v.words[W], v.words[W + 1]]).toEqual([0xffffffff, 0xffffffff]);
  expect(v.words[W_BASE] + v.words[W_BASE + 1] * 2 ** 32).toBe(Math.floor(d.createdNs));
  expect(t.singleshot(v)).toBeNull();

  // What exit_singleshot writes for timeout_abs_ns = 5 ms.
  v.words[W] = 5e6;
  v.words[W + 1] = 0;
  expect(t.singleshot(v)).toBe(5e6);
  expect(t.vcpuDeadline(d, v)).toBe(d.createdNs + 5e6);
  const si = domainServices(h.hv).guestEvents(d.id)!.sharedInfo();
  const pending = () => (si[0x800 + (port >> 3)] & (1 << (port & 7))) !== 0;
  si[0x800 + (port >> 3)] &= ~(1 << (port & 7));
  h.fake.advance(4);
  t.fireDue();
  expect(t.singleshot(v)).toBe(5e6);
  expect(pending()).toBe(false);
  h.fake.advance(2);
  t.fireDue();
  expect(t.singleshot(v)).toBeNull();
  expect([v.words[W], v.words[W + 1]]).toEqual([0xffffffff, 0xffffffff]);
  expect(pending()).toBe(true);
  // setSingleshot/stopSingleshot (the forwarded path) write the same words.
  t.setSingleshot(v, 2 ** 40);
  expect([v.words[W], v.words[W + 1]]).toEqual([0, 256]);
  t.stopSingleshot(v);
  expect(t.singleshot(v)).toBeNull();
});
