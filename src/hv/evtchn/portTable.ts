// One domain's event-channel ports: each port's state and binding, lowest-free allocation from port 1, VIRQ lookup.
import type { EventEndpoint } from './endpoint';

/** Port states as EVTCHNOP_status reports them (EVTCHNSTAT_*). */
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;

/** One port. remoteDom is the peer (unbound: the domain allowed to bind; interdomain: the bound one). */
export interface Port {
  state: number;
  /** The vCPU notified of events on this port. */
  vcpu: number;
  remoteDom: number;
  remotePort: number;
  virq: number;
}

/** The ports of one domain, with the endpoint that raises them. */
export class PortTable {
  private readonly ports: (Port | undefined)[] = [];
  /** Bound VIRQs: key vcpu * 64 + virq -> port. */
  private readonly virqs = new Map<number, number>();

  constructor(readonly domid: number, readonly endpoint: EventEndpoint) {}

  /** True for a port number the domain may name (0, reserved, included), as Xen's port_is_valid. */
  valid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port <= this.endpoint.maxPort;
  }

  /** The port's record; a free valid port reads as closed. */
  get(port: number): Port {
    let p = this.ports[port];
    if (!p) {
      p = { state: EVTCHNSTAT_closed, vcpu: 0, remoteDom: 0, remotePort: 0, virq: 0 };
      this.ports[port] = p;
    }
    return p;
  }

  /** The lowest free port from 1, now marked unbound to nobody; -1 when every port up to the limit is in use. */
  alloc(): number {
    for (let port = 1; port <= this.endpoint.maxPort; port++) {
      const p = this.ports[port];
      if (p === undefined || p.state === EVTCHNSTAT_closed) {
        const q = this.get(port);
        q.state = EVTCHNSTAT_unbound;
        q.vcpu = 0;
        q.remoteDom = 0;
        q.remotePort = 0;
        q.virq = 0;
        return port;
      }
    }
    return -1;
  }

  /** Frees a port: no pending event, no binding, handler dropped; quiet leaves the endpoint alone (its memory is gone). */
  free(port: number, quiet = false): void {
    const p = this.get(port);
    // The key holds the vCPU at bind time; bind_vcpu may have moved a global VIRQ since.
    if (p.state === EVTCHNSTAT_virq) this.virqs.forEach((v, k) => v === port && this.virqs.delete(k));
    p.state = EVTCHNSTAT_closed;
    p.vcpu = 0;
    p.remoteDom = 0;
    p.remotePort = 0;
    p.virq = 0;
    if (quiet) return;
    this.endpoint.clearPending(port);
    this.endpoint.portFreed?.(port);
  }

  /** The port bound to virq on vcpu, or 0. */
  virqPort(virq: number, vcpu: number): number {
    return this.virqs.get(vcpu * 64 + virq) ?? 0;
  }

  /** Records a VIRQ binding made on port. */
  bindVirq(port: number, virq: number, vcpu: number): void {
    const p = this.get(port);
    p.state = EVTCHNSTAT_virq;
    p.virq = virq;
    p.vcpu = vcpu;
    this.virqs.set(vcpu * 64 + virq, port);
  }

  /** Ports not closed, in order. */
  openPorts(): number[] {
    const out: number[] = [];
    this.ports.forEach((p, i) => {
      if (p && p.state !== EVTCHNSTAT_closed) out.push(i);
    });
    return out;
  }
}
