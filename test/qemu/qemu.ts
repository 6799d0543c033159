// Drives zazen under QEMU for boot tests: spawns QEMU on a serial pipe, waits for output, types lines.
import { spawn, ChildProcess } from 'child_process';
import * as path from 'path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const PROMPT = 'zazen> ';

/** How zazen is booted: QEMU -kernel (multiboot1), the ISO under BIOS, or the ISO under UEFI. */
export type BootMode = 'kernel' | 'iso-bios' | 'iso-uefi';

/** QEMU arguments for a boot mode, with extra modules for -kernel boots. */
export function qemuArgs(mode: BootMode, modules: string[] = [], extra: string[] = []): string[] {
  const base = ['-accel', 'tcg', '-cpu', 'EPYC', '-m', '512', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'];
  const build = (f: string) => path.join(repoRoot, 'build', f);
  switch (mode) {
    case 'kernel': {
      const boot = ['-kernel', build('zazen.elf')];
      if (modules.length) boot.push('-initrd', modules.join(','));
      return [...base, ...boot, ...extra];
    }
    case 'iso-bios':
      return [...base, '-cdrom', build('zazen.iso'), ...extra];
    case 'iso-uefi':
      return [...base, '-bios', '/usr/share/ovmf/OVMF.fd', '-cdrom', build('zazen.iso'), ...extra];
  }
}

/** One running QEMU with everything its serial line printed so far. */
export class QemuSession {
  output = '';
  private proc: ChildProcess;
  private waiters: Array<() => void> = [];
  private exited: number | null = null;

  constructor(args: string[]) {
    this.proc = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const take = (chunk: Buffer) => {
      this.output += chunk.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', take);
    this.proc.stderr!.on('data', take);
    this.proc.on('exit', (code) => {
      this.exited = code ?? -1;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the output from `from` on once it contains `what`; rejects after timeoutMs. */
  waitFor(what: string | RegExp, timeoutMs: number, from = 0): Promise<string> {
    const found = () => {
      const text = this.output.slice(from);
      return typeof what === 'string' ? text.includes(what) : what.test(text);
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(what)}; output was:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const check = () => {
        if (found()) {
          clearTimeout(timer);
          resolve(this.output.slice(from));
        } else if (this.exited !== null) {
          clearTimeout(timer);
          reject(new Error(`QEMU exited (${this.exited}) before ${String(what)}; output was:\n${this.output.slice(-3000)}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Writes raw bytes to the serial line. */
  send(text: string): void {
    this.proc.stdin!.write(Buffer.from(text, 'latin1'));
  }

  /** Types a line, waits for the next prompt, and returns what was printed in between. */
  async command(line: string, timeoutMs = 20000): Promise<string> {
    const from = this.output.length;
    this.send(line + '\r');
    const text = await this.waitFor(`\n${PROMPT}`, timeoutMs, from);
    return stripEcho(text, line);
  }

  /** Kills QEMU. */
  async close(): Promise<void> {
    if (this.exited === null) {
      const done = new Promise<void>((r) => this.proc.on('exit', () => r()));
      this.proc.kill('SIGKILL');
      await done;
    }
  }
}

/** Drops terminal control sequences and the echoed input line from a command's output. */
export function stripEcho(text: string, line: string): string {
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const lines = plain.split('\n');
  if (lines.length && lines[0].endsWith(line)) lines.shift();
  if (lines.length && lines[lines.length - 1].startsWith(PROMPT)) lines.pop();
  return lines.join('\n');
}
