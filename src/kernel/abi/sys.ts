/**
 * The partition side of the syscall ABI: typed wrappers over the `sys` endowment, the only thing a
 * partition's compartment receives. Bundled into every partition program (trusted applications and the
 * Normal World alike); it holds no authority of its own.
 */
import { decodeUtf8, encodeUtf8 } from '../../common/utf8.js';
import { callTable, type CallName } from '../core/table.js';
import { E } from '../core/errors.js';
import { Result, services, type ServiceName } from './services.js';

/** The kernel's result codes and memory access rights, as a partition names them: the ABI's own. */
export { E } from '../core/errors.js';
export { R, W, X } from '../core/profile.js';

/** The endowment's shape (src/kernel/runtime/partition-worker.ts). */
export interface RawSys {
  call(call: number, ...words: number[]): number[];
  callWithPayload(
    call: number,
    payload: Uint8Array,
    ...words: number[]
  ): { results: number[]; payload: Uint8Array };
  /** A live view of a non-secure region the partition maps (Normal World partitions only). */
  memory(region: number): Uint8Array | undefined;
}

declare const sys: RawSys;

/** What a call returned: its code and, for a woken partition, the message it was woken with. */
export interface Reply {
  readonly code: number;
  readonly value: number;
  readonly label: number;
  readonly badge: number;
  readonly mr: readonly [number, number, number, number];
  /** Bytes that came with the reply (IPC payload, a memory copy, log acknowledgements are empty). */
  readonly payload: Uint8Array;
}

const empty = new Uint8Array(0);

function reply(results: readonly number[], payload: Uint8Array = empty): Reply {
  return {
    code: results[Result.CODE] ?? E.EINVAL,
    value: results[Result.VALUE] ?? 0,
    label: results[Result.LABEL] ?? 0,
    badge: results[Result.BADGE] ?? 0,
    mr: [
      results[Result.MR0] ?? 0,
      results[Result.MR0 + 1] ?? 0,
      results[Result.MR0 + 2] ?? 0,
      results[Result.MR0 + 3] ?? 0,
    ],
    payload,
  };
}

/** A kernel-core call by name, arguments in the call table's order (without the caller). */
export function kcall(name: CallName, ...words: number[]): Reply {
  return reply(sys.call(callTable[name].number, ...words));
}

/** A kernel-core call that carries a payload (IPC: send, call, reply, smc). */
export function kcallWithPayload(name: CallName, payload: Uint8Array, ...words: number[]): Reply {
  const r = sys.callWithPayload(callTable[name].number, payload, ...words);
  return reply(r.results, r.payload);
}

export function service(name: ServiceName, ...words: number[]): Reply {
  return reply(sys.call(services[name].number, ...words));
}

export function serviceWithPayload(name: ServiceName, payload: Uint8Array, ...words: number[]): Reply {
  const r = sys.callWithPayload(services[name].number, payload, ...words);
  return reply(r.results, r.payload);
}

export function memoryView(region: number): Uint8Array | undefined {
  return sys.memory(region);
}

// ---- conveniences used by every partition program

export function log(text: string): void {
  serviceWithPayload('log', encodeUtf8(text));
}

/** Virtual time in nanoseconds. */
export function now(): bigint {
  const r = service('clock');
  return (BigInt(r.label >>> 0) << 32n) | BigInt(r.value >>> 0);
}

/** The partition's boot information (names, its capability slots, the TEE directory…). */
export function bootInfo<T = unknown>(): T {
  const r = serviceWithPayload('boot_info', new Uint8Array(0));
  return JSON.parse(decodeUtf8(r.payload)) as T;
}

/**
 * A data component of this trusted application's signed package (`ta-data` `<application>/<file>` in the
 * secure bundle, measured at boot), or undefined if the bundle has none of that name.
 */
export function taData(file: string): Uint8Array | undefined {
  const name = encodeUtf8(file);
  const first = serviceWithPayload('ta_data', name, 0);
  if (first.code !== E.OK) return undefined;
  const out = new Uint8Array(first.value);
  out.set(first.payload.subarray(0, out.length));
  for (let at = first.payload.length; at < out.length;) {
    const r = serviceWithPayload('ta_data', name, at);
    if (r.code !== E.OK || r.payload.length === 0) return undefined;
    out.set(r.payload.subarray(0, out.length - at), at);
    at += r.payload.length;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/**
 * Byte access to a region the partition maps, by copies through the kernel (`mem_read`/`mem_write`, at
 * most 4096 bytes per call; each copy re-checks the mapping). What a secure partition uses for shared
 * rings and DMA memory: it is never handed a live view of secure memory.
 */
export function regionCopier(region: number): {
  read(offset: number, length: number): Uint8Array | undefined;
  write(offset: number, bytes: Uint8Array): boolean;
} {
  return {
    read(offset, length) {
      if (length <= 4096) {
        const r = serviceWithPayload('mem_read', EMPTY, region, offset, length);
        return r.code === E.OK && r.payload.length === length ? r.payload : undefined;
      }
      const out = new Uint8Array(length);
      for (let at = 0; at < length; at += 4096) {
        const n = Math.min(4096, length - at);
        const r = serviceWithPayload('mem_read', EMPTY, region, offset + at, n);
        if (r.code !== E.OK || r.payload.length !== n) return undefined;
        out.set(r.payload, at);
      }
      return out;
    },
    write(offset, bytes) {
      for (let at = 0; at < bytes.length; at += 4096) {
        const r = serviceWithPayload('mem_write', bytes.subarray(at, at + 4096), region, offset + at);
        if (r.code !== E.OK) return false;
      }
      return true;
    },
  };
}

/** A mapped region's size and physical base address (for DMA descriptors), or undefined. */
export function regionInfo(region: number): { size: number; physicalBase: number } | undefined {
  const r = service('region_info', region);
  return r.code === E.OK ? { size: r.value >>> 0, physicalBase: r.label >>> 0 } : undefined;
}

/** The 32-bit registers of a device the partition owns (`mmio_read`/`mmio_write`). */
export function deviceRegisters(device: number): {
  read(offset: number): number | undefined;
  write(offset: number, value: number): boolean;
} {
  return {
    read(offset) {
      const r = service('mmio_read', device, offset);
      return r.code === E.OK ? r.value >>> 0 : undefined;
    },
    write(offset, value) {
      return service('mmio_write', device, offset, value).code === E.OK;
    },
  };
}
