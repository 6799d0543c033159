// The TypeScript side's dmesg ring: the hypervisor's own log lines, shown after the shim's by `xl dmesg`.
import { shim } from './abi';

/** One log line and when it was written. */
export interface LogEntry {
  timeNs: number;
  text: string;
}

/** A bounded ring of log lines; the oldest are dropped first. */
export class LogRing {
  private lines: LogEntry[] = [];
  private dropped = 0;

  constructor(readonly capacity = 1024) {}

  /** Appends a line (multi-line text becomes several entries). */
  append(text: string, timeNs: number): void {
    for (const line of String(text).split('\n')) {
      this.lines.push({ timeNs, text: line });
      if (this.lines.length > this.capacity) {
        this.lines.shift();
        this.dropped++;
      }
    }
  }

  /** The lines still held, oldest first. */
  entries(): LogEntry[] {
    return this.lines.slice();
  }

  /** Forgets every line (xl dmesg -c). */
  clear(): void {
    this.lines = [];
    this.dropped = 0;
  }

  /** The ring as text, one "[   1.234567] text" line each, in the shim's boot-log format. */
  format(): string {
    let out = this.dropped ? `(${this.dropped} older lines dropped)\n` : '';
    for (const e of this.lines) {
      const secs = (e.timeNs / 1e9).toFixed(6).padStart(11);
      out += `[${secs}] ${e.text}\n`;
    }
    return out;
  }
}

/** The hypervisor's ring. */
export const hvLog = new LogRing();

function nowNs(): number {
  try {
    return shim().monotonicNs();
  } catch {
    return 0;
  }
}

/** Appends a line to the hypervisor log, e.g. log('zazen: REPL ready'). */
export function log(text: string): void {
  hvLog.append(text, nowNs());
}

let bootLogConsumed = 0;

/** The full dmesg text: the shim's boot log then the TypeScript log; clear drops what was shown. */
export function dmesg(clear = false): string {
  let boot = '';
  try {
    boot = shim().bootLog();
  } catch (err) {
    boot = `(shim boot log unavailable: ${err instanceof Error ? err.message : String(err)})\n`;
  }
  const shownBoot = boot.slice(Math.min(bootLogConsumed, boot.length));
  const text = (shownBoot && !shownBoot.endsWith('\n') ? `${shownBoot}\n` : shownBoot) + hvLog.format();
  if (clear) {
    // The shim's log cannot be cleared, so remember how much of it has been consumed.
    bootLogConsumed = boot.length;
    hvLog.clear();
  }
  return text;
}
