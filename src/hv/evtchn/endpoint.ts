// What the event-channel service needs from one side of a channel: its limits and how its ports are raised.

/** One domain as the event-channel service sees it, guest or zazen's own backends alike. */
export interface EventEndpoint {
  /** The highest port this domain may allocate (Xen's max_evtchn_port). */
  readonly maxPort: number;
  /** How many vCPUs the domain has (ports are bound to one of them). */
  vcpuCount(): number;
  /** Marks port pending, to be noticed by vcpu. */
  setPending(port: number, vcpu: number): void;
  /** Forgets a pending event on port (the port is being freed). */
  clearPending(port: number): void;
  /** Clears port's mask and delivers it to vcpu if it is pending. */
  unmask(port: number, vcpu: number): void;
  /** The port was freed (closed, reset or its domain went away). */
  portFreed?(port: number): void;
}

/**
 * Ports per 2-level domain: 64 selector bits of 64 pending bits (EVTCHN_2L_NR_CHANNELS).
 * Port numbers run 0 to 4095; port 0 is reserved and never handed out.
 */
export const EVTCHN_2L_NR_CHANNELS = 4096;
/**
 * The per-domain port limit Xen applies to a domU unless the config says otherwise: xl's
 * max_event_channels defaults to 1023, and Xen's max_evtchn_port is that number.
 */
export const DEFAULT_MAX_EVTCHN_PORT = 1023;
