/**
 * Packet segments: the media that link NICs to each other and to emulated remote hosts.
 *   - `ethernet`: a switched Ethernet segment; every frame reaches every other port (the receiving NIC
 *     filters by destination MAC), after its serialisation time at the segment's bit rate (preamble and
 *     inter-frame gap included) and the propagation latency.
 *   - `wifi`: the same over a wireless medium; an endpoint that is not part of the board must present the
 *     network's passphrase to join.
 *   - `cellular`: the carrier's packet network: IPv4 packets (no link header) are routed to the port that
 *     holds the destination address; packets to no port are dropped.
 * An endpoint attaches through a minimal port interface — it supplies `deliver(frame, timeNs)` and gets
 * `send(frame)` — so higher layers can attach remote hosts with their own TCP/IP stack. A tap records
 * every frame put on the medium as `{timeNs, frame}` (pcap link type in `linkType`).
 */
import { createHash } from 'node:crypto';
import { assert } from '../../common/errors.js';
import { fromBase64, toBase64, type Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';

export type Medium = 'ethernet' | 'wifi' | 'cellular';

/** pcap LINKTYPE values: 1 = Ethernet (used for Wi-Fi too: frames carry Ethernet II headers), 101 = raw IP. */
export const LINKTYPE: Record<Medium, number> = { ethernet: 1, wifi: 1, cellular: 101 };

/** Largest frame a medium carries (Ethernet II without FCS, with an 802.1Q tag; IP MTU for cellular). */
export const MAX_FRAME: Record<Medium, number> = { ethernet: 1518, wifi: 1518, cellular: 1500 };

/** Per-frame bytes on the wire beyond the frame itself (Ethernet preamble + SFD + inter-frame gap). */
const OVERHEAD: Record<Medium, number> = { ethernet: 20, wifi: 20, cellular: 0 };

export interface FrameEndpoint {
  /** The frame has fully arrived at this endpoint at `timeNs` (the clock's current time). */
  deliver(frame: Uint8Array, timeNs: number): void;
}

export interface SegmentPort {
  readonly name: string;
  /** Puts a frame on the medium; it reaches the other endpoints after serialisation and latency. */
  send(frame: Uint8Array): void;
}

export interface TapRecord {
  readonly timeNs: number;
  readonly from: string;
  readonly frame: Uint8Array;
}

export interface SegmentOptions {
  readonly bitRate: number;
  readonly latencyNs: number;
  readonly ssid?: string;
  readonly passphrase?: string;
}

export interface AttachOptions {
  /** IPv4 address of the endpoint (cellular only). */
  readonly address?: string;
  /** Network passphrase (Wi-Fi endpoints outside the board). */
  readonly passphrase?: string;
  /** Board devices are configured with the network's credentials. */
  readonly member?: boolean;
}

export type AttachResult =
  | { readonly ok: true; readonly port: SegmentPort }
  | { readonly ok: false; readonly code: 'NAME_TAKEN' | 'AUTH_FAILED' | 'ADDRESS_TAKEN' | 'BAD_ADDRESS' };

interface PortState {
  readonly name: string;
  readonly endpoint: FrameEndpoint;
  readonly address: number | undefined;
  txFreeAt: number;
}

export interface SegmentSnapshot {
  readonly ports: Readonly<Record<string, number>>;
  readonly tap: readonly { readonly timeNs: number; readonly from: string; readonly frame: string }[];
  readonly stats: { readonly frames: number; readonly dropped: number };
  readonly [key: string]: Json;
}

export class Segment {
  readonly kind = 'segment';
  readonly linkType: number;
  private readonly ports = new Map<string, PortState>();
  private tapRecords: TapRecord[] = [];
  private frames = 0;
  private dropped = 0;
  private readonly target: string;

  constructor(
    readonly name: string,
    readonly medium: Medium,
    readonly options: SegmentOptions,
    private readonly clock: VirtualClock,
    private readonly trace: Trace,
  ) {
    assert(options.bitRate > 0 && options.latencyNs >= 0, `segment ${name}: bad timing`);
    this.linkType = LINKTYPE[medium];
    this.target = `link:${name}`;
    clock.register(this.target, (action, data) => this.onEvent(action, data));
  }

  attach(name: string, endpoint: FrameEndpoint, options: AttachOptions = {}): AttachResult {
    if (this.ports.has(name)) return { ok: false, code: 'NAME_TAKEN' };
    if (this.medium === 'wifi' && !options.member && this.options.passphrase !== undefined) {
      if (options.passphrase !== this.options.passphrase) {
        this.trace.record(this.target, 'wifi.auth-failed', { port: name });
        return { ok: false, code: 'AUTH_FAILED' };
      }
    }
    let address: number | undefined;
    if (this.medium === 'cellular') {
      address = options.address === undefined ? undefined : parseIpv4(options.address);
      if (address === undefined) return { ok: false, code: 'BAD_ADDRESS' };
      for (const p of this.ports.values())
        if (p.address === address) return { ok: false, code: 'ADDRESS_TAKEN' };
    }
    this.ports.set(name, { name, endpoint, address, txFreeAt: 0 });
    this.trace.record(this.target, 'link.attach', { port: name });
    return { ok: true, port: { name, send: (frame) => this.send(name, frame) } };
  }

  detach(name: string): void {
    if (this.ports.delete(name)) this.trace.record(this.target, 'link.detach', { port: name });
  }

  /** Names of the attached ports, in attach order. */
  portNames(): string[] {
    return [...this.ports.keys()];
  }

  /** Every frame put on the medium since the last `clearTap`, oldest first. */
  get tap(): readonly TapRecord[] {
    return this.tapRecords;
  }

  clearTap(): void {
    this.tapRecords = [];
  }

  get stats(): { frames: number; dropped: number } {
    return { frames: this.frames, dropped: this.dropped };
  }

  private send(from: string, frame: Uint8Array): void {
    const port = this.ports.get(from);
    if (!port) return; // detached
    const now = this.clock.nowNs;
    if (frame.length === 0 || frame.length > MAX_FRAME[this.medium]) {
      this.dropped++;
      this.trace.record(this.target, 'frame.dropped', { from, length: frame.length, reason: 'size' });
      return;
    }
    const start = Math.max(now, port.txFreeAt);
    const bits = (frame.length + OVERHEAD[this.medium]) * 8;
    const end = start + Math.ceil((bits * 1e9) / this.options.bitRate);
    port.txFreeAt = end;
    const copy = frame.slice();
    this.tapRecords.push({ timeNs: start, from, frame: copy });
    this.frames++;
    this.trace.record(this.target, 'frame', { from, length: frame.length, sha256: digest(copy) });
    const recipients = this.recipients(port, copy);
    if (recipients.length === 0) {
      this.dropped++;
      this.trace.record(this.target, 'frame.dropped', { from, length: frame.length, reason: 'no route' });
      return;
    }
    const data = toBase64(copy);
    for (const to of recipients)
      this.clock.scheduleAt(end + this.options.latencyNs, this.target, 'deliver', { to, frame: data });
  }

  private recipients(from: PortState, frame: Uint8Array): string[] {
    if (this.medium !== 'cellular') return [...this.ports.keys()].filter((n) => n !== from.name);
    if (frame.length < 20 || (frame[0] as number) >> 4 !== 4) return [];
    const dst =
      ((frame[16] as number) << 24) |
      ((frame[17] as number) << 16) |
      ((frame[18] as number) << 8) |
      (frame[19] as number);
    for (const p of this.ports.values()) if (p.address === dst >>> 0 && p !== from) return [p.name];
    return [];
  }

  private onEvent(action: string, data: Json): void {
    assert(action === 'deliver', `segment ${this.name}: unknown event ${action}`);
    const { to, frame } = data as { to: string; frame: string };
    const port = this.ports.get(to);
    if (port) port.endpoint.deliver(fromBase64(frame), this.clock.nowNs);
  }

  /** Back to power-on: transmitters idle, tap and statistics cleared; ports stay attached. */
  reset(): void {
    this.clock.cancel(this.target);
    for (const p of this.ports.values()) p.txFreeAt = 0;
    this.tapRecords = [];
    this.frames = 0;
    this.dropped = 0;
  }

  snapshot(): SegmentSnapshot {
    const ports: Record<string, number> = {};
    for (const p of this.ports.values()) ports[p.name] = p.txFreeAt;
    return {
      ports,
      tap: this.tapRecords.map((r) => ({ timeNs: r.timeNs, from: r.from, frame: toBase64(r.frame) })),
      stats: { frames: this.frames, dropped: this.dropped },
    };
  }

  /** Restores the segment's state; the same endpoints must already be attached. */
  restore(s: SegmentSnapshot): void {
    for (const [name, txFreeAt] of Object.entries(s.ports)) {
      const p = this.ports.get(name);
      assert(p, `segment ${this.name}: snapshot port ${name} is not attached`);
      p.txFreeAt = txFreeAt;
    }
    this.tapRecords = s.tap.map((r) => ({ timeNs: r.timeNs, from: r.from, frame: fromBase64(r.frame) }));
    this.frames = s.stats.frames;
    this.dropped = s.stats.dropped;
  }
}

function digest(frame: Uint8Array): string {
  return createHash('sha256').update(frame).digest('hex').slice(0, 32);
}

/** Dotted-quad IPv4 to an unsigned 32-bit number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((a, p) => a * 256 + p, 0);
}

/** `aa:bb:cc:dd:ee:ff` to 6 bytes, or undefined. */
export function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}
