/**
 * The Normal World's "rich OS" of the default boards: a minimal init that brings up its services and
 * reports what it did on its console. It is untrusted: everything it can do, it does through the Normal
 * World's interface (SMC into the TEE, its own memory and devices).
 */
import { bootInfo, log } from '../../kernel/abi/sys.js';
import { helloClient } from './hello-client.js';
import { startNetwork } from './network.js';

interface Info {
  readonly partition: string;
  readonly smc: readonly { entry: number; ta: string | null }[];
}

const info = bootInfo<Info>();
log(
  `rich-os: up as partition ${info.partition}; TEE entries: ${info.smc.map((e) => `${e.entry}=${e.ta ?? '?'}`).join(', ') || 'none'}`,
);
if (info.smc.some((e) => e.ta === 'hello')) helloClient();
log('rich-os: init done');
startNetwork();
