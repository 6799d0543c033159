// Keeps REPL declarations alive: top-level let/const/class become var so later lines can see them.
//
// Why: the REPL runs each input through indirect eval, where `let`, `const` and `class` bindings
// live only as long as that one eval (QuickJS has no script-scope evaluation reachable from JS);
// `var` and function declarations become properties of the global object and persist, as they do
// in Node's REPL. Costs: const bindings become writable and redeclaration is allowed.
import { scanJs, type Token } from './jsScanner';

function statementStart(tokens: Token[], index: number): boolean {
  const prev = tokens[index - 1];
  if (!prev || prev.depth !== 0) return !prev;
  if (prev.type === 'punct' && (prev.value === ';' || prev.value === '}')) return true;
  // Automatic semicolon insertion: a line break after a complete expression ends the statement.
  const endsExpression = prev.type !== 'punct' || prev.value === ')' || prev.value === ']';
  return tokens[index].newlineBefore && endsExpression;
}

function declares(tokens: Token[], index: number): boolean {
  const t = tokens[index];
  const next = tokens[index + 1];
  if (!next) return false;
  if (t.value === 'const') return true;
  if (t.value === 'let') return next.type === 'word' || next.value === '[' || next.value === '{';
  // `class Name` at statement start is a declaration; `class {` there would be a syntax error anyway.
  return t.value === 'class' && next.type === 'word' && next.value !== 'extends';
}

function classBodyEnd(tokens: Token[], index: number): number | undefined {
  // The body is the first '{' back at depth 0 after the heritage; its end is the '}' at depth 0.
  let j = index + 1;
  while (j < tokens.length && !(tokens[j].value === '{' && tokens[j].depth === 0)) j++;
  for (j++; j < tokens.length; j++) {
    if (tokens[j].value === '}' && tokens[j].depth === 0) return j;
  }
  return undefined;
}

/** Rewrites top-level `let`/`const` to `var` and `class X ...{}` to `var X = class X ...{};`. */
export function persistDeclarations(code: string): string {
  const { tokens } = scanJs(code);
  const edits: { start: number; end: number; text: string }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type !== 'word' || t.depth !== 0 || !statementStart(tokens, i) || !declares(tokens, i)) continue;
    if (t.value === 'class') {
      const end = classBodyEnd(tokens, i);
      if (end === undefined) continue;
      edits.push({ start: t.start, end: t.start, text: `var ${tokens[i + 1].value} = ` });
      edits.push({ start: tokens[end].end, end: tokens[end].end, text: ';' });
    } else {
      edits.push({ start: t.start, end: t.end, text: 'var' });
    }
  }
  let out = code;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
