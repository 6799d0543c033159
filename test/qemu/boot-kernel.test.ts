// Boots zazen under QEMU -kernel (multiboot1) with modules and checks the REPL end to end.
import { afterAll, describe, expect, it } from '@jest/globals';
import * as path from 'path';
import { QemuSession, qemuArgs, repoRoot } from './qemu';
import { checkRepl } from './replChecks';

describe('boot: -kernel', () => {
  const modules = [
    `${path.join(repoRoot, 'scripts/iso/hello.js')} hello.js`,
    path.join(repoRoot, 'test/qemu/files/init.js'),
  ];
  const qemu = new QemuSession(qemuArgs('kernel', modules));
  afterAll(() => qemu.close());

  it('reaches the zazen> prompt and answers the REPL', async () => {
    await checkRepl(qemu);
  }, 180000);

  it('runs /boot/init.js at boot and serves modules as files', async () => {
    expect(qemu.output).toContain('init.js ran with 2 boot files');
    expect(await qemu.command('initRan')).toContain("'yes'");
    const listing = await qemu.command("fs.list('/boot').sort().join(',')");
    expect(listing).toContain("'hello.js,init.js'");
    expect(await qemu.command("eval(fs.readTextFile('/boot/hello.js'))")).toMatch(/hello from \/boot\/hello.js: 2 boot files/);
  }, 60000);

  it('keeps zazen itself within 16 MiB, shown as Domain-0', async () => {
    const list = await qemu.command('xl list');
    const mem = Number(/^Domain-0\s+0\s+(\d+)/m.exec(list)![1]);
    expect(mem).toBeGreaterThan(0);
    expect(mem).toBeLessThanOrEqual(16);
  }, 60000);
});
