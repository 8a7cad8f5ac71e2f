/**
 * The firewall's log: a ring of a fixed number of lines, each cut to a fixed length, drained to the
 * console once per pass. When it is full the newest lines are dropped and counted, and the next drain
 * says how many (as net_ratelimit's "N callbacks suppressed" does): a flood can cost log lines, never
 * memory, and the counters the lines would have explained stay exact.
 */
export interface LogRingCounters {
  /** Lines taken into the ring. */
  logged: number;
  /** Lines dropped because the ring was full. */
  dropped: number;
  /** Lines cut to the longest a line may be. */
  truncated: number;
}

export class LogRing {
  private readonly slots: (string | undefined)[];
  private head = 0;
  private size = 0;
  private droppedSinceDrain = 0;
  readonly counters: LogRingCounters = { logged: 0, dropped: 0, truncated: 0 };

  constructor(
    readonly capacity: number,
    private readonly maxLine = 512,
  ) {
    this.slots = new Array<string | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  /** Lines held now. */
  get length(): number {
    return this.size;
  }

  push(line: string): void {
    if (this.size === this.slots.length) {
      this.counters.dropped++;
      this.droppedSinceDrain++;
      return;
    }
    if (line.length > this.maxLine) {
      line = `${line.slice(0, this.maxLine)}…`;
      this.counters.truncated++;
    }
    this.slots[(this.head + this.size) % this.slots.length] = line;
    this.size++;
    this.counters.logged++;
  }

  /**
   * Empties the ring, oldest line first, followed by a line counting those dropped since the last
   * drain; the lines are joined into texts of at most `chunk` characters (one console write each).
   */
  drain(chunk = 3900): string[] {
    const lines: string[] = [];
    for (; this.size > 0; this.size--) {
      lines.push(this.slots[this.head] as string);
      this.slots[this.head] = undefined;
      this.head = (this.head + 1) % this.slots.length;
    }
    if (this.droppedSinceDrain > 0)
      lines.push(`fw: … ${this.droppedSinceDrain} more log lines suppressed (the counters are exact)`);
    this.droppedSinceDrain = 0;
    const texts: string[] = [];
    let text = '';
    for (const l of lines) {
      const piece = l.length + 1 > chunk ? l.slice(0, chunk - 1) : l;
      if (text.length + piece.length + 1 > chunk) {
        texts.push(text);
        text = '';
      }
      text += `${piece}\n`;
    }
    if (text !== '') texts.push(text);
    return texts;
  }
}
