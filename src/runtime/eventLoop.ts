// The shim's poll hook: console input to the REPL, due timers, and the next deadline back.
import type { PollHook } from '../hv/abi';
import { TimerQueue } from './timers';

/** What one turn of the loop talks to. */
export interface LoopParts {
  timers: TimerQueue;
  /** Raw console bytes since the last call ('' when none). */
  readInput: () => string;
  /** Receives the bytes, e.g. the REPL. */
  onInput: (bytes: string) => void;
  /** Receives anything the input handler (or the guest runner) throws. */
  onError: (err: unknown) => void;
  /** Runs guests for a while (src/hv/runLoop.ts); returns their next deadline (ns, now if still runnable) or -1. */
  runGuests?: () => number;
}

/** The earlier of two deadlines, where -1 means none. */
export function earliestDeadline(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

/**
 * Builds __zazenPoll: feeds input, runs due timers, then lets guests run for their budget,
 * and returns the next deadline (ns) or -1. Input and timers always come first, so however
 * busy the guests are, the REPL is served at every call.
 */
export function createPollHook(parts: LoopParts): PollHook {
  return () => {
    try {
      const bytes = parts.readInput();
      if (bytes) parts.onInput(bytes);
    } catch (err) {
      parts.onError(err);
    }
    parts.timers.runDue();
    let guests = -1;
    if (parts.runGuests) {
      try {
        guests = parts.runGuests();
      } catch (err) {
        parts.onError(err);
      }
    }
    return earliestDeadline(parts.timers.nextDeadline(), guests);
  };
}

/** The timer functions as installed on globalThis. */
export interface TimerGlobals {
  setTimeout(fn: unknown, delay?: unknown, ...args: unknown[]): unknown;
  setInterval(fn: unknown, delay?: unknown, ...args: unknown[]): unknown;
  clearTimeout(handle: unknown): void;
  clearInterval(handle: unknown): void;
}

/** Creates setTimeout/setInterval/clearTimeout/clearInterval over a queue. */
export function timerGlobals(queue: TimerQueue): TimerGlobals {
  return {
    setTimeout: (fn, delay, ...args) => queue.add(fn, delay, args, false),
    setInterval: (fn, delay, ...args) => queue.add(fn, delay, args, true),
    clearTimeout: (handle) => queue.cancel(handle),
    clearInterval: (handle) => queue.cancel(handle),
  };
}
