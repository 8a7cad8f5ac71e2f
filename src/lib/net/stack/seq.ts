/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, "Sequence Numbers"): comparisons hold while
 * the two numbers are less than 2^31 apart, which the window sizes in use guarantee.
 */

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a − b as a signed distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
