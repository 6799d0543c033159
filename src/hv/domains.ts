// The domain table: every domain zazen runs, starting with Domain-0 (zazen itself).
import { shim } from './abi';

/** A domain's state flags, as the letters of `xl list` show them. */
export interface DomainFlags {
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  /** libxl's reason, shown by the letters "-rscwS": 0 poweroff, 1 reboot, 2 suspend, 3 crash, 4 watchdog, 5 soft reset. */
  shutdownReason: number;
  dying: boolean;
}

/** A domain as the toolstack sees it; later issues add guests implementing this. */
export interface Domain {
  readonly id: number;
  readonly name: string;
  /** Online vCPUs. */
  vcpus(): number;
  /** Memory the domain holds now, in KiB. */
  memoryKiB(): number;
  /** CPU time consumed, in ns. */
  cpuTimeNs(): number;
  flags(): DomainFlags;
}

/** Registered domains by id. */
export class DomainTable {
  private byId = new Map<number, Domain>();

  /** Adds a domain; its id and name must be unused. */
  register(d: Domain): void {
    if (!Number.isInteger(d.id) || d.id < 0 || d.id > 0x7fef) throw new RangeError(`invalid domain id ${d.id}`);
    if (this.byId.has(d.id)) throw new Error(`domain id ${d.id} is already in use`);
    if (this.byName(d.name)) throw new Error(`domain name '${d.name}' is already in use`);
    this.byId.set(d.id, d);
  }

  /** Removes a domain; returns false if it was not there. */
  remove(id: number): boolean {
    return this.byId.delete(id);
  }

  /** The domain with this id. */
  get(id: number): Domain | undefined {
    return this.byId.get(id);
  }

  /** The domain with this name. */
  byName(name: string): Domain | undefined {
    for (const d of this.byId.values()) if (d.name === name) return d;
    return undefined;
  }

  /** Looks a domain up by name, or by id when given digits (as xl accepts both). */
  find(nameOrId: string): Domain | undefined {
    return /^\d+$/.test(nameOrId) ? this.get(Number(nameOrId)) : this.byName(nameOrId);
  }

  /** All domains, by ascending id. */
  list(): Domain[] {
    return Array.from(this.byId.values()).sort((a, b) => a.id - b.id);
  }

  /** The lowest free id above 0 (Domain-0 is always 0). */
  nextFreeId(): number {
    let id = 1;
    while (this.byId.has(id)) id++;
    return id;
  }
}

/** Domain-0: zazen itself. Its memory is the shim image, stacks and engine heap; it always runs. */
export function createDomain0(): Domain {
  return {
    id: 0,
    name: 'Domain-0',
    vcpus: () => 1,
    memoryKiB: () => {
      const m = shim().memStats();
      return Math.floor((m.imageBytes + m.stackBytes + m.heapBytes) / 1024);
    },
    // zazen runs on the boot CPU all the time, so its CPU time is the time since boot.
    cpuTimeNs: () => shim().monotonicNs(),
    flags: () => ({ running: true, blocked: false, paused: false, shutdown: false, shutdownReason: 0, dying: false }),
  };
}

/** The hypervisor's domain table, with Domain-0 registered by main.ts. */
export const domains = new DomainTable();
