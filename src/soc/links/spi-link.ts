/**
 * A point-to-point SPI link between two chips of a board: one master, one slave, full duplex. The master
 * starts a transfer of N bytes; during the N·8 bit times, its N bytes shift into the slave while the
 * slave's armed transmit bytes shift into the master (0xFF when the slave has armed fewer, as an idle MISO
 * line reads). At the end both sides complete at the same virtual time.
 */
import { assert } from '../../common/errors.js';
import { fromBase64, toBase64, type Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';

export interface SpiEnd {
  /** Slave side: the bytes it shifts out for a transfer of `length` (armed data, padded with 0xFF). */
  shiftOut(length: number): Uint8Array;
  /** End of a transfer: the bytes shifted in. */
  complete(received: Uint8Array): void;
}

export interface SpiLinkSnapshot {
  readonly busy: boolean;
  readonly transfers: number;
  readonly [key: string]: Json;
}

export class SpiLink {
  readonly kind = 'spi-link';
  private master: SpiEnd | undefined;
  private slave: SpiEnd | undefined;
  private busy = false;
  private transfers = 0;
  private readonly target: string;

  constructor(
    readonly name: string,
    readonly bitRate: number,
    private readonly clock: VirtualClock,
    private readonly trace: Trace,
  ) {
    assert(bitRate > 0, 'SPI bit rate must be positive');
    this.target = `link:${name}`;
    clock.register(this.target, (action, data) => this.onEvent(action, data));
  }

  connect(role: 'master' | 'slave', end: SpiEnd): void {
    assert(role === 'master' ? !this.master : !this.slave, `SPI link ${this.name} has two ${role}s`);
    if (role === 'master') this.master = end;
    else this.slave = end;
  }

  get attached(): boolean {
    return this.master !== undefined && this.slave !== undefined;
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /** Master side: starts a transfer; returns false when the link is busy or incomplete. */
  start(mosi: Uint8Array): boolean {
    if (this.busy || !this.master || !this.slave) return false;
    const miso = this.slave.shiftOut(mosi.length);
    this.busy = true;
    this.transfers++;
    this.trace.record(this.target, 'spi.transfer', { length: mosi.length });
    const durationNs = Math.ceil((mosi.length * 8 * 1e9) / this.bitRate);
    this.clock.schedule(durationNs, this.target, 'complete', { mosi: toBase64(mosi), miso: toBase64(miso) });
    return true;
  }

  private onEvent(action: string, data: Json): void {
    assert(action === 'complete', `SPI link ${this.name}: unknown event ${action}`);
    const { mosi, miso } = data as { mosi: string; miso: string };
    this.busy = false;
    this.slave?.complete(fromBase64(mosi));
    this.master?.complete(fromBase64(miso));
  }

  reset(): void {
    this.clock.cancel(this.target);
    this.busy = false;
    this.transfers = 0;
  }

  snapshot(): SpiLinkSnapshot {
    return { busy: this.busy, transfers: this.transfers };
  }

  restore(s: SpiLinkSnapshot): void {
    this.busy = s.busy;
    this.transfers = s.transfers;
  }
}
