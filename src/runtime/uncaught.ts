// Printing of uncaught errors (REPL throws, timer callbacks, init.js) the way Node's REPL does.
import { inspect } from './inspect';
import { writeOutput } from './output';

const ERROR_LINE = /^\[?([A-Z][a-z0-9_]*)*Error/;

/** Formats a thrown value as "Uncaught Error: msg\n    at ...", never throwing itself. */
export function formatUncaught(err: unknown, breakLength = 80): string {
  let text: string;
  try {
    text = inspect(err);
  } catch (inner) {
    text = `<inspection failed: ${safeMessage(inner)}>`;
  }
  // Node drops the brackets of a frameless error: "[Error: x]" prints as "Error: x".
  if (typeof err === 'object' && err !== null && text[0] === '[' && text[text.length - 1] === ']' && text.indexOf('\n') === -1) {
    text = text.slice(1, -1);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (ERROR_LINE.test(lines[i])) {
      lines[i] = breakLength >= lines[i].length ? `Uncaught ${lines[i]}` : `Uncaught:\n${lines[i]}`;
      return lines.join('\n');
    }
  }
  return lines.length === 1 ? `Uncaught ${text}` : `Uncaught:\n${text}`;
}

function safeMessage(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unknown error';
  }
}

/** Prints an uncaught error with its origin (e.g. "in timer callback") and lets the system go on. */
export function reportUncaught(err: unknown, origin?: string): void {
  const text = formatUncaught(err);
  writeOutput(origin ? `${text}\n    (${origin})\n` : `${text}\n`);
}
