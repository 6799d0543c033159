// Input history for the line editor: up/down walk older/newer entries, the draft line is kept.

/** Submitted lines, newest last, with a browsing cursor. */
export class History {
  private entries: string[] = [];
  /** entries.length means "not browsing" (at the draft). */
  private index = 0;
  private draft = '';

  constructor(readonly maxSize = 1000) {}

  /** Records a submitted line (blank lines and repeats of the newest entry are skipped) and stops browsing. */
  add(line: string): void {
    if (line.trim() !== '' && this.entries[this.entries.length - 1] !== line) {
      this.entries.push(line);
      if (this.entries.length > this.maxSize) this.entries.shift();
    }
    this.reset();
  }

  /** Stops browsing; the next prev() starts from the newest entry. */
  reset(): void {
    this.index = this.entries.length;
    this.draft = '';
  }

  /** The entry before the current one, or undefined at the oldest; `current` is saved as the draft. */
  prev(current: string): string | undefined {
    if (this.index === 0) return undefined;
    if (this.index === this.entries.length) this.draft = current;
    this.index--;
    return this.entries[this.index];
  }

  /** The entry after the current one, the draft past the newest, or undefined when not browsing. */
  next(): string | undefined {
    if (this.index >= this.entries.length) return undefined;
    this.index++;
    return this.index === this.entries.length ? this.draft : this.entries[this.index];
  }

  /** All entries, oldest first. */
  list(): string[] {
    return this.entries.slice();
  }
}
