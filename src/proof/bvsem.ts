/**
 * The meaning of every bitvector operation on plain numbers, following SMT-LIB's FixedSizeBitVectors
 * theory (division by zero: `bvudiv x 0 = 2^w − 1`, `bvurem x 0 = x`; shifts by ≥ w give 0). Shared by the
 * concrete interpreter, the symbolic constant folder and the term evaluator, so the three cannot drift.
 * Operands are unsigned numbers already in [0, 2^w); results are too.
 */

export function maskOf(width: number): number {
  return width === 32 ? 0xffffffff : 2 ** width - 1;
}

export const bvAdd = (mask: number, a: number, b: number): number => ((a + b) & mask) >>> 0;
export const bvSub = (mask: number, a: number, b: number): number => ((a - b) & mask) >>> 0;
export const bvMul = (mask: number, a: number, b: number): number => (Math.imul(a, b) & mask) >>> 0;
export const bvNeg = (mask: number, a: number): number => (-a & mask) >>> 0;
export const bvNot = (mask: number, a: number): number => (~a & mask) >>> 0;
export const bvAnd = (a: number, b: number): number => (a & b) >>> 0;
export const bvOr = (a: number, b: number): number => (a | b) >>> 0;
export const bvXor = (a: number, b: number): number => (a ^ b) >>> 0;
export const bvShl = (width: number, mask: number, a: number, b: number): number =>
  b >= width ? 0 : ((a << b) & mask) >>> 0;
export const bvLshr = (a: number, b: number): number => (b >= 32 ? 0 : a >>> b);
export const bvUdiv = (mask: number, a: number, b: number): number => (b === 0 ? mask : Math.floor(a / b));
export const bvUrem = (a: number, b: number): number => (b === 0 ? a : a % b);
export const bvExtract = (hi: number, lo: number, a: number): number =>
  ((a >>> lo) & maskOf(hi - lo + 1)) >>> 0;
export const bvConcat = (a: number, b: number, bWidth: number): number => a * 2 ** bWidth + b;
