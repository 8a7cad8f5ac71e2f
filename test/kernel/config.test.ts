/** The boot configuration check, and that what it accepts is what the proofs assume. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../src/common/errors.js';
import { checkConfig, sampleConfig, type KernelConfig, type World } from '../../src/kernel/core/config.js';
import { profiles, boardProfiles, proofProfile } from '../../src/kernel/core/profile.js';
import { createKernel } from '../../src/kernel/core/step.js';
import { testConfig, testProfile, violations } from './fixture.js';

function rejects(cfg: KernelConfig, field: string): void {
  assert.throws(
    () => checkConfig(testProfile, cfg, 'board.yaml'),
    (e: unknown) =>
      e instanceof InputError &&
      e.code === 'BAD_KERNEL_CONFIG' &&
      e.location.field === field &&
      e.location.file === 'board.yaml',
  );
}

test('a bad configuration is refused, naming the field', () => {
  rejects({ ...testConfig, domains: [{ world: 'non-secure' }, { world: 'secure' }] }, 'domains[0].world');
  rejects({ ...testConfig, partitions: [{ domain: 1 }] }, 'partitions[0].domain');
  rejects({ ...testConfig, partitions: [{ domain: 0 }, { domain: 9 }] }, 'partitions[1].domain');
  rejects(
    { ...testConfig, regions: [{ domain: 3, peer: 1, world: 'secure', kind: 'shared' }] },
    'regions[0].world',
  );
  rejects(
    { ...testConfig, regions: [{ domain: 1, peer: 3, world: 'non-secure', kind: 'shared' }] },
    'regions[0].peer',
  );
  rejects(
    { ...testConfig, regions: [{ domain: 1, peer: 2, world: 'secure', kind: 'private' }] },
    'regions[0].peer',
  );
  rejects(
    { ...testConfig, regions: [{ domain: 3, world: 'non-secure', kind: 'device', device: 0 }] },
    'regions[0].device',
  );
  rejects({ ...testConfig, regions: [{ domain: 1, world: 'secure', kind: 'device' }] }, 'regions[0].device');
  rejects({ ...testConfig, devices: [{ domain: 3, world: 'secure' }] }, 'devices[0].world');
  rejects({ ...testConfig, endpoints: Array.from({ length: 9 }, () => ({ domain: 1 })) }, 'endpoints');
  rejects({ ...testConfig, flows: [[1, 7]] }, 'flows[0][1]');
});

const world = fc.constantFrom<World>('secure', 'non-secure');
const config = fc
  .record({
    worlds: fc.array(world, { minLength: 1, maxLength: testProfile.domains - 1 }),
    // Indices past the domains, regions or devices are drawn too, now and then.
    parts: fc.array(fc.nat(3), { maxLength: testProfile.partitions - 1 }),
    regions: fc.array(fc.record({ d: fc.nat(3), p: fc.nat(3), w: world, k: fc.nat(2), v: fc.nat(2) }), {
      maxLength: testProfile.regions,
    }),
    eps: fc.array(fc.record({ d: fc.nat(3), p: fc.nat(3) }), { maxLength: testProfile.endpoints }),
    ntfs: fc.array(fc.record({ d: fc.nat(3), p: fc.nat(3) }), { maxLength: testProfile.notifications }),
    devs: fc.array(fc.record({ d: fc.nat(3), w: world }), { maxLength: testProfile.devices }),
    flows: fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { maxLength: 3 }),
  })
  .map((c): KernelConfig => ({
    domains: [{ world: 'secure' }, ...c.worlds.map((w) => ({ world: w }))],
    partitions: [{ domain: 0 }, ...c.parts.map((d) => ({ domain: d }))],
    regions: c.regions.map((r) => ({
      domain: r.d,
      // A peer only for shared regions (most of the time: the check refuses the others).
      ...(r.k === 1 || r.v === 2 ? { peer: r.p } : {}),
      world: r.w,
      kind: (['private', 'shared', 'device'] as const)[r.k] as 'private',
      ...(r.k === 2 ? { device: r.v } : {}),
    })),
    endpoints: c.eps.map((e) => ({ domain: e.d, peer: e.p })),
    notifications: c.ntfs.map((e) => ({ domain: e.d, peer: e.p })),
    devices: c.devs.map((d) => ({ domain: d.d, world: d.w })),
    flows: c.flows,
  }));

test('every configuration the check accepts boots into a state that satisfies the invariant', () => {
  let accepted = 0;
  fc.assert(
    fc.property(config, (cfg) => {
      let ok = true;
      try {
        checkConfig(testProfile, cfg);
      } catch (e) {
        assert.ok(e instanceof InputError, String(e));
        ok = false;
      }
      if (ok) {
        accepted++;
        assert.deepEqual(violations(createKernel(testProfile, cfg).tables), []);
      }
    }),
    { seed: 7, numRuns: 3000 },
  );
  assert.ok(accepted > 100, `only ${accepted} configurations accepted`);
});

test('every profile boots its sample configuration; the boards name existing profiles', () => {
  for (const p of Object.values(profiles))
    assert.doesNotThrow(() => createKernel(p, sampleConfig(p)), p.name);
  for (const p of Object.values(boardProfiles)) assert.ok(Object.values(profiles).includes(p));
  assert.deepEqual(violations(createKernel(testProfile, sampleConfig(testProfile)).tables), []);
  assert.equal(proofProfile.partitions, 3);
});
