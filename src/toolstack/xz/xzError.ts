// The one error type the XZ decoder throws: corrupt, truncated, unsupported or oversized input.

/** An XZ input could not be decoded; the message says what is wrong and at which input offset. */
export class XzError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XzError';
  }
}
