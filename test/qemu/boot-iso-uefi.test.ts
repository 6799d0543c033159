// Boots zazen under QEMU (iso-uefi) and checks the REPL end to end.
import { afterAll, describe, expect, it } from '@jest/globals';
import { QemuSession, qemuArgs } from './qemu';
import { checkRepl } from './replChecks';

describe('boot: iso-uefi', () => {
  const qemu = new QemuSession(qemuArgs('iso-uefi'));
  afterAll(() => qemu.close());

  it('reaches the zazen> prompt and answers the REPL', async () => {
    await checkRepl(qemu);
  }, 180000);

  it('carries its own boot modules as files', async () => {
    expect(await qemu.command("fs.exists('/boot/hello.js')")).toContain('true');
  }, 60000);
});
