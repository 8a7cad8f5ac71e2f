/**
 * Classical CAN frames (ISO 11898-1 / CAN 2.0A and 2.0B): 11-bit (standard) and 29-bit (extended)
 * identifiers, data and remote frames, DLC 0–15 with at most 8 data bytes. Provides the arbitration order
 * (the bit sequence a node drives during arbitration; dominant 0 wins, so the numerically lowest
 * sequence wins) and the exact length of the frame on the wire including stuff bits.
 */
import { assert } from '../../common/errors.js';

export interface CanFrame {
  /** 11-bit identifier when `extended` is false, 29-bit otherwise. */
  readonly id: number;
  readonly extended: boolean;
  readonly remote: boolean;
  /** Data length code 0–15; a data frame carries min(dlc, 8) bytes. */
  readonly dlc: number;
  readonly data: Uint8Array;
}

export function canFrame(
  id: number,
  data: Uint8Array | readonly number[] = [],
  options: { extended?: boolean; remote?: boolean; dlc?: number } = {},
): CanFrame {
  const extended = options.extended ?? false;
  const remote = options.remote ?? false;
  const bytes = Uint8Array.from(remote ? [] : data);
  const dlc = options.dlc ?? bytes.length;
  assert(Number.isInteger(id) && id >= 0 && id < (extended ? 2 ** 29 : 2 ** 11), `CAN id ${id} out of range`);
  assert(Number.isInteger(dlc) && dlc >= 0 && dlc <= 15, `DLC ${dlc} out of range`);
  assert(remote || bytes.length === Math.min(dlc, 8), 'data length does not match the DLC');
  return { id, extended, remote, dlc, data: bytes };
}

/** Data bytes a frame carries. */
export function dataLength(f: CanFrame): number {
  return f.remote ? 0 : Math.min(f.dlc, 8);
}

/**
 * Arbitration value: the arbitration field as one number, lower wins (ISO 11898-1 §10.4.6.2).
 * Standard: ID[10:0] RTR IDE=0. Extended: ID[28:18] SRR=1 IDE=1 ID[17:0] RTR. Hence at equal base ID a
 * standard data frame beats a standard remote frame, which beats any extended frame.
 */
export function arbitrationKey(f: CanFrame): number {
  if (!f.extended) return f.id * 2 ** 21 + (f.remote ? 2 ** 20 : 0);
  const base = Math.floor(f.id / 2 ** 18);
  const ext = f.id % 2 ** 18;
  return base * 2 ** 21 + 2 ** 20 + 2 ** 19 + ext * 2 + (f.remote ? 1 : 0);
}

/** The unstuffed bits from SOF to the end of the CRC sequence. */
function bitsToCrcEnd(f: CanFrame): number[] {
  const bits: number[] = [0]; // SOF
  const push = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push(Math.floor(v / 2 ** i) % 2);
  };
  if (f.extended) {
    push(Math.floor(f.id / 2 ** 18), 11);
    push(1, 1); // SRR
    push(1, 1); // IDE
    push(f.id % 2 ** 18, 18);
    push(f.remote ? 1 : 0, 1);
    push(0, 2); // r1, r0
  } else {
    push(f.id, 11);
    push(f.remote ? 1 : 0, 1);
    push(0, 2); // IDE, r0
  }
  push(f.dlc, 4);
  for (let i = 0; i < dataLength(f); i++) push(f.data[i] as number, 8);
  push(crc15(bits), 15);
  return bits;
}

/** CAN CRC-15, polynomial x^15+x^14+x^10+x^8+x^7+x^4+x^3+1 (0x4599) (ISO 11898-1 §10.4.2.6). */
export function crc15(bits: readonly number[]): number {
  let crc = 0;
  for (const b of bits) {
    const next = b ^ ((crc >> 14) & 1);
    crc = (crc << 1) & 0x7fff;
    if (next) crc ^= 0x4599;
  }
  return crc;
}

/** Bits on the wire: stuffed SOF…CRC, then CRC delimiter, ACK slot and delimiter, EOF (7), intermission (3). */
export function frameBits(f: CanFrame): number {
  const bits = bitsToCrcEnd(f);
  let stuffed = 0;
  let run = 0;
  let last = -1;
  for (const b of bits) {
    stuffed++;
    if (b === last) run++;
    else {
      last = b;
      run = 1;
    }
    if (run === 5) {
      stuffed++; // stuff bit of the opposite value starts a new run
      last = 1 - b;
      run = 1;
    }
  }
  return stuffed + 1 + 2 + 7 + 3;
}

/** `(IDE << 31) | (RTR << 30) | id`: the identifier word of mailbox and filter registers. */
export function idWord(f: CanFrame): number {
  return ((f.extended ? 0x80000000 : 0) | (f.remote ? 0x40000000 : 0) | f.id) >>> 0;
}

export function frameFromWords(idw: number, dlc: number, lo: number, hi: number): CanFrame {
  const extended = (idw & 0x80000000) !== 0;
  const remote = (idw & 0x40000000) !== 0;
  const id = extended ? idw & 0x1fffffff : idw & 0x7ff;
  const n = remote ? 0 : Math.min(dlc & 0xf, 8);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i < 4 ? lo : hi) >>> (8 * (i % 4))) & 0xff;
  return { id, extended, remote, dlc: dlc & 0xf, data };
}

export function dataWords(f: CanFrame): [number, number] {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < f.data.length; i++) {
    if (i < 4) lo |= (f.data[i] as number) << (8 * i);
    else hi |= (f.data[i] as number) << (8 * (i - 4));
  }
  return [lo >>> 0, hi >>> 0];
}
