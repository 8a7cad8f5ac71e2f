/**
 * Bench trusted application: the firewall's packet path over the classification workload
 * (classify-workload.ts), inside a Hardened JavaScript compartment. The ruleset is its ta-data, as the
 * firewall's is. Logs `bench:go` after a warm-up and `bench:done:<accepted>` after BENCH.frames frames.
 */
import { decodeUtf8 } from '../../src/common/utf8.js';
import { log, taData } from '../../src/kernel/abi/sys.js';
import { classifier } from './classify-workload.js';

declare const BENCH: { warmup: number; frames: number };
const rules = taData('rules.v4');
if (!rules) throw new Error('no ruleset');
const run = classifier(decodeUtf8(rules));
run(BENCH.warmup);
log('bench:go');
const accepted = run(BENCH.frames);
log(`bench:done:${accepted}`);
