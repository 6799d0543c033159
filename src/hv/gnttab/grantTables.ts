// The grant-table service: per-domain tables, and mapping and copying granted pages for zazen's backends.
import { PAGE_SIZE } from '../guestMemory';
import type { GrantTable } from './grantTable';
import {
  GNTST_bad_copy_arg, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle, GNTST_bad_page, GNTST_general_error, GNTST_okay,
  GTF_permit_access, GTF_readonly, GTF_reading, GTF_type_mask, GTF_writing,
} from './grantStatus';

/** A domain as the grant service sees it: its table and its guest-physical pages. */
export interface GrantDomain {
  table: GrantTable;
  /** Host-physical address of the granter's page gfn, or null for a hole. */
  pageAddr(gfn: number): number | null;
}

/** A granted page mapped by a backend: view is the live page (never written through a readonly map). */
export interface GrantMapping {
  handle: number;
  granter: number;
  ref: number;
  gfn: number;
  readonly: boolean;
  view: Uint8Array;
}

/** What mapGrant answers: a GNTST_* status, and the mapping when it is GNTST_okay. */
export type MapResult = { status: 0; mapping: GrantMapping } | { status: number; mapping?: undefined };

/** An in-use grant (Xen's active entry): how many read and write pins it has and the frame pinned. */
interface Active {
  readers: number;
  writers: number;
  gfn: number;
}

/** Tries at most this many times to update an entry the granter keeps rewriting (Xen gives up likewise). */
const RETRIES = 4;
/** Active entries are keyed granter * 2^32 + ref. */
const KEY_SPLIT = 4294967296;

/**
 * Grant tables of every domain. Mapper is the domain using a grant (0 for zazen's backends);
 * the granter's entry must name it, permit access, and allow writing for a write use. While a
 * grant is in use its entry carries GTF_reading (and GTF_writing for write uses), cleared when
 * the last use ends.
 */
export class GrantTables {
  private readonly domains = new Map<number, GrantDomain>();
  private readonly active = new Map<number, Active>();
  private readonly maps = new Map<number, GrantMapping & { mapper: number }>();
  private nextHandle = 1;

  constructor(
    private readonly resolve: (domid: number) => GrantDomain | null,
    private readonly physView: (addr: number, length: number) => ArrayBuffer,
  ) {}

  /** The domain's grant table, created on first use; null when there is no such domain. */
  domain(domid: number): GrantDomain | null {
    let g = this.domains.get(domid);
    if (!g) {
      const r = this.resolve(domid);
      if (!r) return null;
      g = r;
      this.domains.set(domid, g);
    }
    return g;
  }

  /** Maps granter's grant ref for mapper; readonly maps need no GTF_readonly check. */
  mapGrant(mapper: number, granter: number, ref: number, readonly: boolean): MapResult {
    const got = this.acquire(mapper, granter, ref, readonly);
    if (typeof got === 'number') return { status: got };
    const mapping = {
      handle: this.nextHandle++, granter, ref, gfn: got.gfn, readonly, mapper,
      view: new Uint8Array(this.physView(got.addr, PAGE_SIZE)),
    };
    this.maps.set(mapping.handle, mapping);
    return { status: GNTST_okay, mapping };
  }

  /** Ends a mapping by handle; GNTST_bad_handle when it is not mapped. */
  unmapGrant(handle: number): number {
    const m = this.maps.get(handle);
    if (!m) return GNTST_bad_handle;
    this.maps.delete(handle);
    this.release(m.granter, m.ref, m.readonly);
    return GNTST_okay;
  }

  /** Mappings still held by mapper. */
  mappingsOf(mapper: number): GrantMapping[] {
    return Array.from(this.maps.values()).filter((m) => m.mapper === mapper);
  }

  /** GNTTABOP_copy from a granted page: len bytes at offset; status GNTST_bad_copy_arg when the range leaves the page. */
  copyFromGrant(mapper: number, granter: number, ref: number, offset: number, len: number): { status: number; data?: Uint8Array } {
    if (!inPage(offset, len)) return { status: GNTST_bad_copy_arg };
    const got = this.acquire(mapper, granter, ref, true);
    if (typeof got === 'number') return { status: got };
    const data = new Uint8Array(this.physView(got.addr, PAGE_SIZE), offset, len).slice();
    this.release(granter, ref, true);
    return { status: GNTST_okay, data };
  }

  /** GNTTABOP_copy to a granted page: writes bytes at offset; needs a writable grant. */
  copyToGrant(mapper: number, granter: number, ref: number, offset: number, bytes: Uint8Array): number {
    if (!inPage(offset, bytes.length)) return GNTST_bad_copy_arg;
    const got = this.acquire(mapper, granter, ref, false);
    if (typeof got === 'number') return got;
    new Uint8Array(this.physView(got.addr, PAGE_SIZE), offset, bytes.length).set(bytes);
    this.release(granter, ref, false);
    return GNTST_okay;
  }

  /**
   * The domain is going away. Its grants mapped by others are dropped (the backends must stop
   * using those views: its frames go back to the host), as are the mappings it held.
   */
  destroyDomain(domid: number): void {
    // Its frames may already be back with the host: forget its table first so that nothing
    // writes its entries; grants it had mapped from others are released properly.
    this.domains.delete(domid);
    for (const [h, m] of Array.from(this.maps.entries())) {
      if (m.granter === domid) this.maps.delete(h);
      else if (m.mapper === domid) this.unmapGrant(h);
    }
    for (const key of Array.from(this.active.keys())) if (Math.floor(key / KEY_SPLIT) === domid) this.active.delete(key);
  }

  /** Pins a grant (Xen's map path: _set_status_v1 then the frame); a GNTST_* error or the page. */
  private acquire(mapper: number, granter: number, ref: number, readonly: boolean): number | { gfn: number; addr: number } {
    const g = this.domain(granter);
    if (!g) return GNTST_bad_domain;
    if (!Number.isInteger(ref) || ref < 0 || ref >= g.table.nrEntries) return GNTST_bad_gntref;
    const key = granter * KEY_SPLIT + ref;
    let act = this.active.get(key);
    const first = act === undefined;
    if (first || (!readonly && act!.writers === 0)) {
      const st = this.setStatus(g.table, ref, mapper, readonly, first);
      if (st !== GNTST_okay) return st;
    }
    const gfn = act ? act.gfn : g.table.frame(ref);
    const addr = g.pageAddr(gfn);
    if (addr === null) {
      if (first) this.clearFlags(g.table, ref, GTF_reading | GTF_writing);
      else if (!readonly && act!.writers === 0) this.clearFlags(g.table, ref, GTF_writing);
      return GNTST_bad_page;
    }
    if (!act) {
      act = { readers: 0, writers: 0, gfn };
      this.active.set(key, act);
    }
    if (readonly) act.readers++;
    else act.writers++;
    return { gfn, addr };
  }

  /** Drops one pin; clears GTF_writing after the last write use and GTF_reading after the last use. */
  private release(granter: number, ref: number, readonly: boolean): void {
    const key = granter * KEY_SPLIT + ref;
    const act = this.active.get(key);
    const g = this.domains.get(granter);
    if (!act || !g) return;
    if (readonly) act.readers--;
    else act.writers--;
    let clear = 0;
    if (!readonly && act.writers === 0) clear |= GTF_writing;
    if (act.readers + act.writers === 0) {
      clear |= GTF_reading;
      this.active.delete(key);
    }
    if (clear) this.clearFlags(g.table, ref, clear);
  }

  /**
   * Checks the entry and sets the in-use flags with a compare-and-exchange, retried if the
   * entry changes underneath. Xen answers GNTST_general_error both for an entry that does not
   * grant to the mapper and for a write use of a GTF_readonly grant.
   */
  private setStatus(t: GrantTable, ref: number, mapper: number, readonly: boolean, first: boolean): number {
    for (let i = 0; i < RETRIES; i++) {
      const header = t.header(ref);
      const flags = header & 0xffff;
      const domid = header >>> 16;
      if (first && ((flags & GTF_type_mask) !== GTF_permit_access || domid !== mapper)) return GNTST_general_error;
      if (!readonly && (flags & GTF_readonly) !== 0) return GNTST_general_error;
      const next = flags | GTF_reading | (readonly ? 0 : GTF_writing);
      if (t.updateFlags(ref, header, next)) return GNTST_okay;
    }
    return GNTST_general_error;
  }

  private clearFlags(t: GrantTable, ref: number, bits: number): void {
    const header = t.header(ref);
    t.updateFlags(ref, header, (header & 0xffff) & ~bits);
  }
}

function inPage(offset: number, len: number): boolean {
  return Number.isInteger(offset) && Number.isInteger(len) && offset >= 0 && len >= 0 && offset + len <= PAGE_SIZE;
}
