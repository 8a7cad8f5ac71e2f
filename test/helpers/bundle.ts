/**
 * Bundles a TypeScript entry of the source tree into one script a Hardened JavaScript compartment can
 * evaluate (the same bundler, settings and platform as `scripts/bundle.mjs` uses for the images).
 * `globalName` exposes the entry's exports to code appended after the bundle.
 */
import { buildSync } from 'esbuild';
import { packagePath } from '../../src/common/paths.js';

const cache = new Map<string, string>();

export function bundleSource(entry: string, globalName?: string): string {
  const key = `${entry}\0${globalName ?? ''}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const r = buildSync({
    entryPoints: [packagePath(entry)],
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'error',
    ...(globalName ? { globalName } : {}),
  });
  const code = r.outputFiles[0]?.text ?? '';
  cache.set(key, code);
  return code;
}
