/**
 * The syscall channel: the only way out of a partition.
 *
 * One `SharedArrayBuffer` per partition, shared between the partition's isolate and the kernel. The
 * partition writes a request and blocks in `Atomics.wait`; the kernel copies the request out (copy-in
 * before checking: the partition may scribble on the buffer at any time), decides through the proven
 * core, and writes the reply. Layout, in 32-bit words:
 *
 *   0  STATE      RUNNING 0 (the partition owns the slot) | REQUEST 1 (the kernel owns it) | REPLY 2
 *   1  SEQUENCE   incremented by the partition with every request
 *   2  CALL       call number
 *   3..10        arguments a0..a7 (unsigned 32-bit)
 *   11..18       results r0..r7
 *   19 IN_LENGTH  payload bytes the partition sends
 *   20 OUT_LENGTH payload bytes the kernel returns
 *   21 CONTROL    non-zero when the kernel has posted messages on the partition's control port
 *   bytes 128..  payload area (PAYLOAD_BYTES)
 *
 * The kernel never trusts a length it reads: lengths are clamped to the payload area.
 */
export const STATE = 0;
export const SEQUENCE = 1;
export const CALL = 2;
export const ARGS = 3;
export const RESULTS = 11;
export const IN_LENGTH = 19;
export const OUT_LENGTH = 20;
export const CONTROL = 21;
export const ARG_COUNT = 8;
export const RESULT_COUNT = 8;
export const PAYLOAD_OFFSET = 128;
export const PAYLOAD_BYTES = 4096;
export const CHANNEL_BYTES = PAYLOAD_OFFSET + PAYLOAD_BYTES;

export const RUNNING = 0;
export const REQUEST = 1;
export const REPLY = 2;

/** A request as the kernel sees it: a private copy, immune to later writes by the partition. */
export interface SyscallRequest {
  readonly sequence: number;
  readonly call: number;
  readonly args: Uint32Array;
  readonly payload: Uint8Array;
}

/**
 * How long to spin before sleeping in `Atomics.wait`: a futex wake-up costs tens of microseconds on a
 * virtual machine, a round trip through a partition a few. The kernel spins for up to KERNEL_SPIN_MS (it
 * has nothing else to do while a partition runs in uniprocessor mode); a partition spins SPINS loads
 * only: on two cores, partitions that spin longer take the processor from the one that is working
 * (measured: the SMC round trip got slower, bench/runtime.ts).
 */
const KERNEL_SPIN_MS = 0.2;
const SPINS = 2000;

export function createChannelBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(CHANNEL_BYTES);
}

/**
 * The kernel side of the doorbell: waits until any partition rang since `seen` (or `timeoutMs` passed);
 * returns the doorbell's current count.
 */
export class Doorbell {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly word = new Int32Array(this.buffer, 0, 1);

  get count(): number {
    return Atomics.load(this.word, 0);
  }

  wait(seen: number, timeoutMs: number): number {
    for (let i = 0; i < SPINS; i++)
      if (Atomics.load(this.word, 0) !== seen) return Atomics.load(this.word, 0);
    Atomics.wait(this.word, 0, seen, timeoutMs);
    return Atomics.load(this.word, 0);
  }
}

/** Kernel side of one partition's channel. */
export class KernelChannel {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, PAYLOAD_OFFSET / 4);
    this.bytes = new Uint8Array(buffer, PAYLOAD_OFFSET, PAYLOAD_BYTES);
  }

  /** Waits until the partition posts a request; `false` on timeout. */
  waitForRequest(timeoutMs: number): boolean {
    for (let i = 0; i < SPINS; i++) if (Atomics.load(this.words, STATE) === REQUEST) return true;
    const start = performance.now();
    const spinUntil = start + Math.min(KERNEL_SPIN_MS, timeoutMs);
    while (performance.now() < spinUntil) {
      for (let i = 0; i < 64; i++) if (Atomics.load(this.words, STATE) === REQUEST) return true;
    }
    const deadline = start + timeoutMs;
    for (;;) {
      if (Atomics.load(this.words, STATE) === REQUEST) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.words, STATE, RUNNING, left);
    }
  }

  hasRequest(): boolean {
    return Atomics.load(this.words, STATE) === REQUEST;
  }

  /** Copies the pending request out of shared memory. */
  takeRequest(): SyscallRequest {
    const w = this.words;
    const args = new Uint32Array(ARG_COUNT);
    for (let i = 0; i < ARG_COUNT; i++) args[i] = Atomics.load(w, ARGS + i) >>> 0;
    const length = clampLength(Atomics.load(w, IN_LENGTH));
    return {
      sequence: Atomics.load(w, SEQUENCE) >>> 0,
      call: Atomics.load(w, CALL) >>> 0,
      args,
      payload: this.bytes.slice(0, length),
    };
  }

  /** Tells the partition to drain its control port before it next returns from a call. */
  flagControl(): void {
    Atomics.store(this.words, CONTROL, 1);
  }

  /** Writes the reply and wakes the partition. */
  reply(results: ArrayLike<number>, payload?: Uint8Array): void {
    const w = this.words;
    for (let i = 0; i < RESULT_COUNT; i++) Atomics.store(w, RESULTS + i, (results[i] ?? 0) | 0);
    const length = payload ? Math.min(payload.length, PAYLOAD_BYTES) : 0;
    if (payload) this.bytes.set(payload.subarray(0, length));
    Atomics.store(w, OUT_LENGTH, length);
    Atomics.store(w, STATE, REPLY);
    Atomics.notify(w, STATE);
  }
}

/** Partition side: lives in the partition's worker, outside its compartment. */
export class PartitionChannel {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly doorbell: Int32Array | undefined;

  /** `doorbell`: one word shared by all partitions of a kernel, rung with every request (free-running mode). */
  constructor(buffer: SharedArrayBuffer, doorbell?: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, PAYLOAD_OFFSET / 4);
    this.bytes = new Uint8Array(buffer, PAYLOAD_OFFSET, PAYLOAD_BYTES);
    this.doorbell = doorbell ? new Int32Array(doorbell, 0, 1) : undefined;
  }

  /** Reads and clears the control flag. */
  takeControlFlag(): boolean {
    return Atomics.exchange(this.words, CONTROL, 0) !== 0;
  }

  /** Posts a request and blocks until the kernel replies. Returns the results (a fresh array). */
  call(
    call: number,
    args: ArrayLike<number>,
    payload?: Uint8Array,
  ): { results: number[]; payload: Uint8Array } {
    const w = this.words;
    Atomics.store(w, CALL, call | 0);
    for (let i = 0; i < ARG_COUNT; i++) Atomics.store(w, ARGS + i, (args[i] ?? 0) | 0);
    const length = payload ? Math.min(payload.length, PAYLOAD_BYTES) : 0;
    if (payload) this.bytes.set(payload.subarray(0, length));
    Atomics.store(w, IN_LENGTH, length);
    Atomics.add(w, SEQUENCE, 1);
    Atomics.store(w, STATE, REQUEST);
    Atomics.notify(w, STATE);
    if (this.doorbell) {
      Atomics.add(this.doorbell, 0, 1);
      Atomics.notify(this.doorbell, 0);
    }
    for (let i = 0; i < SPINS && Atomics.load(w, STATE) === REQUEST; i++);
    while (Atomics.load(w, STATE) === REQUEST) Atomics.wait(w, STATE, REQUEST);
    const results: number[] = [];
    for (let i = 0; i < RESULT_COUNT; i++) results.push(Atomics.load(w, RESULTS + i) >>> 0);
    const out = this.bytes.slice(0, clampLength(Atomics.load(w, OUT_LENGTH)));
    Atomics.store(w, STATE, RUNNING);
    return { results, payload: out };
  }
}

function clampLength(n: number): number {
  return n < 0 ? 0 : n > PAYLOAD_BYTES ? PAYLOAD_BYTES : n;
}
