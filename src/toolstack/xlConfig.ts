// xl.cfg(5) files: the parser (libxlu's grammar), command-line overrides and a validated PVH DomainConfig.
//
// Public API:
//   parseXlConfig(text, source?)         -> XlConfig: the settings; throws XlConfigError (source:line).
//   applyXlOverrides(cfg, args, source?) -> the same XlConfig after `key=value` arguments, each
//                                           parsed as a config line and applied after the file,
//                                           as `xl create FILE key=value ...` does.
//   domainConfigFromXl(cfg)              -> { config: DomainConfig, warnings }: xl's defaults
//                                           and rules for type "pvh"; throws XlConfigError.
//   configFromObject(obj)                -> the same for `xl.create({name, kernel, ...})`: the
//                                           object's keys are xl.cfg keys, values strings,
//                                           integers or arrays of them.
//   splitCreateArgs(args)                -> { file, overrides, paused, dryRun, quiet } for `xl create`.
//
// Grammar (tools/libs/util/libxlu_cfg_y.y and _l.l): statements `key = value` or
// `key += value` end at a newline or `;`; keys are [a-z][._0-9a-z]*; a value is a string
// ('...' or "..." with C escapes), a number atom [0-9][0-9a-fx]*, or a list `[ v, v, ]`
// (nestable, may span lines, trailing comma allowed); `#` starts a comment. The last
// assignment of a key wins; `+=` appends to an earlier string or list. Numbers are read as
// C's strtol with base 0 (0x hex, leading 0 octal), from number atoms or strings alike.
// Deliberate differences from xl: CR before LF is accepted, a comment may end the file
// without a newline, \xHH and \ooo escapes produce their character (xl's own decoder
// rejects or drops them), a bad number is an error instead of a warning, and type names
// must be spelled out (xl accepts prefixes such as "p").

/** A config error; message starts with `source:line:` when it comes from a line. */
export class XlConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XlConfigError';
  }
}

export type XlValue = { kind: 'atom'; text: string; line: number } | { kind: 'list'; items: XlValue[]; line: number };

export interface XlSetting {
  name: string;
  value: XlValue;
  op: '=' | '+=';
  line: number;
  source: string;
}

/** Parsed settings: the last assignment of each key. */
export interface XlConfig {
  settings: Map<string, XlSetting>;
  /** Keys in order of first appearance. */
  order: string[];
}

export type ShutdownAction = 'destroy' | 'restart' | 'rename-restart' | 'preserve' | 'coredump-destroy' | 'coredump-restart' | 'soft-reset';

export const SHUTDOWN_ACTIONS: ShutdownAction[] = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset'];

/** A validated PVH domain configuration; sizes in MiB as in xl.cfg. */
export interface DomainConfig {
  name: string;
  type: 'pvh';
  kernel: string;
  ramdisk: string | null;
  /** The guest's command line after xl's cmdline / root / extra rule ('' when none). */
  cmdline: string;
  memory: number;
  maxmem: number;
  vcpus: number;
  maxvcpus: number;
  onPoweroff: ShutdownAction;
  onReboot: ShutdownAction;
  onWatchdog: ShutdownAction;
  onCrash: ShutdownAction;
  onSoftReset: ShutdownAction;
  /** Credit scheduler weight (cpu_weight) and cap (percent of one CPU, 0 = none). */
  weight: number;
  cap: number;
}

export interface DomainConfigResult {
  config: DomainConfig;
  warnings: string[];
}

/** libxl's default when neither memory nor maxmem is given (libxl_create.c: 32 MiB). */
export const DEFAULT_MEMORY_MIB = 32;
/** Upper bounds zazen accepts: HVM_MAX_VCPUS and 1 TiB of guest RAM. */
export const MAX_VCPUS = 128;
export const MAX_MEMORY_MIB = 1048576;
export const MAX_NAME_LENGTH = 64;

type TokKind = 'ident' | 'number' | 'string' | '=' | '+=' | ',' | '[' | ']' | ';' | 'nl' | 'eof';

interface Token {
  kind: TokKind;
  text: string;
  line: number;
}

const PYTHON_HINT = ' (this looks like Python: arbitrary Python is no longer supported in xl config files)';

function isIdentStart(c: string): boolean {
  return c >= 'a' && c <= 'z';
}

function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9') || c === '.' || c === '_';
}

function isNumberChar(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c === 'x';
}

/** Splits text into tokens exactly as libxlu's lexer does (plus CR-LF), throwing on lexical errors. */
function tokenize(text: string, source: string): Token[] {
  const toks: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (msg: string, near: string): never => {
    throw new XlConfigError(`${source}:${line}: config parsing error near \`${near}': ${msg}`);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || (c === '\r' && text[i + 1] === '\n')) {
      i++;
    } else if (c === '\n') {
      toks.push({ kind: 'nl', text: '\n', line });
      line++;
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < text.length && isIdentChar(text[i])) i++;
      toks.push({ kind: 'ident', text: text.slice(start, i), line });
    } else if (c >= '0' && c <= '9') {
      const start = i;
      while (i < text.length && isNumberChar(text[i])) i++;
      toks.push({ kind: 'number', text: text.slice(start, i), line });
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' && text[j + 1] !== '\n' && j + 1 < text.length ? 2 : 1;
      if (j >= text.length || text[j] !== c) fail('unterminated string', text.slice(i, Math.min(j, i + 20)));
      toks.push({ kind: 'string', text: dequote(text.slice(i + 1, j), source, line), line });
      i = j + 1;
    } else if (c === '+' && text[i + 1] === '=') {
      toks.push({ kind: '+=', text: '+=', line });
      i += 2;
    } else if (c === '=' || c === ',' || c === '[' || c === ']' || c === ';') {
      toks.push({ kind: c, text: c, line });
      i++;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ' ' && text[j] !== '\t' && text[j] !== '\n') j++;
      fail('lexical error' + ('+-.():'.indexOf(c) >= 0 ? PYTHON_HINT : ''), text.slice(i, Math.max(j, i + 1)).replace(/\r$/, ''));
    }
  }
  toks.push({ kind: 'eof', text: '', line });
  return toks;
}

const SIMPLE_ESCAPES: { [c: string]: string } = { '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Decodes a quoted string's body: C escapes, \xHH (two hex digits) and \ooo (1-3 octal digits). */
function dequote(body: string, source: string, line: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, e)) {
      out += SIMPLE_ESCAPES[e];
    } else if (e === 'x' && /^[0-9a-fA-F]{2}/.test(body.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(body.slice(i, i + 3)) as RegExpExecArray;
      out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else {
      throw new XlConfigError(`${source}:${line}: config parsing error near \`\\${e}': invalid escape in quoted string`);
    }
  }
  return out;
}

/** Recursive-descent parser over the token list, following libxlu_cfg_y.y. */
class Parser {
  private pos = 0;

  constructor(private readonly toks: Token[], private readonly source: string, private readonly cfg: XlConfig) {}

  parseFile(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (t.kind === 'nl' || t.kind === ';') {
        this.pos++;
        continue;
      }
      this.assignment();
      const end = this.peek();
      if (end.kind === 'nl' || end.kind === ';') this.pos++;
      else if (end.kind !== 'eof') this.syntax(end);
    }
  }

  private peek(): Token {
    return this.toks[this.pos];
  }

  private syntax(t: Token, expected?: string): never {
    const near = t.kind === 'nl' ? '<newline>' : t.kind === 'eof' ? '<end of file>' : `\`${t.text}'`;
    throw new XlConfigError(`${this.source}:${t.line}: config parsing error near ${near}: syntax error${expected ? `, expected ${expected}` : ''}`);
  }

  private assignment(): void {
    const key = this.peek();
    if (key.kind !== 'ident') this.syntax(key, 'a key');
    this.pos++;
    const op = this.peek();
    if (op.kind !== '=' && op.kind !== '+=') this.syntax(op, '= or +=');
    this.pos++;
    const value = this.value();
    store(this.cfg, { name: key.text, value, op: op.kind, line: key.line, source: this.source });
  }

  private skipNewlines(): void {
    while (this.peek().kind === 'nl') this.pos++;
  }

  private value(): XlValue {
    const t = this.peek();
    if (t.kind === 'string' || t.kind === 'number') {
      this.pos++;
      return { kind: 'atom', text: t.text, line: t.line };
    }
    if (t.kind !== '[') this.syntax(t, 'a value');
    this.pos++;
    const items: XlValue[] = [];
    this.skipNewlines();
    while (this.peek().kind !== ']') {
      items.push(this.value());
      this.skipNewlines();
      const sep = this.peek();
      if (sep.kind === ',') {
        this.pos++;
        this.skipNewlines();
      } else if (sep.kind !== ']') {
        this.syntax(sep, ', or ]');
      }
    }
    this.pos++;
    return { kind: 'list', items, line: t.line };
  }
}

/** Records one assignment; `+=` concatenates with an earlier string or list of the same key. */
function store(cfg: XlConfig, set: XlSetting): void {
  const prev = cfg.settings.get(set.name);
  if (set.op === '+=' && prev) {
    if (prev.value.kind !== set.value.kind) {
      throw new XlConfigError(`${set.source}:${set.line}: can't add [list] to "string" or vice versa (key ${set.name})`);
    }
    if (prev.value.kind === 'atom' && set.value.kind === 'atom') {
      set = { ...set, value: { kind: 'atom', text: prev.value.text + set.value.text, line: set.value.line } };
    } else if (prev.value.kind === 'list' && set.value.kind === 'list') {
      set = { ...set, value: { kind: 'list', items: prev.value.items.concat(set.value.items), line: set.value.line } };
    }
  }
  if (!prev) cfg.order.push(set.name);
  cfg.settings.set(set.name, set);
}

/** Parses the text of an xl.cfg file; source names it in error messages. */
export function parseXlConfig(text: string, source = 'config'): XlConfig {
  if (typeof text !== 'string') throw new XlConfigError(`${source}: config text must be a string`);
  const cfg: XlConfig = { settings: new Map(), order: [] };
  new Parser(tokenize(text, source), source, cfg).parseFile();
  return cfg;
}

/** Applies `key=value` arguments after the file's settings, as xl create appends them to the file. */
export function applyXlOverrides(cfg: XlConfig, args: string[], source = 'command line'): XlConfig {
  for (const arg of args) {
    if (arg.indexOf('=') < 0) throw new XlConfigError(`${source}: override \`${arg}' is not of the form key=value`);
    new Parser(tokenize(arg, source), source, cfg).parseFile();
  }
  return cfg;
}

/** Splits `xl create` arguments into the config file, key=value overrides and the -p/-n/-q flags. */
export function splitCreateArgs(args: string[]): { file: string | null; overrides: string[]; paused: boolean; dryRun: boolean; quiet: boolean } {
  const out = { file: null as string | null, overrides: [] as string[], paused: false, dryRun: false, quiet: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-p') out.paused = true;
    else if (a === '-n') out.dryRun = true;
    else if (a === '-q') out.quiet = true;
    else if (a === '-f') {
      if (i + 1 >= args.length) throw new XlConfigError('xl create: -f needs a file name');
      out.file = args[++i];
    } else if (a.length > 1 && a[0] === '-') throw new XlConfigError(`xl create: unknown option ${a}`);
    else if (a.indexOf('=') >= 0) out.overrides.push(a);
    else if (out.file === null) out.file = a;
    else throw new XlConfigError(`xl create: more than one config file given (${out.file}, ${a})`);
  }
  return out;
}

/** Reads an integer as C's strtol(s, &end, 0) would, requiring the whole text to be consumed. */
export function parseXlInteger(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const body = m[2];
  let v: number;
  if (body.length > 1 && (body[1] === 'x' || body[1] === 'X')) v = parseInt(body.slice(2), 16);
  else if (body[0] === '0') v = body.length > 1 ? parseInt(body.slice(1), 8) : 0;
  else v = parseInt(body, 10);
  if (!Number.isSafeInteger(v)) return null;
  return m[1] === '-' ? -v : v;
}

const HANDLED_KEYS = [
  'name', 'type', 'builder', 'kernel', 'ramdisk', 'cmdline', 'root', 'extra', 'memory', 'maxmem',
  'vcpus', 'maxvcpus', 'on_poweroff', 'on_reboot', 'on_watchdog', 'on_crash', 'on_soft_reset',
  'cpu_weight', 'cap',
];

/** Accessors over the settings that turn problems into errors naming the line. */
class Reader {
  constructor(private readonly cfg: XlConfig) {}

  where(key: string): string {
    const s = this.cfg.settings.get(key) as XlSetting;
    return s.line > 0 ? `${s.source}:${s.line}` : s.source;
  }

  has(key: string): boolean {
    return this.cfg.settings.has(key);
  }

  string(key: string): string | null {
    const s = this.cfg.settings.get(key);
    if (!s) return null;
    if (s.value.kind !== 'atom') throw new XlConfigError(`${this.where(key)}: parameter \`${key}' is a list but should be a single value`);
    return s.value.text;
  }

  int(key: string, min: number, max: number): number | null {
    const text = this.string(key);
    if (text === null) return null;
    if ((this.cfg.settings.get(key) as XlSetting).op === '+=') {
      throw new XlConfigError(`${this.where(key)}: can't use += with numbers for parameter \`${key}'`);
    }
    const v = parseXlInteger(text);
    if (v === null) throw new XlConfigError(`${this.where(key)}: parameter \`${key}' is not a valid number: \`${text}'`);
    if (v < min || v > max) throw new XlConfigError(`${this.where(key)}: parameter \`${key}' is ${v}, must be between ${min} and ${max}`);
    return v;
  }

  action(key: string, fallback: ShutdownAction): ShutdownAction {
    const v = this.string(key);
    if (v === null) return fallback;
    if (SHUTDOWN_ACTIONS.indexOf(v as ShutdownAction) < 0) {
      throw new XlConfigError(`${this.where(key)}: unknown ${key} action "${v}" (one of ${SHUTDOWN_ACTIONS.join(', ')})`);
    }
    return v as ShutdownAction;
  }
}

/** Checks a domain name: 1-64 of [A-Za-z0-9_.-], not all digits (xl would read it as a domid). */
export function checkDomainName(name: string): string | null {
  if (name.length === 0) return 'domain name must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `domain name is longer than ${MAX_NAME_LENGTH} characters`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return `domain name "${name}" may only contain letters, digits, '_', '.' and '-'`;
  if (/^[0-9]+$/.test(name)) return `domain name "${name}" is all digits: xl would take it for a domain id`;
  if (name[0] === '-') return `domain name "${name}" must not start with '-'`;
  return null;
}

function guestType(r: Reader, warnings: string[]): 'pvh' {
  const type = r.string('type');
  const builder = r.string('builder');
  const pick = type !== null ? type : builder === 'generic' ? 'pv' : builder;
  if (pick === null) {
    warnings.push('type not set: xl would default to "pv", which zazen does not run; assuming type = "pvh"');
    return 'pvh';
  }
  const where = r.where(type !== null ? 'type' : 'builder');
  if (type !== null && builder !== null) {
    const b = builder === 'generic' ? 'pv' : builder;
    if (b !== type) throw new XlConfigError(`${where}: contradicting "builder" and "type" options specified`);
  }
  if (pick === 'pvh') return 'pvh';
  if (pick === 'pv' || pick === 'hvm') {
    throw new XlConfigError(`${where}: type "${pick}" is not supported: zazen runs only PVH guests (type = "pvh")`);
  }
  throw new XlConfigError(`${where}: invalid domain type "${pick}" (expected "pvh")`);
}

/** xl's cmdline rule: cmdline wins over root and extra; otherwise "root=ROOT EXTRA". */
function commandLine(r: Reader, warnings: string[]): string {
  const cmdline = r.string('cmdline');
  const root = r.string('root');
  const extra = r.string('extra');
  if (cmdline !== null) {
    if (root !== null || extra !== null) warnings.push('ignoring root= and extra= in favour of cmdline=');
    return cmdline;
  }
  if (root !== null && extra !== null) return `root=${root} ${extra}`;
  if (root !== null) return `root=${root}`;
  return extra !== null ? extra : '';
}

/** Validates parsed settings into a PVH DomainConfig with xl's defaults; unknown keys become warnings. */
export function domainConfigFromXl(cfg: XlConfig): DomainConfigResult {
  const r = new Reader(cfg);
  const warnings: string[] = [];
  for (const key of cfg.order) {
    if (HANDLED_KEYS.indexOf(key) < 0) warnings.push(`${r.where(key)}: ignoring unsupported key \`${key}'`);
  }
  const type = guestType(r, warnings);
  const name = r.string('name');
  if (name === null) throw new XlConfigError('domain name must be specified (name = "...")');
  const nameProblem = checkDomainName(name);
  if (nameProblem) throw new XlConfigError(`${r.where('name')}: ${nameProblem}`);
  const kernel = r.string('kernel');
  if (kernel === null || kernel === '') throw new XlConfigError('a PVH guest needs a kernel (kernel = "/boot/...")');
  const ramdisk = r.string('ramdisk');

  const memSet = r.int('memory', 1, MAX_MEMORY_MIB);
  const maxSet = r.int('maxmem', 1, MAX_MEMORY_MIB);
  // libxl: neither given -> 32 MiB; one given -> the other follows it.
  const memory = memSet !== null ? memSet : maxSet !== null ? maxSet : DEFAULT_MEMORY_MIB;
  const maxmem = maxSet !== null ? maxSet : memory;
  if (maxmem < memory) throw new XlConfigError(`${r.where('maxmem')}: maxmem (${maxmem} MiB) must be at least memory (${memory} MiB)`);

  const vcpusSet = r.int('vcpus', 1, MAX_VCPUS);
  const vcpus = vcpusSet !== null ? vcpusSet : 1;
  const maxSetV = r.int('maxvcpus', 1, MAX_VCPUS);
  const maxvcpus = maxSetV !== null ? maxSetV : vcpus;
  if (maxvcpus < vcpus) throw new XlConfigError(`${r.where('maxvcpus')}: maxvcpus (${maxvcpus}) < vcpus (${vcpus})`);

  const weight = r.int('cpu_weight', 1, 65535);
  const cap = r.int('cap', 0, 100 * maxvcpus);
  const config: DomainConfig = {
    name,
    type,
    kernel,
    ramdisk: ramdisk === null || ramdisk === '' ? null : ramdisk,
    cmdline: commandLine(r, warnings),
    memory,
    maxmem,
    vcpus,
    maxvcpus,
    onPoweroff: r.action('on_poweroff', 'destroy'),
    onReboot: r.action('on_reboot', 'restart'),
    onWatchdog: r.action('on_watchdog', 'destroy'),
    onCrash: r.action('on_crash', 'destroy'),
    onSoftReset: r.action('on_soft_reset', 'soft-reset'),
    weight: weight !== null ? weight : 256,
    cap: cap !== null ? cap : 0,
  };
  return { config, warnings };
}

function objectValue(key: string, v: unknown, depth: number): XlValue {
  if (typeof v === 'string') return { kind: 'atom', text: v, line: 0 };
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new XlConfigError(`xl.create: ${key} must be an integer, got ${v}`);
    return { kind: 'atom', text: String(v), line: 0 };
  }
  if (Array.isArray(v) && depth < 8) return { kind: 'list', items: v.map((x) => objectValue(key, x, depth + 1)), line: 0 };
  throw new XlConfigError(`xl.create: ${key} must be a string, an integer or a list, got ${v === null ? 'null' : typeof v}`);
}

/** Validates an `xl.create({...})` object with the same rules and defaults as a config file. */
export function configFromObject(obj: unknown): DomainConfigResult {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new XlConfigError('xl.create: expected an object such as {name: "vm", type: "pvh", kernel: "/boot/vmlinux"}');
  }
  const cfg: XlConfig = { settings: new Map(), order: [] };
  const rec = obj as { [key: string]: unknown };
  for (const key of Object.keys(rec)) {
    if (rec[key] === undefined) continue;
    if (!/^[a-z][._0-9a-z]*$/.test(key)) throw new XlConfigError(`xl.create: \`${key}' is not an xl.cfg key (keys are lower-case, e.g. on_poweroff)`);
    store(cfg, { name: key, value: objectValue(key, rec[key], 0), op: '=', line: 0, source: 'xl.create' });
  }
  return domainConfigFromXl(cfg);
}
