// XenStore wire protocol: message types, limits, error names and the 16-byte header (xs_wire.h).
import { latin1Bytes } from './bytes';

/** Message type numbers (enum xsd_sockmsg_type). */
export const XsType = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
  GET_QUOTA: 25,
  SET_QUOTA: 26,
} as const;

/** Names of the message types, for logs and tests. */
export const xsTypeName: Record<number, string> = {};
for (const k of Object.keys(XsType) as (keyof typeof XsType)[]) xsTypeName[XsType[k]] = k;

/** Bytes in the message header: type, req_id, tx_id, len, each a little-endian u32. */
export const HEADER_SIZE = 16;
/** Largest payload in either direction; a longer request kills the connection. */
export const PAYLOAD_MAX = 4096;
/** Longest absolute path clients are told to use. */
export const ABS_PATH_MAX = 3072;
/** Longest relative path (and xenstored's default path-max quota). */
export const REL_PATH_MAX = 2048;

/** Error names xenstored may send (xsd_errors), in the protocol's order. */
export const XS_ERRORS = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;
/** One error name of the protocol. */
export type XsErrno = (typeof XS_ERRORS)[number];

/** A decoded message: header fields plus the raw payload. */
export interface Message {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** Serializes a message into header plus payload bytes. */
export function encodeMessage(m: Message): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + m.payload.length);
  encodeMessageInto(m, out, 0);
  return out;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

/** Writes a message's header and payload into `out` at `at`; returns the offset just past it. */
export function encodeMessageInto(m: Message, out: Uint8Array, at: number): number {
  putU32(out, at, m.type >>> 0);
  putU32(out, at + 4, m.reqId >>> 0);
  putU32(out, at + 8, m.txId >>> 0);
  putU32(out, at + 12, m.payload.length);
  out.set(m.payload, at + HEADER_SIZE);
  return at + HEADER_SIZE + m.payload.length;
}

/** Builds an ERROR reply echoing the request's ids. */
export function errorMessage(req: { reqId: number; txId: number }, err: XsErrno): Message {
  return { type: XsType.ERROR, reqId: req.reqId, txId: req.txId, payload: latin1Bytes(err + '\0') };
}

/** The "OK\0" payload of acknowledgements. */
export const OK_PAYLOAD = latin1Bytes('OK\0');
