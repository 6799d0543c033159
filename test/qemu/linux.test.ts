// QEMU: Debian's stock kernel boots as a PVH domU to its busybox /init, with its console ring and XenStore ring served by zazen.
import { afterAll, describe, expect, it } from '@jest/globals';
import * as path from 'path';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { evalJs, plain, typeAndWait, waitPlain, PROMPT } from './guests-session';
import { QemuSession, qemuArgs, repoRoot } from './qemu';

const MODULES = [
  `${path.join(repoRoot, 'build/guest/vmlinux')} vmlinux`,
  `${path.join(repoRoot, 'build/guest/initramfs.cpio.gz')} initramfs.cpio.gz`,
  `${path.join(repoRoot, 'scripts/iso/debian.cfg')} debian.cfg`,
];

describe('linux: Debian 6.1 as a PVH domU', () => {
  const q = new QemuSession(qemuArgs('kernel', MODULES, ['-m', '1024']));
  afterAll(() => q.close());

  it('boots to ZAZEN-GUEST-READY on hvc0', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    const from = q.output.length;
    await typeAndWait(q, 'xl create debian.cfg', /Parsing config from debian\.cfg/);
    const text = await waitPlain(q, /ZAZEN-GUEST-READY/, 240000, from);
    // Early lines came through console_io, the later ones through the console ring (hvc0).
    expect(text).toMatch(/\(d1\) \[ *[\d.]+\] Booting kernel on Xen PVH/);
    expect(text).toMatch(/printk: console \[hvc0\] enabled/);
    expect(text).toMatch(/installing Xen timer for CPU 0/);
    expect(text).toMatch(/Run \/init as init process/);
    expect(plain(text)).not.toMatch(/Kernel panic|kernel BUG/);
  }, 300000);

  it('talked to XenStore over its ring', async () => {
    // Linux's xenbus announces the shutdown requests it handles under control/.
    expect(await evalJs(q, "xs.read('/local/domain/1/control/feature-poweroff')")).toBe('"1"');
    const list = await typeAndWait(q, 'xl list debian', /^debian\s.*\n/m);
    expect(list).toMatch(/^debian\s+1\s+256\s+1\s+/m);
  }, 60000);
});
