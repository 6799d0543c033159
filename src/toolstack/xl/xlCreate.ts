// `xl create FILE [key=value ...]` (and xl.create({...})): parse, validate, build and start a domain.
import type { GuestDomain } from '../../hv/guestDomain';
import { decodeUtf8 } from '../../runtime/utf8';
import { DomainBuildError } from '../domainBuilder';
import { createDomain } from '../lifecycle';
import { CommandError, type Command } from '../registry';
import { applyXlOverrides, configFromObject, domainConfigFromXl, parseXlConfig, splitCreateArgs, XlConfigError, type DomainConfigResult } from '../xlConfig';
import { bootPath, type XlContext } from '../xlContext';
import { attachConsole } from './xlConsole';

const USAGE = 'xl create [-p] [-c] [-n] [-q] <ConfigFile> [options] [vars]';

/** Where xl.cfg files live (Xen's XEN_CONFIG_DIR). */
export const XEN_CONFIG_DIR = '/etc/xen';

/**
 * The paths tried for a config file, in order: an absolute path as it is; a relative one
 * first where zazen's other files are (bootPath: a bare name in /boot), then in /etc/xen.
 * Xen's xl itself opens a relative name from its working directory only; zazen has no
 * working directory, and /etc/xen is where Xen's docs keep domain configs, so both are tried.
 */
export function configCandidates(file: string): string[] {
  if (file.startsWith('/')) return [file];
  return [bootPath(file), `${XEN_CONFIG_DIR}/${file}`];
}

/** Reads and validates a config file with its key=value overrides. */
export function configFromFile(ctx: XlContext, file: string, overrides: string[]): DomainConfigResult {
  let bytes: Uint8Array | null = null;
  for (const path of configCandidates(file)) {
    bytes = ctx.readFile(path);
    if (bytes) break;
  }
  if (!bytes) throw new CommandError(`Failed to read config file: ${file}: No such file or directory`);
  return domainConfigFromXl(applyXlOverrides(parseXlConfig(decodeUtf8(bytes), file), overrides));
}

/** Creates a domain from a validated config; build errors become xl-style command errors. */
export function createChecked(ctx: XlContext, result: DomainConfigResult, paused: boolean, warn: (t: string) => void): GuestDomain {
  for (const w of result.warnings) warn(`WARNING: ${w}\n`);
  try {
    return createDomain(ctx, result.config, paused);
  } catch (e) {
    if (e instanceof DomainBuildError) throw new CommandError(e.message);
    throw e;
  }
}

/** Turns config errors into command errors (printed without a stack). */
function configErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof XlConfigError) throw new CommandError(e.message);
    throw e;
  }
}

/** The `xl create` subcommand: -p leaves the domain paused, -c attaches its console, -n only checks the config. */
export function xlCreateCommand(ctx: XlContext): Command {
  return {
    name: 'create',
    summary: 'Create a domain from config file <filename>',
    usage: USAGE,
    run(args, io) {
      const console = args.indexOf('-c') >= 0;
      const opts = configErrors(() => splitCreateArgs(args.filter((a) => a !== '-c')));
      if (opts.file === null) throw new CommandError(`usage: ${USAGE}`);
      const file = opts.file;
      if (!opts.quiet) io.write(`Parsing config from ${file}\n`);
      const result = configErrors(() => configFromFile(ctx, file, opts.overrides));
      if (opts.dryRun) {
        io.write(`${JSON.stringify(result.config, null, 4)}\n`);
        return;
      }
      const d = createChecked(ctx, result, opts.paused, (t) => io.write(t));
      if (console) return attachConsole(ctx, d, io);
    },
  };
}

/** xl.create(): an object of xl.cfg keys, or a config file name; returns the new domain's id. */
export function createFromScript(ctx: XlContext, what: unknown, paused = false): number {
  const result = configErrors(() => {
    if (typeof what === 'string') return configFromFile(ctx, what, []);
    return configFromObject(what);
  });
  return createChecked(ctx, result, paused, () => undefined).id;
}
