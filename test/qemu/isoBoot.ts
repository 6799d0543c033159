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
      await checkRepl(qemu);
    }, 180000);

    it('carries its own boot modules as files', async () => {
      expect(await qemu.command("fs.exists('/boot/hello.js')")).toContain('true');
    }, 60000);
  });
}
