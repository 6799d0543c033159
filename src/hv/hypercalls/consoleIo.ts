// console_io (hypercall 18): CONSOLEIO_write to the domain's console; CONSOLEIO_read finds nothing to read.
import { EFAULT, EINVAL, ENOSYS } from '../errno';
import type { HypercallCall } from './call';

export const HYPERVISOR_CONSOLE_IO = 18;
const CONSOLEIO_write = 0;
const CONSOLEIO_read = 1;
/**
 * Longest write taken in one hypercall. Xen would go on through hypercall continuations;
 * zazen refuses larger counts with -EINVAL so one call cannot hold the CPU for long.
 */
export const CONSOLE_WRITE_MAX = 1048576;
/** Bytes copied per step: a page at a time keeps each copy small. */
const STEP = 4096;

/** Handles console_io(cmd, count, buffer). */
export function consoleIo(c: HypercallCall): number {
  const cmd = c.int(1);
  if (cmd === CONSOLEIO_write) {
    const count = c.u32(2);
    if (count === 0) return 0;
    if (count > CONSOLE_WRITE_MAX) return -EINVAL;
    const buf = c.ptr(3);
    if (buf === null) return -EFAULT;
    // Everything is copied before anything is shown: a fault part-way prints nothing.
    const bytes = count <= STEP ? c.copyIn(buf, count) : copyInSteps(c, buf, count);
    c.domain.console.write(bytes);
    return 0;
  }
  if (cmd === CONSOLEIO_read) {
    // No console input reaches guests yet (xl console's keystrokes go nowhere): nothing to read.
    return 0;
  }
  return -ENOSYS;
}

function copyInSteps(c: HypercallCall, buf: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let done = 0; done < count; done += STEP) out.set(c.copyIn(buf + done, Math.min(STEP, count - done)), done);
  return out;
}
