// The toolstack command registry: name -> handler(args, io), with subcommand groups such as `xl`.

/** Where a command writes its output. */
export interface CommandIo {
  write(text: string): void;
}

/** A handler may finish synchronously or return a promise; the REPL waits for it. */
export type CommandResult = void | Promise<void>;

/** A toolstack command. Later issues register more (xl create, xenstore-ls, ...). */
export interface Command {
  /** The word that invokes it, e.g. 'xl' or 'xenstore-ls' (letters, digits, '-', '_'). */
  readonly name: string;
  /** One line for `help`. */
  readonly summary: string;
  /** Usage line, e.g. 'xl list [domain...]'. */
  readonly usage?: string;
  /** Runs the command with its arguments (argv without the name). */
  run(args: string[], io: CommandIo): CommandResult;
  /** Candidates for the last (possibly partial) argument, for Tab completion. */
  complete?(args: string[]): string[];
}

/** A user error: printed as "<command>: <message>" without a stack. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
// Command words would shadow JavaScript statements if they were keywords.
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else export extends false finally for function if ' +
    'import in instanceof let new null return super switch this throw true try typeof var void while with yield await async of static')
    .split(' '),
);

/** True for JavaScript keywords and reserved words, which can never be command names. */
export function isJsKeyword(word: string): boolean {
  return RESERVED.has(word);
}

/** Commands by name. */
export class CommandRegistry {
  private commands = new Map<string, Command>();

  /** Adds a command; the name must be a free, non-keyword word. */
  register(cmd: Command): void {
    if (!NAME.test(cmd.name)) throw new Error(`invalid command name '${cmd.name}'`);
    if (RESERVED.has(cmd.name)) throw new Error(`command name '${cmd.name}' is a JavaScript keyword`);
    if (this.commands.has(cmd.name)) throw new Error(`command '${cmd.name}' is already registered`);
    this.commands.set(cmd.name, cmd);
  }

  /** Removes a command; returns false if it was not registered. */
  unregister(name: string): boolean {
    return this.commands.delete(name);
  }

  /** The command with this name. */
  get(name: string): Command | undefined {
    return this.commands.get(name);
  }

  /** All commands, sorted by name. */
  list(): Command[] {
    return Array.from(this.commands.values()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Runs argv[0] with the rest; throws CommandError for an unknown name. */
  run(argv: string[], io: CommandIo): CommandResult {
    const cmd = argv.length ? this.commands.get(argv[0]) : undefined;
    if (!cmd) throw new CommandError(`unknown command '${argv[0] ?? ''}'; type help for a list`);
    return cmd.run(argv.slice(1), io);
  }
}

/** A command with subcommands (`xl info`, `xl list`); itself registrable in a CommandRegistry. */
export class CommandGroup implements Command {
  readonly subcommands = new CommandRegistry();

  constructor(
    readonly name: string,
    readonly summary: string,
  ) {}

  get usage(): string {
    return `${this.name} <subcommand> [args]`;
  }

  /** Help text listing the subcommands. */
  helpText(): string {
    const subs = this.subcommands.list();
    const width = Math.max(0, ...subs.map((c) => c.name.length));
    let text = `Usage: ${this.usage}\n\n${this.name} subcommands:\n\n`;
    for (const c of subs) text += ` ${c.name.padEnd(width)}  ${c.summary}\n`;
    return text;
  }

  run(args: string[], io: CommandIo): CommandResult {
    if (args.length === 0 || args[0] === 'help' || args[0] === '-h' || args[0] === '--help') {
      io.write(this.helpText());
      return;
    }
    const sub = this.subcommands.get(args[0]);
    if (!sub) throw new CommandError(`unknown subcommand '${args[0]}'; try '${this.name} help'`);
    return sub.run(args.slice(1), io);
  }

  complete(args: string[]): string[] {
    if (args.length <= 1) return this.subcommands.list().map((c) => c.name).concat('help');
    const sub = this.subcommands.get(args[0]);
    return sub?.complete ? sub.complete(args.slice(1)) : [];
  }
}
