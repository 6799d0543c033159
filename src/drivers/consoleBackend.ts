// Console backend on a guest's xencons_interface ring (io/console.h): drains its output, feeds it input.
//
// Ring page layout (struct xencons_interface, 3092 bytes at the start of the page):
//   0 in[1024] (host -> guest), 1024 out[2048] (guest -> host),
//   3072 in_cons, 3076 in_prod, 3080 out_cons, 3084 out_prod (free-running u32, masked on use).
// The guest owns out_prod and in_cons; this backend owns out_cons and in_prod and keeps
// private copies of them, so a guest scribbling over those two fields changes nothing. Each
// guest-owned index is read once per operation and checked: a producer more than a ring
// ahead of its consumer (or behind it) is a corrupt ring, and the device is disconnected
// with one log line instead of throwing into the hypercall path.

export const IN_OFFSET = 0;
export const IN_SIZE = 1024;
export const OUT_OFFSET = 1024;
export const OUT_SIZE = 2048;
export const IN_CONS = 3072;
export const IN_PROD = 3076;
export const OUT_CONS = 3080;
export const OUT_PROD = 3084;
/** sizeof(struct xencons_interface). */
export const CONSOLE_RING_BYTES = 3092;
/** Input bytes held back while in[] is full (a paste into `xl console`); more are refused. */
export const PENDING_MAX = 4096;

/** What a console backend needs from its owner. */
export interface ConsoleBackendOptions {
  /** Raises the console event channel towards the guest. */
  notify: () => void;
  /** Receives the guest's output bytes (a private copy), in order. */
  sink: (bytes: Uint8Array) => void;
  /** Receives the backend's own log lines (the disconnect reason). */
  log: (line: string) => void;
  /** Names the device in log lines, e.g. "d1 console". */
  name?: string;
}

/** A console backend's saved state. */
export interface ConsoleBackendState {
  connected: boolean;
  fault: string | null;
  inProd: number;
  outCons: number;
  pending: number[];
}

/** u32 difference a - b of two free-running indices. */
function diff(a: number, b: number): number {
  return (a - b) >>> 0;
}

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** The backend of one guest console. */
export class ConsoleBackend {
  private connected = true;
  private fault: string | null = null;
  private inProd: number;
  private outCons: number;
  private pending: number[] = [];
  private dropped = 0;
  private readonly name: string;

  /** Attaches to a ring page (a view of at least 3092 bytes), taking the current indices as the starting point. */
  constructor(
    private readonly page: DataView,
    private readonly opts: ConsoleBackendOptions,
  ) {
    if (page.byteLength < CONSOLE_RING_BYTES) {
      throw new RangeError(`console ring view of ${page.byteLength} bytes is smaller than xencons_interface (${CONSOLE_RING_BYTES})`);
    }
    this.name = opts.name ?? 'console';
    // Like xenconsoled, pick up where a previous backend left off (both zero on a new domain).
    this.inProd = page.getUint32(IN_PROD, true);
    this.outCons = page.getUint32(OUT_CONS, true);
  }

  /** Whether the device is still working (false after a corrupt ring). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Why the device was disconnected, or null. */
  get disconnectReason(): string | null {
    return this.fault;
  }

  /** Input bytes write() refused since the backend started, because PENDING_MAX were already held back. */
  get droppedInput(): number {
    return this.dropped;
  }

  /** Input bytes accepted by write() and still waiting for room in in[]. */
  get pendingInput(): number {
    return this.pending.length;
  }

  /**
   * Handles an event from the guest: drains up to maxBytes of out[] into the sink, then
   * moves held-back input into in[]; returns the number of output bytes drained.
   */
  kick(maxBytes = OUT_SIZE): number {
    if (!(typeof maxBytes === 'number' && maxBytes >= 0)) throw new RangeError(`kick: maxBytes must be a number >= 0, got ${maxBytes}`);
    if (!this.connected) return 0;
    const drained = this.drainOutput(maxBytes);
    const fed = this.fillInput();
    // hvc_xen waits for room in out[] (and for input) on this event, as under xenconsoled.
    if (this.connected && (drained > 0 || fed > 0)) this.opts.notify();
    return drained;
  }

  /** Queues input for the guest, copying into in[] as space allows and notifying; returns how many bytes were accepted. */
  write(bytes: Uint8Array): number {
    if (!this.connected) return 0;
    const accepted = Math.min(bytes.length, PENDING_MAX - this.pending.length);
    for (let i = 0; i < accepted; i++) this.pending.push(bytes[i]);
    this.dropped += bytes.length - accepted;
    if (this.fillInput() > 0 && this.connected) this.opts.notify();
    return this.connected ? accepted : 0;
  }

  /** Saves the backend's indices, held-back input and connection state. */
  getState(): ConsoleBackendState {
    return { connected: this.connected, fault: this.fault, inProd: this.inProd, outCons: this.outCons, pending: this.pending.slice() };
  }

  /** Restores a state saved by getState; throws TypeError naming the bad field. */
  setState(s: ConsoleBackendState): void {
    if (!s || typeof s !== 'object') throw new TypeError('console backend state must be an object');
    if (typeof s.connected !== 'boolean') throw new TypeError('console backend state: connected must be a boolean');
    if (!(s.fault === null || typeof s.fault === 'string')) throw new TypeError('console backend state: fault must be a string or null');
    if (!isU32(s.inProd) || !isU32(s.outCons)) throw new TypeError('console backend state: inProd and outCons must be u32 indices');
    if (!Array.isArray(s.pending) || s.pending.length > PENDING_MAX || !s.pending.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw new TypeError(`console backend state: pending must be at most ${PENDING_MAX} bytes`);
    }
    this.connected = s.connected;
    this.fault = s.fault;
    this.inProd = s.inProd;
    this.outCons = s.outCons;
    this.pending = s.pending.slice();
  }

  /** Copies out[] from out_cons towards out_prod (at most maxBytes) and publishes the new out_cons. */
  private drainOutput(maxBytes: number): number {
    const prod = this.page.getUint32(OUT_PROD, true);
    const avail = diff(prod, this.outCons);
    if (avail > OUT_SIZE) {
      this.disconnect(`out_prod ${prod} is ${avail} bytes ahead of out_cons ${this.outCons} (out[] holds ${OUT_SIZE})`);
      return 0;
    }
    const n = Math.min(avail, Math.floor(maxBytes));
    if (n === 0) return 0;
    const bytes = new Uint8Array(n);
    const base = this.page.byteOffset + OUT_OFFSET;
    const start = this.outCons & (OUT_SIZE - 1);
    const first = Math.min(n, OUT_SIZE - start);
    bytes.set(new Uint8Array(this.page.buffer, base + start, first), 0);
    if (first < n) bytes.set(new Uint8Array(this.page.buffer, base, n - first), first);
    this.outCons = (this.outCons + n) >>> 0;
    this.page.setUint32(OUT_CONS, this.outCons, true);
    this.opts.sink(bytes);
    return n;
  }

  /** Moves held-back input into in[] as far as the guest has made room, publishing in_prod; returns the bytes moved. */
  private fillInput(): number {
    if (this.pending.length === 0) return 0;
    const cons = this.page.getUint32(IN_CONS, true);
    const used = diff(this.inProd, cons);
    if (used > IN_SIZE) {
      this.disconnect(`in_prod ${this.inProd} is ${used} bytes ahead of in_cons ${cons} (in[] holds ${IN_SIZE})`);
      return 0;
    }
    const n = Math.min(IN_SIZE - used, this.pending.length);
    for (let i = 0; i < n; i++) {
      this.page.setUint8(IN_OFFSET + ((this.inProd + i) & (IN_SIZE - 1)), this.pending[i]);
    }
    this.pending = this.pending.slice(n);
    // The data is written before the index that publishes it; x86 keeps stores in order.
    this.inProd = (this.inProd + n) >>> 0;
    this.page.setUint32(IN_PROD, this.inProd, true);
    return n;
  }

  private disconnect(reason: string): void {
    this.connected = false;
    this.fault = reason;
    this.pending = [];
    this.opts.log(`${this.name}: corrupt console ring, device disconnected: ${reason}`);
  }
}
