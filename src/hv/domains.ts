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

/** DOMID_FIRST_RESERVED: ids from here up have special meanings in Xen. */
export const DOMID_FIRST_RESERVED = 0x7ff0;

/** Registered domains by id. */
export class DomainTable {
  private byId = new Map<number, Domain>();
  /** Names to domains, kept by register/remove/rename so lookups do not scan every domain. */
  private names = new Map<string, Domain>();
  private rover = 0;

  /** Adds a domain; its id and name must be unused. */
  register(d: Domain): void {
    if (!Number.isInteger(d.id) || d.id < 0 || d.id > 0x7fef) throw new RangeError(`invalid domain id ${d.id}`);
    if (this.byId.has(d.id)) throw new Error(`domain id ${d.id} is already in use`);
    if (this.byName(d.name)) throw new Error(`domain name '${d.name}' is already in use`);
    this.byId.set(d.id, d);
    this.names.set(d.name, d);
  }

  /** Renames a registered domain (xl's rename-restart); the new name must be unused. */
  rename(d: Domain & { name: string }, name: string): void {
    if (this.byId.get(d.id) !== d) throw new Error(`domain ${d.id} is not registered`);
    const other = this.byName(name);
    if (other && other !== d) throw new Error(`domain name '${name}' is already in use`);
    if (this.names.get(d.name) === d) this.names.delete(d.name);
    d.name = name;
    this.names.set(name, d);
  }

  /** Removes a domain; returns false if it was not there. */
  remove(id: number): boolean {
    const d = this.byId.get(id);
    if (d && this.names.get(d.name) === d) this.names.delete(d.name);
    return this.byId.delete(id);
  }

  /** The domain with this id. */
  get(id: number): Domain | undefined {
    return this.byId.get(id);
  }

  /** The domain with this name. */
  byName(name: string): Domain | undefined {
    const d = this.names.get(name);
    return d && d.name === name && this.byId.get(d.id) === d ? d : undefined;
  }

  /** Looks a domain up by name, or by id when given digits (as xl accepts both). */
  find(nameOrId: string): Domain | undefined {
    return /^\d+$/.test(nameOrId) ? this.get(Number(nameOrId)) : this.byName(nameOrId);
  }

  /** All domains, by ascending id. */
  list(): Domain[] {
    return Array.from(this.byId.values()).sort((a, b) => a.id - b.id);
  }

  /**
   * The id for a new domain as Xen picks it (XEN_DOMCTL_createdomain): the next free id after
   * the last one handed out, wrapping from 0x7fef to 1, so ids are not reused until they wrap.
   */
  allocateId(): number {
    const ids = DOMID_FIRST_RESERVED - 1;
    for (let i = 1; i <= ids; i++) {
      const id = ((this.rover + i - 1) % ids) + 1;
      if (!this.byId.has(id)) {
        this.rover = id;
        return id;
      }
    }
    throw new RangeError(`no free domain id (all ${ids} are in use)`);
  }

  /** The lowest free id above 0 (Domain-0 is always 0). */
  nextFreeId(): number {
    let id = 1;
    while (this.byId.has(id)) id++;
    return id;
  }
}

/**
 * Domain-0: zazen itself. Its memory is the shim image, stacks and engine heap; it always runs.
 * Its CPU time is the time since boot minus what guests used (guestCpuNs, 0 without guests).
 */
export function createDomain0(guestCpuNs: () => number = () => 0): Domain {
  return {
    id: 0,
    name: 'Domain-0',
    vcpus: () => 1,
    memoryKiB: () => {
      const m = shim().memStats();
      return Math.floor((m.imageBytes + m.stackBytes + m.heapBytes) / 1024);
    },
    // zazen has the boot CPU whenever no guest runs on it.
    cpuTimeNs: () => Math.max(0, shim().monotonicNs() - guestCpuNs()),
    flags: () => ({ running: true, blocked: false, paused: false, shutdown: false, shutdownReason: 0, dying: false }),
  };
}

/** The hypervisor's domain table, with Domain-0 registered by main.ts. */
export const domains = new DomainTable();
