/**
 * Non-volatile monotonic counters (anti-rollback): each counter can only grow, up to a bound, and keeps
 * its value across reset.
 *
 * Register map:
 *   0x000 COUNT          R: number of counters.
 *   0x004 MAX            R: the bound every counter stops at.
 *   0x100 + 4·i VALUE[i] R: counter i. W: set counter i to the value written, which must be at least the
 *                        current value and at most MAX (otherwise the write faults and nothing changes).
 *   0x200 + 4·i INCR[i]  W: add one to counter i (faults at MAX).
 */
import { assert } from '../../common/errors.js';
import {
  DONE,
  denied,
  value,
  type Access,
  type MmioDevice,
  type MmioRead,
  type MmioWrite,
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';

export interface NvCountersSnapshot {
  readonly values: readonly number[];
  readonly [key: string]: Json;
}

export class NvCounters implements MmioDevice<NvCountersSnapshot> {
  readonly kind = 'nv-counters';
  readonly windowSize = 0x1000;
  private values: number[];

  constructor(
    readonly name: string,
    readonly count: number,
    readonly max: number,
    private readonly ctx: DeviceContext,
  ) {
    assert(count >= 1 && count <= 64, 'counter count out of range');
    assert(max >= 1 && max <= 0xffffffff, 'counter bound out of range');
    this.values = new Array<number>(count).fill(0);
  }

  valueOf(i: number): number {
    const v = this.values[i];
    assert(v !== undefined, `no counter ${i}`);
    return v;
  }

  /** Counters are non-volatile. */
  reset(): void {}

  readRegister(offset: number, _a: Access): MmioRead {
    if (offset === 0x000) return value(this.count);
    if (offset === 0x004) return value(this.max);
    const i = (offset - 0x100) / 4;
    if (offset >= 0x100 && i < this.count) return value(this.values[i] as number);
    return denied(`no counter register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    const set = (offset - 0x100) / 4;
    const incr = (offset - 0x200) / 4;
    let i: number;
    let next: number;
    if (offset >= 0x100 && offset < 0x200 && set < this.count) {
      i = set;
      next = v >>> 0;
      if (next < (this.values[i] as number)) return denied(`counter ${i} cannot decrease`);
    } else if (offset >= 0x200 && incr < this.count) {
      i = incr;
      next = (this.values[i] as number) + 1;
    } else return denied(`no writable counter register at 0x${offset.toString(16)}`);
    if (next > this.max) return denied(`counter ${i} would exceed its bound ${this.max}`);
    if (next !== this.values[i]) {
      this.values[i] = next;
      this.ctx.record('nvc.advance', { counter: i, value: next });
    }
    return DONE;
  }

  snapshot(): NvCountersSnapshot {
    return { values: [...this.values] };
  }

  restore(s: NvCountersSnapshot): void {
    assert(s.values.length === this.count, 'counter snapshot does not match the board');
    this.values = [...s.values];
  }
}
