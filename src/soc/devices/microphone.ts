/**
 * Microphone with a DMA capture buffer: while capturing, every 10 ms of virtual time it writes the next
 * block of 16-bit little-endian PCM samples into memory at BUF_ADDR + FILL; when the buffer is full it
 * stops and raises the interrupt. The sound it hears is the host's `setSource` samples (looped) or, by
 * default, a deterministic synthetic signal (two tones and seeded noise) — what matters to the lab is who
 * can read the buffer, not what is said.
 *
 * Register map:
 *   0x000 CTRL          R/W: bit 0 capture (writing 1 restarts at FILL = 0).
 *   0x004 STATUS        R: bit 0 capturing, bit 1 buffer full, bit 2 DMA error.
 *   0x008 BUF_ADDR      R/W.   0x00C BUF_LEN  R/W (bytes, even).
 *   0x010 FILL          R: bytes captured so far.
 *   0x014 SAMPLE_RATE   R: samples per second.
 *   0x018 INT_STATUS    R, W1C: bit 0 buffer full, bit 1 DMA error.   0x01C INT_ENABLE  R/W.
 */
import { DONE, denied, fromBase64, toBase64, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';

export const BLOCK_NS = 10_000_000;

export interface MicrophoneSnapshot {
  readonly regs: readonly number[];
  readonly capturing: boolean;
  readonly samplesHeard: number;
  readonly source: string | null;
  readonly random: readonly [number, number, number, number];
  readonly [key: string]: Json;
}

export class Microphone implements MmioDevice<MicrophoneSnapshot> {
  readonly kind = 'microphone';
  readonly windowSize = 0x1000;
  // ctrl, bufAddr, bufLen, fill, status, intStatus, intEnable
  private regs = [0, 0, 0, 0, 0, 0, 0];
  private capturing = false;
  private samplesHeard = 0;
  private source: Int16Array | undefined;

  constructor(
    readonly name: string,
    readonly sampleRate: number,
    private readonly ctx: DeviceContext,
  ) {}

  /** Host side: what the microphone hears from now on (looped); undefined restores the synthetic signal. */
  setSource(samples: Int16Array | undefined): void {
    this.source = samples && samples.length > 0 ? samples.slice() : undefined;
  }

  private nextSample(): number {
    const n = this.samplesHeard++;
    if (this.source) return this.source[n % this.source.length] as number;
    const t = n / this.sampleRate;
    const tone = 6000 * Math.sin(2 * Math.PI * 220 * t) + 3000 * Math.sin(2 * Math.PI * 330 * t);
    return Math.round(tone) + (this.ctx.random.below(2001) - 1000);
  }

  reset(): void {
    this.ctx.cancelEvents();
    this.regs = [0, 0, 0, 0, 0, 0, 0];
    this.capturing = false;
  }

  handleEvent(_action: string, _data: Json): void {
    if (!this.capturing) return;
    const [, bufAddr, bufLen, fill] = this.regs as [number, number, number, number];
    const perBlock = Math.round((this.sampleRate * BLOCK_NS) / 1e9);
    const bytes = Math.min(perBlock * 2, bufLen - fill);
    const block = new Uint8Array(bytes);
    const view = new DataView(block.buffer);
    for (let i = 0; i + 1 < bytes; i += 2)
      view.setInt16(i, Math.max(-32768, Math.min(32767, this.nextSample())), true);
    if (!this.ctx.dma.write(bufAddr + fill, block).ok) {
      this.capturing = false;
      this.regs[4] = 4;
      return this.interrupt(2);
    }
    this.regs[3] = fill + bytes;
    if (fill + bytes >= bufLen) {
      this.capturing = false;
      this.regs[4] = 2;
      this.ctx.record('mic.full', { bytes: bufLen });
      return this.interrupt(1);
    }
    this.ctx.schedule(BLOCK_NS, 'block', null);
  }

  private interrupt(bit: number): void {
    this.regs[5] = (this.regs[5] as number) | bit;
    if ((this.regs[6] as number) & bit) this.ctx.raiseInterrupt();
  }

  readRegister(offset: number, _a: Access): MmioRead {
    switch (offset) {
      case 0x000:
        return value(this.regs[0] as number);
      case 0x004:
        return value((this.capturing ? 1 : 0) | (this.regs[4] as number));
      case 0x008:
      case 0x00c:
      case 0x010:
        return value(this.regs[(offset - 0x004) / 4] as number);
      case 0x014:
        return value(this.sampleRate);
      case 0x018:
        return value(this.regs[5] as number);
      case 0x01c:
        return value(this.regs[6] as number);
    }
    return denied(`no microphone register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x000: {
        const len = this.regs[2] as number;
        if ((v & 1) === 1 && (len === 0 || len % 2 !== 0))
          return denied('capture buffer length must be a positive even number of bytes');
        this.regs[0] = v & 1;
        this.ctx.cancelEvents();
        this.capturing = (v & 1) === 1;
        if (this.capturing) {
          this.regs[3] = 0;
          this.regs[4] = 0;
          this.ctx.record('mic.capture', { bytes: this.regs[2] as number });
          this.ctx.schedule(BLOCK_NS, 'block', null);
        }
        return DONE;
      }
      case 0x008:
      case 0x00c:
        this.regs[(offset - 0x004) / 4] = v >>> 0;
        return DONE;
      case 0x018:
        this.regs[5] = (this.regs[5] as number) & ~v;
        return DONE;
      case 0x01c:
        this.regs[6] = v & 3;
        return DONE;
    }
    return denied(`no writable microphone register at 0x${offset.toString(16)}`);
  }

  snapshot(): MicrophoneSnapshot {
    return {
      regs: [...this.regs],
      capturing: this.capturing,
      samplesHeard: this.samplesHeard,
      source: this.source
        ? toBase64(new Uint8Array(this.source.buffer, this.source.byteOffset, this.source.byteLength))
        : null,
      random: this.ctx.random.state(),
    };
  }

  restore(s: MicrophoneSnapshot): void {
    this.regs = [...s.regs];
    this.capturing = s.capturing;
    this.samplesHeard = s.samplesHeard;
    if (s.source === null) this.source = undefined;
    else {
      const b = fromBase64(s.source);
      this.source = new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2);
    }
    this.ctx.random.setState(s.random);
  }
}
