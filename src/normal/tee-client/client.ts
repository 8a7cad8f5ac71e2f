/**
 * TEE client library for Normal World code: the GlobalPlatform TEE Client API (GPD_SPE_007 v1.0) in
 * TypeScript idioms. `TeeContext` ≈ TEEC_Context, `TeeSession` ≈ TEEC_Session, `SharedMemory` ≈
 * TEEC_SharedMemory, `TeeOperation` ≈ TEEC_Operation; failures throw `TeeError` carrying the GP return
 * code and origin instead of returning them.
 *
 * One Rampart-specific rule: shared memory is a channel between the Normal World and ONE trusted
 * application's domain (the kernel proves noninterference per channel), so allocating or registering it
 * names the application it is for.
 */
import { bootInfo, E, kcall, kcallWithPayload, memoryView, R, W } from '../../kernel/abi/sys.js';
import {
  LoginMethod,
  ParamType,
  ReturnOrigin,
  SharedMemoryFlag,
  TeeResult,
  packParamTypes,
  resultName,
} from '../../lib/tee/gp.js';
import { Operation, decodeAnswer, encodeRequest, type Param } from '../../lib/tee/protocol.js';
import { uuidBytes } from '../../kernel/abi/uuid.js';

export class TeeError extends Error {
  constructor(
    readonly code: number,
    readonly origin: number,
    detail = '',
  ) {
    super(`${resultName(code)} (origin ${origin})${detail ? `: ${detail}` : ''}`);
    this.name = 'TeeError';
  }
}

export type Direction = 'in' | 'out' | 'inout';

/** A parameter of an operation; output fields are written back after the call. */
export type ClientParam =
  | { type: 'none' }
  | { type: 'value'; direction: Direction; a: number; b: number }
  /** Temporary memory reference: client memory copied in the message (TEEC_MEMREF_TEMP_*). */
  | { type: 'temp'; direction: Direction; buffer: Uint8Array; size: number }
  /** Whole shared memory (TEEC_MEMREF_WHOLE) or a part of it (TEEC_MEMREF_PARTIAL_*). */
  | { type: 'shared'; memory: SharedMemory; part?: { direction: Direction; offset: number; size: number } };

const direction = { in: 1, out: 2, inout: 3 } as const;

/** TEEC_Operation: up to four parameters, and cancellation before it starts. */
export class TeeOperation {
  started = false;
  private cancelled = false;
  readonly params: ClientParam[];

  constructor(...params: ClientParam[]) {
    if (params.length > 4)
      throw new TeeError(TeeResult.ERROR_BAD_PARAMETERS, ReturnOrigin.API, 'at most 4 parameters');
    this.params = params;
  }

  /** TEEC_RequestCancellation: an operation not yet started is cancelled when it is used (§4.5.12). */
  requestCancellation(): void {
    if (!this.started) this.cancelled = true;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  paramTypes(): number {
    const t = this.params.map((p): number => {
      switch (p.type) {
        case 'none':
          return ParamType.NONE;
        case 'value':
          return ParamType.VALUE_INPUT - 1 + direction[p.direction];
        case 'temp':
          return ParamType.MEMREF_TEMP_INPUT - 1 + direction[p.direction];
        case 'shared':
          return p.part
            ? ParamType.MEMREF_PARTIAL_INPUT - 1 + direction[p.part.direction]
            : ParamType.MEMREF_WHOLE;
      }
    });
    return packParamTypes(...(t as [ParamType, ParamType?, ParamType?, ParamType?]));
  }
}

interface Directory {
  readonly partition: string;
  readonly domain: string;
  readonly regions: readonly {
    name: string;
    index: number;
    domain: string;
    peer: string;
    kind: string;
    size: number;
  }[];
  readonly smc: readonly { entry: number; ta: string | null; domain: string | null; uuid?: string }[];
  readonly tas?: Readonly<Record<string, string>>;
}

/** TEEC_SharedMemory: Normal World memory shared with one trusted application's domain. */
export class SharedMemory {
  released = false;
  constructor(
    readonly context: TeeContext,
    readonly region: number,
    readonly size: number,
    readonly flags: number,
    /** Live view of the shared region (allocated memory), or the client's own bytes (registered memory). */
    readonly buffer: Uint8Array,
    readonly registered: boolean,
  ) {}

  /** TEEC_ReleaseSharedMemory. */
  release(): void {
    if (this.released) return;
    this.released = true;
    kcall('region_revoke', this.region);
    kcall('region_unmap', this.region);
    kcall('region_free', this.region);
    this.context.forget(this.region);
  }
}

/** TEEC_Context: the client's connection to the TEE. */
export class TeeContext {
  private readonly directory: Directory;
  private readonly inUse = new Set<number>();
  private operationIds = 1;

  private constructor(directory: Directory) {
    this.directory = directory;
  }

  /** TEEC_InitializeContext. */
  static initialize(): TeeContext {
    return new TeeContext(bootInfo<Directory>());
  }

  /** TEEC_FinalizeContext: releases what is still allocated. */
  finalize(): void {
    for (const region of [...this.inUse]) {
      kcall('region_revoke', region);
      kcall('region_unmap', region);
      kcall('region_free', region);
    }
    this.inUse.clear();
  }

  forget(region: number): void {
    this.inUse.delete(region);
  }

  private entryFor(uuid: string): { entry: number; domain: string } {
    const name = this.directory.tas?.[uuid];
    const e = this.directory.smc.find((x) => x.uuid === uuid || (name !== undefined && x.ta === name));
    if (!e || e.domain === null)
      throw new TeeError(
        TeeResult.ERROR_ITEM_NOT_FOUND,
        ReturnOrigin.COMMS,
        `no trusted application ${uuid}`,
      );
    return { entry: e.entry, domain: e.domain };
  }

  /** A free region of the Normal World's pool that is a channel to the application's domain. */
  private allocateRegion(uuid: string, size: number, flags: number): { region: number; size: number } {
    const { domain } = this.entryFor(uuid);
    const candidates = this.directory.regions.filter(
      (r) =>
        r.kind === 'shared' &&
        r.domain === this.directory.domain &&
        r.peer === domain &&
        r.size >= size &&
        !this.inUse.has(r.index),
    );
    for (const r of candidates) {
      if (kcall('region_alloc', r.index).code !== E.OK) continue;
      const rights = (flags & SharedMemoryFlag.INPUT ? R : 0) | (flags & SharedMemoryFlag.OUTPUT ? W : 0);
      if (
        kcall('region_map', r.index, R | W).code !== E.OK ||
        kcall('region_share', r.index, rights || R).code !== E.OK
      ) {
        kcall('region_unmap', r.index);
        kcall('region_free', r.index);
        continue;
      }
      this.inUse.add(r.index);
      return { region: r.index, size: r.size };
    }
    throw new TeeError(
      TeeResult.ERROR_OUT_OF_MEMORY,
      ReturnOrigin.API,
      `no shared region of ${size} bytes free for ${uuid}`,
    );
  }

  /** TEEC_AllocateSharedMemory, for use with the application `uuid`. */
  allocateSharedMemory(
    uuid: string,
    size: number,
    flags: number = SharedMemoryFlag.INPUT | SharedMemoryFlag.OUTPUT,
  ): SharedMemory {
    const { region } = this.allocateRegion(uuid, size, flags);
    const view = memoryView(region);
    if (!view) throw new TeeError(TeeResult.ERROR_GENERIC, ReturnOrigin.COMMS, 'the kernel mapped no memory');
    return new SharedMemory(this, region, size, flags, view.subarray(0, size), false);
  }

  /** TEEC_RegisterSharedMemory: the client's buffer, copied to and from a shared region around each call. */
  registerSharedMemory(
    uuid: string,
    buffer: Uint8Array,
    flags: number = SharedMemoryFlag.INPUT | SharedMemoryFlag.OUTPUT,
  ): SharedMemory {
    const { region } = this.allocateRegion(uuid, buffer.length, flags);
    return new SharedMemory(this, region, buffer.length, flags, buffer, true);
  }

  /** TEEC_OpenSession. */
  openSession(uuid: string, operation?: TeeOperation, login: number = LoginMethod.PUBLIC): TeeSession {
    const { entry } = this.entryFor(uuid);
    const answer = this.transact(entry, Operation.OPEN_SESSION, 0, 0, operation, {
      uuid: uuidBytes(uuid),
      login,
    });
    return new TeeSession(this, entry, answer.session, uuid);
  }

  /** One request/answer through the SMC entry; throws TeeError unless the result is SUCCESS. */
  transact(
    entry: number,
    op: Operation,
    session: number,
    command: number,
    operation: TeeOperation | undefined,
    open?: { uuid: Uint8Array; login: number },
  ): { session: number } {
    if (operation?.isCancelled) throw new TeeError(TeeResult.ERROR_CANCEL, ReturnOrigin.API);
    if (operation) operation.started = true;
    const params = operation?.params ?? [];
    const paramTypes = operation?.paramTypes() ?? 0;
    const wire: Param[] = params.map((p): Param => {
      switch (p.type) {
        case 'none':
          return { kind: 'none' };
        case 'value':
          return { kind: 'value', a: p.a, b: p.b };
        case 'temp':
          return { kind: 'temp', size: p.size, data: p.buffer.subarray(0, p.size) };
        case 'shared': {
          const m = p.memory;
          if (m.released)
            throw new TeeError(TeeResult.ERROR_BAD_PARAMETERS, ReturnOrigin.API, 'released shared memory');
          if (m.registered) memoryView(m.region)?.set(m.buffer);
          const offset = p.part?.offset ?? 0;
          const size = p.part?.size ?? m.size;
          if (offset + size > m.size)
            throw new TeeError(
              TeeResult.ERROR_BAD_PARAMETERS,
              ReturnOrigin.API,
              'memref outside its shared memory',
            );
          return { kind: 'shared', region: m.region, offset, size };
        }
      }
    });
    const msg = encodeRequest({
      operation: op,
      session,
      command,
      paramTypes,
      operationId: this.operationIds++,
      params: wire,
      ...(open ?? {}),
    });
    let reply = kcallWithPayload('smc', msg.payload, entry, msg.label, ...msg.mr);
    // The application is busy serving someone else: its endpoint has no receiver. Let it run, try again.
    for (let tries = 0; reply.code === E.ENORECV && tries < 1000; tries++) {
      kcall('yield');
      reply = kcallWithPayload('smc', msg.payload, entry, msg.label, ...msg.mr);
    }
    // The application died while serving (budget, quota, panic): the kernel cancelled the call.
    if (reply.code === E.ECANCELED) throw new TeeError(TeeResult.ERROR_TARGET_DEAD, ReturnOrigin.TEE);
    if (reply.code !== E.OK)
      throw new TeeError(
        reply.code === E.ENORECV ? TeeResult.ERROR_BUSY : TeeResult.ERROR_COMMUNICATION,
        ReturnOrigin.COMMS,
        `kernel code ${reply.code}`,
      );
    const d = decodeAnswer({ label: reply.label, mr: reply.mr, payload: reply.payload });
    if (!d.ok) throw new TeeError(TeeResult.ERROR_COMMUNICATION, ReturnOrigin.COMMS, d.reason);
    const answer = d.value;
    // Write outputs back into the operation (GP: the operation's parameters are updated).
    params.forEach((p, i) => {
      const q = answer.params[i];
      if (p.type === 'value' && q?.kind === 'value' && p.direction !== 'in') {
        p.a = q.a;
        p.b = q.b;
      } else if (p.type === 'temp' && q?.kind === 'temp' && p.direction !== 'in') {
        p.buffer.set(q.data.subarray(0, Math.min(q.data.length, p.buffer.length)));
        p.size = q.size;
      } else if (p.type === 'shared' && q?.kind === 'shared') {
        if (p.memory.registered) {
          const view = memoryView(p.memory.region);
          if (view) p.memory.buffer.set(view.subarray(0, p.memory.size));
        }
        if (p.part) p.part.size = q.size;
      }
    });
    if (answer.result !== TeeResult.SUCCESS) throw new TeeError(answer.result, answer.origin);
    return { session: answer.session };
  }
}

/** TEEC_Session. */
export class TeeSession {
  private closed = false;
  constructor(
    readonly context: TeeContext,
    readonly entry: number,
    readonly id: number,
    readonly uuid: string,
  ) {}

  /** TEEC_InvokeCommand; output parameters are written back into `operation`. */
  invoke(command: number, operation?: TeeOperation): void {
    if (this.closed) throw new TeeError(TeeResult.ERROR_BAD_STATE, ReturnOrigin.API, 'session closed');
    this.context.transact(this.entry, Operation.INVOKE_COMMAND, this.id, command, operation);
  }

  /** TEEC_CloseSession. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.transact(this.entry, Operation.CLOSE_SESSION, this.id, 0, undefined);
  }
}
