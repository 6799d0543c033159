// QEMU: several test guests created at once from the REPL, run under SVM; a triple-faulter is contained; shutdown codes.
import { afterAll, describe, expect, it } from '@jest/globals';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { guestSession, pollJs, typeAndWait, waitPlain, PROMPT } from './guests-session';

describe('guests: several at once', () => {
  const q = guestSession();
  afterAll(() => q.close());

  it('runs probe, hello32 (hypercall page, 32-bit ABI) and a triple-faulter side by side', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const from = q.output.length;
    // Typed one after the other without waiting for the guests: all three run at once.
    for (const cfg of ['probe.cfg', 'hello32.cfg', 'tf.cfg']) await typeAndWait(q, `xl create ${cfg}`, new RegExp(`Parsing config from ${cfg.replace('.', '\\.')}`));
    // Wait for the verdict words themselves: the serial line may deliver "VERDICT hello32: " and "PASS" apart.
    const out = await waitPlain(q, /VERDICT probe: (PASS|FAIL)[\s\S]*VERDICT hello32: (PASS|FAIL)|VERDICT hello32: (PASS|FAIL)[\s\S]*VERDICT probe: (PASS|FAIL)/, 40000, from);
    expect(out).toMatch(/\(d\d\) VERDICT probe: PASS/);
    expect(out).toMatch(/\(d\d\) VERDICT hello32: PASS/);
    expect(out).toMatch(/\(d\d\) PROBE xen base=0x40000000 max=0x40000005 version=4\.17 domid=\d/);
    expect(out).toMatch(/\(d\d\) PROBE hcpage addr=0x[0-9a-f]+ stub0=b8 00 00 00 00 0f 01 d9 c3/);
    expect(out).toMatch(/\(d\d\) xen_version 0x40011 \(cpuid 0x40011\) via page/);
    await waitPlain(q, /about to triple fault/, 20000, from);
    await pollJs(q, "xl.list('tf')[0].state", /"---sc-"/);
    const list = await typeAndWait(q, 'xl list', /hello32[^\n]*\n[\s\S]*tf[^\n]*\n/);
    expect(list).toMatch(/^probe\s+\d+\s+8\s+1\s+---s--/m);
    expect(list).toMatch(/^hello32\s+\d+\s+8\s+1\s+---s--/m);
    expect(list).toMatch(/^tf\s+\d+\s+8\s+1\s+---sc-/m);
    const dmesg = await typeAndWait(q, 'xl dmesg', /action for shutdown reason code 3 is preserve/);
    expect(dmesg).toMatch(/domain \d+ \(tf\) vcpu 0 crashed: triple fault/);
    expect(dmesg).toMatch(/ rip [0-9a-f]{16} rflags [0-9a-f]{16}/);
    expect(dmesg).toMatch(/ cr0 [0-9a-f]{16} cr2 [0-9a-f]{16} cr3 [0-9a-f]{16} cr4/);
  }, 60000);

  it('reports shutdown reasons and latched codes as the reason', async () => {
    await typeAndWait(q, 'xl destroy probe', /zazen> /);
    await typeAndWait(q, `xl create sd.cfg 'extra="reason=reboot"'`, /VERDICT shutdown: PASS/);
    await pollJs(q, "xl.list('sd')[0].state", /"---s.-"/);
    expect(await typeAndWait(q, 'xl list sd', /^sd\s.*\n/m)).toMatch(/^sd\s+\d+\s+4\s+1\s+---sr-/m);
    await typeAndWait(q, 'xl destroy sd', /zazen> /);
    // SCHEDOP_shutdown_code(3) then a poweroff: Xen reports the latched code, 3 = crash.
    await typeAndWait(q, `xl create sd.cfg 'extra="reason=poweroff code=3"'`, /SCHEDOP_shutdown_code\(3\) returned 0/);
    expect(await pollJs(q, "xl.list('sd')[0].state", /"---s.-"/)).toBe('"---sc-"');
    expect(await typeAndWait(q, 'xl dmesg', /shut down: crash \(latched code 3; requested poweroff\)/)).toMatch(/action for shutdown reason code 3 is preserve/);
  }, 60000);
});
