/**
 * End-to-end protection of the vehicle's normal CAN frames, in the style of AUTOSAR E2E Profile 1 (the
 * 2015 vehicles used a rolling counter and a CRC-8 without any key — anyone on the bus can compute both).
 * Layout of a protected 8-byte frame (Rampart's own, made-up message set):
 *   bytes 0–5  signals
 *   byte 6     bits 3:0 rolling counter (0–15), bits 7:4 signals
 *   byte 7     CRC-8 SAE J1850 over [id >> 8, id & 0xff, bytes 0–6]
 * The receiver accepts a counter that advanced by 1..MAX_DELTA (frames may be lost), rejects a repeated
 * one, and after a jump re-synchronises on the next frame.
 */

/** CRC-8 SAE J1850: polynomial 0x1D, initial value 0xFF, final XOR 0xFF (check value 0x4B for "123456789"). */
export function crc8SaeJ1850(bytes: Uint8Array | readonly number[]): number {
  let crc = 0xff;
  for (const b of bytes) {
    crc ^= b & 0xff;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x1d) & 0xff : (crc << 1) & 0xff;
  }
  return crc ^ 0xff;
}

/** Builds the 8 data bytes of a protected frame from 7 payload bytes and a counter. */
export function protect(id: number, payload: readonly number[] | Uint8Array, counter: number): Uint8Array {
  const data = new Uint8Array(8);
  data.set(Array.from(payload).slice(0, 7));
  data[6] = ((data[6] as number) & 0xf0) | (counter & 0x0f);
  data[7] = crc8SaeJ1850([(id >> 8) & 0xff, id & 0xff, ...data.subarray(0, 7)]);
  return data;
}

export type E2eCheck =
  | { readonly ok: true; readonly counter: number }
  | { readonly ok: false; readonly code: 'LENGTH' | 'CRC' | 'REPEATED' | 'WRONG_SEQUENCE' };

export const MAX_DELTA = 2;

/** Receiver state of one protected message. */
export class E2eReceiver {
  private last: number | undefined;

  check(id: number, data: Uint8Array): E2eCheck {
    if (data.length !== 8) return { ok: false, code: 'LENGTH' };
    if (crc8SaeJ1850([(id >> 8) & 0xff, id & 0xff, ...data.subarray(0, 7)]) !== data[7])
      return { ok: false, code: 'CRC' };
    const counter = (data[6] as number) & 0x0f;
    const last = this.last;
    this.last = counter;
    if (last === undefined) return { ok: true, counter };
    const delta = (counter - last + 16) % 16;
    if (delta === 0) return { ok: false, code: 'REPEATED' };
    if (delta > MAX_DELTA) return { ok: false, code: 'WRONG_SEQUENCE' };
    return { ok: true, counter };
  }

  get lastCounter(): number | undefined {
    return this.last;
  }

  set lastCounter(v: number | undefined) {
    this.last = v;
  }
}
