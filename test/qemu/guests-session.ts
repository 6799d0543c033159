// Boots zazen under QEMU with the firmware test guests and their configs as modules, for the guests-* tests.
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
