// The REPL's own dot-commands (.help, .break, .editor, .load, ...), as in Node's REPL.
import { commandListText } from '../help';
import type { CommandRegistry } from '../registry';

/** What a dot-command may do to the REPL. */
export interface DotCommandHost {
  write(text: string): void;
  clearBuffer(): void;
  enterEditorMode(): void;
  /** Evaluates a whole script and prints its result like a typed line. */
  evaluateScript(code: string): void;
  readTextFile(path: string): string;
  commands: CommandRegistry;
}

interface DotCommand {
  help: string;
  /** Returns true when the REPL should show its prompt right away. */
  action(host: DotCommandHost, arg: string): boolean;
}

/** The message for attempts to leave: zazen is the machine, there is nothing to exit to. */
export const EXIT_HINT = '(zazen is the hypervisor and cannot exit; type .help for commands)\n';

const DOT_COMMANDS: Record<string, DotCommand> = {
  break: {
    help: 'Sometimes you get stuck, this gets you out',
    action: (host) => {
      host.clearBuffer();
      return true;
    },
  },
  clear: {
    help: 'Alias for .break',
    action: (host) => {
      host.clearBuffer();
      return true;
    },
  },
  editor: {
    help: 'Enter editor mode',
    action: (host) => {
      host.enterEditorMode();
      return true;
    },
  },
  exit: {
    help: 'Print why zazen cannot exit',
    action: (host) => {
      host.write(EXIT_HINT);
      return true;
    },
  },
  help: {
    help: 'Print this help message',
    action: (host) => {
      host.write(dotHelpText(host.commands));
      return true;
    },
  },
  load: {
    help: 'Load JS from a file into the REPL session (.load /boot/script.js)',
    action: (host, arg) => {
      const path = arg.trim();
      if (!path) {
        host.write('usage: .load <file>\n');
        return true;
      }
      let code: string;
      try {
        code = host.readTextFile(path);
      } catch (err) {
        host.write(`Failed to load: ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
        return true;
      }
      host.evaluateScript(code);
      return false;
    },
  },
  save: {
    help: 'Save the session to a file (not possible: the boot files are read-only)',
    action: (host, arg) => {
      host.write(`Failed to save: ${arg.trim() || '(no file)'}: EROFS: read-only file system\n`);
      return true;
    },
  },
};

/** The text .help prints: dot-commands, keys, then the toolstack commands. */
export function dotHelpText(commands: CommandRegistry): string {
  const names = Object.keys(DOT_COMMANDS).sort();
  const lines = names.map((n) => `.${n.padEnd(8)} ${DOT_COMMANDS[n].help}`);
  return (
    `${lines.join('\n')}\n\n` +
    'Press Ctrl+C to abort the current expression or line; Tab completes; Up/Down recall history.\n\n' +
    `Toolstack commands (a line starting with one runs it; anything else is JavaScript):\n${commandListText(commands)}`
  );
}

/** True for input Node treats as a dot-command: '.word', but not '..' or a number like '.5'. */
export function isDotCommand(trimmed: string): boolean {
  return trimmed[0] === '.' && trimmed[1] !== '.' && Number.isNaN(parseFloat(trimmed));
}

/** True when the line names an existing dot-command (".break", ".load file"). */
export function dotCommandExists(trimmed: string): boolean {
  const m = /^\.([^\s]+)/.exec(trimmed);
  return m !== null && Object.prototype.hasOwnProperty.call(DOT_COMMANDS, m[1]);
}

/** Runs a dot-command line; returns true when the REPL should show its prompt right away. */
export function runDotCommand(host: DotCommandHost, trimmed: string): boolean {
  const m = /^\.([^\s]+)\s*([\s\S]*)$/.exec(trimmed);
  const cmd = m ? DOT_COMMANDS[m[1]] : undefined;
  if (!m || !cmd || !Object.prototype.hasOwnProperty.call(DOT_COMMANDS, m[1])) {
    host.write('Invalid REPL keyword\n');
    return true;
  }
  return cmd.action(host, m[2]);
}
