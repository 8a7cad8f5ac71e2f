/**
 * Ethernet NIC on an Ethernet segment: the descriptor-ring DMA engine of `packet-rings.ts` with a MAC
 * address filter (own unicast address, broadcast and multicast; everything when promiscuous).
 * Register map: see `packet-rings.ts`; ADDR_LO/ADDR_HI hold the MAC address.
 */
import { assert } from '../../common/errors.js';
import type { DeviceContext } from '../device.js';
import { PacketRingDevice } from './packet-rings.js';
import type { Segment } from '../links/segment.js';

export class EthernetNic extends PacketRingDevice {
  readonly kind: string = 'ethernet-nic';

  constructor(
    name: string,
    readonly mac: Uint8Array,
    ctx: DeviceContext,
  ) {
    super(name, ctx);
    assert(mac.length === 6, 'a MAC address has 6 bytes');
  }

  protected addressWords(): [number, number] {
    const m = this.mac;
    return [
      ((m[0] as number) | ((m[1] as number) << 8) | ((m[2] as number) << 16) | ((m[3] as number) << 24)) >>>
        0,
      (m[4] as number) | ((m[5] as number) << 8),
    ];
  }

  protected accepts(frame: Uint8Array, promiscuous: boolean): boolean {
    if (promiscuous) return true;
    if (frame.length < 14) return false;
    if (((frame[0] as number) & 1) === 1) return true; // group address: broadcast or multicast
    for (let i = 0; i < 6; i++) if (frame[i] !== this.mac[i]) return false;
    return true;
  }

  connect(segment: Segment): void {
    const r = segment.attach(this.ctx.path, this, { member: true });
    assert(r.ok, `${this.ctx.path}: cannot attach to ${segment.name}`);
    this.setPort(r.port);
  }
}
