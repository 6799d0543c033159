// Key decoding: UTF-8 across reads, Enter variants, control keys and escape sequences.
import { describe, expect, test } from '@jest/globals';
import { KeyDecoder } from '../../src/toolstack/repl/keys';
import { Utf8Decoder, decodeUtf8, encodeUtf8 } from '../../src/runtime/utf8';

const bytes = (s: string): string => String.fromCharCode(...encodeUtf8(s));
const names = (d: KeyDecoder, input: string): string[] => d.feed(input).map((k) => (k.name === 'text' ? `text:${k.text}` : k.name));

describe('utf8', () => {
  test('round-trips text including astral characters', () => {
    const s = 'héllo → 😀 中文';
    expect(decodeUtf8(encodeUtf8(s))).toBe(s);
    expect(Array.from(encodeUtf8('é'))).toEqual([0xc3, 0xa9]);
  });

  test('a sequence split across chunks is completed by the next chunk', () => {
    const d = new Utf8Decoder();
    const b = bytes('😀');
    expect(d.feed(b.slice(0, 1))).toBe('');
    expect(d.feed(b.slice(1, 3))).toBe('');
    expect(d.feed(b.slice(3))).toBe('😀');
  });

  test('invalid bytes become U+FFFD without eating the next character', () => {
    expect(decodeUtf8(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\ufffdb');
    expect(decodeUtf8(new Uint8Array([0xc3, 0x41]))).toBe('\ufffdA');
    expect(decodeUtf8(new Uint8Array([0xe0, 0x80, 0x80]))).toBe('\ufffd\ufffd\ufffd'); // overlong
    expect(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe('\ufffd\ufffd\ufffd'); // surrogate
    expect(decodeUtf8(new Uint8Array([0xe2, 0x82]))).toBe('\ufffd'); // truncated at the end
    expect(Array.from(encodeUtf8('\ud800'))).toEqual([0xef, 0xbf, 0xbd]);
  });
});

describe('KeyDecoder', () => {
  test('printable text is merged, UTF-8 decoded across reads', () => {
    const d = new KeyDecoder();
    const b = bytes('é!');
    expect(names(d, b.slice(0, 1))).toEqual([]);
    expect(names(d, b.slice(1))).toEqual(['text:é!']);
  });

  test('CR, LF and CRLF are one Enter each; CR CR is two', () => {
    const d = new KeyDecoder();
    expect(names(d, 'a\rb\nc\r\nd\r\re')).toEqual(['text:a', 'enter', 'text:b', 'enter', 'text:c', 'enter', 'text:d', 'enter', 'enter', 'text:e']);
  });

  test('a CRLF split between reads still counts once', () => {
    const d = new KeyDecoder();
    expect(names(d, 'x\r')).toEqual(['text:x', 'enter']);
    expect(names(d, '\ny')).toEqual(['text:y']);
  });

  test('control keys', () => {
    const d = new KeyDecoder();
    const input = '\x01\x02\x03\x04\x05\x06\x08\x09\x0b\x0c\x0e\x10\x15\x17\x7f\x07';
    expect(names(d, input)).toEqual([
      'ctrl-a', 'ctrl-b', 'ctrl-c', 'ctrl-d', 'ctrl-e', 'ctrl-f', 'backspace', 'tab',
      'ctrl-k', 'ctrl-l', 'ctrl-n', 'ctrl-p', 'ctrl-u', 'ctrl-w', 'backspace',
    ]);
  });

  test('CSI and SS3 cursor keys, Home/End variants, Delete', () => {
    const d = new KeyDecoder();
    const seqs = ['\x1b[A', '\x1b[B', '\x1b[C', '\x1b[D', '\x1bOA', '\x1bOB', '\x1bOC', '\x1bOD', '\x1b[H', '\x1b[F', '\x1b[1~', '\x1b[4~', '\x1bOH', '\x1bOF', '\x1b[7~', '\x1b[8~', '\x1b[3~'];
    expect(names(d, seqs.join(''))).toEqual(['up', 'down', 'right', 'left', 'up', 'down', 'right', 'left', 'home', 'end', 'home', 'end', 'home', 'end', 'home', 'end', 'delete']);
  });

  test('word motions: Ctrl/Alt arrows and Meta-b/f/d', () => {
    const d = new KeyDecoder();
    expect(names(d, '\x1b[1;5D\x1b[1;5C\x1b[1;3D\x1bb\x1bf\x1bd\x1b\x7f')).toEqual(['word-left', 'word-right', 'word-left', 'word-left', 'word-right', 'delete-word-right', 'ctrl-w']);
  });

  test('sequences split across reads are completed later; unknown ones are swallowed', () => {
    const d = new KeyDecoder();
    expect(names(d, 'a\x1b')).toEqual(['text:a']);
    expect(names(d, '[')).toEqual([]);
    expect(names(d, '3')).toEqual([]);
    expect(names(d, '~b')).toEqual(['delete', 'text:b']);
    expect(names(d, '\x1b[15~\x1b[200~x\x1b[?1h')).toEqual(['text:x']);
    expect(names(d, '\x1bO')).toEqual([]);
    expect(names(d, 'Pz')).toEqual(['text:z']);
  });
});
