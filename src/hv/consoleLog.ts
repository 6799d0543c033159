// A domain's console_io output: kept in a bounded log for `xl console`, echoed line by line as "(dN) text".
//
// Like Xen's guest_console_write for a domU, the text is sanitised (printable ASCII, tab and
// newline kept, everything else dropped) and echoed to the hypervisor console one whole line
// at a time with the "(dN) " prefix; a line longer than LINE_MAX is cut and echoed in pieces.
// The domain's own log keeps the sanitised text as written (partial lines too) for
// `xl console`. Guest lines do not go into `xl dmesg`: a chatty guest would push the
// hypervisor's own messages (crash reports) out of its ring.

import { latin1String } from '../xenstore/bytes';

/** Receives hypervisor-console text. */
export type ConsoleSink = (text: string) => void;

/** Xen's per-domain print buffer (DOMAIN_PBUF_SIZE): longer lines are echoed in pieces. */
export const LINE_MAX = 200;
/** Characters of console output a domain's log keeps (the oldest whole lines go first). */
export const LOG_CAPACITY = 16384;

let hvSink: ConsoleSink = () => undefined;
let muted = 0;

/** Sets where "(dN) ..." lines go (main.ts: the REPL's output path). */
export function setHypervisorConsole(sink: ConsoleSink): void {
  hvSink = sink;
}

/** Holds back the "(dN)" echo while an `xl console` session owns the terminal (calls nest). */
export function muteHypervisorConsole(on: boolean): void {
  muted = Math.max(0, muted + (on ? 1 : -1));
}

/** One domain's console. */
export class DomainConsole {
  private log = '';
  private pending = '';
  private readonly listeners: { fn: (text: string) => void; raw: boolean }[] = [];

  constructor(
    readonly domid: number,
    private readonly capacity = LOG_CAPACITY,
  ) {}

  /**
   * Takes bytes the guest wrote: through CONSOLEIO_write, or (terminal) on its console ring.
   * The log and the "(dN)" echo get the sanitised text; listeners that asked for raw output
   * (an attached `xl console`) get a terminal's bytes as they are, escape sequences included,
   * as xenconsole passes them, so the guest's shell can drive the terminal.
   */
  write(bytes: Uint8Array, terminal = false): void {
    let text = '';
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x09) text += String.fromCharCode(c);
    }
    let raw: string | null = null;
    for (const l of this.listeners.slice()) {
      if (l.raw && terminal) {
        raw ??= latin1String(bytes);
        l.fn(raw);
      } else if (text) l.fn(text);
    }
    if (!text) return;
    this.append(text);
    this.echo(text);
  }

  /** The log: everything kept so far. */
  text(): string {
    return this.log;
  }

  /** Calls fn with every later piece of output (raw: a terminal's bytes unfiltered); returns the function that stops it. */
  listen(fn: (text: string) => void, raw = false): () => void {
    const entry = { fn, raw };
    this.listeners.push(entry);
    return () => {
      const i = this.listeners.indexOf(entry);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Echoes a pending partial line (the domain is going away). */
  flush(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
  }


  private append(text: string): void {
    this.log += text;
    if (this.log.length > this.capacity) {
      let cut = this.log.length - this.capacity;
      const nl = this.log.indexOf('\n', cut);
      if (nl >= 0 && nl - cut < 256) cut = nl + 1;
      this.log = this.log.slice(cut);
    }
  }

  private echo(text: string): void {
    let buf = this.pending + text;
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0 && nl <= LINE_MAX) {
        this.emit(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      } else if (buf.length >= LINE_MAX) {
        this.emit(buf.slice(0, LINE_MAX));
        buf = buf.slice(LINE_MAX);
      } else {
        break;
      }
    }
    this.pending = buf;
  }

  private emit(line: string): void {
    if (muted === 0) hvSink(`(d${this.domid}) ${line}\n`);
  }
}
