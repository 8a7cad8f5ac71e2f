/**
 * The vehicle CAN message set of the emulated ECUs. Identifiers are made up (simulation only); the shapes
 * follow the public description of the 2015 attacks: normal frames protected by a rolling counter and a
 * CRC-8 without a key, diagnostics on 29-bit identifiers with the tester at address 0xF1.
 */

/** Engine status, broadcast by the engine ECU every 100 ms: [rpm hi, rpm lo, speed km/h, flags bit0 running, 0, 0, ctr, crc]. */
export const ENGINE_STATUS = 0x1a0;
/** Brake pressure request (driver-assist): [pressure bar, 0, 0, 0, 0, 0, ctr, crc]. */
export const BRAKE_REQUEST = 0x220;
/** Park-assist steering torque request: [torque hi, torque lo (int16, 0.01 N·m), 0, 0, 0, 0, ctr, crc]. */
export const STEERING_TORQUE = 0x2e0;

export const ENGINE_STATUS_PERIOD_NS = 100_000_000;

/** ISO 15765-4 normal fixed addressing (29-bit): request 0x18DA<target><source>, response 0x18DA<source><target>. */
export const TESTER_ADDRESS = 0xf1;
export function diagRequestId(target: number, source = TESTER_ADDRESS): number {
  return (0x18da0000 | (target << 8) | source) >>> 0;
}
export function diagResponseId(ecu: number, tester = TESTER_ADDRESS): number {
  return (0x18da0000 | (tester << 8) | ecu) >>> 0;
}

/** Default diagnostic addresses of the emulated ECUs. */
export const DIAG_ADDRESS = { 'engine-ecu': 0x10, 'brake-ecu': 0x28, 'steering-ecu': 0x30 } as const;

/** Routine (0x31) that stops the engine (a cylinder cut-out test). */
export const ROUTINE_ENGINE_STOP = 0x0203;
/** I/O control identifier (0x2F) that opens the brake bleed valves. */
export const IO_BRAKE_BLEED = 0x0101;
/** Data identifier (0x22) every ECU answers with its state. */
export const DID_STATE = 0x0100;
