/**
 * NOR flash. Semantics of the cells: ERASE sets a whole block to 0xFF; PROGRAM can only clear bits
 * (`cell = cell & data`) within one page; a read returns the cells. The array is non-volatile.
 *
 * Power-cut injection: `cutPowerAfter(n)` makes the n-th erase or program from now the one during which
 * power fails. That operation is torn — a torn program leaves a prefix of its bytes programmed and one
 * byte with only some of its bits cleared; a torn erase leaves a prefix of the block erased and one byte
 * with only some bits set (the cut point and the partial bits are drawn from the machine seed) — and the
 * device is then off: every operation fails with POWERED_OFF until `powerOn()` (or reset).
 *
 * The software drives it through registers and DMA (the data of READ and PROGRAM moves between flash and
 * memory through the bus, so the TZASC applies); the host (tests, a factory programmer) can also call
 * `erase`/`program`/`read` directly.
 *
 * Register map:
 *   0x000 STATUS      R: bit 0 BUSY, bit 1 ERROR (last command failed), bit 2 POWERED.
 *   0x004 CMD         W: 1 READ (flash → memory), 2 PROGRAM (memory → flash), 3 ERASE (block at
 *                     FLASH_ADDR). Writing while BUSY faults.
 *   0x008 FLASH_ADDR  R/W: offset in the flash array.
 *   0x00C MEM_ADDR    R/W: bus address of the memory buffer.
 *   0x010 LENGTH      R/W: bytes to read or program (PROGRAM: within one page).
 *   0x014 INT_STATUS  R, W1C: bit 0 DONE, bit 1 ERROR.
 *   0x018 INT_ENABLE  R/W: same bits.
 *   0x01C ERROR_CODE  R: 0 none, 1 out of range, 2 page crossing, 3 DMA fault, 4 power, 5 misaligned erase.
 *   0x020 SIZE, 0x024 BLOCK_SIZE, 0x028 PAGE_SIZE   R: geometry.
 */
import { assert } from '../../common/errors.js';
import { DONE, denied, fromBase64, sparseRestore, sparseSnapshot, toBase64, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';

export type FlashFailure = 'POWERED_OFF' | 'POWER_CUT' | 'OUT_OF_RANGE' | 'PAGE_CROSSING' | 'MISALIGNED';
export type FlashResult = { readonly ok: true } | { readonly ok: false; readonly code: FlashFailure };
export type FlashRead =
  { readonly ok: true; readonly value: Uint8Array } | { readonly ok: false; readonly code: FlashFailure };

export interface FlashGeometry {
  readonly size: number;
  readonly blockSize: number;
  readonly pageSize: number;
}

/** Virtual durations of the operations, in nanoseconds. */
export const FLASH_TIMING = { readBaseNs: 1_000, readPerByteNs: 10, programNs: 200_000, eraseNs: 50_000_000 };

const CMD_READ = 1;
const CMD_PROGRAM = 2;
const CMD_ERASE = 3;
const ERR = { none: 0, range: 1, page: 2, dma: 3, power: 4, misaligned: 5 } as const;

export interface NorFlashSnapshot {
  readonly cells: Readonly<Record<string, string>>;
  readonly powered: boolean;
  readonly cutCountdown: number | null;
  readonly operations: number;
  readonly regs: readonly number[];
  readonly busy: boolean;
  readonly random: readonly [number, number, number, number];
  readonly [key: string]: Json;
}

export class NorFlash implements MmioDevice<NorFlashSnapshot> {
  readonly kind = 'nor-flash';
  readonly windowSize = 0x1000;
  private readonly cells: Uint8Array;
  private powered = true;
  private cutCountdown: number | undefined;
  private ops = 0;
  // flashAddr, memAddr, length, intStatus, intEnable, errorCode, status-error
  private regs = [0, 0, 0, 0, 0, 0, 0];
  private busy = false;

  constructor(
    readonly name: string,
    readonly geometry: FlashGeometry,
    private readonly ctx: DeviceContext,
  ) {
    const { size, blockSize, pageSize } = geometry;
    assert(
      size > 0 && size % blockSize === 0 && blockSize % pageSize === 0 && pageSize > 0,
      'bad flash geometry',
    );
    this.cells = new Uint8Array(size).fill(0xff);
  }

  get isPowered(): boolean {
    return this.powered;
  }

  /** Erase and program operations performed since power-on (torn ones included). */
  get operations(): number {
    return this.ops;
  }

  /** The n-th erase/program from now (n ≥ 1) is torn by a power cut. */
  cutPowerAfter(n: number): void {
    assert(Number.isSafeInteger(n) && n >= 1, 'cutPowerAfter expects n ≥ 1');
    this.cutCountdown = n;
  }

  powerOn(): void {
    this.powered = true;
    this.cutCountdown = undefined;
  }

  read(offset: number, length: number): FlashRead {
    if (!this.powered) return { ok: false, code: 'POWERED_OFF' };
    if (!this.inRange(offset, length)) return { ok: false, code: 'OUT_OF_RANGE' };
    return { ok: true, value: this.cells.slice(offset, offset + length) };
  }

  erase(offset: number): FlashResult {
    const { blockSize } = this.geometry;
    if (!this.powered) return { ok: false, code: 'POWERED_OFF' };
    if (!this.inRange(offset, blockSize)) return { ok: false, code: 'OUT_OF_RANGE' };
    if (offset % blockSize !== 0) return { ok: false, code: 'MISALIGNED' };
    this.ops++;
    const block = this.cells.subarray(offset, offset + blockSize);
    if (this.tearsNow()) {
      const cut = this.ctx.random.below(blockSize);
      block.fill(0xff, 0, cut);
      block[cut] = (block[cut] as number) | (this.ctx.random.nextU32() & 0xff);
      this.ctx.record('flash.torn', { op: 'erase', offset, cut });
      return { ok: false, code: 'POWER_CUT' };
    }
    block.fill(0xff);
    this.ctx.record('flash.erase', { offset });
    return { ok: true };
  }

  program(offset: number, data: Uint8Array): FlashResult {
    const { pageSize } = this.geometry;
    if (!this.powered) return { ok: false, code: 'POWERED_OFF' };
    if (!this.inRange(offset, data.length)) return { ok: false, code: 'OUT_OF_RANGE' };
    if (
      data.length > 0 &&
      Math.floor(offset / pageSize) !== Math.floor((offset + data.length - 1) / pageSize)
    )
      return { ok: false, code: 'PAGE_CROSSING' };
    this.ops++;
    const torn = this.tearsNow();
    const cut = torn ? this.ctx.random.below(data.length + 1) : data.length;
    for (let i = 0; i < cut; i++)
      this.cells[offset + i] = (this.cells[offset + i] as number) & (data[i] as number);
    if (torn) {
      if (cut < data.length) {
        // Only some of the bits this byte was to lose are cleared.
        const old = this.cells[offset + cut] as number;
        const toClear = old & ~(data[cut] as number) & 0xff;
        this.cells[offset + cut] = old & ~(toClear & this.ctx.random.nextU32()) & 0xff;
      }
      this.ctx.record('flash.torn', { op: 'program', offset, length: data.length, cut });
      return { ok: false, code: 'POWER_CUT' };
    }
    this.ctx.record('flash.program', { offset, length: data.length });
    return { ok: true };
  }

  private inRange(offset: number, length: number): boolean {
    return (
      Number.isSafeInteger(offset) && offset >= 0 && length >= 0 && offset + length <= this.geometry.size
    );
  }

  private tearsNow(): boolean {
    if (this.cutCountdown === undefined) return false;
    this.cutCountdown--;
    if (this.cutCountdown > 0) return false;
    this.cutCountdown = undefined;
    this.powered = false;
    return true;
  }

  /** Reset is a power cycle: the device is powered again; the cells keep their content. */
  reset(): void {
    this.ctx.cancelEvents();
    this.powerOn();
    this.regs = [0, 0, 0, 0, 0, 0, 0];
    this.busy = false;
  }

  readRegister(offset: number, _a: Access): MmioRead {
    const g = this.geometry;
    switch (offset) {
      case 0x000:
        return value((this.busy ? 1 : 0) | (this.regs[6] ? 2 : 0) | (this.powered ? 4 : 0));
      case 0x008:
      case 0x00c:
      case 0x010:
      case 0x014:
      case 0x018:
      case 0x01c:
        return value(this.regs[(offset - 0x008) / 4] as number);
      case 0x020:
        return value(g.size);
      case 0x024:
        return value(g.blockSize);
      case 0x028:
        return value(g.pageSize);
    }
    return denied(`no flash register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x004:
        if (this.busy) return denied('flash controller is busy');
        this.command(v);
        return DONE;
      case 0x008:
      case 0x00c:
      case 0x010:
      case 0x018:
        this.regs[(offset - 0x008) / 4] = v >>> 0;
        return DONE;
      case 0x014:
        this.regs[3] = (this.regs[3] as number) & ~v;
        return DONE;
    }
    return denied(`no writable flash register at 0x${offset.toString(16)}`);
  }

  private command(cmd: number): void {
    const [flashAddr, memAddr, length] = this.regs as [number, number, number];
    const g = this.geometry;
    if (!this.powered) return this.finish(ERR.power);
    if (cmd === CMD_READ) {
      if (!this.inRange(flashAddr, length)) return this.finish(ERR.range);
      return this.start(FLASH_TIMING.readBaseNs + FLASH_TIMING.readPerByteNs * length, {
        op: 'read',
        flashAddr,
        memAddr,
        length,
      });
    }
    if (cmd === CMD_PROGRAM) {
      if (!this.inRange(flashAddr, length)) return this.finish(ERR.range);
      if (
        length > 0 &&
        Math.floor(flashAddr / g.pageSize) !== Math.floor((flashAddr + length - 1) / g.pageSize)
      )
        return this.finish(ERR.page);
      const data = this.ctx.dma.read(memAddr, length);
      if (!data.ok) return this.finish(ERR.dma);
      return this.start(FLASH_TIMING.programNs, { op: 'program', flashAddr, data: toBase64(data.value) });
    }
    if (cmd === CMD_ERASE) {
      if (!this.inRange(flashAddr, g.blockSize)) return this.finish(ERR.range);
      if (flashAddr % g.blockSize !== 0) return this.finish(ERR.misaligned);
      return this.start(FLASH_TIMING.eraseNs, { op: 'erase', flashAddr });
    }
    this.finish(ERR.range);
  }

  private start(durationNs: number, op: { readonly [key: string]: Json }): void {
    this.busy = true;
    this.ctx.schedule(durationNs, 'complete', op);
  }

  handleEvent(_action: string, data: Json): void {
    const op = data as { op: string; flashAddr: number; memAddr?: number; length?: number; data?: string };
    this.busy = false;
    if (op.op === 'read') {
      const r = this.read(op.flashAddr, op.length ?? 0);
      if (!r.ok) return this.finish(ERR.power);
      const w = this.ctx.dma.write(op.memAddr ?? 0, r.value);
      return this.finish(w.ok ? ERR.none : ERR.dma);
    }
    const r =
      op.op === 'program' ? this.program(op.flashAddr, fromBase64(op.data ?? '')) : this.erase(op.flashAddr);
    this.finish(r.ok ? ERR.none : ERR.power);
  }

  private finish(error: number): void {
    this.regs[5] = error;
    this.regs[6] = error === ERR.none ? 0 : 1;
    if (!this.powered) return; // a device without power raises nothing
    const bit = error === ERR.none ? 1 : 2;
    this.regs[3] = (this.regs[3] as number) | bit;
    if ((this.regs[4] as number) & bit) this.ctx.raiseInterrupt();
  }

  snapshot(): NorFlashSnapshot {
    return {
      cells: sparseSnapshot(this.cells, 0xff),
      powered: this.powered,
      cutCountdown: this.cutCountdown ?? null,
      operations: this.ops,
      regs: [...this.regs],
      busy: this.busy,
      random: this.ctx.random.state(),
    };
  }

  restore(s: NorFlashSnapshot): void {
    sparseRestore(this.cells, s.cells, 0xff);
    this.powered = s.powered;
    this.cutCountdown = s.cutCountdown ?? undefined;
    this.ops = s.operations;
    this.regs = [...s.regs];
    this.busy = s.busy;
    this.ctx.random.setState(s.random);
  }
}
