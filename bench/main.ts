/**
 * `npm run bench [SUITE…]`: runs the benchmark suites and prints one JSON document on stdout.
 * Targets are compared as ratios against baselines measured in the same invocation.
 */
import os from 'node:os';
import { kernelBench } from './kernel.js';
import { netfilterBench } from './netfilter.js';
import { netStackBench } from './net-stack.js';
import { proofSuite } from './proof.js';
import { runtimeBench } from './runtime.js';
import type { BenchSuite } from './suite.js';
import { socSuite } from './soc.js';
import { bootBench } from './boot.js';
import { entryPointBench } from './entry-point.js';

const suites: readonly BenchSuite[] = [
  socSuite,
  bootBench,
  netfilterBench,
  netStackBench,
  proofSuite,
  kernelBench,
  runtimeBench,
  entryPointBench,
];

const wanted = process.argv.slice(2);
const report: Record<string, unknown> = {
  machine: { node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown' },
  date: new Date().toISOString(),
};
for (const suite of suites) {
  if (wanted.length > 0 && !wanted.includes(suite.name)) continue;
  process.stderr.write(`bench: ${suite.name}…\n`);
  report[suite.name] = await suite.run();
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
