/**
 * The stack's Ethernet interface (IEEE 802.3 §3.2 framing through the `ethernet` codec): accepts frames
 * addressed to its MAC or to broadcast, hands them up by EtherType, and frames outgoing payloads.
 */
import { type MacAddress, formatMac } from '../address.js';
import { decodeEthernet, encodeEthernet } from '../ethernet.js';
import { PacketError } from '../wire.js';
import type { StackContext } from './context.js';

export const BROADCAST_MAC: MacAddress = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** A received frame's payload, with what the upper layers need from the header. */
export interface LinkInput {
  readonly src: MacAddress;
  readonly etherType: number;
  readonly payload: Uint8Array;
  /** Offset of `payload` in the frame, for error locations. */
  readonly offset: number;
}

export class EthernetLayer {
  readonly counters = {
    framesIn: 0,
    framesOut: 0,
    malformed: 0,
    notForUs: 0,
    vlanTagged: 0,
  };

  constructor(
    private readonly ctx: StackContext,
    readonly mac: MacAddress,
    /** Largest payload (IP datagram) a frame may carry. */
    readonly mtu: number,
    private readonly transmit: (frame: Uint8Array) => void,
    private readonly promiscuous = false,
  ) {}

  get macText(): string {
    return formatMac(this.mac);
  }

  input(frame: Uint8Array): LinkInput | undefined {
    this.ctx.count(this.counters, 'framesIn');
    let decoded;
    try {
      decoded = decodeEthernet(frame);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return undefined;
    }
    if (decoded.vlans.length > 0) {
      // The interface is untagged: a tagged frame belongs to another VLAN.
      this.ctx.count(this.counters, 'vlanTagged');
      return undefined;
    }
    if (!this.promiscuous && !sameMac(decoded.dst, this.mac) && !sameMac(decoded.dst, BROADCAST_MAC)) {
      this.ctx.count(this.counters, 'notForUs');
      return undefined;
    }
    return {
      src: decoded.src,
      etherType: decoded.etherType,
      payload: decoded.payload,
      offset: frame.length - decoded.payload.length,
    };
  }

  send(dst: MacAddress, etherType: number, payload: Uint8Array): void {
    this.ctx.count(this.counters, 'framesOut');
    this.transmit(encodeEthernet({ dst, src: this.mac, vlans: [], etherType, payload }, { pad: true }));
  }
}

export function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4] && a[5] === b[5];
}
