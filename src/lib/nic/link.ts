/**
 * The ring link between a NIC driver and the service that consumes its frames (the firewall): the
 * `nic-link` region, secure memory the driver owns and shares with the consumer's domain, and the
 * doorbell bits each side rings on the other's notification. Both applications import it from here, so
 * neither imports the other.
 *
 * `nic-link` layout:
 *   0     link header: MAC address (6 bytes), then at 8 a word: 1 once the NIC is up
 *   64    receive ring (../ring/frame-ring.ts): driver → consumer, frames from the wire
 *   64 + ringBytes(NIC_RING_CAPACITY)   transmit ring: consumer → driver, frames for the wire; the NIC
 *         transmits them straight from the ring by DMA (the driver copies no frame)
 */
import { ringBytes } from '../ring/frame-ring.js';

export const NIC_LINK_REGION = 'nic-link';

export const LINK_HEADER_BYTES = 64;
export const LINK_UP_OFFSET = 8;
export const NIC_RING_CAPACITY = 64 * 1024;
export const NIC_RECEIVE_RING = LINK_HEADER_BYTES;
export const NIC_TRANSMIT_RING = LINK_HEADER_BYTES + ringBytes(NIC_RING_CAPACITY);
export const NIC_LINK_BYTES = NIC_TRANSMIT_RING + ringBytes(NIC_RING_CAPACITY);

/** Bits the driver rings on the consumer's notification. */
export const ConsumerDoorbell = {
  /** The driver published frames from the wire. */
  RECEIVED: 1 << 0,
  /** The driver released space on the transmit ring. */
  TRANSMIT_SPACE: 1 << 1,
} as const;

/** Bits the consumer rings on the driver's notification (bit 0 is the NIC's own interrupt). */
export const DriverDoorbell = {
  /** The consumer published frames on the transmit ring. */
  TRANSMIT: 1 << 1,
  /** The consumer released space on the receive ring. */
  RECEIVE_SPACE: 1 << 2,
} as const;
