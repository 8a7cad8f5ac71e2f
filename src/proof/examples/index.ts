/** `rampart prove examples`: small state machines that show every obligation kind, all proven. */
import type { ProofTarget } from '../obligation.js';
import { fifoObligations } from './fifo.js';
import { pagesObligations } from './pages.js';
import { portsObligations } from './ports.js';

export const target: ProofTarget = {
  name: 'examples',
  description: 'page ownership with reference counts, a bounded FIFO, sampling ports under a flow policy',
  obligations: (g) => [
    ...pagesObligations('examples', g),
    ...fifoObligations('examples', g),
    ...portsObligations('examples', g),
  ],
};
