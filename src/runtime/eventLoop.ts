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
  /** Receives anything the input handler throws. */
  onError: (err: unknown) => void;
}

/** Builds __zazenPoll: feeds input, runs due timers, returns the next deadline (ns) or -1. */
export function createPollHook(parts: LoopParts): PollHook {
  return () => {
    try {
      const bytes = parts.readInput();
      if (bytes) parts.onInput(bytes);
    } catch (err) {
      parts.onError(err);
    }
    parts.timers.runDue();
    return parts.timers.nextDeadline();
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
