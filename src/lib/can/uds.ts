/**
 * Unified Diagnostic Services (ISO 14229-1) service identifiers and negative response codes, and ISO-TP
 * (ISO 15765-2) single frames: what a diagnostic server (`src/soc/nodes/uds.ts`) and a tester share.
 */

export const SID = {
  sessionControl: 0x10,
  testerPresent: 0x3e,
  readDataByIdentifier: 0x22,
  routineControl: 0x31,
  ioControl: 0x2f,
} as const;

export const NRC = {
  serviceNotSupported: 0x11,
  subFunctionNotSupported: 0x12,
  incorrectLength: 0x13,
  conditionsNotCorrect: 0x22,
  requestOutOfRange: 0x31,
  serviceNotSupportedInActiveSession: 0x7f,
} as const;

/** ISO 15765-2 single frame: [PCI 0x0L, payload (L ≤ 7)], padded to 8 bytes with 0xAA. */
export function isoTpSingleFrame(payload: Uint8Array | readonly number[]): Uint8Array {
  const p = Uint8Array.from(payload);
  if (p.length < 1 || p.length > 7) throw new RangeError('an ISO-TP single frame carries 1 to 7 bytes');
  const out = new Uint8Array(8).fill(0xaa);
  out[0] = p.length;
  out.set(p, 1);
  return out;
}

/** The payload of an ISO-TP single frame, or undefined for any other frame type or a bad length. */
export function isoTpPayload(data: Uint8Array): Uint8Array | undefined {
  const pci = data[0];
  if (pci === undefined || pci >> 4 !== 0) return undefined;
  const len = pci & 0x0f;
  if (len < 1 || len > 7 || len + 1 > data.length) return undefined;
  return data.slice(1, 1 + len);
}
