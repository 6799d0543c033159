// zazen's own backends as an event-channel endpoint: domain 0, whose ports call JS handlers instead of bitmaps.
import { log } from '../log';
import { EVTCHN_2L_NR_CHANNELS, type EventEndpoint } from './endpoint';

/** Called when an event arrives on a backend's local port. */
export type BackendHandler = (port: number) => void;

/**
 * Domain 0's endpoint. zazen acts as domain 0 but has no shared_info: an event on one of its
 * ports calls the handler registered for that port. Events that arrive while no handler is
 * registered, or while the port is masked, stay pending and are delivered on setHandler/unmask.
 */
export class BackendEvents implements EventEndpoint {
  readonly maxPort = EVTCHN_2L_NR_CHANNELS - 1;
  private readonly handlers = new Map<number, BackendHandler>();
  private readonly pending = new Set<number>();
  private readonly masked = new Set<number>();

  vcpuCount(): number {
    return 1;
  }

  /** Registers the handler for a local port (replacing any earlier one) and delivers a pending event. */
  setHandler(port: number, fn: BackendHandler): void {
    this.handlers.set(port, fn);
    this.deliver(port);
  }

  /** Masks a local port: events wait until unmask. */
  mask(port: number): void {
    this.masked.add(port);
  }

  /** True when an event on port has not been handled yet. */
  isPending(port: number): boolean {
    return this.pending.has(port);
  }

  setPending(port: number): void {
    this.pending.add(port);
    this.deliver(port);
  }

  clearPending(port: number): void {
    this.pending.delete(port);
  }

  unmask(port: number): void {
    this.masked.delete(port);
    this.deliver(port);
  }

  portFreed(port: number): void {
    this.handlers.delete(port);
    this.pending.delete(port);
    this.masked.delete(port);
  }

  /** Calls the port's handler once for a pending event; a throwing handler is logged, never propagated to the sender. */
  private deliver(port: number): void {
    const fn = this.handlers.get(port);
    if (!fn || !this.pending.has(port) || this.masked.has(port)) return;
    this.pending.delete(port);
    try {
      fn(port);
    } catch (e) {
      log(`backend event port ${port}: handler failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
