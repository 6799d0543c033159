// The console output path: text goes to a replaceable sink (the REPL redraws its prompt around it).
import { shim } from '../hv/abi';

/** Something that takes console text. */
export type OutputSink = (text: string) => void;

const direct: OutputSink = (text) => shim().consoleWrite(text);
let sink: OutputSink = direct;

/** Writes text to the console through the current sink; never throws. */
export function writeOutput(text: string): void {
  try {
    sink(text);
  } catch {
    // The sink failed (e.g. a broken REPL); fall back to the raw console so nothing is lost.
    try {
      direct(text);
    } catch {
      // Nothing more can be done without a console.
    }
  }
}

/** Replaces the sink; undefined restores direct writes to the shim's console. */
export function setOutputSink(next: OutputSink | undefined): void {
  sink = next ?? direct;
}

/** Writes straight to the shim's console, bypassing the sink (for the REPL's own echo). */
export function writeRaw(text: string): void {
  direct(text);
}
