/**
 * Entry point of a partition's isolate (one `worker_threads` worker per partition).
 *
 * Hardens the realm with SES `lockdown()`, then evaluates the partition's code in a `Compartment`
 * whose only endowment is `sys`, the syscall interface. Nothing else of this module — the worker's
 * message ports, `process`, `import`, timers — is reachable from inside the compartment.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import 'ses';
import { encodeUtf8 } from '../../common/utf8.js';
import { PartitionChannel } from './channel.js';

export interface PartitionWorkerData {
  readonly name: string;
  /** JavaScript source of the partition, evaluated as a script in the compartment. */
  readonly code: string;
  readonly channel: SharedArrayBuffer;
  /** Rung with every request when the kernel runs free (free-running mode). */
  readonly doorbell?: SharedArrayBuffer;
  /** Where the kernel posts memory grants (read synchronously when the channel's CONTROL flag is set). */
  readonly control: MessagePort;
  /** Call the shim makes once the realm is locked down; the kernel's reply starts the partition. */
  readonly startCall: number;
  /** Call the shim makes when the partition's code finished (status 0) or threw (status 1). */
  readonly exitCall: number;
  /** Call the shim makes to put an uncaught exception on the partition's console before it exits. */
  readonly logCall: number;
}

/** A grant or withdrawal of a live view on non-secure memory (Normal World partitions only). */
export type MemoryControl =
  | {
      readonly kind: 'map';
      readonly region: number;
      readonly buffer: SharedArrayBuffer;
      readonly offset: number;
      readonly size: number;
    }
  | { readonly kind: 'unmap'; readonly region: number };

const data = workerData as PartitionWorkerData;
const channel = new PartitionChannel(data.channel, data.doorbell);
const views = new Map<number, Uint8Array>();

function drainControl(): void {
  if (!channel.takeControlFlag()) return;
  for (let m = receiveMessageOnPort(data.control); m; m = receiveMessageOnPort(data.control)) {
    const c = m.message as MemoryControl;
    if (c.kind === 'map') views.set(c.region, new Uint8Array(c.buffer, c.offset, c.size));
    else views.delete(c.region);
  }
}

function call(n: number, args: unknown[], payload?: Uint8Array) {
  const r = channel.call(
    n,
    args.map((a) => Number(a) >>> 0),
    payload,
  );
  drainControl();
  return r;
}

lockdown({
  errorTaming: 'safe',
  overrideTaming: 'severe',
  consoleTaming: 'safe',
  evalTaming: 'safe-eval',
  stackFiltering: 'concise',
});

/** The syscall interface: numbers in, numbers (and optionally bytes) out. */
const sys = harden({
  call(n: unknown, ...args: unknown[]): number[] {
    return call(Number(n) >>> 0, args).results;
  },
  /** A call that also carries a byte payload (copied through the channel, never shared). */
  callWithPayload(
    n: unknown,
    payload: unknown,
    ...args: unknown[]
  ): { results: number[]; payload: Uint8Array } {
    return call(Number(n) >>> 0, args, payload instanceof Uint8Array ? payload : new Uint8Array(0));
  },
  memory(region: unknown): Uint8Array | undefined {
    return views.get(Number(region));
  },
});

call(data.startCall, []);
let status = 0;
try {
  const compartment = new Compartment({ globals: { sys }, __options__: true });
  compartment.evaluate(data.code);
} catch (e) {
  status = 1;
  let text = 'uncaught exception';
  try {
    text = `uncaught: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  } catch {
    // an exception whose description itself throws: keep the generic text
  }
  call(data.logCall, [], encodeUtf8(text.slice(0, 1000)));
}
call(data.exitCall, [status]);
