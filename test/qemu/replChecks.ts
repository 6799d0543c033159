// The REPL checks every boot path must pass: answers, errors, an interrupted loop, toolstack commands.
import { expect } from '@jest/globals';
import { QemuSession, PROMPT } from './qemu';

/** Boot-to-prompt timeout: generous, since CI machines are noisy and TCG is slow. */
export const BOOT_TIMEOUT_MS = 60000;

/** Waits for the first prompt, then checks the REPL end to end. */
export async function checkRepl(qemu: QemuSession): Promise<void> {
  await qemu.waitFor(PROMPT, BOOT_TIMEOUT_MS);

  expect(await qemu.command('1 + 1')).toContain('2');
  expect(await qemu.command("'zen' + 'zen'")).toContain("'zenzen'");
  expect(await qemu.command('2n ** 70n')).toContain('1180591620717411303424n');

  const thrown = await qemu.command("throw new Error('boom')");
  expect(thrown).toMatch(/Uncaught Error: boom/);

  const syntax = await qemu.command('let = ;');
  expect(syntax).toMatch(/SyntaxError/);

  // An infinite loop stops on Ctrl-C and the prompt comes back.
  const from = qemu.output.length;
  qemu.send('for (;;) {}\r');
  await new Promise((r) => setTimeout(r, 1500));
  qemu.send('\x03');
  const interrupted = await qemu.waitFor(`\n${PROMPT}`, 20000, from);
  expect(interrupted).toMatch(/interrupted/);
  expect(await qemu.command('40 + 2')).toContain('42');

  const info = await qemu.command('xl info');
  expect(info).toMatch(/^total_memory\s+: \d+$/m);
  expect(info).toMatch(/^free_memory\s+: \d+$/m);
  expect(info).toMatch(/^nr_cpus\s+: \d+$/m);
  expect(info).toMatch(/^virt_caps\s+: .*hvm/m);

  const list = await qemu.command('xl list');
  expect(list).toMatch(/^Name\s+ID\s+Mem\s+VCPUs\s+State\s+Time\(s\)$/m);
  expect(list).toMatch(/^Domain-0\s+0\s+\d+\s+1\s+r-----/m);

  expect(await qemu.command('xl dmesg')).toMatch(/zazen/);
  expect(await qemu.command('xl frobnicate')).toMatch(/unknown|not a command|usage/i);
}
