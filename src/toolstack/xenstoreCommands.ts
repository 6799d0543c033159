// The xenstore-* REPL commands (Debian's xenstore-utils names) as toolstack commands over an `xs` client.
import { xenstoreCommands } from '../xenstore/commands';
import type { XsClient } from '../xenstore/client';
import type { Command } from './registry';

const SUMMARIES: Record<string, string> = {
  'xenstore-ls': 'list a XenStore subtree with values',
  'xenstore-read': 'print the values of XenStore paths',
  'xenstore-write': 'write XenStore paths (PATH VALUE pairs, one transaction)',
  'xenstore-rm': 'remove XenStore paths and everything below them',
  'xenstore-list': 'list the children of XenStore paths',
  'xenstore-chmod': 'set the permissions of a XenStore path',
  'xenstore-exists': 'fail unless the XenStore paths exist',
  'xenstore-watch': 'print events for a XenStore path as they happen',
};

/** Wraps each xenstore-* function as a Command; the function prints its own errors. */
export function createXenstoreCommands(xs: XsClient): Command[] {
  const fns = xenstoreCommands(xs);
  return Object.keys(fns).map((name) => ({
    name,
    summary: SUMMARIES[name] || 'XenStore command',
    run(args: string[], io) {
      fns[name](args, (line) => io.write(line + '\n'));
    },
  }));
}
