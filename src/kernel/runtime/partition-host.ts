/**
 * Kernel-side handle on one partition's isolate: spawns the worker with its memory quota, exposes the
 * syscall channel, and stops the isolate. It decides nothing: the kernel core does.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { KernelChannel, createChannelBuffer } from './channel.js';
import type { MemoryControl, PartitionWorkerData } from './partition-worker.js';

export interface PartitionSpec {
  readonly name: string;
  readonly code: string;
  /** V8 old-generation heap limit for the isolate, in MiB. */
  readonly memoryQuotaMb: number;
  readonly startCall: number;
  readonly exitCall: number;
  readonly logCall: number;
  readonly doorbell?: SharedArrayBuffer;
}

export type PartitionExit =
  { readonly kind: 'exited'; readonly status: number } | { readonly kind: 'killed'; readonly reason: string };

/** Longest synchronous wait before the kernel yields to the event loop. */
const SLICE_MS = 2;

const workerUrl = new URL('./partition-worker.js', import.meta.url);

export class PartitionHost {
  readonly channel: KernelChannel;
  private readonly worker: Worker;
  private readonly control: MessagePort;
  private exitInfo: PartitionExit | undefined;

  constructor(readonly spec: PartitionSpec) {
    const buffer = createChannelBuffer();
    this.channel = new KernelChannel(buffer);
    const { port1, port2 } = new MessageChannel();
    this.control = port1;
    const workerData: PartitionWorkerData = {
      name: spec.name,
      code: spec.code,
      channel: buffer,
      control: port2,
      startCall: spec.startCall,
      exitCall: spec.exitCall,
      logCall: spec.logCall,
      ...(spec.doorbell ? { doorbell: spec.doorbell } : {}),
    };
    this.worker = new Worker(workerUrl, {
      workerData,
      transferList: [port2],
      resourceLimits: {
        maxOldGenerationSizeMb: spec.memoryQuotaMb,
        maxYoungGenerationSizeMb: Math.max(1, Math.min(16, Math.floor(spec.memoryQuotaMb / 4))),
        stackSizeMb: 1,
      },
      stdout: true,
      stderr: true,
      env: {},
      argv: [],
      execArgv: [],
    });
    // The isolate has no console of its own; swallow anything V8 prints about it.
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.worker.on('error', (e: Error & { code?: string }) => {
      this.exitInfo ??= {
        kind: 'killed',
        reason: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory quota' : e.message,
      };
    });
    this.worker.on('exit', () => {
      this.exitInfo ??= { kind: 'killed', reason: 'isolate exited' };
    });
  }

  get exit(): PartitionExit | undefined {
    return this.exitInfo;
  }

  /**
   * Waits for the partition's next request for at most `budgetMs` of wall time. Waits in short
   * synchronous slices and yields to the event loop between them, so an isolate that dies (memory
   * quota) is noticed at once rather than at the end of the budget.
   */
  async next(budgetMs: number): Promise<'request' | 'overrun' | 'ended'> {
    const deadline = performance.now() + budgetMs;
    for (;;) {
      if (this.channel.waitForRequest(Math.min(SLICE_MS, Math.max(0, deadline - performance.now()))))
        return 'request';
      if (this.exitInfo) return 'ended';
      if (performance.now() >= deadline) return 'overrun';
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.exitInfo) return 'ended';
    }
  }

  /**
   * Grants or withdraws a live view of non-secure memory. Only non-secure `SharedArrayBuffer`s can be
   * posted (the type says so); secure memory is never handed to any isolate.
   */
  postMemory(control: MemoryControl): void {
    this.control.postMessage(control);
    this.channel.flagControl();
  }

  /** Records why the partition ended (first reason wins) and stops its isolate. */
  stop(exit: PartitionExit): Promise<void> {
    this.exitInfo ??= exit;
    this.control.close();
    return this.worker.terminate().then(() => undefined);
  }
}
