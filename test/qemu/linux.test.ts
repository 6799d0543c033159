// QEMU: Debian's stock kernel as a PVH domU: boots to its busybox shell on hvc0, answers typed commands on `xl console`, powers off on `xl shutdown`.
import { afterAll, describe, expect, it } from '@jest/globals';
import { BOOT_TIMEOUT_MS } from './replChecks';
import { askGuest, debianKernelRelease, debianModules, evalJs, plain, pollJs, typeAndWait, waitPlain, PROMPT } from './guests-session';
import { QemuSession, qemuArgs } from './qemu';

/** One Linux boot under TCG takes 15 s or more; leave room for a loaded CI machine. */
const LINUX_BOOT_MS = 240000;

describe('linux: Debian 6.1 as a PVH domU', () => {
  const q = new QemuSession(qemuArgs('kernel', debianModules(), ['-m', '1024']));
  afterAll(() => q.close());

  it('finds debian.cfg in /etc/xen and boots to ZAZEN-GUEST-READY on hvc0', async () => {
    await q.waitFor(PROMPT, BOOT_TIMEOUT_MS);
    expect(await evalJs(q, "fs.list('/etc/xen')")).toBe('["debian.cfg"]');
    const from = q.output.length;
    // A relative name: not in /boot, so xl create looks in /etc/xen.
    await typeAndWait(q, 'xl create debian.cfg', /Parsing config from debian\.cfg/);
    const text = await waitPlain(q, /ZAZEN-GUEST-READY/, LINUX_BOOT_MS, from);
    // Early lines came through console_io, the later ones through the console ring (hvc0).
    expect(text).toMatch(/\(d1\) \[ *[\d.]+\] Booting kernel on Xen PVH/);
    expect(text).toMatch(/printk: console \[hvc0\] enabled/);
    expect(text).toMatch(/installing Xen timer for CPU 0/);
    expect(text).toMatch(/Run \/init as init process/);
    expect(plain(text)).not.toMatch(/Kernel panic|kernel BUG/);
  }, LINUX_BOOT_MS + 60000);

  it('talked to XenStore over its ring', async () => {
    // Linux's xenbus announces the shutdown requests it handles under control/.
    expect(await evalJs(q, "xs.read('/local/domain/1/control/feature-poweroff')")).toBe('"1"');
  }, 60000);

  it('answers typed commands on xl console: uname -r, /sys/hypervisor/type; Ctrl-] returns', async () => {
    const release = debianKernelRelease();
    expect(release).toMatch(/^6\.1\.0-\d+-amd64$/);
    await typeAndWait(q, 'xl console debian', /Connected to domain 1 \(debian\)[\s\S]*ZAZEN-GUEST-READY/);
    const esc = (s: string) => s.replace(/[.]/g, '\\.');
    // Each answer is a whole line of its own (unlike the kernel log's "Linux version ..." banner);
    // the newline matters, as output arrives in pieces.
    const uname = await askGuest(q, 'uname -r', new RegExp(`^${esc(release)}\\n`, 'm'), 90000);
    expect(uname).not.toMatch(/not found|can't/);
    await askGuest(q, 'cat /sys/hypervisor/type', /^xen\n/m, 30000, 1);
    // What the guest learnt through xen_version: printed for the record, checked loosely.
    const props = await askGuest(q, 'echo V=$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)', /^V=.*\n/m, 30000, 1);
    expect(props).toMatch(/^V=\d+\.\d+$/m);
    const from = q.output.length;
    q.send('\x1d');
    await q.waitFor(PROMPT, 20000, from);
    // Back at the REPL: a command works again.
    expect(await evalJs(q, '6 * 7')).toBe('42');
  }, 240000);

  it('lists with 256 MiB, and xl shutdown -w powers it off and it leaves xl list', async () => {
    const list = await typeAndWait(q, 'xl list debian', /^debian\s.*\n/m);
    expect(list).toMatch(/^debian\s+1\s+256\s+1\s+/m);
    const said = await typeAndWait(q, 'xl shutdown -w debian', /Domain 1 has been (shut down, reason code \d+|destroyed\.)/, 120000);
    expect(said).toMatch(/Shutting down domain 1\n/);
    expect(said).not.toMatch(/reason code [^0]/);
    // on_poweroff = "destroy" (the default): the domain goes once it has powered off.
    await pollJs(q, "xl.list().map((d) => d.name).join(',')", /^"Domain-0"$/, 30000);
    const after = await typeAndWait(q, 'xl list', /^Domain-0\s.*\n/m);
    expect(after).not.toMatch(/^debian\s/m);
  }, 180000);
});
