// A guest as an event-channel endpoint: its shared_info page, where each vCPU's vcpu_info lives, and the upcall.
import { PAGE_SIZE } from '../guestMemory';
import { DEFAULT_MAX_EVTCHN_PORT, EVTCHN_2L_NR_CHANNELS, type EventEndpoint } from './endpoint';
import { clearPending, markUpcall, setPending, unmask, VCPU_INFO_PENDING_SEL, VCPU_INFO_SIZE } from './twoLevel';

/** vcpu_info slots inside shared_info (XEN_LEGACY_MAX_VCPUS); later vCPUs need VCPUOP_register_vcpu_info. */
export const LEGACY_VCPU_INFOS = 32;

/** What a guest endpoint needs from the machine. */
export interface GuestEventHost {
  /** Allocates one zeroed host frame charged to the domain (GuestMemory.allocFrames(1)). */
  allocFrame(): number;
  /** A view of host-physical memory (the shim's physView; page-aligned 4 KiB ranges). */
  physView(addr: number, length: number): ArrayBuffer;
  /** Host-physical address behind a guest-physical one; throws on a hole. */
  translate(gpa: number): number;
  vcpuCount(): number;
  /** Delivers the callback vector to the vCPU (the upcall flag went from 0 to 1). */
  upcall(vcpu: number): void;
}

/**
 * The 2-level event state of one guest. shared_info is a hypervisor-owned frame that exists
 * from creation, as in Xen: events raised before the guest maps it (XENMAPSPACE_shared_info
 * through memory_op, which maps sharedInfoAddr at the guest's gfn) are kept, not lost.
 */
export class GuestEvents implements EventEndpoint {
  /** Host-physical address of the shared_info frame. */
  readonly sharedInfoAddr: number;
  readonly maxPort: number;
  private readonly shared: Uint8Array;
  /** Host-physical address of each vCPU's vcpu_info once moved by VCPUOP_register_vcpu_info. */
  private readonly moved = new Map<number, number>();

  constructor(private readonly host: GuestEventHost, maxPort = DEFAULT_MAX_EVTCHN_PORT) {
    if (!Number.isInteger(maxPort) || maxPort < 1 || maxPort >= EVTCHN_2L_NR_CHANNELS) {
      throw new RangeError(`max event channel port must be 1-${EVTCHN_2L_NR_CHANNELS - 1}, got ${maxPort}`);
    }
    this.maxPort = maxPort;
    this.sharedInfoAddr = host.allocFrame();
    this.shared = new Uint8Array(host.physView(this.sharedInfoAddr, PAGE_SIZE));
  }

  /** The shared_info page's bytes. */
  sharedInfo(): Uint8Array {
    return this.shared;
  }

  /** vcpu N's vcpu_info (64 bytes), or null when it has none (vCPU 32 and up before registering one). */
  vcpuInfo(vcpu: number): Uint8Array | null {
    const addr = this.moved.get(vcpu);
    if (addr !== undefined) {
      const page = addr - (addr % PAGE_SIZE);
      return new Uint8Array(this.host.physView(page, PAGE_SIZE), addr - page, VCPU_INFO_SIZE);
    }
    if (vcpu < 0 || vcpu >= LEGACY_VCPU_INFOS) return null;
    return this.shared.subarray(vcpu * VCPU_INFO_SIZE, (vcpu + 1) * VCPU_INFO_SIZE);
  }

  /**
   * Moves vcpu's vcpu_info to guest-physical gpa (VCPUOP_register_vcpu_info). Like Xen it copies
   * the old contents, then marks every selector bit and the upcall flag so nothing raised
   * meanwhile is lost, and kicks the vCPU. Throws RangeError (the caller's -EINVAL) when the area
   * crosses a page or the vCPU already registered one (Xen allows it once).
   */
  registerVcpuInfo(vcpu: number, gpa: number): void {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.host.vcpuCount()) throw new RangeError(`no vCPU ${vcpu}`);
    if (this.moved.has(vcpu)) throw new RangeError(`vCPU ${vcpu} already registered its vcpu_info`);
    if (!Number.isInteger(gpa) || gpa < 0 || (gpa % PAGE_SIZE) + VCPU_INFO_SIZE > PAGE_SIZE) {
      throw new RangeError(`vcpu_info at ${gpa} would cross a page boundary`);
    }
    const addr = this.host.translate(gpa);
    const old = this.vcpuInfo(vcpu);
    const saved = old ? old.slice() : new Uint8Array(VCPU_INFO_SIZE);
    this.moved.set(vcpu, addr);
    const now = this.vcpuInfo(vcpu) as Uint8Array;
    now.set(saved);
    now.fill(0xff, VCPU_INFO_PENDING_SEL, VCPU_INFO_PENDING_SEL + 8);
    markUpcall(now);
    this.host.upcall(vcpu);
  }

  vcpuCount(): number {
    return this.host.vcpuCount();
  }

  setPending(port: number, vcpu: number): void {
    if (setPending(this.shared, this.vcpuInfo(vcpu), port)) this.host.upcall(vcpu);
  }

  clearPending(port: number): void {
    clearPending(this.shared, port);
  }

  unmask(port: number, vcpu: number): void {
    if (unmask(this.shared, this.vcpuInfo(vcpu), port)) this.host.upcall(vcpu);
  }
}
