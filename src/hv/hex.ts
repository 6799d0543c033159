// Hexadecimal formatting for log lines and error messages.

/** n as 0x-prefixed lower-case hex; negative numbers keep their sign (-0x10). */
export function hex(n: number | bigint): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}
