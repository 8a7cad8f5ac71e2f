/**
 * Entry point of a partition's isolate (one `worker_threads` worker per partition).
 *
 * Hardens the realm with SES `lockdown()`, then evaluates the partition's code in a `Compartment`
 * whose only endowment is `sys`, the syscall interface. Nothing else of this module — the worker's
 * message port, `process`, `import`, timers — is reachable from inside the compartment.
 */
import { workerData } from 'node:worker_threads';
import 'ses';
import { PartitionChannel } from './channel.js';

export interface PartitionWorkerData {
  readonly name: string;
  /** JavaScript source of the partition, evaluated as a script in the compartment. */
  readonly code: string;
  readonly channel: SharedArrayBuffer;
  /** Call the shim makes once the realm is locked down; the kernel's reply starts the partition. */
  readonly startCall: number;
  /** Call the shim makes when the partition's code finished (status 0) or threw (status 1). */
  readonly exitCall: number;
}

const data = workerData as PartitionWorkerData;
const channel = new PartitionChannel(data.channel);

lockdown({
  errorTaming: 'safe',
  overrideTaming: 'severe',
  consoleTaming: 'safe',
  evalTaming: 'safe-eval',
  stackFiltering: 'concise',
});

/** The syscall interface: numbers in, numbers (and optionally bytes) out. */
const sys = harden({
  call(call: unknown, ...args: unknown[]): number[] {
    return channel.call(
      Number(call) >>> 0,
      args.map((a) => Number(a) >>> 0),
    ).results;
  },
  /** A call that also carries a byte payload (copied into the channel, never shared). */
  callWithPayload(
    call: unknown,
    payload: unknown,
    ...args: unknown[]
  ): { results: number[]; payload: Uint8Array } {
    const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(0);
    return channel.call(
      Number(call) >>> 0,
      args.map((a) => Number(a) >>> 0),
      bytes,
    );
  },
});

channel.call(data.startCall, []);
let status = 0;
try {
  const compartment = new Compartment({ globals: { sys }, __options__: true });
  compartment.evaluate(data.code);
} catch {
  status = 1;
}
channel.call(data.exitCall, [status]);
