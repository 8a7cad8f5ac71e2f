/**
 * Applying the board's security policy (TZASC regions, TZPC peripheral assignment, interrupt groups)
 * and locking it, as the last step before the Normal World runs: program, read back and compare, lock,
 * check the lock held. What was locked is measured, so an attestation covers the configuration too.
 */
import { stableStringify } from '../common/json.js';
import { chainFailure, type BootFailure } from './failure.js';
import { sha256 } from './keys.js';
import type { SecurityConfiguration, SecurityConfigurator } from './ports.js';

/** One order for every list, so equal configurations have equal text and equal measurements. */
export function canonicalSecurityConfiguration(c: SecurityConfiguration): SecurityConfiguration {
  return {
    regions: [...c.regions]
      .map((r) => ({ name: r.name, base: r.base, size: r.size, world: r.world }))
      .sort((a, b) => a.base - b.base || a.size - b.size || cmp(a.name, b.name)),
    peripherals: [...c.peripherals]
      .map((p) => ({ name: p.name, world: p.world }))
      .sort((a, b) => cmp(a.name, b.name)),
    interrupts: [...c.interrupts]
      .map((i) => ({ line: i.line, group: i.group }))
      .sort((a, b) => a.line - b.line),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function securityConfigurationDigest(c: SecurityConfiguration): Uint8Array {
  return sha256(new TextEncoder().encode(stableStringify(canonicalSecurityConfiguration(c))));
}

/** The first difference between two configurations, as a field path, or undefined if equal. */
export function diffSecurityConfiguration(
  want: SecurityConfiguration,
  got: SecurityConfiguration,
): string | undefined {
  const a = canonicalSecurityConfiguration(want);
  const b = canonicalSecurityConfiguration(got);
  for (const key of ['regions', 'peripherals', 'interrupts'] as const) {
    const x = a[key] as readonly unknown[];
    const y = b[key] as readonly unknown[];
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if (stableStringify(x[i]) !== stableStringify(y[i]))
        return `${key}[${i}]: policy ${stableStringify(x[i]) ?? 'nothing'}, hardware ${stableStringify(y[i]) ?? 'nothing'}`;
  }
  return undefined;
}

/** Program, verify, lock, verify the lock. Returns the measurement of what is now locked. */
export function applyAndLock(
  configurator: SecurityConfigurator,
  policy: SecurityConfiguration,
): { ok: true; digest: Uint8Array } | { ok: false; failure: BootFailure } {
  configurator.apply(policy);
  const before = diffSecurityConfiguration(policy, configurator.readBack());
  if (before)
    return {
      ok: false,
      failure: chainFailure('kernel', 'SECURITY_CONFIG_MISMATCH', `after programming, ${before}`),
    };
  configurator.lock();
  if (!configurator.isLocked())
    return {
      ok: false,
      failure: chainFailure('kernel', 'SECURITY_CONFIG_NOT_LOCKED', 'the lock bits did not set'),
    };
  const after = diffSecurityConfiguration(policy, configurator.readBack());
  if (after)
    return {
      ok: false,
      failure: chainFailure('kernel', 'SECURITY_CONFIG_MISMATCH', `after locking, ${after}`),
    };
  return { ok: true, digest: securityConfigurationDigest(policy) };
}
