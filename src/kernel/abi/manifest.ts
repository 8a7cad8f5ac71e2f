/**
 * Trusted application manifests: what a trusted application is (UUID, GP properties) and the most it may
 * ever hold (devices, memory, quotas). Each application's `src/apps/<name>/manifest.ts` declares one;
 * it travels in the signed secure bundle as a `ta-manifest` component (JSON), and the runtime refuses
 * a system configuration that would give an application a device or memory its manifest does not name.
 * Properties follow GP TEE Internal Core API §4.5 (gpd.ta.*).
 */
import { z } from 'zod';
import { UUID_PATTERN } from './uuid.js';

export const taManifestSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,47}$/, 'a name is lowercase letters, digits and dashes'),
  uuid: z.string().regex(UUID_PATTERN, 'a UUID is 8-4-4-4-12 lowercase hex digits (RFC 4122)'),
  description: z.string().max(200).optional(),
  version: z.string().max(32),
  /** GP TA properties: gpd.ta.singleInstance, multiSession, instanceKeepAlive. */
  properties: z.strictObject({
    singleInstance: z.boolean(),
    multiSession: z.boolean(),
    instanceKeepAlive: z.boolean(),
  }),
  quotas: z.strictObject({
    /** V8 heap of the isolate (gpd.ta.dataSize, in MiB). */
    memoryMb: z.number().int().min(8).max(1024),
    /** Longest time the application may run between two calls, in milliseconds. */
    budgetMs: z.number().int().min(1).max(60_000),
  }),
  /** The devices (SoC peripheral names) and memory (system-configuration region names) it may hold. */
  capabilities: z.strictObject({
    devices: z.array(z.string()).default([]),
    regions: z.array(z.string()).default([]),
  }),
  /** What happens when it dies (budget, quota, exception): restart it, or leave it stopped. */
  restart: z.enum(['never', 'always']).default('always'),
});

export type TaManifest = z.input<typeof taManifestSchema>;
export type CheckedTaManifest = z.output<typeof taManifestSchema>;

/** Manifest as bytes, for the image (stable key order). */
export function encodeManifest(m: TaManifest): string {
  return JSON.stringify(taManifestSchema.parse(m), null, 2) + '\n';
}
