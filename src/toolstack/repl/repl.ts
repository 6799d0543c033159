// The zazen REPL: line editing, toolstack commands, JavaScript evaluation and Node-style printing.
import { inspect } from '../../runtime/inspect';
import { trackPromise } from '../../runtime/promiseState';
import { formatUncaught } from '../../runtime/uncaught';
import { isPromise } from '../../runtime/inspectTypes';
import { splitWords } from '../args';
import { isCommandLine } from '../commandLine';
import { CommandError, isJsKeyword, type CommandRegistry, type CommandResult } from '../registry';
import { completeLine } from './completion';
import { EXIT_HINT, dotCommandExists, isDotCommand, runDotCommand, type DotCommandHost } from './dotCommands';
import { evaluateInput, trimReplFrames, type CodeRunner } from './evaluate';
import { History } from './history';
import { KeyDecoder, type Key } from './keys';
import { LineEditor, type EditorOutput } from './lineEditor';

/** The prompt, exactly as the issue asks. */
export const PROMPT = 'zazen> ';
/** The prompt while an expression is incomplete (Node's). */
export const CONTINUATION_PROMPT = '... ';

/** What the REPL is wired to. */
export interface ReplOptions {
  /** The raw console (the REPL's echo and results). */
  out: EditorOutput;
  commands: CommandRegistry;
  /** Runs JavaScript in the global scope; see zazenEvalBoundary in main.ts. */
  run: CodeRunner;
  /** Runs a toolstack command with Ctrl-C armed (the shim's runInterruptible). */
  guard: <T>(fn: () => T) => T;
  /** The global object: completion, command detection and the `_` variables. */
  global: Record<string, unknown>;
  readTextFile: (path: string) => string;
  columns?: number;
}

/** Reads keys, edits lines, runs them and prints results; never lets an error escape. */
export class Repl {
  readonly editor: LineEditor;
  private readonly decoder = new KeyDecoder();
  private queue: Key[] = [];
  private buffer = '';
  private editorMode = false;
  private busy: object | undefined;
  private started = false;
  private promptShown = false;
  private underscore = { value: undefined as unknown, assigned: false };
  private underscoreError = { value: undefined as unknown, assigned: false };

  constructor(private readonly opts: ReplOptions) {
    const env = {
      global: opts.global,
      commands: opts.commands,
      isCommandLine: (line: string) => this.isCommand(line),
    };
    this.editor = new LineEditor(opts.out, new History(), (line) => completeLine(line, env), opts.columns);
    this.defineUnderscore('_', this.underscore);
    this.defineUnderscore('_error', this.underscoreError);
  }

  /** Takes raw console bytes. Ctrl-C while waiting on an async result stops the wait. */
  feed(bytes: string): void {
    const keys = this.decoder.feed(bytes);
    for (const key of keys) {
      if (this.busy && key.name === 'ctrl-c') {
        this.busy = undefined;
        this.queue = [];
        this.opts.out.write('^C\n');
        if (this.started) this.showPrompt();
        continue;
      }
      this.queue.push(key);
    }
    this.drain();
  }

  /** Shows the first prompt and starts handling input (after init.js). */
  start(): void {
    this.started = true;
    if (!this.busy) this.showPrompt();
    this.drain();
  }

  /** Holds the prompt back until the promise settles, printing a rejection. */
  waitFor(p: Promise<unknown>, onDone?: () => void): void {
    this.waitThen(p, (ok, v) => {
      if (!ok) this.printError(v);
      onDone?.();
    });
  }

  /** Console output sink: output arriving while the prompt is shown goes above it. */
  write(text: string): void {
    if (!this.promptShown) {
      this.opts.out.write(text);
      return;
    }
    this.opts.out.write(this.editor.clearSequence() + text + (text.endsWith('\n') ? '' : '\n'));
    this.editor.showPrompt();
  }

  private isCommand(line: string): boolean {
    return isCommandLine(line, this.opts.commands, (name) => name in this.opts.global);
  }

  private defineUnderscore(name: string, slot: { value: unknown; assigned: boolean }): void {
    // Like Node: the REPL sets `_`/`_error` until the user assigns them, which stops the updates.
    Object.defineProperty(this.opts.global, name, {
      configurable: true,
      get: () => slot.value,
      set: (v: unknown) => {
        if (!slot.assigned) this.opts.out.write(`Expression assignment to ${name} now disabled.\n`);
        slot.assigned = true;
        slot.value = v;
      },
    });
  }

  private drain(): void {
    while (this.started && !this.busy && this.queue.length) {
      const key = this.queue.shift()!;
      try {
        this.handleKey(key);
      } catch (err) {
        // A bug in the REPL itself: report it and carry on with a fresh prompt.
        this.opts.out.write(`${formatUncaught(err)}\n`);
        this.buffer = '';
        this.showPrompt();
      }
    }
  }

  private showPrompt(): void {
    this.editor.prompt = this.editorMode ? '' : this.buffer ? CONTINUATION_PROMPT : PROMPT;
    this.editor.showPrompt();
    this.promptShown = true;
  }

  private handleKey(key: Key): void {
    if (this.editorMode && (key.name === 'ctrl-d' || key.name === 'ctrl-c')) {
      this.leaveEditorMode(key.name === 'ctrl-d');
      return;
    }
    const ev = this.editor.handle(key);
    if (!ev) return;
    this.promptShown = false;
    if (ev.type === 'line') {
      this.onLine(ev.text);
    } else if (ev.type === 'interrupt') {
      if (!ev.hadText && !this.buffer) this.opts.out.write(EXIT_HINT);
      this.buffer = '';
      this.showPrompt();
    } else {
      this.opts.out.write(`\n${EXIT_HINT}`);
      this.showPrompt();
    }
  }

  private onLine(text: string): void {
    if (this.editorMode) {
      this.buffer += `${text}\n`;
      this.showPrompt();
      return;
    }
    const trimmed = text.trim();
    // Like Node, dot-commands work inside multi-line input too (.break); unknown ones only at the start.
    if (isDotCommand(trimmed) && (!this.buffer || dotCommandExists(trimmed))) {
      if (runDotCommand(this.dotHost(), trimmed)) this.showPrompt();
      return;
    }
    if (!this.buffer && this.isCommand(text)) {
      this.runCommand(text);
      return;
    }
    this.evaluate(`${this.buffer}${text}\n`, true);
  }

  private evaluate(source: string, allowIncomplete: boolean): void {
    const outcome = evaluateInput(source, this.opts.run);
    if (outcome.kind === 'incomplete' && allowIncomplete) {
      this.buffer = source;
      this.showPrompt();
      return;
    }
    this.buffer = '';
    if (outcome.kind === 'value') {
      if (outcome.awaited) this.waitThen(outcome.value as Promise<unknown>, (ok, v) => (ok ? this.printValue(v) : this.printError(v)));
      else this.printValue(outcome.value);
      if (!this.busy) this.showPrompt();
    } else if (outcome.kind === 'error') {
      this.printError(outcome.error);
      this.hintUnknownCommand(source, outcome.error);
      this.showPrompt();
    } else if (outcome.kind === 'incomplete') {
      this.opts.out.write('Uncaught SyntaxError: unexpected end of input\n');
      this.showPrompt();
    } else {
      this.showPrompt();
    }
  }

  private hintUnknownCommand(source: string, err: unknown): void {
    // "foo bar" that fails to parse was probably meant as a command: say that foo is not one.
    const m = /^\s*([A-Za-z][\w-]*)(\s+\S[^\n]*)?\n$/.exec(source);
    if (!m || !(err instanceof Error)) return;
    const word = m[1];
    const commandShaped = (m[2] !== undefined && err.name === 'SyntaxError') || (word.indexOf('-') !== -1 && err.name === 'ReferenceError');
    if (commandShaped && !isJsKeyword(word) && !this.opts.commands.get(word) && !(word in this.opts.global)) {
      this.opts.out.write(`${word}: not a toolstack command (type help for the list)\n`);
    }
  }

  private printValue(value: unknown): void {
    if (typeof value === 'object' && value !== null && isPromise(value)) {
      // A promise's state is only visible after its reactions run: print once jobs have run.
      trackPromise(value);
      this.waitThen(Promise.resolve(), () => this.printValueNow(value));
      return;
    }
    this.printValueNow(value);
  }

  private printValueNow(value: unknown): void {
    if (!this.underscore.assigned) this.underscore.value = value;
    let text: string;
    try {
      // Formatting a huge object can take long: keep Ctrl-C armed meanwhile.
      text = this.opts.guard(() => inspect(value));
    } catch (err) {
      text = `[inspection failed: ${formatUncaught(err)}]`;
    }
    this.opts.out.write(`${text}\n`);
  }

  private printError(err: unknown): void {
    if (!this.underscoreError.assigned) this.underscoreError.value = err;
    trimReplFrames(err);
    this.opts.out.write(`${formatUncaught(err)}\n`);
  }

  private waitThen(p: Promise<unknown>, done: (ok: boolean, v: unknown) => void): void {
    const token = {};
    this.busy = token;
    const finish = (ok: boolean, v: unknown): void => {
      if (this.busy !== token) return; // cancelled by Ctrl-C
      this.busy = undefined;
      try {
        done(ok, v);
      } catch (err) {
        this.opts.out.write(`${formatUncaught(err)}\n`);
      }
      if (this.started && !this.busy) this.showPrompt();
      this.drain();
    };
    p.then((v) => finish(true, v), (e) => finish(false, e));
  }

  private runCommand(line: string): void {
    const name = /^\s*(\S+)/.exec(line)?.[1] ?? '';
    try {
      const argv = splitWords(line);
      const io = { write: (t: string) => this.opts.out.write(t) };
      const result = this.opts.guard<CommandResult>(() => this.opts.commands.run(argv, io));
      if (result instanceof Promise) {
        this.waitThen(result, (ok, v) => {
          if (!ok) this.printCommandError(name, v);
        });
        return;
      }
    } catch (err) {
      this.printCommandError(name, err);
    }
    this.showPrompt();
  }

  private printCommandError(name: string, err: unknown): void {
    if (err instanceof CommandError) this.opts.out.write(`${name ? `${name}: ` : ''}${err.message}\n`);
    else this.printError(err);
  }

  private leaveEditorMode(run: boolean): void {
    const pending = this.editor.line;
    this.editor.setLine('');
    this.editorMode = false;
    if (!run) {
      this.opts.out.write('^C\n');
      this.buffer = '';
      this.showPrompt();
      return;
    }
    this.opts.out.write('\n');
    const source = this.buffer + (pending ? `${pending}\n` : '');
    this.buffer = '';
    this.promptShown = false;
    this.evaluate(source, false);
  }

  private dotHost(): DotCommandHost {
    return {
      write: (t) => this.opts.out.write(t),
      clearBuffer: () => {
        this.buffer = '';
      },
      enterEditorMode: () => {
        this.editorMode = true;
        this.buffer = '';
        this.opts.out.write('// Entering editor mode (Ctrl+D to finish, Ctrl+C to cancel)\n');
      },
      evaluateScript: (code) => this.evaluate(code.endsWith('\n') ? code : `${code}\n`, false),
      readTextFile: this.opts.readTextFile,
      commands: this.opts.commands,
    };
  }
}
