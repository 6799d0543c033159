// A small JavaScript tokenizer for the REPL: bracket depth, unterminated constructs, top-level words.

/** A token the REPL cares about. */
export interface Token {
  type: 'word' | 'punct' | 'string' | 'template' | 'number' | 'regex';
  value: string;
  start: number;
  end: number;
  /** Bracket depth at the token ((), [], {} and template ${} all count). */
  depth: number;
  /** A line break separates this token from the previous one. */
  newlineBefore: boolean;
}

/** The tokens plus what is left open at the end of the text. */
export interface ScanResult {
  tokens: Token[];
  /** Open brackets at the end, innermost last. */
  open: string[];
  /** A closing bracket that did not match. */
  mismatch: boolean;
  /** The text ends inside this construct. */
  unterminated?: 'template' | 'comment' | 'string' | 'regex';
  /** The unterminated string ends in a backslash line continuation. */
  continuation: boolean;
}

const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
// After these words an expression starts, so '/' opens a regular expression.
const EXPRESSION_KEYWORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
const PUNCTUATORS = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>'];

function regexAllowed(prev: Token | undefined): boolean {
  if (!prev) return true;
  if (prev.type === 'word') return EXPRESSION_KEYWORDS.has(prev.value);
  if (prev.type === 'punct') return prev.value !== ')' && prev.value !== ']' && prev.value !== '}' && prev.value !== '++' && prev.value !== '--';
  return false;
}

/** Tokenizes source text, tolerating incomplete input. */
export function scanJs(src: string): ScanResult {
  const res: ScanResult = { tokens: [], open: [], mismatch: false, continuation: false };
  // Each entry is a bracket, or '`' for a template whose ${ } we are inside.
  const stack: string[] = [];
  let i = 0;
  let newline = false;
  const push = (type: Token['type'], start: number, end: number): void => {
    res.tokens.push({ type, value: src.slice(start, end), start, end, depth: stack.length, newlineBefore: newline });
    newline = false;
  };
  const scanTemplate = (start: number): boolean => {
    // From just after '`' or '}', up to the closing '`' or a '${'; false when unterminated.
    let j = start;
    while (j < src.length) {
      const c = src[j];
      if (c === '\\') j += 2;
      else if (c === '`') {
        i = j + 1;
        return true;
      } else if (c === '$' && src[j + 1] === '{') {
        stack.push('`');
        i = j + 2;
        return true;
      } else j++;
    }
    i = src.length;
    return false;
  };
  while (i < src.length) {
    const c = src[i];
    const start = i;
    if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') {
      newline = true;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      if (close === -1) {
        res.unterminated = 'comment';
        break;
      }
      if (src.slice(i, close).indexOf('\n') !== -1) newline = true;
      i = close + 2;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length || src[i] === '\n') {
        res.unterminated = 'string';
        res.continuation = /\\\r?\n?$/.test(src.slice(start, Math.min(i + 1, src.length)));
        break;
      }
      i++;
      push('string', start, i);
    } else if (c === '`') {
      const done = scanTemplate(i + 1);
      push('template', start, i);
      if (!done) {
        res.unterminated = 'template';
        break;
      }
    } else if (c === '/' && regexAllowed(res.tokens[res.tokens.length - 1])) {
      let inClass = false;
      i++;
      while (i < src.length && src[i] !== '\n' && (src[i] !== '/' || inClass)) {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        i++;
      }
      if (i >= src.length || src[i] === '\n') {
        res.unterminated = 'regex';
        break;
      }
      i++;
      while (i < src.length && /[a-z]/i.test(src[i])) i++;
      push('regex', start, i);
    } else if (/[A-Za-z_$\\]/.test(c) || c.charCodeAt(0) > 127) {
      while (i < src.length && (/[\w$\\]/.test(src[i]) || src.charCodeAt(i) > 127) && !/\s/.test(src[i])) i++;
      push('word', start, i);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      while (i < src.length && /[\w.]/.test(src[i])) i++;
      push('number', start, i);
    } else if (c === '(' || c === '[' || c === '{') {
      push('punct', start, i + 1);
      stack.push(c);
      i++;
    } else if (c === ')' || c === ']' || c === '}') {
      const top = stack[stack.length - 1];
      if (c === '}' && top === '`') {
        // The '}' closing a template substitution resumes the template text.
        stack.pop();
        const done = scanTemplate(i + 1);
        push('template', start, i);
        if (!done) {
          res.unterminated = 'template';
          break;
        }
        continue;
      }
      if (top !== CLOSERS[c]) res.mismatch = true;
      else stack.pop();
      push('punct', start, i + 1);
      i++;
    } else {
      const op = PUNCTUATORS.find((p) => src.startsWith(p, i)) ?? c;
      i += op.length;
      push('punct', start, i);
    }
  }
  res.open = stack.slice();
  return res;
}
