/** Ephemeral port selection (RFC 6056 §3.3.1, "simple port randomisation") from the stack's seeded source. */
import { RampartError } from '../../../common/errors.js';
import type { SeededRandom } from '../../../common/random.js';

/** The IANA dynamic range (RFC 6335 §6), which RFC 6056 §3.2 recommends. */
export const EPHEMERAL_FIRST = 49152;
export const EPHEMERAL_LAST = 65535;

export function allocateEphemeralPort(random: SeededRandom, inUse: (port: number) => boolean): number {
  const count = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
  let port = EPHEMERAL_FIRST + random.below(count);
  for (let i = 0; i < count; i++) {
    if (!inUse(port)) return port;
    port = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
  }
  throw new RampartError('PORTS_EXHAUSTED', 'every ephemeral port is in use');
}
