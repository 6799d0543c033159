// The one exception the server uses internally: an error name on its way to an ERROR reply.
import { XsErrno } from './wire';

/** Thrown inside request handling; the dispatcher turns it into an ERROR reply. */
export class XsFail {
  constructor(readonly errno: XsErrno) {}
}

/** Aborts the current request with an error name. */
export function fail(errno: XsErrno): never {
  throw new XsFail(errno);
}
