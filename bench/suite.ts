/** A benchmark suite: measures, then returns plain JSON-able figures. */
export interface BenchSuite {
  readonly name: string;
  run(): Promise<Record<string, unknown>>;
}

/** Median and p99 of a sample, in the sample's unit. */
export function percentiles(samples: number[]): { median: number; p99: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p99: at(0.99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** Runs `fn` repeatedly for at least `ms` milliseconds; returns operations per second. */
export function opsPerSecond(fn: () => number, ms = 500): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    ops += fn();
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}
