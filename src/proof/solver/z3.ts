/** The default backend: a pool of worker threads, each with its own Z3 (z3-solver, pinned). */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Backend, SolveAnswer, SolveRequest } from './backend.js';
import type { WorkerReply, WorkerRequest } from './z3-worker.js';

interface Job {
  readonly id: number;
  readonly request: SolveRequest;
  readonly resolve: (a: SolveAnswer) => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<string>;
  job?: Job;
  timer?: NodeJS.Timeout;
  started: number;
}

export class Z3Pool implements Backend {
  readonly id = 'z3' as const;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  /** Workers start on the first query, so a run answered from the cache never loads Z3. */
  constructor(readonly jobs: number) {}

  private start(): void {
    if (this.slots.length > 0) return;
    for (let k = 0; k < Math.max(1, this.jobs); k++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./z3-worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    const slot: Slot = { worker, ready: Promise.resolve(''), started: 0 };
    slot.ready = new Promise((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        if (m.type === 'ready') {
          resolve(m.version);
          this.pump();
        } else if (m.type === 'answer' && slot.job && slot.job.id === m.id) this.finish(slot, m.answer);
      };
      worker.on('message', onMessage);
      worker.once('error', (e) => {
        reject(e);
        if (slot.job)
          this.finish(slot, { status: 'error', reason: `solver worker crashed: ${e.message}`, ms: 0 });
      });
    });
    slot.ready.catch(() => undefined);
    return slot;
  }

  /** The pinned z3-solver package version (it fixes the Z3 build); part of every cache key. */
  async version(): Promise<string> {
    return z3SolverVersion();
  }

  solve(request: SolveRequest): Promise<SolveAnswer> {
    this.start();
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, request, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0 || this.closed) return;
      if (slot.job) continue;
      void slot.ready.then(
        () => {
          if (slot.job || this.queue.length === 0) return;
          const job = this.queue.shift() as Job;
          slot.job = job;
          slot.started = performance.now();
          slot.timer = setTimeout(() => this.expire(slot), job.request.timeoutMs);
          const msg: WorkerRequest = {
            type: 'solve',
            id: job.id,
            text: job.request.text,
            variables: job.request.variables,
            rlimit: job.request.rlimit,
          };
          slot.worker.postMessage(msg);
        },
        () => undefined,
      );
    }
  }

  private finish(slot: Slot, answer: SolveAnswer): void {
    const job = slot.job;
    if (!job) return;
    clearTimeout(slot.timer);
    slot.job = undefined as unknown as Job;
    delete slot.job;
    job.resolve(answer);
    this.pump();
  }

  /** A query over its wall-clock guard: the worker is terminated and replaced. */
  private expire(slot: Slot): void {
    const job = slot.job;
    if (!job) return;
    const index = this.slots.indexOf(slot);
    void slot.worker.terminate();
    const fresh = this.spawn();
    this.slots[index] = fresh;
    delete slot.job;
    job.resolve({
      status: 'timeout',
      reason: `no answer within ${job.request.timeoutMs} ms`,
      ms: performance.now() - slot.started,
    });
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ status: 'error', reason: 'prover closed', ms: 0 });
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.job) this.finish(slot, { status: 'error', reason: 'prover closed', ms: 0 });
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        try {
          await slot.ready;
          slot.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        } catch {
          // the worker never started; terminate below
        }
        const timer = setTimeout(() => void slot.worker.terminate(), 6000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

export function z3SolverVersion(): string {
  const pkg = createRequire(import.meta.url)('z3-solver/package.json') as { version: string };
  return `z3-solver ${pkg.version}`;
}
