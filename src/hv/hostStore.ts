// The host's XenStore: one store for the whole machine, with the entries xenstored and xl create for Domain-0.
import { XenStore } from '../xenstore/state';
import { XsClient } from '../xenstore/client';

/** Creates the store and writes the nodes a Xen dom0 has from boot: /tool, /local/domain/0. */
export function createHostStore(): XenStore {
  const store = new XenStore();
  const xs = new XsClient(store);
  xs.mkdir('/tool');
  xs.write('/local/domain/0/name', 'Domain-0');
  xs.write('/local/domain/0/domid', '0');
  xs.close();
  return store;
}
