/**
 * The NIC driver's interface to the firewall: the `nic-link` region (secure memory the driver owns and
 * shares with the firewall's domain) and the doorbell bits of both sides' notifications. The system
 * configuration (images/iot-gateway/system.yaml) wires the capability slots named here.
 *
 * `nic-link` layout:
 *   0     link header: MAC address (6 bytes), then at 8 a word: 1 once the NIC is up
 *   64    receive ring (frame-ring.ts): driver → firewall, frames from the wire
 *   64 + ringBytes(RING_CAPACITY)   transmit ring: firewall → driver, frames for the wire; the NIC
 *         transmits them straight from the ring by DMA (the driver copies no frame)
 */
import { ringBytes } from '../../lib/ring/frame-ring.js';

export const NIC_LINK_REGION = 'nic-link';
export const NIC_DMA_REGION = 'nic-dma';
export const NIC_DEVICE = 'eth0';

export const LINK_HEADER_BYTES = 64;
export const LINK_UP_OFFSET = 8;
export const NIC_RING_CAPACITY = 64 * 1024;
export const NIC_RECEIVE_RING = LINK_HEADER_BYTES;
export const NIC_TRANSMIT_RING = LINK_HEADER_BYTES + ringBytes(NIC_RING_CAPACITY);
export const NIC_LINK_BYTES = NIC_TRANSMIT_RING + ringBytes(NIC_RING_CAPACITY);

/** Descriptors per NIC ring and bytes per receive buffer (in `nic-dma`). */
export const NIC_DESCRIPTORS = 128;
export const NIC_BUFFER_BYTES = 2048;

/** Capability slots of the driver partition. */
export const DriverSlot = {
  /** Its own notification: the NIC's interrupt and the firewall's doorbells. */
  EVENTS: 0,
  /** SIGNAL on the firewall's notification. */
  FIREWALL: 1,
} as const;

/** Bits of the driver's notification. */
export const DriverEvent = {
  /** The NIC's interrupt (bound at boot). */
  IRQ: 1 << 0,
  /** The firewall published frames on the transmit ring. */
  TRANSMIT: 1 << 1,
  /** The firewall released space on the receive ring. */
  RECEIVE_SPACE: 1 << 2,
} as const;
