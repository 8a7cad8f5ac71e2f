// Bundles every partition program into one self-contained script (what a partition's compartment
// evaluates, and what the image recipes sign): trusted applications from src/apps/<name>/entry.ts (with
// their manifest as JSON), Normal World programs from src/normal/<name>/main.ts. Platform "neutral":
// a program that imports a Node built-in fails to bundle, as it would fail to run in a compartment.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const out = 'dist/partitions';
const entries = [];
for (const name of readdirSync('src/apps')) {
  if (existsSync(join('src/apps', name, 'entry.ts')))
    entries.push({ kind: 'ta', name, entry: join('src/apps', name, 'entry.ts') });
}
for (const name of readdirSync('src/normal')) {
  if (existsSync(join('src/normal', name, 'main.ts')))
    entries.push({ kind: 'normal', name, entry: join('src/normal', name, 'main.ts') });
}

await Promise.all(
  entries.map((e) =>
    build({
      entryPoints: [e.entry],
      bundle: true,
      format: 'iife',
      platform: 'neutral',
      target: 'es2022',
      outfile: join(out, e.kind, `${e.name}.js`),
      legalComments: 'none',
      logLevel: 'error',
    }),
  ),
);

// Manifests: the compiled manifest module, validated and written as the image component.
const { encodeManifest } = await import(pathToFileURL('dist/src/kernel/abi/manifest.js').href);
for (const e of entries.filter((x) => x.kind === 'ta')) {
  const { manifest } = await import(pathToFileURL(join('dist/src/apps', e.name, 'manifest.js')).href);
  mkdirSync(join(out, 'ta'), { recursive: true });
  writeFileSync(join(out, 'ta', `${e.name}.manifest.json`), encodeManifest(manifest));
}
console.error(`bundled ${entries.length} partition programs into ${out}/`);
