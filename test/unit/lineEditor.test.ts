// The line editor: every editing key, the terminal output it produces, history and completion.
import { describe, expect, test } from '@jest/globals';
import { History } from '../../src/toolstack/repl/history';
import { KeyDecoder } from '../../src/toolstack/repl/keys';
import { LineEditor, type Completer, type EditorEvent } from '../../src/toolstack/repl/lineEditor';

function setup(completer?: Completer) {
  let out = '';
  const history = new History();
  const ed = new LineEditor({ write: (t) => (out += t) }, history, completer);
  const dec = new KeyDecoder();
  const type = (bytes: string): EditorEvent[] => {
    const events: EditorEvent[] = [];
    for (const k of dec.feed(bytes)) {
      const ev = ed.handle(k);
      if (ev) events.push(ev);
    }
    return events;
  };
  return { ed, history, type, out: () => out, clear: () => (out = '') };
}

const LEFT = '\x1b[D';
const RIGHT = '\x1b[C';

describe('LineEditor', () => {
  test('typing at the end echoes; Enter submits, prints a newline and records history', () => {
    const t = setup();
    t.ed.showPrompt();
    expect(t.type('1+1')).toEqual([]);
    expect(t.out()).toBe('zazen> 1+1');
    expect(t.type('\r')).toEqual([{ type: 'line', text: '1+1' }]);
    expect(t.out()).toBe('zazen> 1+1\n');
    expect(t.history.list()).toEqual(['1+1']);
    expect(t.ed.line).toBe('');
  });

  test('left/right move the cursor with minimal output and stop at the ends', () => {
    const t = setup();
    t.type('abc');
    t.clear();
    t.type('\x1b[D\x1b[D\x1b[D\x1b[D');
    expect(t.ed.cursorPos).toBe(0);
    expect(t.out()).toBe(LEFT.repeat(3));
    t.clear();
    t.type('\x1bOC\x06');
    expect(t.ed.cursorPos).toBe(2);
    expect(t.out()).toBe(RIGHT + RIGHT);
  });

  test('inserting in the middle redraws the tail and moves back', () => {
    const t = setup();
    t.type('ac\x1b[D');
    t.clear();
    t.type('b');
    expect(t.ed.line).toBe('abc');
    expect(t.out()).toBe(`bc${LEFT}`);
  });

  test('Home/End in all encodings, and Ctrl-A/Ctrl-E', () => {
    const t = setup();
    t.type('hello');
    for (const [home, end] of [['\x1b[H', '\x1b[F'], ['\x1b[1~', '\x1b[4~'], ['\x1bOH', '\x1bOF'], ['\x01', '\x05']]) {
      t.type(home);
      expect(t.ed.cursorPos).toBe(0);
      t.type(end);
      expect(t.ed.cursorPos).toBe(5);
    }
    t.clear();
    t.type('\x01');
    expect(t.out()).toBe('\x1b[5D');
  });

  test('backspace (0x7F and 0x08) at the end and in the middle', () => {
    const t = setup();
    t.type('abcd');
    t.clear();
    t.type('\x7f');
    expect(t.ed.line).toBe('abc');
    expect(t.out()).toBe('\b\x1b[K');
    t.type('\x1b[D');
    t.clear();
    t.type('\x08');
    expect(t.ed.line).toBe('ac');
    expect(t.out()).toBe(`\bc\x1b[K${LEFT}`);
    t.type('\x01\x7f');
    expect(t.ed.line).toBe('ac');
  });

  test('Delete (ESC [ 3 ~) removes under the cursor; Ctrl-D too unless the line is empty', () => {
    const t = setup();
    t.type('abc\x01\x1b[3~');
    expect(t.ed.line).toBe('bc');
    t.type('\x04');
    expect(t.ed.line).toBe('c');
    t.type('\x05\x1b[3~');
    expect(t.ed.line).toBe('c');
    t.type('\x7f');
    expect(t.type('\x04')).toEqual([{ type: 'eof' }]);
  });

  test('Ctrl-K kills to the end, Ctrl-U to the start, Ctrl-W the previous word', () => {
    const t = setup();
    t.type('one two three\x1b[D\x1b[D');
    t.type('\x0b');
    expect(t.ed.line).toBe('one two thr');
    t.type('\x17');
    expect(t.ed.line).toBe('one two ');
    t.type('\x17');
    expect(t.ed.line).toBe('one ');
    t.type('x\x1b[D\x15');
    expect(t.ed.line).toBe('x');
    expect(t.ed.cursorPos).toBe(0);
    expect(t.out()).toContain('\rzazen> x\x1b[K\x1b[D');
  });

  test('word motions', () => {
    const t = setup();
    t.type('foo.bar baz');
    t.type('\x1b[1;5D');
    expect(t.ed.cursorPos).toBe(8);
    t.type('\x1bb');
    expect(t.ed.cursorPos).toBe(4);
    t.type('\x1b[1;5C');
    expect(t.ed.cursorPos).toBe(7);
    t.type('\x01\x1bd');
    expect(t.ed.line).toBe('.bar baz');
  });

  test('Ctrl-C discards the line, prints ^C and reports whether text was lost', () => {
    const t = setup();
    t.type('abc');
    t.clear();
    expect(t.type('\x03')).toEqual([{ type: 'interrupt', hadText: true }]);
    expect(t.out()).toBe('^C\n');
    expect(t.type('\x03')).toEqual([{ type: 'interrupt', hadText: false }]);
  });

  test('Ctrl-L clears the screen and redraws', () => {
    const t = setup();
    t.type('x');
    t.clear();
    t.type('\x0c');
    expect(t.out()).toBe('\x1b[H\x1b[2J\rzazen> x\x1b[K');
  });

  test('history: up/down (CSI, SS3, Ctrl-P/N) recall entries and restore the draft', () => {
    const t = setup();
    t.type('first\rsecond\rsecond\r\r');
    expect(t.history.list()).toEqual(['first', 'second']);
    t.type('draft');
    t.type('\x1b[A');
    expect(t.ed.line).toBe('second');
    t.type('\x1bOA');
    expect(t.ed.line).toBe('first');
    t.type('\x10');
    expect(t.ed.line).toBe('first');
    t.type('\x1b[B');
    expect(t.ed.line).toBe('second');
    t.type('\x0e');
    expect(t.ed.line).toBe('draft');
    t.type('\x1b[B');
    expect(t.ed.line).toBe('draft');
    expect(t.out()).toContain('\rzazen> second\x1b[K');
  });

  test('Tab inserts a unique completion or the common prefix, else lists candidates', () => {
    const completer: Completer = (line) => {
      const m = /[\w.]*$/.exec(line)!;
      return { candidates: ['hv.info', 'hv.init', '', 'hv.log'], token: m[0] };
    };
    const t = setup(completer);
    t.type('hv.l\t');
    expect(t.ed.line).toBe('hv.log');
    t.type('\x15hv.i\t');
    expect(t.ed.line).toBe('hv.in');
    t.clear();
    t.type('\t');
    expect(t.ed.line).toBe('hv.in');
    expect(t.out()).toBe('\nhv.info  hv.init\n\rzazen> hv.in\x1b[K');
    t.type('\x15hv.\t');
    expect(t.out()).toContain('hv.info  hv.init\n\nhv.log\n');
  });

  test('a completer that throws leaves the line alone', () => {
    const t = setup(() => {
      throw new Error('getter exploded');
    });
    t.type('abc\t');
    expect(t.ed.line).toBe('abc');
  });

  test('astral characters count as one column', () => {
    const t = setup();
    t.type('a😀b\x1b[D\x1b[D');
    expect(t.ed.cursorPos).toBe(1);
    t.type('\x1b[3~');
    expect(t.ed.line).toBe('ab');
  });
});

describe('History', () => {
  test('keeps at most maxSize entries and skips blanks and repeats', () => {
    const h = new History(3);
    for (const l of ['a', 'b', ' ', 'b', 'c', 'd']) h.add(l);
    expect(h.list()).toEqual(['b', 'c', 'd']);
    expect(h.prev('now')).toBe('d');
    expect(h.prev('ignored')).toBe('c');
    expect(h.prev('')).toBe('b');
    expect(h.prev('')).toBeUndefined();
    expect(h.next()).toBe('c');
    expect(h.next()).toBe('d');
    expect(h.next()).toBe('now');
    expect(h.next()).toBeUndefined();
  });
});
