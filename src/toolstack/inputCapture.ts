// Lets a command (xl console) take the raw console input from the REPL until it lets go.

/** Takes raw input; returns what it did not consume (handed on to the REPL). */
export type InputTaker = (bytes: string) => string;

let taker: InputTaker | null = null;

/** Routes input to fn until the returned function is called; only one taker at a time. */
export function captureInput(fn: InputTaker): () => void {
  if (taker) throw new Error('the console input is already captured');
  taker = fn;
  return () => {
    if (taker === fn) taker = null;
  };
}

/** Passes input to the current taker, if any; returns what is left for the REPL. */
export function routeInput(bytes: string): string {
  let rest = bytes;
  // A taker may let go part-way (Ctrl-] in xl console); the rest goes on to the next in line.
  while (taker && rest) rest = taker(rest);
  return rest;
}

/** True while a command holds the input. */
export function inputCaptured(): boolean {
  return taker !== null;
}
