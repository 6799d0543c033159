// The event-channel service: every EVTCHNOP between any two domains (guests or zazen's backends as domain 0).
import { EINVAL, ENOENT } from '../errno';
import type { EventEndpoint } from './endpoint';
import {
  EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_ipi, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, PortTable,
} from './portTable';
import { EEXIST, ENOSPC, ESRCH } from '../errno';

/** VIRQs per vCPU (NR_VIRQS). */
export const NR_VIRQS = 24;
export const VIRQ_TIMER = 0;
export const VIRQ_DEBUG = 1;
const VIRQ_XENOPROF = 7;
const VIRQ_XENPMU = 13;

/** Per-vCPU VIRQs (Xen's virq_is_global answers false); the rest are global and bind on vCPU 0. */
export function virqIsGlobal(virq: number): boolean {
  return virq !== VIRQ_TIMER && virq !== VIRQ_DEBUG && virq !== VIRQ_XENOPROF && virq !== VIRQ_XENPMU;
}

/** EVTCHNOP_status's answer. */
export interface PortStatus {
  status: number;
  vcpu: number;
  /** unbound: who may bind; interdomain: the peer domain. */
  remoteDom: number;
  remotePort: number;
  virq: number;
}

/**
 * Event channels between domains. Results are a port (>= 0) or -errno, as the hypercall
 * returns them; the caller (hypercall handler or backend) decides who may name which domain.
 * Domains come from resolve(domid) the first time they are named and stay until destroyDomain.
 */
export class EventChannels {
  private readonly tables = new Map<number, PortTable>();

  constructor(private readonly resolve: (domid: number) => EventEndpoint | null) {}

  /** The domain's port table, created on first use; null when there is no such domain. */
  table(domid: number): PortTable | null {
    let t = this.tables.get(domid);
    if (!t) {
      const ep = this.resolve(domid);
      if (!ep) return null;
      t = new PortTable(domid, ep);
      this.tables.set(domid, t);
    }
    return t;
  }

  /** EVTCHNOP_alloc_unbound: a new port in dom that remoteDom may bind to. */
  allocUnbound(dom: number, remoteDom: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    const port = t.alloc();
    if (port < 0) return -ENOSPC;
    t.get(port).remoteDom = remoteDom;
    return port;
  }

  /** EVTCHNOP_bind_interdomain: connects a new port in dom to remoteDom's unbound remotePort (offered to dom). */
  bindInterdomain(dom: number, remoteDom: number, remotePort: number): number {
    const lt = this.table(dom);
    const rt = this.table(remoteDom);
    if (!lt || !rt) return -ESRCH;
    if (!rt.valid(remotePort)) return -EINVAL;
    const rp = rt.get(remotePort);
    if (rp.state !== EVTCHNSTAT_unbound || rp.remoteDom !== dom) return -EINVAL;
    const port = lt.alloc();
    if (port < 0) return -ENOSPC;
    const lp = lt.get(port);
    lp.state = EVTCHNSTAT_interdomain;
    lp.remoteDom = remoteDom;
    lp.remotePort = remotePort;
    rp.state = EVTCHNSTAT_interdomain;
    rp.remoteDom = dom;
    rp.remotePort = port;
    // Xen raises the new local port: a send on the remote port while it was unbound was dropped.
    lt.endpoint.setPending(port, lp.vcpu);
    return port;
  }

  /** EVTCHNOP_bind_virq: a port for virq on vcpu (global VIRQs only on vCPU 0). */
  bindVirq(dom: number, virq: number, vcpu: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -EINVAL;
    if (virqIsGlobal(virq) && vcpu !== 0) return -EINVAL;
    if (!this.vcpuOk(t, vcpu)) return -ENOENT;
    if (t.virqPort(virq, vcpu) !== 0) return -EEXIST;
    const port = t.alloc();
    if (port < 0) return -ENOSPC;
    t.bindVirq(port, virq, vcpu);
    return port;
  }

  /** EVTCHNOP_bind_ipi: a port that raises an event on vcpu of the same domain. */
  bindIpi(dom: number, vcpu: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!this.vcpuOk(t, vcpu)) return -ENOENT;
    const port = t.alloc();
    if (port < 0) return -ENOSPC;
    const p = t.get(port);
    p.state = EVTCHNSTAT_ipi;
    p.vcpu = vcpu;
    return port;
  }

  /** EVTCHNOP_send: interdomain raises the peer's port, IPI the local one; unbound drops the event. */
  send(dom: number, port: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!t.valid(port)) return -EINVAL;
    const p = t.get(port);
    switch (p.state) {
      case EVTCHNSTAT_interdomain: {
        const rt = this.tables.get(p.remoteDom);
        if (rt) rt.endpoint.setPending(p.remotePort, rt.get(p.remotePort).vcpu);
        return 0;
      }
      case EVTCHNSTAT_ipi:
        t.endpoint.setPending(port, p.vcpu);
        return 0;
      case EVTCHNSTAT_unbound:
        return 0;
      default:
        return -EINVAL;
    }
  }

  /** Raises the port bound to virq (per-vCPU VIRQs on vcpu, global ones as bound); false when none is bound. */
  raiseVirq(dom: number, virq: number, vcpu = 0): boolean {
    const t = this.tables.get(dom);
    if (!t) return false;
    const port = t.virqPort(virq, virqIsGlobal(virq) ? 0 : vcpu);
    if (port === 0) return false;
    t.endpoint.setPending(port, t.get(port).vcpu);
    return true;
  }

  /** EVTCHNOP_close: frees the port; an interdomain peer goes back to unbound, offered to this domain again. */
  close(dom: number, port: number, quiet = false): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!t.valid(port) || port === 0) return -EINVAL;
    const p = t.get(port);
    if (p.state === EVTCHNSTAT_closed) return -EINVAL;
    if (p.state === EVTCHNSTAT_interdomain) {
      const rt = this.tables.get(p.remoteDom);
      if (rt) {
        const rp = rt.get(p.remotePort);
        rp.state = EVTCHNSTAT_unbound;
        rp.remoteDom = dom;
        rp.remotePort = 0;
      }
    }
    t.free(port, quiet);
    return 0;
  }

  /** EVTCHNOP_unmask: clears the mask; a pending event is delivered now. */
  unmask(dom: number, port: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!t.valid(port)) return -EINVAL;
    t.endpoint.unmask(port, t.get(port).vcpu);
    return 0;
  }

  /** EVTCHNOP_status: the port's state and binding. */
  status(dom: number, port: number): PortStatus | number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!t.valid(port)) return -EINVAL;
    const p = t.get(port);
    return { status: p.state, vcpu: p.vcpu, remoteDom: p.remoteDom, remotePort: p.remotePort, virq: p.virq };
  }

  /** EVTCHNOP_bind_vcpu: moves notification to vcpu (unbound, interdomain and global VIRQ ports). */
  bindVcpu(dom: number, port: number, vcpu: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    if (!this.vcpuOk(t, vcpu)) return -ENOENT;
    if (!t.valid(port)) return -EINVAL;
    const p = t.get(port);
    const movable = p.state === EVTCHNSTAT_unbound || p.state === EVTCHNSTAT_interdomain ||
      (p.state === EVTCHNSTAT_virq && virqIsGlobal(p.virq));
    if (!movable) return -EINVAL;
    p.vcpu = vcpu;
    return 0;
  }

  /** EVTCHNOP_reset: closes every port of the domain. */
  reset(dom: number): number {
    const t = this.table(dom);
    if (!t) return -ESRCH;
    for (const port of t.openPorts()) this.close(dom, port);
    return 0;
  }

  /**
   * The domain is going away: its ports close (interdomain peers become unbound, offered to
   * its id again, as Xen leaves them) without touching its shared_info, whose frame may
   * already be back with the host; then it is forgotten.
   */
  destroyDomain(dom: number): void {
    const t = this.tables.get(dom);
    if (!t) return;
    for (const port of t.openPorts()) this.close(dom, port, true);
    this.tables.delete(dom);
  }

  private vcpuOk(t: PortTable, vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < t.endpoint.vcpuCount();
  }
}
