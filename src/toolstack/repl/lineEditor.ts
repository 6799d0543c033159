// A readline-style line editor for a serial terminal: cursor motion, kills, history, Tab completion.
import type { History } from './history';
import type { Key } from './keys';

/** Where the editor draws (the raw console). */
export interface EditorOutput {
  write(text: string): void;
}

/** Candidates for the text before the cursor; `token` is the trailing part they would replace. */
export interface Completion {
  /** Full replacements for token; '' entries separate groups when listing. */
  candidates: string[];
  token: string;
}

/** Computes completions for the text before the cursor. */
export type Completer = (lineBeforeCursor: string) => Completion;

/** What a key press finished: a submitted line, Ctrl-C, or Ctrl-D on an empty line. */
export type EditorEvent = { type: 'line'; text: string } | { type: 'interrupt'; hadText: boolean } | { type: 'eof' };

const ESC = '\x1b';
const CLEAR_TO_END = `${ESC}[K`;

function commonPrefix(words: string[]): string {
  if (words.length === 0) return '';
  let prefix = words[0];
  for (const w of words) {
    let i = 0;
    while (i < prefix.length && i < w.length && prefix[i] === w[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\w$]/.test(c);
}

/** Edits one line at a time; text is held as code points, one terminal column each. */
export class LineEditor {
  /** The prompt drawn before the line ('zazen> ' or '... '). */
  prompt = 'zazen> ';
  private chars: string[] = [];
  private cursor = 0;

  constructor(
    private readonly out: EditorOutput,
    readonly history: History,
    private readonly completer?: Completer,
    readonly columns = 80,
  ) {}

  /** The text being edited. */
  get line(): string {
    return this.chars.join('');
  }

  /** The cursor position in code points. */
  get cursorPos(): number {
    return this.cursor;
  }

  /** Starts a fresh line: draws the prompt and whatever text is being edited. */
  showPrompt(): void {
    this.out.write(this.prompt + this.line + this.moveBack(this.chars.length - this.cursor));
  }

  /** Redraws the prompt and line in place and puts the cursor back. */
  refresh(): void {
    this.out.write(`\r${this.prompt}${this.line}${CLEAR_TO_END}${this.moveBack(this.chars.length - this.cursor)}`);
  }

  /** The sequence that blanks the current screen line, so other output can be printed above the prompt. */
  clearSequence(): string {
    return `\r${CLEAR_TO_END}`;
  }

  /** Replaces the text (cursor at the end) without drawing. */
  setLine(text: string): void {
    this.chars = Array.from(text);
    this.cursor = this.chars.length;
  }

  /** Applies one key; returns an event when the key ends the line. */
  handle(key: Key): EditorEvent | undefined {
    switch (key.name) {
      case 'text': this.insert(key.text ?? ''); return undefined;
      case 'enter': return this.submit();
      case 'ctrl-c': return this.interrupt();
      case 'ctrl-d':
        if (this.chars.length === 0) return { type: 'eof' };
        this.deleteRight();
        return undefined;
      case 'backspace': this.backspace(); return undefined;
      case 'delete': this.deleteRight(); return undefined;
      case 'left': case 'ctrl-b': this.moveTo(this.cursor - 1); return undefined;
      case 'right': case 'ctrl-f': this.moveTo(this.cursor + 1); return undefined;
      case 'home': case 'ctrl-a': this.moveTo(0); return undefined;
      case 'end': case 'ctrl-e': this.moveTo(this.chars.length); return undefined;
      case 'word-left': this.moveTo(this.wordStartBefore(this.cursor)); return undefined;
      case 'word-right': this.moveTo(this.wordEndAfter(this.cursor)); return undefined;
      case 'ctrl-k': this.killToEnd(); return undefined;
      case 'ctrl-u': this.deleteRange(0, this.cursor); return undefined;
      case 'ctrl-w': this.deleteRange(this.spaceDelimitedStart(), this.cursor); return undefined;
      case 'delete-word-right': this.deleteRange(this.cursor, this.wordEndAfter(this.cursor)); return undefined;
      case 'up': case 'ctrl-p': this.recall(this.history.prev(this.line)); return undefined;
      case 'down': case 'ctrl-n': this.recall(this.history.next()); return undefined;
      case 'ctrl-l':
        this.out.write(`${ESC}[H${ESC}[2J`);
        this.refresh();
        return undefined;
      case 'tab': this.complete(); return undefined;
      default: return undefined;
    }
  }

  private moveBack(n: number): string {
    return n <= 0 ? '' : n === 1 ? `${ESC}[D` : `${ESC}[${n}D`;
  }

  private moveTo(pos: number): void {
    const target = Math.max(0, Math.min(this.chars.length, pos));
    const delta = target - this.cursor;
    if (delta === 0) return;
    this.cursor = target;
    if (delta < 0) this.out.write(this.moveBack(-delta));
    else this.out.write(delta === 1 ? `${ESC}[C` : `${ESC}[${delta}C`);
  }

  private insert(text: string): void {
    const added = Array.from(text);
    if (added.length === 0) return;
    this.chars.splice(this.cursor, 0, ...added);
    this.cursor += added.length;
    const tail = this.chars.slice(this.cursor).join('');
    // At the end of the line plain echo is enough; in the middle the tail is redrawn.
    this.out.write(tail === '' ? text : text + tail + this.moveBack(this.chars.length - this.cursor));
  }

  private submit(): EditorEvent {
    const text = this.line;
    this.out.write('\n');
    this.history.add(text);
    this.chars = [];
    this.cursor = 0;
    return { type: 'line', text };
  }

  private interrupt(): EditorEvent {
    const hadText = this.chars.length > 0;
    this.out.write('^C\n');
    this.chars = [];
    this.cursor = 0;
    this.history.reset();
    return { type: 'interrupt', hadText };
  }

  private backspace(): void {
    if (this.cursor === 0) return;
    this.chars.splice(this.cursor - 1, 1);
    this.cursor--;
    const tail = this.chars.slice(this.cursor).join('');
    this.out.write(`\b${tail}${CLEAR_TO_END}${this.moveBack(tail.length ? Array.from(tail).length : 0)}`);
  }

  private deleteRight(): void {
    if (this.cursor >= this.chars.length) return;
    this.chars.splice(this.cursor, 1);
    const tail = this.chars.slice(this.cursor);
    this.out.write(`${tail.join('')}${CLEAR_TO_END}${this.moveBack(tail.length)}`);
  }

  private killToEnd(): void {
    if (this.cursor >= this.chars.length) return;
    this.chars.length = this.cursor;
    this.out.write(CLEAR_TO_END);
  }

  private deleteRange(from: number, to: number): void {
    if (to <= from) return;
    this.chars.splice(from, to - from);
    this.cursor = from;
    this.refresh();
  }

  private spaceDelimitedStart(): number {
    // Ctrl-W (unix-word-rubout) deletes back to the previous blank, skipping blanks first.
    let i = this.cursor;
    while (i > 0 && /\s/.test(this.chars[i - 1])) i--;
    while (i > 0 && !/\s/.test(this.chars[i - 1])) i--;
    return i;
  }

  private wordStartBefore(pos: number): number {
    let i = pos;
    while (i > 0 && !isWordChar(this.chars[i - 1])) i--;
    while (i > 0 && isWordChar(this.chars[i - 1])) i--;
    return i;
  }

  private wordEndAfter(pos: number): number {
    let i = pos;
    while (i < this.chars.length && !isWordChar(this.chars[i])) i++;
    while (i < this.chars.length && isWordChar(this.chars[i])) i++;
    return i;
  }

  private recall(text: string | undefined): void {
    if (text === undefined) return;
    this.setLine(text);
    this.refresh();
  }

  private complete(): void {
    if (!this.completer) return;
    let result: Completion;
    try {
      result = this.completer(this.chars.slice(0, this.cursor).join(''));
    } catch {
      return; // a throwing getter met while completing must not break editing
    }
    const { token } = result;
    const matches = result.candidates.filter((c) => c !== '' && c.startsWith(token));
    const unique = matches.filter((c, i) => matches.indexOf(c) === i);
    if (unique.length === 0) return;
    const prefix = commonPrefix(unique);
    if (prefix.length > token.length) {
      this.insert(prefix.slice(token.length));
      return;
    }
    if (unique.length > 1) this.listCandidates(result.candidates, token);
  }

  private listCandidates(candidates: string[], token: string): void {
    // Like Node's readline: columns of equal width, a blank line between groups.
    const shown = candidates.filter((c, i) => c === '' || (c.startsWith(token) && candidates.indexOf(c) === i));
    while (shown.length && shown[0] === '') shown.shift();
    const width = Math.max(...shown.map((c) => c.length)) + 2;
    const perLine = Math.max(1, Math.floor(this.columns / width));
    let text = '\n';
    let col = 0;
    for (const c of shown) {
      if (c === '') {
        if (col !== 0) text += '\n';
        if (!text.endsWith('\n\n')) text += '\n';
        col = 0;
        continue;
      }
      if (col === perLine) {
        text += '\n';
        col = 0;
      }
      text += col === perLine - 1 ? c : c.padEnd(width);
      col++;
    }
    this.out.write(`${text.replace(/ +$/gm, '').replace(/\n+$/, '')}\n`);
    this.refresh();
  }
}
