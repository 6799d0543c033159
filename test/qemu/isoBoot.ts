// The boot suite shared by the ISO boot paths (BIOS and UEFI): the REPL end to end and the ISO's own boot modules.
import { afterAll, describe, expect, it } from '@jest/globals';
import { QemuSession, qemuArgs } from './qemu';
import { checkRepl } from './replChecks';

/** Declares the jest suite that boots build/zazen.iso in the given firmware mode and checks the REPL and /boot. */
export function describeIsoBoot(mode: 'iso-bios' | 'iso-uefi'): void {
  describe(`boot: ${mode}`, () => {
    const qemu = new QemuSession(qemuArgs(mode));
    afterAll(() => qemu.close());

    it('reaches the zazen> prompt and answers the REPL', async () => {
      // The ISO's init.js boots the Debian guest after the prompt; its console lines would
      // interleave with the REPL's answers, so the checks start once its shell is up.
      await qemu.waitFor(/demo: domain "debian" runs a busybox shell[\s\S]*starts it again\r?\n[\s\S]*zazen> /, 240000);
      await checkRepl(qemu);
    }, 360000);

    it('carries its own boot modules as files', async () => {
      expect(await qemu.command("fs.exists('/boot/hello.js')")).toContain('true');
    }, 60000);
  });
}
