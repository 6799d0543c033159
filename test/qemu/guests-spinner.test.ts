// QEMU: a spinning guest does not starve the REPL; pause, unpause, console and destroy; memory goes back to the host.
import { afterAll, describe, expect, it } from '@jest/globals';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { evalJs, guestSession, plain, pollJs, typeAndWait, waitPlain, PROMPT } from './guests-session';

/** Heartbeat numbers the spinner printed in text. */
function beats(text: string): number[] {
  const out: number[] = [];
  const re = /SPIN (\d+) x=/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(Number(m[1]));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('guests: a spinner', () => {
  const q = guestSession();
  afterAll(() => q.close());
  let freeBefore = '';

  it('spins while the REPL keeps answering', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    freeBefore = await evalJs(q, '[hv.memStats().freeBytes, hv.memStats().heapBytes, xl.info().free_memory]');
    const from = q.output.length;
    await typeAndWait(q, 'xl create spinner.cfg', /Parsing config from spinner\.cfg/);
    await waitPlain(q, /\(d1\) SPIN 2 x=/, 30000, from);
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      expect(await evalJs(q, `${i} + 40`)).toBe(String(i + 40));
      expect(Date.now() - t0).toBeLessThan(3000);
    }
    const list = await typeAndWait(q, 'xl list spinner', /^spinner\s.*\n/m);
    expect(list).toMatch(/^spinner\s+1\s+8\s+1\s+r-----\s+\d+\.\d$/m);
    expect(Number(await evalJs(q, "xl.list('spinner')[0].time"))).toBeGreaterThan(0.5);
    await waitPlain(q, /\(d1\) SPIN 4 x=/, 30000, from);
  }, 60000);

  it('stops beating when paused and beats on after unpause', async () => {
    await typeAndWait(q, 'xl pause spinner', /zazen> /);
    expect(await evalJs(q, "xl.list('spinner')[0].state")).toBe('"--p---"');
    await sleep(300);
    const mark = q.output.length;
    await sleep(2500);
    expect(beats(plain(q.output.slice(mark)))).toEqual([]);
    const last = Math.max(...beats(plain(q.output)));
    await typeAndWait(q, 'xl unpause spinner', /zazen> /);
    await waitPlain(q, new RegExp(`SPIN ${last + 1} x=`), 20000, mark);
  }, 60000);

  it('shows its console without the (d1) prefix until Ctrl-] returns to the REPL', async () => {
    const text = await typeAndWait(q, 'xl console spinner', /Connected to domain 1 \(spinner\); Ctrl-\] returns to the REPL\.\n[\s\S]*\nSPIN \d+ x=[\s\S]*\nSPIN \d+ x=/);
    expect(text).not.toMatch(/\(d1\) SPIN/);
    const mark = q.output.length;
    q.send('\x1d');
    await q.waitFor(PROMPT, 10000, mark);
    expect(await evalJs(q, '6 * 7')).toBe('42');
    await waitPlain(q, /\(d1\) SPIN \d+/, 20000, mark);
  }, 60000);

  it('is destroyed and every byte of its memory goes back to the host', async () => {
    await typeAndWait(q, 'xl destroy spinner', /zazen> /);
    await pollJs(q, "xl.list().map((d) => d.name).join(',')", /^"Domain-0"$/);
    const after = JSON.parse(await evalJs(q, '[hv.memStats().freeBytes, hv.memStats().heapBytes, xl.info().free_memory]'));
    const before = JSON.parse(freeBefore);
    // The engine heap may have grown meanwhile (it takes frames from the same pool): count it back in.
    expect(after[0] + after[1]).toBe(before[0] + before[1]);
    if (after[1] === before[1]) expect(after[2]).toBe(before[2]);
    expect(await typeAndWait(q, 'xl dmesg', /domain 1 \(spinner\) destroyed/)).toMatch(/domain 1 \(spinner\) created: 8 MiB/);
  }, 60000);
});
