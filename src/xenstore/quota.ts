// Per-domain quotas with xenstored's names and defaults; dom0 is never limited.
import { REL_PATH_MAX } from './wire';

/** Quota values by xenstored's names; 0 disables a check. */
export interface Quotas {
  /** Nodes a domain may own. */
  nodes: number;
  /** Watches a domain may hold. */
  watches: number;
  /** Replies queued for a domain before the server stops reading its requests. */
  outstanding: number;
  /** Transactions a domain may have open. */
  transactions: number;
  /** Nodes one transaction may touch. */
  'transaction-nodes': number;
  /** Permission entries per node. */
  'node-permissions': number;
  /** Length of a path, not counting a "/local/domain/<id>/" prefix. */
  'path-max': number;
  /** Bytes of a node: header, permissions, value and child list. */
  'node-size': number;
}

/** The quota names, in xenstored's order. */
export const QUOTA_NAMES: (keyof Quotas)[] = [
  'nodes', 'watches', 'outstanding', 'transactions', 'transaction-nodes', 'node-permissions', 'path-max', 'node-size',
];

/** One-line descriptions, printed by CONTROL quota. */
export const QUOTA_DESCR: Record<keyof Quotas, string> = {
  nodes: 'Nodes per domain',
  watches: 'Watches per domain',
  outstanding: 'Outstanding requests per domain',
  transactions: 'Active transactions per domain',
  'transaction-nodes': 'Max. number of accessed nodes per transaction',
  'node-permissions': 'Max. number of permissions per node',
  'path-max': 'Max. length of a node path',
  'node-size': 'Max. size of a node',
};

/** xenstored's defaults (tools/xenstored/domain.c). */
export function defaultQuotas(): Quotas {
  return {
    nodes: 1000,
    watches: 128,
    outstanding: 20,
    transactions: 10,
    'transaction-nodes': 1024,
    'node-permissions': 5,
    'path-max': REL_PATH_MAX,
    'node-size': 2048,
  };
}

/** True when a value hits the quota: xenstored refuses once `value >= quota` (a quota of 0 is off). */
export function exceeds(value: number, quota: number): boolean {
  return quota > 0 && value >= quota;
}

/** True when `name` is a quota name. */
export function isQuotaName(name: string): name is keyof Quotas {
  return (QUOTA_NAMES as string[]).indexOf(name) >= 0;
}
