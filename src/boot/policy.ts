/** What a board tells its boot chain: the flash layout, the security policy, the counters to use. */
import type { FlashLayout } from './flash-layout.js';
import type { SecurityConfiguration } from './ports.js';

export interface BootPolicy {
  readonly layout: FlashLayout;
  /** TZASC/TZPC/interrupt groups, applied and locked before the Normal World starts. */
  readonly security: SecurityConfiguration;
  /** Which NV monotonic counter guards which image (TF-A's trusted and non-trusted NV counters). */
  readonly counters: { readonly secureBundle: number; readonly normalWorld: number };
  /** Boot attempts an update gets before the ROM reverts to the confirmed bank (default 1). */
  readonly trialAttempts?: number;
}
