/**
 * Cellular modem on the carrier's packet network: carries bare IPv4 packets (no link header). The network
 * routes packets to the modem by its IPv4 address (ADDR_LO, as a number), so the modem keeps everything it
 * receives. Same descriptor-ring engine and register map as the Ethernet NIC (`packet-rings.ts`).
 */
import { assert } from '../../common/errors.js';
import type { DeviceContext } from '../device.js';
import { PacketRingDevice } from './packet-rings.js';
import { parseIpv4, type Segment } from '../links/segment.js';

export class CellularModem extends PacketRingDevice {
  readonly kind = 'cellular-modem';
  private readonly addressNumber: number;

  constructor(
    name: string,
    readonly address: string,
    ctx: DeviceContext,
  ) {
    super(name, ctx);
    const a = parseIpv4(address);
    assert(a !== undefined, `bad IPv4 address ${address}`);
    this.addressNumber = a;
  }

  protected addressWords(): [number, number] {
    return [this.addressNumber, 0];
  }

  protected accepts(): boolean {
    return true;
  }

  connect(segment: Segment): void {
    const r = segment.attach(this.ctx.path, this, { member: true, address: this.address });
    assert(r.ok, `${this.ctx.path}: cannot attach to ${segment.name}`);
    this.setPort(r.port);
  }
}
