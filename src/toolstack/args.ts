// Argument helpers for toolstack commands: shell-like word splitting and getopt-style options.
import { CommandError } from './registry';

/** Splits a command line into words: blanks separate, quotes group, backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | '' = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandError(`unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(word);
  return words;
}

/** Declares a command's options: short letter -> long name, and which take a value. */
export interface OptionSpec {
  /** e.g. { l: 'long', v: 'verbose' } */
  flags?: Record<string, string>;
  /** e.g. { p: 'pool' } for -p NAME / --pool=NAME */
  values?: Record<string, string>;
}

/** Options by long name (true for flags, the string for valued options) and the positional words. */
export interface ParsedArgs {
  options: Record<string, string | true>;
  positional: string[];
}

/** Parses -x, -xyz, --long, --long=value, --long value and '--'; unknown options throw CommandError. */
export function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const flags = spec.flags ?? {};
  const values = spec.values ?? {};
  const longs = new Map<string, boolean>();
  for (const long of Object.keys(flags).map((k) => flags[k])) longs.set(long, false);
  for (const long of Object.keys(values).map((k) => values[k])) longs.set(long, true);
  const result: ParsedArgs = { options: {}, positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      result.positional.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const takesValue = longs.get(name);
      if (takesValue === undefined) throw new CommandError(`unknown option '--${name}'`);
      if (!takesValue) {
        if (eq !== -1) throw new CommandError(`option '--${name}' takes no value`);
        result.options[name] = true;
      } else if (eq !== -1) {
        result.options[name] = arg.slice(eq + 1);
      } else {
        if (i + 1 >= args.length) throw new CommandError(`option '--${name}' needs a value`);
        result.options[name] = args[++i];
      }
    } else if (arg.length > 1 && arg[0] === '-') {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j];
        if (flags[letter]) {
          result.options[flags[letter]] = true;
        } else if (values[letter]) {
          const rest = arg.slice(j + 1);
          if (rest === '' && i + 1 >= args.length) throw new CommandError(`option '-${letter}' needs a value`);
          result.options[values[letter]] = rest !== '' ? rest : args[++i];
          break;
        } else {
          throw new CommandError(`unknown option '-${letter}'`);
        }
      }
    } else {
      result.positional.push(arg);
    }
  }
  return result;
}
