// Turns raw console bytes into key events: UTF-8 text, control keys and VT100/xterm escape sequences.
import { Utf8Decoder } from '../../runtime/utf8';

/** Names of the editing keys the line editor understands. */
export type KeyName =
  | 'text' | 'enter' | 'tab' | 'backspace' | 'delete'
  | 'left' | 'right' | 'up' | 'down' | 'home' | 'end'
  | 'word-left' | 'word-right' | 'delete-word-right'
  | 'ctrl-a' | 'ctrl-b' | 'ctrl-c' | 'ctrl-d' | 'ctrl-e' | 'ctrl-f' | 'ctrl-k'
  | 'ctrl-l' | 'ctrl-n' | 'ctrl-p' | 'ctrl-u' | 'ctrl-w';

/** One key press; text carries the characters of a 'text' key. */
export interface Key {
  name: KeyName;
  text?: string;
}

const CONTROL_KEYS: Record<number, KeyName> = {
  0x01: 'ctrl-a', 0x02: 'ctrl-b', 0x03: 'ctrl-c', 0x04: 'ctrl-d', 0x05: 'ctrl-e', 0x06: 'ctrl-f',
  0x08: 'backspace', 0x09: 'tab', 0x0b: 'ctrl-k', 0x0c: 'ctrl-l', 0x0e: 'ctrl-n', 0x10: 'ctrl-p',
  0x15: 'ctrl-u', 0x17: 'ctrl-w', 0x7f: 'backspace',
};

// Final byte of "ESC [ <final>" or "ESC O <final>" (SS3, sent in application cursor mode).
const FINAL_KEYS: Record<string, KeyName> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end' };

// "ESC [ <n> ~" sequences (VT220 editing keys; 7/8 are rxvt's Home/End).
const TILDE_KEYS: Record<string, KeyName> = { '1': 'home', '7': 'home', '4': 'end', '8': 'end', '3': 'delete' };

/** Incremental decoder; sequences split across reads are completed by the next feed. */
export class KeyDecoder {
  private utf8 = new Utf8Decoder();
  private pending = '';
  private lastWasCR = false;

  /** Decodes a chunk of raw bytes (char codes 0-255) into keys. */
  feed(bytes: string): Key[] {
    this.pending += this.utf8.feed(bytes);
    const keys: Key[] = [];
    let i = 0;
    const s = this.pending;
    while (i < s.length) {
      const consumed = this.decodeAt(s, i, keys);
      if (consumed === 0) break; // an incomplete escape sequence: wait for more bytes
      i += consumed;
    }
    this.pending = s.slice(i);
    return mergeText(keys);
  }

  private decodeAt(s: string, i: number, keys: Key[]): number {
    const code = s.charCodeAt(i);
    // CR, LF and CRLF each end a line once: an LF right after a CR is the same Enter.
    if (code === 0x0d || code === 0x0a) {
      if (!(code === 0x0a && this.lastWasCR)) keys.push({ name: 'enter' });
      this.lastWasCR = code === 0x0d;
      return 1;
    }
    this.lastWasCR = false;
    if (code === 0x1b) return this.decodeEscape(s, i, keys);
    const control = CONTROL_KEYS[code];
    if (control) keys.push({ name: control });
    else if (code >= 0x20) keys.push({ name: 'text', text: s[i] });
    // Other C0 controls have no editing meaning and are dropped.
    return 1;
  }

  private decodeEscape(s: string, i: number, keys: Key[]): number {
    if (i + 1 >= s.length) return 0;
    const kind = s[i + 1];
    if (kind === '[') return this.decodeCsi(s, i, keys);
    if (kind === 'O') {
      if (i + 2 >= s.length) return 0;
      const key = FINAL_KEYS[s[i + 2]];
      if (key) keys.push({ name: key });
      return 3;
    }
    // ESC followed by a character is Meta/Alt+character (emacs word motions).
    if (kind === 'b') keys.push({ name: 'word-left' });
    else if (kind === 'f') keys.push({ name: 'word-right' });
    else if (kind === 'd') keys.push({ name: 'delete-word-right' });
    else if (kind === '\x7f' || kind === '\b') keys.push({ name: 'ctrl-w' });
    return 2;
  }

  private decodeCsi(s: string, i: number, keys: Key[]): number {
    // CSI: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, then one final byte 0x40-0x7E.
    let j = i + 2;
    while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x3f) j++;
    if (j >= s.length) return 0;
    const final = s[j];
    const params = s.slice(i + 2, j);
    const parts = params.split(';');
    // xterm reports modified arrows as "1;5C" (Ctrl) or "1;3C" (Alt): treat both as word motion.
    const modified = parts.length > 1 && (parts[1] === '5' || parts[1] === '3');
    if (final === '~') {
      const key = TILDE_KEYS[parts[0]];
      if (key) keys.push({ name: key });
    } else if (FINAL_KEYS[final]) {
      let key = FINAL_KEYS[final];
      if (modified && key === 'left') key = 'word-left';
      if (modified && key === 'right') key = 'word-right';
      keys.push({ name: key });
    }
    // Anything else (focus reports, function keys, mouse) is consumed and ignored.
    return j - i + 1;
  }
}

function mergeText(keys: Key[]): Key[] {
  // Consecutive printable characters become one 'text' key so pastes redraw once.
  const out: Key[] = [];
  for (const k of keys) {
    const last = out[out.length - 1];
    if (k.name === 'text' && last && last.name === 'text') last.text += k.text!;
    else out.push({ ...k });
  }
  return out;
}
