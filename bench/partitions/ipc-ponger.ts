/** Bench trusted application: answers every call on its endpoint with mr0 + 1 (reply and receive in one call). */
import { kcall } from '../../src/kernel/abi/sys.js';

let m = kcall('endpoint_receive', 0);
while (m.code === 0) m = kcall('endpoint_reply_receive', 0, 0, (m.mr[0] + 1) >>> 0, 0, 0, 0);
