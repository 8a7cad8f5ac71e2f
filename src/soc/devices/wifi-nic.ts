/**
 * Wi-Fi NIC on a wireless segment (for a head unit, its hotspot). Frames carry Ethernet II headers (the
 * 802.11 framing is not modelled); the device is configured with the network's credentials by the board,
 * while outside endpoints must present the passphrase to join the segment. Same descriptor-ring engine and
 * register map as the Ethernet NIC (`packet-rings.ts`).
 */
import { EthernetNic } from './ethernet-nic.js';

export class WifiNic extends EthernetNic {
  override readonly kind: string = 'wifi-nic';
}
