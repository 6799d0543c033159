// Quoting and escaping of strings and property keys the way Node's util.inspect does it.

const QUOTE_SINGLE = 39;
const BACKSLASH = 92;

function escapeCode(code: number): string {
  switch (code) {
    case 8: return '\\b';
    case 9: return '\\t';
    case 10: return '\\n';
    case 12: return '\\f';
    case 13: return '\\r';
    case QUOTE_SINGLE: return "\\'";
    case BACKSLASH: return '\\\\';
    default: return `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  }
}

function needsEscape(code: number, quote: number): boolean {
  return code === quote || code === BACKSLASH || code < 32 || (code > 126 && code < 160);
}

/** Escapes control characters, backslashes, the quote (a char code, or -1 for none) and lone surrogates. */
export function escapeString(str: string, quote: number): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    if (needsEscape(code, quote)) {
      out += str.slice(last, i) + escapeCode(code);
      last = i + 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      if (code <= 0xdbff && i + 1 < str.length) {
        const next = str.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      }
      out += `${str.slice(last, i)}\\u${code.toString(16)}`;
      last = i + 1;
    }
  }
  return last === 0 ? str : out + str.slice(last);
}

/**
 * Quotes a string as Node does: single quotes, unless the text holds a single quote and no
 * double quote (then double quotes), or both but no backtick or `${` (then backticks).
 */
export function quoteString(str: string): string {
  if (str.indexOf("'") === -1) return `'${escapeString(str, QUOTE_SINGLE)}'`;
  if (str.indexOf('"') === -1) return `"${escapeString(str, -1)}"`;
  if (str.indexOf('`') === -1 && str.indexOf('${') === -1) return `\`${escapeString(str, -1)}\``;
  return `'${escapeString(str, QUOTE_SINGLE)}'`;
}

const IDENTIFIER_KEY = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

/** Formats an own property key: bare if identifier-like, quoted otherwise, [key] when hidden. */
export function formatKey(key: string | symbol, enumerable: boolean): string {
  if (typeof key === 'symbol') return `[${escapeString(String(key), QUOTE_SINGLE)}]`;
  if (key === '__proto__') return "['__proto__']";
  if (!enumerable) return `[${escapeString(key, QUOTE_SINGLE)}]`;
  if (IDENTIFIER_KEY.test(key)) return key;
  return quoteString(key);
}
