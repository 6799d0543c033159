// Boots zazen under QEMU with test guests as modules, and the helpers the guests-* and linux* tests share (typing, waiting, the Debian guest).
import * as fs from 'fs';
import * as path from 'path';
import { QemuSession, qemuArgs, repoRoot, PROMPT } from './qemu';

const FIRMWARE = ['hello.elf', 'hello32.elf', 'probe.elf', 'spinner.elf', 'triplefault.elf', 'shutdown.elf'];
const CONFIGS = ['hello32.cfg', 'probe.cfg', 'spinner.cfg', 'tf.cfg', 'sd.cfg'];

/** QEMU with every test guest in /boot (and the configs of test/qemu/files/guests). */
export function guestSession(extra: string[] = []): QemuSession {
  const mods = FIRMWARE.map((f) => `${path.join(repoRoot, 'build/firmware', f)} ${f}`)
    .concat(CONFIGS.map((c) => `${path.join(repoRoot, 'test/qemu/files/guests', c)} ${c}`));
  return new QemuSession(qemuArgs('kernel', mods, extra));
}

/** Drops terminal control sequences and carriage returns. */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/**
 * Types a line and waits until what follows matches `until` (guest output may interleave
 * with the answer, so waiting for the next prompt is not enough); returns that text, plain.
 */
export async function typeAndWait(q: QemuSession, line: string, until: RegExp, timeoutMs = 20000): Promise<string> {
  const from = q.output.length;
  q.send(line + '\r');
  const start = Date.now();
  for (;;) {
    const text = plain(q.output.slice(from));
    if (until.test(text)) return text;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${until} after '${line}'; got:\n${text.slice(-3000)}`);
    await q.waitFor(/[\s\S]/, timeoutMs, q.output.length).catch(() => undefined);
  }
}

/** Waits until the output from `from` on matches `what`; returns it, plain. */
export async function waitPlain(q: QemuSession, what: RegExp, timeoutMs: number, from = 0): Promise<string> {
  const start = Date.now();
  for (;;) {
    const text = plain(q.output.slice(from));
    if (what.test(text)) return text;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got:\n${text.slice(-3000)}`);
    await q.waitFor(/[\s\S]/, timeoutMs, q.output.length).catch(() => undefined);
  }
}

/** Evaluates a JavaScript expression in the REPL and returns its value as JSON (a unique marker keeps guest lines out). */
export async function evalJs(q: QemuSession, expr: string, timeoutMs = 20000): Promise<string> {
  const a = `R${Math.floor(Math.random() * 1e9)}`;
  // The marker is typed in two pieces, so the echo of the line itself never matches.
  const found = new RegExp(`'${a}Z<([\\s\\S]*?)>${a}Z'`);
  const text = await typeAndWait(q, `'${a}' + 'Z<' + JSON.stringify(${expr}) + '>${a}' + 'Z'`, found, timeoutMs);
  return found.exec(text)![1];
}

export { PROMPT };

/** Evaluates expr every 200 ms until its printed value matches want; returns that value. */
export async function pollJs(q: QemuSession, expr: string, want: RegExp, timeoutMs = 20000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const v = await evalJs(q, expr, timeoutMs);
    if (want.test(v)) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${expr} is ${v}, want ${want}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The Debian guest's boot modules as the ISO names them (scripts/iso/modules.list): /boot/vmlinux, /boot/initramfs.cpio.gz, /etc/xen/debian.cfg. */
export function debianModules(): string[] {
  return [
    `${path.join(repoRoot, 'build/guest/vmlinux')} vmlinux`,
    `${path.join(repoRoot, 'build/guest/initramfs.cpio.gz')} initramfs.cpio.gz`,
    `${path.join(repoRoot, 'scripts/iso/debian.cfg')} /etc/xen/debian.cfg`,
  ];
}

/** The release `uname -r` prints for build/guest/vmlinux, read from the "Linux version" banner inside it. */
export function debianKernelRelease(): string {
  const image = fs.readFileSync(path.join(repoRoot, 'build/guest/vmlinux')).toString('latin1');
  const m = /Linux version (\S+) \(/.exec(image);
  if (!m) throw new Error('build/guest/vmlinux has no "Linux version" banner');
  return m[1];
}

/**
 * Types a line into an attached guest console and waits until what follows matches want;
 * types it again (up to `tries` times) if nothing matched, because keystrokes sent before
 * the guest's shell has opened its tty may be discarded. Returns the text after the last try.
 */
export async function askGuest(q: QemuSession, line: string, want: RegExp, timeoutMs = 60000, tries = 3): Promise<string> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await typeAndWait(q, line, want, timeoutMs / tries);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}
