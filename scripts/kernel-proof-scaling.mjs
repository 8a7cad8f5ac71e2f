// How the kernel's proof obligations grow with each table size and the generation width.
//   npm run build && node scripts/kernel-proof-scaling.mjs [--timeout S] [--jobs N] [--only NAME…] [STEP…]
// Each STEP is a JSON object of profile fields over the proof profile (e.g. '{"partitions":6}';
// "maxMaps" sets the region rules' mapping limit). Without steps it runs the sweep of docs/kernel.md.
// Prints one JSON line per (step, obligation): status, solve and build time, query size. No cache; a high
// resource limit (400M), so that times are measured rather than cut at the default limit.
import { parseArgs } from 'node:util';
import { proofProfile } from '../dist/src/kernel/core/profile.js';
import { kernelObligations } from '../dist/src/kernel/spec/target.js';
import { proveObligations, selectObligations } from '../dist/src/proof/prover.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    timeout: { type: 'string', default: '90' },
    jobs: { type: 'string', default: '2' },
    rlimit: { type: 'string', default: '400000000' },
    only: { type: 'string', multiple: true },
  },
});

// The obligations measured: the capability table under a generation bump (invariant, refinement), the
// exact mapping counts (invariant of region_map), the noninterference observation (step consistency of
// endpoint_call) and the frame condition over every table (integrity of cap_copy).
const measured = values.only ?? [
  'invariant/cap_revoke',
  'refinement/cap_revoke',
  'invariant/region_map',
  'step-consistency/endpoint_call',
  'integrity/cap_copy',
];
const sweep = [
  {},
  { genBits: 16 },
  { genBits: 32 },
  { partitions: 6 },
  { regions: 6, maxMaps: 5 },
  { capSlots: 6 },
  { endpoints: 4, notifications: 4 },
  { domains: 6 },
  { devices: 4 },
  { smcEntries: 4 },
];
const steps = positionals.length > 0 ? positionals.map((s) => JSON.parse(s)) : sweep;

for (const step of steps) {
  const { maxMaps, ...sizes } = step;
  const profile = {
    ...proofProfile,
    ...sizes,
    name: 'proof',
    regionRules: { ...proofProfile.regionRules, ...(maxMaps ? { maxMapsPerPartition: maxMaps } : {}) },
  };
  const obligations = selectObligations(kernelObligations(profile), measured);
  await proveObligations(obligations, {
    backend: 'z3',
    jobs: Number(values.jobs),
    rlimit: Number(values.rlimit),
    timeoutMs: Number(values.timeout) * 1000,
    onResult: (r) =>
      console.log(
        JSON.stringify({
          step,
          obligation: r.name.replace(/^kernel\/proof\//, ''),
          status: r.status,
          solveMs: Math.round(r.solveMs),
          buildMs: Math.round(r.buildMs),
          queryBytes: r.queryBytes,
        }),
      ),
  });
}
