// QEMU: a domain with four vCPUs brings its secondaries up with VCPUOP_initialise/up; each runs, says so and goes down.
import * as path from 'path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { QemuSession, qemuArgs, repoRoot } from './qemu';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { evalJs, typeAndWait, waitPlain, PROMPT } from './guests-session';

/** QEMU with the smp guest and its config in /boot. */
function smpSession(): QemuSession {
  const mods = [
    `${path.join(repoRoot, 'build/firmware/smp.elf')} smp.elf`,
    `${path.join(repoRoot, 'test/qemu/files/guests/smp.cfg')} smp.cfg`,
  ];
  return new QemuSession(qemuArgs('kernel', mods));
}

describe('guests: several vCPUs in one domain', () => {
  const q = smpSession();
  afterAll(() => q.close());

  it('brings up vCPUs 1-3, each says it is alive, the guest passes; xl vcpu-list shows CPU time on all four', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const from = q.output.length;
    await typeAndWait(q, 'xl create smp.cfg vcpus=4', /Parsing config from smp\.cfg/);
    const out = await waitPlain(q, /VERDICT smp: (PASS|FAIL)/, 60000, from);
    expect(out).toMatch(/\(d\d+\) smp: 4 vCPUs\n/);
    for (let k = 0; k < 4; k++) expect(out).toMatch(new RegExp(`\\(d\\d+\\) SMP vcpu ${k} alive counted=${200000 * (k + 1)} x=[0-9a-f]{16}\\n`));
    expect(out).toMatch(/\(d\d+\) smp: 4 vCPUs initialised, up, alive and down again\n/);
    expect(out).toMatch(/\(d\d+\) VERDICT smp: PASS/);
    // Powered off and preserved (on_poweroff = "preserve"), so its vCPUs can still be listed.
    const list = await typeAndWait(q, 'xl vcpu-list smp', /(^smp\s.*\n[\s\S]*){4}/m);
    const rows = list.split('\n').filter((l) => /^smp\s/.test(l));
    expect(rows).toHaveLength(4);
    rows.forEach((r, k) => expect(r).toMatch(new RegExp(`^smp\\s+\\d+\\s+${k}\\s+`)));
    // Exact times: the one-decimal column may round a short run down to 0.0.
    const times = JSON.parse(await evalJs(q, "xl.vcpuList('smp').map((r) => r.time)")) as number[];
    expect(times).toHaveLength(4);
    for (const t of times) expect(t).toBeGreaterThan(0);
    const dmesg = await typeAndWait(q, 'xl dmesg', /vcpu 3: down/);
    for (let k = 1; k < 4; k++) expect(dmesg).toMatch(new RegExp(`domain \\d+ vcpu ${k}: up`));
    expect(dmesg).not.toMatch(/crashed/);
  }, 120000);
});
