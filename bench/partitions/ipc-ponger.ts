/** Bench trusted application: answers every call on its endpoint with mr0 + 1. */
import { kcall } from '../../src/kernel/abi/sys.js';

let m = kcall('endpoint_receive', 0);
for (;;) {
  if (m.code !== 0) break;
  kcall('endpoint_reply', 0, (m.mr[0] + 1) >>> 0, 0, 0, 0);
  m = kcall('endpoint_receive', 0);
}
