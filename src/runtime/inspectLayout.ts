// Line layout for util.inspect: one-line vs multi-line output and column grouping of long arrays.

/** The parts of the context the layout needs. */
export interface LayoutContext {
  breakLength: number;
  compact: number | boolean;
  indentationLvl: number;
  currentDepth: number;
  maxArrayLength: number;
}

/** Whether the entries fit within breakLength on one line, starting at column `start`. */
function fitsOnOneLine(ctx: LayoutContext, output: string[], start: number, base: string): boolean {
  // Every entry is followed by at least a comma, hence output.length on top of the text.
  let total = output.length + start;
  if (total + output.length > ctx.breakLength) return false;
  for (const entry of output) {
    total += entry.length;
    if (total > ctx.breakLength) return false;
  }
  return base === '' || base.indexOf('\n') === -1;
}

/**
 * Arranges more than six short array entries in aligned columns, aiming for a roughly square
 * block (a character is taken as 2.5 times as high as wide); numbers are right-aligned.
 */
export function groupArrayElements(ctx: LayoutContext, output: string[], value: unknown): string[] {
  let totalLength = 0;
  let maxLength = 0;
  // A trailing "... n more items" entry stays on its own line.
  const outputLength = ctx.maxArrayLength < output.length ? output.length - 1 : output.length;
  const separatorSpace = 2;
  const dataLen: number[] = [];
  for (let i = 0; i < outputLength; i++) {
    const len = output[i].length;
    dataLen.push(len);
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  // Group only if three entries fit side by side and no entry dwarfs the rest.
  if (actualMax * 3 + ctx.indentationLvl >= ctx.breakLength) return output;
  if (!(totalLength / actualMax > 5 || maxLength <= 6)) return output;

  const averageBias = Math.sqrt(actualMax - totalLength / output.length);
  const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
  const columns = Math.min(
    Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
    Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
    Number(ctx.compact) * 4,
    15,
  );
  if (columns <= 1) return output;

  const maxLineLength: number[] = [];
  for (let i = 0; i < columns; i++) {
    let lineLength = 0;
    for (let j = i; j < output.length; j += columns) {
      if (dataLen[j] > lineLength) lineLength = dataLen[j];
    }
    maxLineLength.push(lineLength + separatorSpace);
  }
  let padStart = true;
  if (value !== undefined) {
    const list = value as ArrayLike<unknown>;
    for (let i = 0; i < output.length; i++) {
      if (typeof list[i] !== 'number' && typeof list[i] !== 'bigint') {
        padStart = false;
        break;
      }
    }
  }
  const grouped: string[] = [];
  for (let i = 0; i < outputLength; i += columns) {
    const max = Math.min(i + columns, outputLength);
    let line = '';
    let j = i;
    for (; j < max - 1; j++) {
      const cell = `${output[j]}, `;
      line += padStart ? cell.padStart(maxLineLength[j - i]) : cell.padEnd(maxLineLength[j - i]);
    }
    line += padStart ? output[j].padStart(maxLineLength[j - i] - separatorSpace) : output[j];
    grouped.push(line);
  }
  if (ctx.maxArrayLength < output.length) grouped.push(output[outputLength]);
  return grouped;
}

/**
 * Joins formatted entries into the final text: on one line when the innermost levels are shallow
 * enough (compact = 3) and everything fits in breakLength, otherwise one entry per line.
 */
export function reduceToSingleString(
  ctx: LayoutContext,
  output: string[],
  base: string,
  braces: [string, string],
  isArrayLike: boolean,
  recurseTimes: number,
  value: unknown,
): string {
  const prefix = base ? `${base} ` : '';
  if (ctx.compact !== true) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (isArrayLike && entries > 6) output = groupArrayElements(ctx, output, value);
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        // The 10 leaves room for what precedes the value on its line (key, indentation).
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (fitsOnOneLine(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (joined.indexOf('\n') === -1) return `${prefix}${braces[0]} ${joined} ${braces[1]}`;
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${prefix}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (fitsOnOneLine(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
  }
  const indentation = ' '.repeat(ctx.indentationLvl);
  const ln = base === '' && braces[0].length === 1 ? ' ' : `${base ? ` ${base}` : ''}\n${indentation}  `;
  return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}
