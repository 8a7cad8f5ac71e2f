/** CAN frames as plain data, for snapshots and traces (the frame codecs are in `src/lib/can/frame.ts`). */
import type { CanFrame } from '../../lib/can/frame.js';
import type { Json } from '../device.js';

/** Plain-data form for snapshots and traces. */
export interface CanFrameJson {
  readonly id: number;
  readonly extended: boolean;
  readonly remote: boolean;
  readonly dlc: number;
  readonly data: string;
  readonly [key: string]: Json;
}

export function frameToJson(f: CanFrame): CanFrameJson {
  return {
    id: f.id,
    extended: f.extended,
    remote: f.remote,
    dlc: f.dlc,
    data: Buffer.from(f.data).toString('hex'),
  };
}

export function frameFromJson(j: CanFrameJson): CanFrame {
  return {
    id: j.id,
    extended: j.extended,
    remote: j.remote,
    dlc: j.dlc,
    data: new Uint8Array(Buffer.from(j.data, 'hex')),
  };
}
