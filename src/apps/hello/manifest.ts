/** The hello trusted application: the sample of `rampart demo hello`. */
import type { TaManifest } from '../../kernel/abi/manifest.js';
import { HELLO_UUID } from './protocol.js';

export const manifest: TaManifest = {
  name: 'hello',
  uuid: HELLO_UUID,
  description: 'sample trusted application: values and shared memory',
  version: '1.0.0',
  properties: { singleInstance: true, multiSession: true, instanceKeepAlive: true },
  quotas: { memoryMb: 32, budgetMs: 200 },
  capabilities: { devices: [], regions: [] },
  restart: 'always',
};
