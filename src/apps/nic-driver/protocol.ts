/**
 * The NIC driver's interface: its DMA region and device, the link it shares with the firewall (layout
 * and doorbells in ../../lib/nic/link.ts) and the bits of its own notification. The system
 * configuration (images/iot-gateway/system.yaml) wires the capability slots named here.
 */
import { DriverDoorbell } from '../../lib/nic/link.js';

export {
  LINK_HEADER_BYTES,
  LINK_UP_OFFSET,
  NIC_LINK_BYTES,
  NIC_LINK_REGION,
  NIC_RECEIVE_RING,
  NIC_RING_CAPACITY,
  NIC_TRANSMIT_RING,
} from '../../lib/nic/link.js';
export const NIC_DMA_REGION = 'nic-dma';
export const NIC_DEVICE = 'eth0';

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
  ...DriverDoorbell,
} as const;
