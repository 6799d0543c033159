// QEMU: two Debian domUs from one config (name overrides; the second with 2 vCPUs) boot side by side, each answering on its own console.
import { afterAll, describe, expect, it } from '@jest/globals';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { askGuest, debianModules, evalJs, pollJs, typeAndWait, waitPlain, PROMPT } from './guests-session';
import { QemuSession, qemuArgs } from './qemu';

/** Two Linux boots share one TCG CPU: twice the time of one, with room to spare. */
const TWO_BOOTS_MS = 420000;

describe('linux: two Debian domUs at once', () => {
  const q = new QemuSession(qemuArgs('kernel', debianModules(), ['-m', '1024']));
  afterAll(() => q.close());

  it('debian1 and debian2 both reach their shell', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const from = q.output.length;
    await typeAndWait(q, 'xl create /etc/xen/debian.cfg \'name="debian1"\'', /Parsing config from \/etc\/xen\/debian\.cfg/);
    // debian2 has two vCPUs: Linux starts the second with INIT and STARTUP IPIs, as on Xen.
    await typeAndWait(q, 'xl create /etc/xen/debian.cfg \'name="debian2"\' vcpus=2', /Parsing config from \/etc\/xen\/debian\.cfg/);
    const list = await typeAndWait(q, 'xl list', /^debian2\s.*\n/m);
    expect(list).toMatch(/^debian1\s+1\s+256\s+1\s+/m);
    // VCPUs counts online ones: 1 until Linux brings up its second (nproc checks it below).
    expect(list).toMatch(/^debian2\s+2\s+256\s+[12]\s+/m);
    // Each domain's console lines are echoed as "(dN) ..." while no console is attached.
    await waitPlain(q, /\(d1\) ZAZEN-GUEST-READY[\s\S]*\(d2\) ZAZEN-GUEST-READY|\(d2\) ZAZEN-GUEST-READY[\s\S]*\(d1\) ZAZEN-GUEST-READY/, TWO_BOOTS_MS, from);
  }, TWO_BOOTS_MS + 60000);

  it('each answers on its own console, and the other never sees it', async () => {
    for (const [id, name, sum] of [[1, 'debian1', '41'], [2, 'debian2', '42']] as const) {
      await typeAndWait(q, `xl console ${name}`, new RegExp(`Connected to domain ${id} \\(${name}\\)[\\s\\S]*ZAZEN-GUEST-READY`));
      // The shell computes the answer from the CPUs Linux brought up (1 and 2), so the echo
      // of the typed line never matches.
      await askGuest(q, `echo on-${name}-$((40+$(nproc)))`, new RegExp(`^on-${name}-${sum}\\n`, 'm'), 90000);
      const from = q.output.length;
      q.send('\x1d');
      await q.waitFor(PROMPT, 20000, from);
    }
    // Which of the two words each domain's console log holds.
    const has = (id: number) => evalJs(q, `['on-debian1-41', 'on-debian2-42'].map((w) => hv.hypervisor.guest(${id}).console.text().includes(w))`);
    expect(await has(1)).toBe('[true,false]');
    expect(await has(2)).toBe('[false,true]');
  }, 240000);

  it('both power off on xl shutdown and leave xl list', async () => {
    await typeAndWait(q, 'xl shutdown -w debian1', /Domain 1 has been (shut down, reason code 0|destroyed\.)/, 120000);
    await typeAndWait(q, 'xl shutdown -w debian2', /Domain 2 has been (shut down, reason code 0|destroyed\.)/, 120000);
    // on_poweroff = "destroy": each goes once it has powered off.
    expect(await pollJs(q, "xl.list().map((d) => d.name).join(',')", /^"Domain-0"$/, 30000)).toBe('"Domain-0"');
  }, 300000);
});
