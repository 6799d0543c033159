// Evaluation of REPL input: Node's source tweaks, incomplete-input detection and top-level await.
import { persistDeclarations } from './declarations';
import { scanJs } from './jsScanner';

/** The result of evaluating one (possibly multi-line) input. */
export type EvalOutcome =
  | { kind: 'value'; value: unknown; awaited: boolean }
  | { kind: 'error'; error: unknown }
  | { kind: 'incomplete' }
  | { kind: 'empty' };

/** Runs code in the global scope (indirect eval under the shim's Ctrl-C guard). */
export type CodeRunner = (code: string) => unknown;

function compiles(body: string): boolean {
  try {
    // The Function constructor parses without running anything.
    new Function(body);
    return true;
  } catch {
    return false;
  }
}

function isSyntaxError(err: unknown): err is SyntaxError {
  return err instanceof SyntaxError || (typeof err === 'object' && err !== null && (err as Error).name === 'SyntaxError');
}

/** Like Node: input starting with '{' and not ending with ';' is tried as an object literal. */
export function wrapObjectLiteral(code: string): string {
  if (!/^\s*\{/.test(code) || /;\s*$/.test(code)) return code;
  const wrapped = `(${code.trim()})\n`;
  return compiles(`return ${wrapped}`) ? wrapped : code;
}

/**
 * True when a SyntaxError only says the input stopped early (more lines could complete it).
 * QuickJS reports the failing line as the first stack frame ("at <input>:N"): an error on the
 * empty line after the final newline is at end of input. V8 says so in its message instead.
 */
export function isRecoverable(err: unknown, code: string): boolean {
  if (!isSyntaxError(err)) return false;
  let stack = '';
  try {
    stack = String(err.stack ?? '');
  } catch {
    // unreadable stack: fall through to the message and scanner checks
  }
  const lines = stack.split('\n');
  const at = /^\s*at <input>:(\d+)/.exec(lines[0]);
  if (at) {
    // Another <input> frame means the error came from an eval nested inside the user's code.
    const nested = lines.slice(1).some((l) => l.indexOf('<input>') !== -1);
    return !nested && Number(at[1]) >= code.split('\n').length;
  }
  if (/Unexpected end of input|Unterminated template|Unterminated comment/.test(String(err.message))) return true;
  const scan = scanJs(code);
  return scan.unterminated === 'template' || scan.unterminated === 'comment' || (scan.unterminated === 'string' && scan.continuation);
}

/** Evaluates one input (buffered lines plus the new one, newline-terminated). */
export function evaluateInput(source: string, run: CodeRunner): EvalOutcome {
  if (source.trim() === '') return { kind: 'empty' };
  const code = persistDeclarations(wrapObjectLiteral(source));
  try {
    return { kind: 'value', value: run(code), awaited: false };
  } catch (err) {
    if (isRecoverable(err, code)) return { kind: 'incomplete' };
    if (isSyntaxError(err) && /\bawait\b/.test(source)) {
      // Top-level await for a single expression: run it in an async arrow and await the result.
      const expr = source.trim().replace(/;$/, '');
      const wrapped = `(async () => (${expr}\n))()`;
      if (compiles(`return ${wrapped}`)) {
        try {
          return { kind: 'value', value: run(wrapped), awaited: true };
        } catch (err2) {
          return { kind: 'error', error: err2 };
        }
      }
    }
    return { kind: 'error', error: err };
  }
}

const BOUNDARY = /^\s+at (?:Object\.)?zazenEvalBoundary\b/;
const TOP_LEVEL_FRAME = /^\s+at (?:eval \(native\)|eval \(<anonymous>\)|<eval> \(<input>|eval \(eval at)/;

/** Cuts the REPL's own frames (the eval boundary and below) from an error's stack, like Node; SyntaxErrors lose all frames. */
export function trimReplFrames(err: unknown): void {
  if (typeof err !== 'object' || err === null) return;
  try {
    const stack = (err as Error).stack;
    if (typeof stack !== 'string') return;
    const lines = stack.replace(/\n$/, '').split('\n');
    // QuickJS stacks hold only frames; V8 stacks start with the "Name: message" line.
    const framesOnly = /^\s+at /.test(lines[0]);
    let end = isSyntaxError(err) ? (framesOnly ? 0 : 1) : lines.findIndex((l) => BOUNDARY.test(l));
    if (end === -1) return;
    while (end > 0 && TOP_LEVEL_FRAME.test(lines[end - 1])) end--;
    const kept = lines.slice(0, end);
    (err as Error).stack = framesOnly ? kept.map((l) => `${l}\n`).join('') : kept.join('\n');
  } catch {
    // A frozen or exotic error keeps its stack.
  }
}
