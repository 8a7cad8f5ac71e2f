/**
 * Trusted application manifests: what a trusted application is (UUID, GP properties) and the most it may
 * ever hold (devices, memory, quotas). Each application's `src/apps/<name>/manifest.ts` declares one;
 * it travels in the signed secure bundle as a `ta-manifest` component (JSON), and the runtime refuses
 * a system configuration that would give an application a device or memory its manifest does not name.
 * Properties follow GP TEE Internal Core API §4.5 (gpd.ta.*).
 */
import { z } from 'zod';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const taManifestSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,47}$/, 'a name is lowercase letters, digits and dashes'),
  uuid: z.string().regex(uuidPattern, 'a UUID is 8-4-4-4-12 lowercase hex digits (RFC 4122)'),
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

/** UUID text → 16 bytes (RFC 4122 §4.1.2 byte order, as TEEC_UUID is sent on the wire). */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function uuidText(bytes: Uint8Array): string {
  const h = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
