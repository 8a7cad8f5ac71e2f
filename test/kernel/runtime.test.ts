import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifest as helloManifest } from '../../src/apps/hello/manifest.js';
import type { TaManifest } from '../../src/kernel/abi/manifest.js';
import { startSystem } from '../helpers/system.js';

const RUNAWAY_UUID = '0badc0de-0000-4000-8000-000000000001';
const runawayManifest = (budgetMs: number): TaManifest => ({
  name: 'runaway',
  uuid: RUNAWAY_UUID,
  version: '1',
  properties: { singleInstance: true, multiSession: true, instanceKeepAlive: false },
  quotas: { memoryMb: 16, budgetMs },
  capabilities: { devices: [], regions: [] },
  restart: 'always',
});

const twoApplications = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: hello, world: secure }
  - { name: runaway, world: secure }
partitions:
  - { name: root, domain: admin }
  - { name: hello, domain: hello, program: { ta: hello }, setup: { endpoints: [{ endpoint: hello, slot: 0 }] } }
  - { name: runaway, domain: runaway, program: { ta: runaway }, setup: { endpoints: [{ endpoint: runaway, slot: 0 }] } }
  - { name: client, domain: normal-world, program: normal-world, budgetMs: 5000 }
endpoints:
  - { name: hello, domain: hello, peer: normal-world }
  - { name: runaway, domain: runaway, peer: normal-world }
smc:
  - { entry: 0, endpoint: hello }
  - { entry: 1, endpoint: runaway }
`;

for (const mode of ['uniprocessor', 'free-running'] as const) {
  test(`${mode}: a runaway trusted application is stopped within twice its budget and the rest keeps serving`, async () => {
    // Wide enough that the memory bomb reaches its quota before its budget even on a loaded machine.
    const budgetMs = 1000;
    const sys = startSystem({
      system: twoApplications,
      mode,
      tas: {
        hello: { manifest: helloManifest, entry: 'src/apps/hello/entry.ts' },
        runaway: { manifest: runawayManifest(budgetMs), entry: 'test/fixtures/partitions/runaway-ta.ts' },
      },
      normal: {
        entry: 'test/fixtures/partitions/runaway-client.ts',
        prologue: `const TEST = ${JSON.stringify({ runawayUuid: RUNAWAY_UUID })};`,
      },
    });
    try {
      await sys.runtime.run();
      const steps = new Map(
        sys.logs
          .filter((l) => l.line.startsWith('step:'))
          .map((l) => {
            const [, name, result] = l.line.split(':');
            return [name as string, { result, at: l.at }];
          }),
      );
      assert.equal(steps.get('runaway-ok')?.result, 'ok');
      assert.equal(steps.get('runaway-loop')?.result, 'TEE_ERROR_TARGET_DEAD');
      assert.equal(steps.get('hello-after-loop')?.result, 'ok');
      assert.equal(steps.get('runaway-bomb')?.result, 'TEE_ERROR_TARGET_DEAD');
      assert.equal(steps.get('hello-after-bomb')?.result, 'ok');
      assert.equal(steps.get('runaway-restarted')?.result, 'ok', 'restarted per its policy');
      const runaway = sys.runtime.partitions().find((p) => p.name === 'runaway');
      assert.equal(runaway?.restarts, 2);
      // Measured by the kernel from the moment it gave the application the processor.
      const loop = runaway?.stops.find((x) => x.reason === 'cpu budget');
      assert.ok(
        loop && loop.afterMs >= budgetMs && loop.afterMs < 2 * budgetMs,
        `stopped after ${loop?.afterMs} ms`,
      );
      assert.ok(
        runaway?.stops.some((x) => x.reason === 'memory quota'),
        JSON.stringify(runaway?.stops),
      );
      const hello = sys.runtime.partitions().find((p) => p.name === 'hello');
      assert.equal(hello?.restarts, 0);
      assert.equal(hello?.exit, null);
    } finally {
      await sys.runtime.shutdown();
    }
  });
}
