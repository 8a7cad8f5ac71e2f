/** The firewall: netfilter-compatible filtering between the WAN and the Normal World, in the Secure World. */
import type { TaManifest } from '../../kernel/abi/manifest.js';
import { NIC_LINK_REGION } from '../../lib/nic/link.js';
import { CAPTURE_REGION, CONSOLE_DEVICE, NW_LINK_REGION } from './protocol.js';

export const FIREWALL_UUID = '5c3f6e21-9b0d-4d7a-8f6e-2a1b7c9d0e02';

export const manifest: TaManifest = {
  name: 'firewall',
  uuid: FIREWALL_UUID,
  description:
    'netfilter-compatible firewall with connection tracking between the NIC driver and the Normal World',
  version: '1.0.0',
  properties: { singleInstance: true, multiSession: false, instanceKeepAlive: true },
  quotas: { memoryMb: 96, budgetMs: 1000 },
  capabilities: { devices: [CONSOLE_DEVICE], regions: [NIC_LINK_REGION, NW_LINK_REGION, CAPTURE_REGION] },
  restart: 'always',
};
