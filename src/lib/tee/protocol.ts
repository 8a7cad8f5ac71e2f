/**
 * The TEE message protocol between the Normal World client library and the trusted-application
 * framework: how an open-session, invoke-command or close-session request and its answer travel in an
 * SMC (label and four message registers) plus a byte payload. Both ends are untrusting: every decoder
 * checks every length and type and answers malformed input with a typed error, never an exception.
 *
 * Request:  label = operation, mr0 = session, mr1 = command, mr2 = parameter types (TEEC_PARAM_TYPES),
 *           mr3 = operation id (for cancellation).
 * Answer:   label = TEE result, mr0 = return origin, mr1 = session, mr2 = parameter types, mr3 = 0.
 * Payload (both ways, little-endian): 4 parameter slots of 16 bytes (u32 a, u32 b, u32 c, u32 inline
 * length), then for OPEN requests the UUID (16 bytes) and login method (u32), then the inline bytes of
 * temporary memory references, in parameter order.
 *   value:            a, b
 *   temporary memref: size = c, its bytes inline (input: the client's data; output: what the TA wrote)
 *   shared memref:    a = region, b = offset, c = size (whole: offset 0, size of the shared memory)
 */
import { PARAM_COUNT, ParamType, isParamType, paramTypeAt } from './gp.js';

export const Operation = { OPEN_SESSION: 1, INVOKE_COMMAND: 2, CLOSE_SESSION: 3 } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

export type Param =
  | { readonly kind: 'none' }
  | { readonly kind: 'value'; readonly a: number; readonly b: number }
  | { readonly kind: 'temp'; readonly size: number; readonly data: Uint8Array }
  | { readonly kind: 'shared'; readonly region: number; readonly offset: number; readonly size: number };

export interface Message {
  readonly label: number;
  readonly mr: readonly [number, number, number, number];
  readonly payload: Uint8Array;
}

export interface Request {
  readonly operation: Operation;
  readonly session: number;
  readonly command: number;
  readonly paramTypes: number;
  readonly operationId: number;
  readonly params: readonly Param[];
  /** OPEN_SESSION only. */
  readonly uuid?: Uint8Array;
  readonly login?: number;
}

export interface Answer {
  readonly result: number;
  readonly origin: number;
  readonly session: number;
  readonly paramTypes: number;
  readonly params: readonly Param[];
}

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string; readonly offset: number };

const SLOT = 16;
const SLOTS = SLOT * PARAM_COUNT;
const OPEN_EXTRA = 20;
/** The payload limit of one SMC (the syscall channel's payload area). */
export const MAX_PAYLOAD = 4096;

export function isTemp(t: number): boolean {
  return (
    t === ParamType.MEMREF_TEMP_INPUT ||
    t === ParamType.MEMREF_TEMP_OUTPUT ||
    t === ParamType.MEMREF_TEMP_INOUT
  );
}

export function isShared(t: number): boolean {
  return (
    t === ParamType.MEMREF_WHOLE ||
    t === ParamType.MEMREF_PARTIAL_INPUT ||
    t === ParamType.MEMREF_PARTIAL_OUTPUT ||
    t === ParamType.MEMREF_PARTIAL_INOUT
  );
}

export function isValue(t: number): boolean {
  return t === ParamType.VALUE_INPUT || t === ParamType.VALUE_OUTPUT || t === ParamType.VALUE_INOUT;
}

/** Does data flow into the TA (input/inout), out of it (output/inout)? */
export function direction(t: number): { readonly input: boolean; readonly output: boolean } {
  const low = t & 0x3;
  if (t === ParamType.MEMREF_WHOLE) return { input: true, output: true };
  return { input: (low & 1) !== 0, output: (low & 2) !== 0 };
}

function encodeParams(
  paramTypes: number,
  params: readonly Param[],
  extra: Uint8Array | undefined,
  carryTempData: (t: number) => boolean,
): Uint8Array {
  const inline: Uint8Array[] = [];
  let inlineLength = 0;
  const head = new Uint8Array(SLOTS + (extra?.length ?? 0));
  const view = new DataView(head.buffer);
  for (let i = 0; i < PARAM_COUNT; i++) {
    const p = params[i] ?? { kind: 'none' };
    const t = paramTypeAt(paramTypes, i);
    const at = i * SLOT;
    if (p.kind === 'value') {
      view.setUint32(at, p.a >>> 0, true);
      view.setUint32(at + 4, p.b >>> 0, true);
    } else if (p.kind === 'temp') {
      view.setUint32(at + 8, p.size >>> 0, true);
      if (carryTempData(t)) {
        const data = p.data.subarray(0, p.size);
        view.setUint32(at + 12, data.length, true);
        inline.push(data);
        inlineLength += data.length;
      }
    } else if (p.kind === 'shared') {
      view.setUint32(at, p.region >>> 0, true);
      view.setUint32(at + 4, p.offset >>> 0, true);
      view.setUint32(at + 8, p.size >>> 0, true);
    }
  }
  if (extra) head.set(extra, SLOTS);
  const out = new Uint8Array(head.length + inlineLength);
  out.set(head);
  let o = head.length;
  for (const d of inline) {
    out.set(d, o);
    o += d.length;
  }
  return out;
}

function decodeParams(
  paramTypes: number,
  payload: Uint8Array,
  extraLength: number,
  hasTempData: (t: number) => boolean,
): Decoded<{ params: Param[]; extra: Uint8Array }> {
  if (payload.length < SLOTS + extraLength)
    return {
      ok: false,
      reason: `payload of ${payload.length} bytes is shorter than its header (${SLOTS + extraLength})`,
      offset: payload.length,
    };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let inlineAt = SLOTS + extraLength;
  const params: Param[] = [];
  for (let i = 0; i < PARAM_COUNT; i++) {
    const t = paramTypeAt(paramTypes, i);
    const at = i * SLOT;
    if (!isParamType(t))
      return { ok: false, reason: `parameter ${i} has unknown type 0x${t.toString(16)}`, offset: at };
    const a = view.getUint32(at, true);
    const b = view.getUint32(at + 4, true);
    const c = view.getUint32(at + 8, true);
    const length = view.getUint32(at + 12, true);
    if (t === ParamType.NONE) params.push({ kind: 'none' });
    else if (isValue(t)) params.push({ kind: 'value', a, b });
    else if (isTemp(t)) {
      if (!hasTempData(t)) {
        if (length !== 0)
          return { ok: false, reason: `parameter ${i} carries data it should not`, offset: at + 12 };
        params.push({ kind: 'temp', size: c, data: new Uint8Array(0) });
      } else {
        if (length > c)
          return {
            ok: false,
            reason: `parameter ${i}: ${length} inline bytes for a buffer of ${c}`,
            offset: at + 12,
          };
        if (inlineAt + length > payload.length)
          return { ok: false, reason: `parameter ${i}: inline data runs past the payload`, offset: at + 12 };
        params.push({ kind: 'temp', size: c, data: payload.slice(inlineAt, inlineAt + length) });
        inlineAt += length;
      }
    } else params.push({ kind: 'shared', region: a, offset: b, size: c });
  }
  if (inlineAt !== payload.length)
    return {
      ok: false,
      reason: `${payload.length - inlineAt} bytes after the last parameter`,
      offset: inlineAt,
    };
  return { ok: true, value: { params, extra: payload.slice(SLOTS, SLOTS + extraLength) } };
}

export function encodeRequest(r: Request): Message {
  let extra: Uint8Array | undefined;
  if (r.operation === Operation.OPEN_SESSION) {
    extra = new Uint8Array(OPEN_EXTRA);
    extra.set((r.uuid ?? new Uint8Array(16)).subarray(0, 16));
    new DataView(extra.buffer).setUint32(16, r.login ?? 0, true);
  }
  return {
    label: r.operation,
    mr: [r.session >>> 0, r.command >>> 0, r.paramTypes >>> 0, r.operationId >>> 0],
    payload: encodeParams(r.paramTypes, r.params, extra, (t) => direction(t).input),
  };
}

export function decodeRequest(m: Message): Decoded<Request> {
  const operation = m.label;
  if (
    operation !== Operation.OPEN_SESSION &&
    operation !== Operation.INVOKE_COMMAND &&
    operation !== Operation.CLOSE_SESSION
  )
    return { ok: false, reason: `unknown operation ${operation}`, offset: 0 };
  const [session, command, paramTypes, operationId] = m.mr;
  const open = operation === Operation.OPEN_SESSION;
  const d = decodeParams(paramTypes, m.payload, open ? OPEN_EXTRA : 0, (t) => direction(t).input);
  if (!d.ok) return d;
  const base = { operation, session, command, paramTypes, operationId, params: d.value.params };
  if (!open) return { ok: true, value: base };
  const extra = d.value.extra;
  return {
    ok: true,
    value: {
      ...base,
      uuid: extra.slice(0, 16),
      login: new DataView(extra.buffer, extra.byteOffset).getUint32(16, true),
    },
  };
}

export function encodeAnswer(a: Answer): Message {
  return {
    label: a.result >>> 0,
    mr: [a.origin >>> 0, a.session >>> 0, a.paramTypes >>> 0, 0],
    payload: encodeParams(a.paramTypes, a.params, undefined, (t) => direction(t).output),
  };
}

export function decodeAnswer(m: Message): Decoded<Answer> {
  const [origin, session, paramTypes] = m.mr;
  const d = decodeParams(paramTypes, m.payload, 0, (t) => direction(t).output);
  if (!d.ok) return d;
  return { ok: true, value: { result: m.label >>> 0, origin, session, paramTypes, params: d.value.params } };
}
