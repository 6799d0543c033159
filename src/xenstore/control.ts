// CONTROL: xenstored's admin commands that make sense here: check, log, print, quota, help.
import { XenStore } from './state';
import { latin1Bytes, atoi } from './bytes';
import { QUOTA_NAMES, QUOTA_DESCR, isQuotaName } from './quota';
import { checkStore } from './domains';
import { OK } from './ops';
import { fail } from './fail';

function text(s: string): Uint8Array {
  return latin1Bytes(s + '\0');
}

function pad(s: string, n: number, left = false): string {
  while (s.length < n) s = left ? ' ' + s : s + ' ';
  return s;
}

const HELP: [string, string][] = [
  ['check', ''],
  ['log', '[on|off]'],
  ['print', '<string>'],
  ['quota', '[set <name> <val>|<domid>|max [-r]]'],
  ['help', ''],
];

function quota(store: XenStore, args: string[]): Uint8Array {
  if (args.length === 0) {
    let s = 'Quota settings:\n';
    for (const q of QUOTA_NAMES) s += pad(q, 17) + ': ' + pad(String(store.quotas[q]), 8, true) + ' ' + QUOTA_DESCR[q] + '\n';
    return text(s);
  }
  if (args[0] === 'set') {
    if (args.length !== 3) fail('EINVAL');
    const val = atoi(args[2]);
    if (val < 1 || !isQuotaName(args[1])) fail('EINVAL');
    store.quotas[args[1]] = val;
    return OK;
  }
  if (args[0] === 'max') {
    if (args.length > 2 || (args.length === 2 && args[1] !== '-r')) fail('EINVAL');
    if (args.length === 2) store.maxSeen.clear();
    let s = 'Max. seen accounting values:\n';
    for (const q of QUOTA_NAMES) s += pad(q, 17) + ': ' + pad(String(store.maxSeen.get(q) || 0), 8, true) + '\n';
    return text(s);
  }
  if (args.length !== 1) fail('EINVAL');
  const domid = atoi(args[0]);
  if (!store.domains.has(domid)) fail('ENOENT');
  const usage: Record<string, number> = {
    nodes: store.nodeCounts.get(domid) || 0,
    watches: store.watchCounts.get(domid) || 0,
    transactions: store.txCounts.get(domid) || 0,
  };
  let s = 'Domain ' + domid + ':\n';
  for (const q of QUOTA_NAMES) s += pad(q, 17) + ': ' + pad(String(usage[q] || 0), 8, true) + ' (quota ' + store.quota(domid, q) + ')\n';
  return text(s);
}

/** Runs one CONTROL command given as NUL-separated strings; unknown commands get EINVAL. */
export function control(store: XenStore, args: string[]): Uint8Array {
  if (args.length === 0) fail('EINVAL');
  const rest = args.slice(1);
  switch (args[0]) {
    case 'check': {
      if (rest.length) fail('EINVAL');
      const problems = checkStore(store, true);
      for (const p of problems) store.hooks.log && store.hooks.log('check: ' + p);
      return OK;
    }
    case 'log':
      if (rest.length === 0) return text('Log switch settings:\n' + pad('io', 8) + ': ' + (store.logging ? 'on' : 'off') + '\n');
      if (rest.length !== 1 || (rest[0] !== 'on' && rest[0] !== 'off')) fail('EINVAL');
      store.logging = rest[0] === 'on';
      return OK;
    case 'print':
      if (rest.length !== 1) fail('EINVAL');
      if (store.hooks.log) store.hooks.log('control: ' + rest[0]);
      return OK;
    case 'quota':
      return quota(store, rest);
    case 'help':
      if (rest.length) fail('EINVAL');
      return text(HELP.map(([c, p]) => pad(c, 15) + ' ' + p + '\n').join(''));
    default:
      return fail('EINVAL');
  }
}
