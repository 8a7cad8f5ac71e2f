/** The NIC driver: owns the Ethernet NIC of the Secure World and moves frames between it and the firewall. */
import type { TaManifest } from '../../kernel/abi/manifest.js';
import { NIC_DEVICE, NIC_DMA_REGION, NIC_LINK_REGION } from './protocol.js';

export const NIC_DRIVER_UUID = '5c3f6e21-9b0d-4d7a-8f6e-2a1b7c9d0e01';

export const manifest: TaManifest = {
  name: 'nic-driver',
  uuid: NIC_DRIVER_UUID,
  description: 'Ethernet NIC driver: descriptor rings in secure memory, frames to and from the firewall',
  version: '1.0.0',
  properties: { singleInstance: true, multiSession: false, instanceKeepAlive: true },
  quotas: { memoryMb: 32, budgetMs: 500 },
  capabilities: { devices: [NIC_DEVICE], regions: [NIC_DMA_REGION, NIC_LINK_REGION] },
  restart: 'always',
};
