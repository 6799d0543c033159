// Timers and the poll hook: ordering, cancellation, intervals, nesting and the returned deadline.
import { describe, expect, test } from '@jest/globals';
import { TimerQueue, Timeout } from '../../src/runtime/timers';
import { createPollHook, timerGlobals } from '../../src/runtime/eventLoop';

function setup() {
  let now = 0;
  const errors: unknown[] = [];
  const q = new TimerQueue(() => now, (e) => errors.push(e));
  const t = timerGlobals(q);
  return { q, t, errors, advance: (ms: number) => (now += ms * 1e6), now: () => now };
}

describe('timers', () => {
  test('run by deadline, then by creation order, with their arguments', () => {
    const { q, t, advance } = setup();
    const log: string[] = [];
    t.setTimeout((a: string, b: string) => log.push(`30:${a}${b}`), 30, 'x', 'y');
    t.setTimeout(() => log.push('10a'), 10);
    t.setTimeout(() => log.push('10b'), 10);
    t.setTimeout(() => log.push('0'), 0);
    advance(5);
    expect(q.runDue()).toBe(1);
    advance(5);
    q.runDue();
    expect(log).toEqual(['0', '10a', '10b']);
    advance(100);
    q.runDue();
    expect(log).toEqual(['0', '10a', '10b', '30:xy']);
    expect(q.nextDeadline()).toBe(-1);
  });

  test('invalid delays become 1 ms as in Node; non-functions are rejected', () => {
    const { q, t } = setup();
    t.setTimeout(() => undefined, -5);
    t.setTimeout(() => undefined, 'abc');
    t.setTimeout(() => undefined, 2 ** 40);
    expect(q.nextDeadline()).toBe(1e6);
    expect(() => t.setTimeout('code' as unknown, 1)).toThrow(TypeError);
  });

  test('clearTimeout by handle or id, before or during the run', () => {
    const { q, t, advance } = setup();
    const log: string[] = [];
    const a = t.setTimeout(() => log.push('a'), 10) as Timeout;
    const b = t.setTimeout(() => log.push('b'), 10) as Timeout;
    t.setTimeout(() => t.clearTimeout(b), 5);
    t.clearTimeout(a.id);
    t.clearTimeout(undefined);
    t.clearTimeout({});
    advance(20);
    q.runDue();
    expect(log).toEqual([]);
    expect(q.size).toBe(0);
  });

  test('intervals repeat from each run until cleared, even from their own callback', () => {
    const { q, t, advance } = setup();
    let n = 0;
    const h = t.setInterval(() => {
      n++;
      if (n === 3) t.clearInterval(h);
    }, 10);
    for (let i = 0; i < 10; i++) {
      advance(10);
      q.runDue();
    }
    expect(n).toBe(3);
    expect(q.nextDeadline()).toBe(-1);
  });

  test('timers added by a callback wait for the next pass, even with delay 0', () => {
    const { q, t, advance } = setup();
    const log: string[] = [];
    t.setTimeout(() => {
      log.push('outer');
      t.setTimeout(() => log.push('inner'), 0);
    }, 1);
    advance(1);
    expect(q.runDue()).toBe(1);
    expect(log).toEqual(['outer']);
    advance(1);
    q.runDue();
    expect(log).toEqual(['outer', 'inner']);
  });

  test('a throwing callback is reported and the others still run', () => {
    const { q, t, errors, advance } = setup();
    const log: string[] = [];
    t.setTimeout(() => {
      throw new Error('cb failed');
    }, 1);
    t.setTimeout(() => log.push('after'), 1);
    advance(1);
    q.runDue();
    expect((errors[0] as Error).message).toBe('cb failed');
    expect(log).toEqual(['after']);
  });

  test('refresh restarts the countdown; handles convert to their id', () => {
    const { q, t, advance } = setup();
    let fired = 0;
    const h = t.setTimeout(() => fired++, 10) as Timeout;
    advance(8);
    h.refresh();
    advance(8);
    q.runDue();
    expect(fired).toBe(0);
    advance(2);
    q.runDue();
    expect(fired).toBe(1);
    expect(+h).toBe(h.id);
    expect(h.unref().hasRef()).toBe(true);
  });
});

describe('poll hook', () => {
  test('feeds input, runs due timers and returns the next deadline', () => {
    const { q, t, advance } = setup();
    const inputs = ['abc', ''];
    const fed: string[] = [];
    const errors: unknown[] = [];
    const poll = createPollHook({ timers: q, readInput: () => inputs.shift() ?? '', onInput: (b) => fed.push(b), onError: (e) => errors.push(e) });
    expect(poll()).toBe(-1);
    expect(fed).toEqual(['abc']);
    let ran = false;
    t.setTimeout(() => (ran = true), 25);
    expect(poll()).toBe(25e6);
    advance(25);
    expect(poll()).toBe(-1);
    expect(ran).toBe(true);
  });

  test('an input handler that throws is reported and polling continues', () => {
    const { q } = setup();
    const errors: unknown[] = [];
    const poll = createPollHook({ timers: q, readInput: () => 'x', onInput: () => { throw new Error('bad input'); }, onError: (e) => errors.push(e) });
    expect(poll()).toBe(-1);
    expect((errors[0] as Error).message).toBe('bad input');
  });
});
