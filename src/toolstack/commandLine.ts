// Decides whether a REPL line is a toolstack command ("xl info") or JavaScript ("xl.info()").
import type { CommandRegistry } from './registry';

const LEADING_WORD = /^\s*([A-Za-z][A-Za-z0-9_-]*)([\s\S]*)$/;
const BINARY_KEYWORDS = new Set(['in', 'instanceof']);

/** The command word a line starts with if that word is registered, else undefined. */
export function leadingCommand(line: string, registry: CommandRegistry): string | undefined {
  const m = LEADING_WORD.exec(line);
  return m && registry.get(m[1]) ? m[1] : undefined;
}

/**
 * True when the line should run as a command. The first word must be a registered command, and:
 * alone, it must not also be a JavaScript global (`xl` alone prints the xl object); followed by
 * blanks, the next text must start an argument (a word, number, quote, path or -option), not an
 * operator (`xl = 1`, `xl + 1`, `xl in obj`, `xl .info()` stay JavaScript). A hyphenated name
 * (`xenstore-ls`) can never be a JavaScript identifier, so it is always a command.
 */
export function isCommandLine(line: string, registry: CommandRegistry, isGlobal: (name: string) => boolean): boolean {
  const m = LEADING_WORD.exec(line);
  if (!m || !registry.get(m[1])) return false;
  const [, word, rest] = m;
  const hyphenated = word.indexOf('-') !== -1;
  const bound = !hyphenated && isGlobal(word);
  if (rest.trim() === '') return !bound;
  if (!/^\s/.test(rest)) return hyphenated;
  const next = rest.trimStart();
  const firstWord = /^[A-Za-z_$][\w$]*/.exec(next);
  if (firstWord && BINARY_KEYWORDS.has(firstWord[0])) return false;
  if (/^[A-Za-z0-9_'"~]/.test(next)) return true;
  if (/^-(-|[A-Za-z])/.test(next)) return true;
  // A path argument ("cmd /boot/x") would be a division if the word were a JavaScript global.
  if (next[0] === '/' && !bound) return true;
  return hyphenated && next[0] !== '=';
}
