/**
 * Interrupt controller in the manner of an Arm GICv2 with the security extensions, reduced to what the
 * kernel needs. Each line has a group (secure / non-secure), a priority (0 highest … 255 lowest), an
 * enable bit, a pending and an active bit, and a target CPU. Devices raise lines (edge: the line becomes
 * pending). A CPU acknowledges the highest-priority pending, enabled, not active line targeting it and
 * visible to its world (ties: lowest line number), which makes the line active; end-of-interrupt clears it.
 * The secure world sees every line; the non-secure world sees only non-secure lines: their configuration
 * reads as zero and every attempt to change them, or to move a line between groups, faults (GICv2
 * RAZ/WI, made visible). After LOCK (one-way until reset, like CFGSDISABLE) no line changes group.
 * The window is banked: both worlds reach it, each seeing its own view.
 *
 * Register map:
 *   0x000 TYPER            R: number of lines.
 *   0x004 LOCK             R: 1 when groups are locked. W (secure): non-zero locks.
 *   0x010 IAR              R: acknowledge; returns the line number, or 1023 when none (spurious).
 *   0x014 EOIR             W: end of interrupt for the line written.
 *   0x018 HPPIR            R: highest-priority pending line visible to the reader, without acknowledging.
 *   0x020 SETPEND          W: makes the line written pending (software-generated).
 *   0x024 CLRPEND          W: clears the pending bit of the line written.
 *   0x400 + 4·n LINE[n]    R/W: [7:0] priority, [11:8] target CPU, bit 16 group (1 = non-secure),
 *                          bit 24 enable; read-only bit 25 pending, bit 26 active.
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
  type World,
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';

export const SPURIOUS = 1023;

export interface LineState {
  group: World;
  priority: number;
  target: number;
  enabled: boolean;
  pending: boolean;
  active: boolean;
}

export interface GicSnapshot {
  readonly lines: readonly (LineState & { readonly [key: string]: Json })[];
  readonly locked: boolean;
  readonly [key: string]: Json;
}

/** Called when a line becomes deliverable (pending and enabled) to a CPU. */
export type InterruptListener = (cpu: number, line: number, group: World) => void;

export class Gic implements MmioDevice<GicSnapshot> {
  readonly kind = 'gic';
  readonly windowSize = 0x1000;
  private lines: LineState[];
  private locked = false;
  private readonly listeners = new Set<InterruptListener>();

  constructor(
    readonly name: string,
    readonly lineCount: number,
    private readonly cpuCount: number,
    private readonly ctx: DeviceContext,
  ) {
    assert(lineCount > 0 && lineCount <= 768, 'GIC line count out of range');
    this.lines = this.resetLines();
  }

  private resetLines(): LineState[] {
    return Array.from({ length: this.lineCount }, () => ({
      group: 'secure' as World,
      priority: 0,
      target: 0,
      enabled: false,
      pending: false,
      active: false,
    }));
  }

  get isLocked(): boolean {
    return this.locked;
  }

  /** Read-only view of a line, for reports and tests. */
  line(n: number): Readonly<LineState> {
    const l = this.lines[n];
    assert(l, `no interrupt line ${n}`);
    return { ...l };
  }

  subscribe(listener: InterruptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A device asserts its line: the line becomes pending. */
  raise(n: number, source: string): void {
    const l = this.lines[n];
    assert(l, `no interrupt line ${n}`);
    const was = l.pending;
    l.pending = true;
    this.ctx.record('irq.raise', { line: n, source });
    if (!was) this.notify(n);
  }

  /** Highest-priority pending line for `cpu` visible to `world`, or SPURIOUS. */
  highestPending(cpu: number, world: World): number {
    let best = SPURIOUS;
    let bestPriority = 256;
    for (let n = 0; n < this.lines.length; n++) {
      const l = this.lines[n] as LineState;
      if (!l.pending || !l.enabled || l.active || l.target !== cpu) continue;
      if (world === 'non-secure' && l.group === 'secure') continue;
      if (l.priority < bestPriority) {
        best = n;
        bestPriority = l.priority;
      }
    }
    return best;
  }

  reset(): void {
    this.lines = this.resetLines();
    this.locked = false;
  }

  readRegister(offset: number, a: Access): MmioRead {
    switch (offset) {
      case 0x000:
        return value(this.lineCount);
      case 0x004:
        return value(this.locked ? 1 : 0);
      case 0x010:
        return this.acknowledge(a);
      case 0x018:
        if (a.cpu === undefined) return denied('only a CPU has a CPU interface');
        return value(this.highestPending(a.cpu, a.world));
    }
    const n = this.lineIndex(offset);
    if (n === undefined) return denied(`no GIC register at 0x${offset.toString(16)}`);
    const l = this.lines[n] as LineState;
    if (a.world === 'non-secure' && l.group === 'secure') return value(0);
    return value(
      l.priority |
        (l.target << 8) |
        (l.group === 'non-secure' ? 1 << 16 : 0) |
        (l.enabled ? 1 << 24 : 0) |
        (l.pending ? 1 << 25 : 0) |
        (l.active ? 1 << 26 : 0),
    );
  }

  writeRegister(offset: number, v: number, a: Access): MmioWrite {
    switch (offset) {
      case 0x004:
        if (a.world !== 'secure') return denied('only the secure world locks interrupt groups');
        if (v !== 0 && !this.locked) {
          this.locked = true;
          this.ctx.record('gic.lock', null);
        }
        return DONE;
      case 0x014:
        return this.endOfInterrupt(v, a);
      case 0x020:
      case 0x024: {
        const l = this.visibleLine(v, a.world);
        if (typeof l === 'string') return denied(l);
        if (offset === 0x024) l.pending = false;
        else this.raise(v, a.master.name);
        return DONE;
      }
    }
    const n = this.lineIndex(offset);
    if (n === undefined) return denied(`no writable GIC register at 0x${offset.toString(16)}`);
    const l = this.lines[n] as LineState;
    if (a.world === 'non-secure' && l.group === 'secure')
      return denied(`line ${n} is a secure-group interrupt`);
    const group: World = (v >>> 16) & 1 ? 'non-secure' : 'secure';
    const target = (v >>> 8) & 0xf;
    if (group !== l.group) {
      if (a.world === 'non-secure') return denied('only the secure world assigns interrupt groups');
      if (this.locked) return denied('interrupt groups are locked');
    }
    if (target >= this.cpuCount) return denied(`no CPU ${target}`);
    const enabled = ((v >>> 24) & 1) === 1;
    const becameDeliverable = enabled && !l.enabled && l.pending;
    if (group !== l.group || target !== l.target || enabled !== l.enabled || (v & 0xff) !== l.priority)
      this.ctx.record('gic.line', { line: n, group, priority: v & 0xff, target, enabled });
    l.group = group;
    l.priority = v & 0xff;
    l.target = target;
    l.enabled = enabled;
    if (becameDeliverable) this.notify(n);
    return DONE;
  }

  private acknowledge(a: Access): MmioRead {
    if (a.cpu === undefined) return denied('only a CPU has a CPU interface');
    const n = this.highestPending(a.cpu, a.world);
    if (n !== SPURIOUS) {
      const l = this.lines[n] as LineState;
      l.pending = false;
      l.active = true;
      this.ctx.record('irq.ack', { line: n, cpu: a.cpu, world: a.world });
    }
    return value(n);
  }

  private endOfInterrupt(n: number, a: Access): MmioWrite {
    if (a.cpu === undefined) return denied('only a CPU has a CPU interface');
    const l = this.visibleLine(n, a.world);
    if (typeof l === 'string') return denied(l);
    if (!l.active) return denied(`line ${n} is not active`);
    l.active = false;
    this.ctx.record('irq.eoi', { line: n, cpu: a.cpu, world: a.world });
    if (l.pending && l.enabled) this.notify(n);
    return DONE;
  }

  private visibleLine(n: number, world: World): LineState | string {
    const l = this.lines[n];
    if (!l) return `no interrupt line ${n}`;
    if (world === 'non-secure' && l.group === 'secure') return `line ${n} is a secure-group interrupt`;
    return l;
  }

  private lineIndex(offset: number): number | undefined {
    if (offset < 0x400) return undefined;
    const n = (offset - 0x400) / 4;
    return Number.isInteger(n) && n < this.lineCount ? n : undefined;
  }

  private notify(n: number): void {
    const l = this.lines[n] as LineState;
    if (!l.enabled || !l.pending || l.active) return;
    for (const listener of this.listeners) listener(l.target, n, l.group);
  }

  snapshot(): GicSnapshot {
    return { lines: this.lines.map((l) => ({ ...l })), locked: this.locked };
  }

  restore(s: GicSnapshot): void {
    assert(s.lines.length === this.lineCount, 'GIC snapshot does not match the board');
    this.lines = s.lines.map((l) => ({
      group: l.group,
      priority: l.priority,
      target: l.target,
      enabled: l.enabled,
      pending: l.pending,
      active: l.active,
    }));
    this.locked = s.locked;
  }
}
