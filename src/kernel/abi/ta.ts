/**
 * The trusted-application framework (the part of a TA that OP-TEE calls libutee): it runs inside the
 * application's compartment with the application's authority and none more, receives requests on the
 * application's endpoint, and calls the GP entry points (TEE Internal Core API §4.3: create, open
 * session, invoke command, close session, destroy).
 *
 * Memory references: a temporary memref arrives inline in the message; a shared one names a region of
 * Normal World memory the client shared with this application's domain. Either way the framework copies
 * the input into the application's private memory BEFORE the entry point sees it (the Normal World may
 * keep writing to its memory), and copies output back only after the entry point returned.
 */
import { ParamType, ReturnOrigin, TeeResult, paramTypeAt, PARAM_COUNT } from '../../lib/tee/gp.js';
import {
  Operation,
  decodeRequest,
  direction,
  encodeAnswer,
  isShared,
  isTemp,
  isValue,
  MAX_PAYLOAD,
  type Param,
} from '../../lib/tee/protocol.js';
import { kcall, kcallWithPayload, regionInfo, serviceWithPayload } from './sys.js';
import { E } from '../core/errors.js';
import { R, W } from '../core/profile.js';

/** A parameter as an entry point sees it: values are numbers, memory references private byte arrays. */
export type TaParam =
  | { readonly type: 'none' }
  | { readonly type: 'value'; a: number; b: number }
  | { readonly type: 'memref'; buffer: Uint8Array; size: number };

/** The GP entry points. Each returns a TEE result code (`TeeResult.SUCCESS` …). */
export interface TrustedApplication<S = unknown> {
  create?(): number;
  destroy?(): void;
  openSession(paramTypes: number, params: TaParam[]): { result: number; session?: S };
  closeSession?(session: S): void;
  invokeCommand(session: S, command: number, paramTypes: number, params: TaParam[]): number;
}

export interface FrameworkOptions {
  /** The capability slot of the endpoint the application serves. */
  readonly endpointSlot: number;
  /** Most sessions at once (gpd.ta.multiSession false means 1). */
  readonly maxSessions?: number;
}

const CHUNK = MAX_PAYLOAD;

/** Copies a region of shared memory into private memory, chunk by chunk (mem_read re-checks the mapping). */
function copyIn(region: number, offset: number, size: number): Uint8Array | undefined {
  const out = new Uint8Array(size);
  for (let done = 0; done < size;) {
    const n = Math.min(CHUNK, size - done);
    // mem_read's bytes arrive as the reply payload.
    const r = serviceWithPayload('mem_read', new Uint8Array(0), region, offset + done, n);
    if (r.code !== E.OK || r.payload.length !== n) return undefined;
    out.set(r.payload, done);
    done += n;
  }
  return out;
}

function copyOut(region: number, offset: number, bytes: Uint8Array): boolean {
  for (let done = 0; done < bytes.length;) {
    const n = Math.min(CHUNK, bytes.length - done);
    const r = serviceWithPayload('mem_write', bytes.subarray(done, done + n), region, offset + done);
    if (r.code !== E.OK) return false;
    done += n;
  }
  return true;
}

interface Prepared {
  readonly params: TaParam[];
  /** Shared regions this request mapped (unmapped after the answer). */
  readonly mapped: number[];
}

/** The parameters as the entry point sees them, or the TEE result that refuses them (exported for tests). */
export function prepare(paramTypes: number, params: readonly Param[]): Prepared | number {
  const mapped: number[] = [];
  const r = prepareMapping(paramTypes, params, mapped);
  // A refused request leaves no mapping behind.
  if (typeof r === 'number') for (const region of mapped) kcall('region_unmap', region);
  return r;
}

function prepareMapping(paramTypes: number, params: readonly Param[], mapped: number[]): Prepared | number {
  const out: TaParam[] = [];
  for (let i = 0; i < PARAM_COUNT; i++) {
    const t = paramTypeAt(paramTypes, i);
    const p = params[i] ?? { kind: 'none' };
    if (t === ParamType.NONE) out.push({ type: 'none' });
    else if (isValue(t) && p.kind === 'value')
      out.push({ type: 'value', a: direction(t).input ? p.a : 0, b: direction(t).input ? p.b : 0 });
    else if (isTemp(t) && p.kind === 'temp') {
      // Never allocate what the message only claims: an input must carry all its bytes, and any
      // temporary memref must fit in the answer that carries it back (GP TEE Client API §3.2.5).
      if (p.size > MAX_PAYLOAD || (direction(t).input && p.data.length !== p.size))
        return TeeResult.ERROR_BAD_PARAMETERS;
      const buffer = new Uint8Array(p.size);
      buffer.set(p.data.subarray(0, p.size));
      out.push({ type: 'memref', buffer, size: p.size });
    } else if (isShared(t) && p.kind === 'shared') {
      if (p.offset + p.size > 0xffffffff) return TeeResult.ERROR_BAD_PARAMETERS;
      const d = direction(t);
      const rights = (d.input ? R : 0) | (d.output ? W : 0);
      if (!mapped.includes(p.region)) {
        const m = kcall('region_map', p.region, rights);
        if (m.code !== E.OK) return TeeResult.ERROR_ACCESS_DENIED;
        mapped.push(p.region);
      }
      // Never allocate what the message only claims: the window must lie inside the region
      // (GP TEE Client API §3.2.4, a partial memref is a window of its registered memory).
      const info = regionInfo(p.region);
      if (!info || p.offset + p.size > info.size) return TeeResult.ERROR_BAD_PARAMETERS;
      const bytes = d.input ? copyIn(p.region, p.offset, p.size) : new Uint8Array(p.size);
      if (!bytes) return TeeResult.ERROR_ACCESS_DENIED;
      out.push({ type: 'memref', buffer: bytes, size: p.size });
    } else return TeeResult.ERROR_BAD_PARAMETERS;
  }
  return { params: out, mapped };
}

/** The answer's parameters: output values and memref contents, written back after the entry point. */
function finish(
  paramTypes: number,
  request: readonly Param[],
  params: readonly TaParam[],
): { params: Param[]; ok: boolean } {
  const out: Param[] = [];
  let ok = true;
  for (let i = 0; i < PARAM_COUNT; i++) {
    const t = paramTypeAt(paramTypes, i);
    const p = params[i];
    const q = request[i];
    if (t === ParamType.NONE || !p || p.type === 'none') out.push({ kind: 'none' });
    else if (p.type === 'value') out.push({ kind: 'value', a: p.a >>> 0, b: p.b >>> 0 });
    else if (isTemp(t)) {
      const size = Math.max(0, Math.floor(p.size));
      out.push({
        kind: 'temp',
        size,
        data: direction(t).output ? p.buffer.subarray(0, Math.min(size, p.buffer.length)) : new Uint8Array(0),
      });
    } else if (q?.kind === 'shared') {
      const size = Math.max(0, Math.floor(p.size));
      if (direction(t).output && size <= q.size)
        ok = copyOut(q.region, q.offset, p.buffer.subarray(0, size)) && ok;
      out.push({ kind: 'shared', region: q.region, offset: q.offset, size });
    } else out.push({ kind: 'none' });
  }
  return { params: out, ok };
}

/** Serves the application forever: receive, dispatch to the entry points, answer. */
export function runTrustedApplication<S>(ta: TrustedApplication<S>, options: FrameworkOptions): void {
  const created = ta.create?.() ?? TeeResult.SUCCESS;
  if (created !== TeeResult.SUCCESS) return;
  const sessions = new Map<number, S>();
  const maxSessions = options.maxSessions ?? 16;
  let nextSession = 1;
  const receive = () => kcallWithPayload('endpoint_receive', new Uint8Array(0), options.endpointSlot);
  let m = receive();
  for (;;) {
    if (m.code !== E.OK) {
      // The endpoint is gone (destroyed, revoked): nothing more to serve.
      ta.destroy?.();
      return;
    }
    const msg = encodeAnswer(serve(m));
    // One core call answers and waits for the next request (seL4's ReplyRecv).
    m = kcallWithPayload('endpoint_reply_receive', msg.payload, options.endpointSlot, msg.label, ...msg.mr);
    // The client was stopped while it was served (its reply capability is gone): just wait.
    if (m.code === E.ENOREPLY) m = receive();
  }

  function serve(m: ReturnType<typeof kcall>) {
    const fail = (result: number, origin: number = ReturnOrigin.TEE) => ({
      result,
      origin,
      session: 0,
      paramTypes: 0,
      params: [],
    });
    const d = decodeRequest({ label: m.label, mr: m.mr, payload: m.payload });
    if (!d.ok) return fail(TeeResult.ERROR_BAD_FORMAT);
    const r = d.value;
    if (r.operation === Operation.CLOSE_SESSION) {
      const s = sessions.get(r.session);
      if (s === undefined && !sessions.has(r.session)) return fail(TeeResult.ERROR_BAD_PARAMETERS);
      sessions.delete(r.session);
      ta.closeSession?.(s as S);
      return {
        result: TeeResult.SUCCESS,
        origin: ReturnOrigin.TRUSTED_APP,
        session: r.session,
        paramTypes: 0,
        params: [],
      };
    }
    const prepared = prepare(r.paramTypes, r.params);
    if (typeof prepared === 'number') return fail(prepared);
    let result: number;
    let session = r.session;
    try {
      if (r.operation === Operation.OPEN_SESSION) {
        if (sessions.size >= maxSessions) return unmapAll(prepared, fail(TeeResult.ERROR_BUSY));
        const o = ta.openSession(r.paramTypes, prepared.params);
        result = o.result;
        if (result === TeeResult.SUCCESS) {
          session = nextSession++;
          sessions.set(session, o.session as S);
        }
      } else {
        if (!sessions.has(r.session)) return unmapAll(prepared, fail(TeeResult.ERROR_BAD_PARAMETERS));
        result = ta.invokeCommand(sessions.get(r.session) as S, r.command, r.paramTypes, prepared.params);
      }
    } catch {
      // An entry point that throws is a panic (TEE_Panic): the client sees TARGET_DEAD.
      return unmapAll(prepared, fail(TeeResult.ERROR_TARGET_DEAD));
    }
    const out = finish(r.paramTypes, r.params, prepared.params);
    return unmapAll(prepared, {
      result: out.ok ? result : TeeResult.ERROR_ACCESS_DENIED,
      origin: ReturnOrigin.TRUSTED_APP,
      session,
      paramTypes: r.paramTypes,
      params: out.params,
    });
  }
}

function unmapAll<T>(p: Prepared, answer: T): T {
  for (const region of p.mapped) kcall('region_unmap', region);
  return answer;
}
