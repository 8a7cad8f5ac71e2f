/** Bench trusted application: calls the ponger over an endpoint, N round trips. */
import { kcall, log } from '../../src/kernel/abi/sys.js';

declare const BENCH: { calls: number };
for (let i = 0; i < 100; i++) kcall('endpoint_call', 0, 1, i, 0, 0, 0);
log('bench:go');
let sum = 0;
for (let i = 0; i < BENCH.calls; i++) sum = (sum + kcall('endpoint_call', 0, 1, i, 0, 0, 0).mr[0]) >>> 0;
log(`bench:done:${sum}`);
