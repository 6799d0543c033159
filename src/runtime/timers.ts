// Timer queue behind setTimeout/setInterval: ordered by deadline, then by creation order.

/** Node's largest delay; longer or invalid delays become 1 ms, as in Node. */
export const TIMEOUT_MAX = 2 ** 31 - 1;
const NS_PER_MS = 1e6;

// Owning queues live outside the handle so the REPL prints a timer as just `Timeout { id: 1 }`.
const owners = new WeakMap<Timeout, TimerQueue>();

/** The handle setTimeout returns; clearTimeout accepts it or its numeric id. */
export class Timeout {
  constructor(
    readonly id: number,
    queue: TimerQueue,
  ) {
    owners.set(this, queue);
  }

  /** Kept for Node compatibility: zazen never exits, so references do not matter. */
  ref(): this {
    return this;
  }

  /** Kept for Node compatibility: zazen never exits, so references do not matter. */
  unref(): this {
    return this;
  }

  /** Always true: see ref(). */
  hasRef(): boolean {
    return true;
  }

  /** Restarts the timer's countdown from now. */
  refresh(): this {
    owners.get(this)?.refresh(this.id);
    return this;
  }

  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

interface Entry {
  id: number;
  seq: number;
  deadline: number;
  delayNs: number;
  repeat: boolean;
  fn: (...args: unknown[]) => void;
  args: unknown[];
}

/** Keeps timers in a binary heap keyed by (deadline, sequence); runs them as the clock passes. */
export class TimerQueue {
  private heap: Entry[] = [];
  private live = new Map<number, Entry>();
  private nextId = 1;
  private nextSeq = 1;

  /** nowNs reads the monotonic clock; onError receives exceptions thrown by callbacks. */
  constructor(
    private readonly nowNs: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Schedules fn after delayMs (repeating if asked) and returns its handle. */
  add(fn: unknown, delayMs: unknown, args: unknown[], repeat: boolean): Timeout {
    if (typeof fn !== 'function') {
      throw new TypeError(`The "callback" argument must be of type function. Received ${typeof fn}`);
    }
    let delay = Number(delayMs);
    if (!(delay >= 1 && delay <= TIMEOUT_MAX)) delay = 1;
    const entry: Entry = {
      id: this.nextId++,
      seq: this.nextSeq++,
      deadline: this.nowNs() + Math.trunc(delay * NS_PER_MS),
      delayNs: Math.trunc(delay * NS_PER_MS),
      repeat,
      fn: fn as Entry['fn'],
      args,
    };
    this.live.set(entry.id, entry);
    this.push(entry);
    return new Timeout(entry.id, this);
  }

  /** Cancels a timer by handle or id; unknown values are ignored, as in Node. */
  cancel(handle: unknown): void {
    const id = handle instanceof Timeout ? handle.id : typeof handle === 'number' ? handle : NaN;
    this.live.delete(id);
  }

  /** Moves a live timer's deadline to now + its delay. */
  refresh(id: number): void {
    const entry = this.live.get(id);
    if (!entry) return;
    // Re-insert a fresh copy; the stale heap slot is skipped because live points elsewhere.
    const copy = { ...entry, seq: this.nextSeq++, deadline: this.nowNs() + entry.delayNs };
    this.live.set(id, copy);
    this.push(copy);
  }

  /** Number of timers still scheduled. */
  get size(): number {
    return this.live.size;
  }

  /** The earliest deadline in monotonic ns, or -1 when no timer is scheduled. */
  nextDeadline(): number {
    this.dropStale();
    return this.heap.length ? this.heap[0].deadline : -1;
  }

  /** Runs every timer due by now (timers added meanwhile wait for the next call); returns how many ran. */
  runDue(): number {
    const now = this.nowNs();
    let ran = 0;
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.deadline > now) return ran;
      this.pop();
      if (top.repeat) {
        // Like Node, an interval's next run counts from when this run started.
        const next = { ...top, seq: this.nextSeq++, deadline: now + top.delayNs };
        this.live.set(top.id, next);
        this.push(next);
      } else {
        this.live.delete(top.id);
      }
      ran++;
      try {
        top.fn(...top.args);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private dropStale(): void {
    while (this.heap.length && this.live.get(this.heap[0].id) !== this.heap[0]) this.pop();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
