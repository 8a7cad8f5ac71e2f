import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaManifest } from '../../src/kernel/abi/manifest.js';
import { normalCode, startSystem } from '../helpers/system.js';

const PARSER_UUID = '0badc0de-0000-4000-8000-0000000000a1';
const VAULT_UUID = '0badc0de-0000-4000-8000-0000000000a2';
const SECRET = 'a5c3f00dfeedface5eed0bad1dea7077';

const manifest = (name: string, uuid: string, regions: string[] = []): TaManifest => ({
  name,
  uuid,
  version: '1',
  properties: { singleInstance: true, multiSession: true, instanceKeepAlive: true },
  quotas: { memoryMb: 32, budgetMs: 2000 },
  capabilities: { devices: [], regions },
  restart: 'never',
});

const system = `
chip: soc
profile: application
domains:
  - { name: admin, world: secure }
  - { name: normal-world, world: non-secure }
  - { name: parser, world: secure }
  - { name: vault, world: secure }
partitions:
  - { name: root, domain: admin }
  - { name: parser, domain: parser, program: { ta: parser }, setup: { endpoints: [{ endpoint: parser, slot: 0 }] } }
  - name: vault
    domain: vault
    program: { ta: vault }
    setup:
      notifications: [{ notification: vault-idle, slot: 0 }]
      regions: [{ region: vault-secret, map: rw }]
  - { name: attacker, domain: normal-world, program: normal-world, budgetMs: 20000, memoryMb: 64 }
  - { name: scribbler, domain: normal-world, program: normal-world, budgetMs: 20000, memoryMb: 64 }
regions:
  - { name: vault-secret, domain: vault, kind: private, memory: secure-dram, offset: 0x0, size: 0x1000 }
  - { name: parser-shm-0, domain: normal-world, peer: parser, kind: shared, memory: shared-dram, offset: 0x0000, size: 0x1000 }
  - { name: parser-shm-1, domain: normal-world, peer: parser, kind: shared, memory: shared-dram, offset: 0x1000, size: 0x1000 }
  - { name: nw-ram, domain: normal-world, kind: private, memory: normal-dram, offset: 0x0, size: 0x10000 }
endpoints:
  - { name: parser, domain: parser, peer: normal-world }
notifications:
  - { name: vault-idle, domain: vault }
smc:
  - { entry: 0, endpoint: parser }
`;

/** Every table entry that belongs to the vault's domain (index 3): its partition, region, notification. */
function vaultView(
  t: Record<string, { get(i: number): number; sort: { size: number } }>,
  profile: { regions: number; capSlots: number },
) {
  const row = (name: string, p: number, width: number) =>
    Array.from({ length: width }, (_, i) => t[name]?.get(p * width + i));
  const vault = 2;
  return {
    state: t.partState?.get(vault),
    caps: ['capType', 'capObj', 'capRights', 'capGen'].map((f) => row(f, vault, profile.capSlots)),
    maps: row('map', vault, profile.regions),
    secretRegion: [t.regionOwner?.get(0), t.regionRefs?.get(0), t.regionShare?.get(0)],
    notification: [t.ntfOwner?.get(0), t.ntfGen?.get(0), t.ntfPending?.get(0), t.ntfWaiter?.get(0)],
  };
}

for (const [mode, calls] of [
  ['uniprocessor', 1500],
  ['free-running', 3000],
] as const) {
  test(`${mode}: a hostile Normal World (random calls and SMCs, scribbling over its memory) neither reads nor changes secure state`, async () => {
    const sys = startSystem({
      system,
      mode,
      seed: 11,
      tas: {
        parser: { manifest: manifest('parser', PARSER_UUID), entry: 'test/fixtures/partitions/parser-ta.ts' },
        vault: {
          manifest: manifest('vault', VAULT_UUID, ['vault-secret']),
          entry: 'test/fixtures/partitions/vault-ta.ts',
          prologue: `const TEST = ${JSON.stringify({ secret: SECRET })};`,
        },
      },
    });
    try {
      await sys.runtime.run(); // the applications set up; the vault wrote its secret
      const chip = sys.machine.chip('soc');
      const secure = chip.regions.filter((r) => r.declaredSecurity === 'secure');
      const before = secure.map((r) => Buffer.from(r.bytes));
      const secretBytes = Buffer.from(SECRET, 'hex');
      assert.ok(
        before.some((b) => b.indexOf(secretBytes) >= 0),
        'the vault wrote its secret into secure memory',
      );
      const tables = () => sys.runtime.kernel.state.tables as never;
      const vaultBefore = vaultView(tables(), sys.runtime.kernel.profile);

      sys.runtime.startNormalWorld(
        normalCode({
          entry: 'test/fixtures/partitions/hostile-main.ts',
          prologue: `const TEST = ${JSON.stringify({ seed: 7, calls, secret: SECRET, parserUuid: PARSER_UUID, rounds: calls / 4 })};`,
        }),
      );
      await sys.runtime.run();

      const report = sys.logs.find((l) => l.line.startsWith('hostile:'));
      assert.ok(report, `the attacker finished (${sys.logs.length} lines logged)`);
      const r = JSON.parse(report.line.slice('hostile:'.length)) as Record<string, number>;
      assert.equal(r.leaks, 0, 'no secret byte pattern in anything the Normal World received');
      assert.ok((r.received ?? 0) > 10_000, `it received ${r.received} bytes to scan`);
      assert.equal(r.doubleFetches, 0, 'the parser never saw its input change under it (copy-in)');
      assert.ok((r.parsed ?? 0) > 0 && (r.rejected ?? 0) > 0, `parsed ${r.parsed}, rejected ${r.rejected}`);
      secure.forEach((region, i) =>
        assert.ok(
          Buffer.from(region.bytes).equals(before[i] as Buffer),
          `secure memory ${region.name} unchanged`,
        ),
      );
      assert.deepEqual(
        vaultView(tables(), sys.runtime.kernel.profile),
        vaultBefore,
        "the vault's kernel objects unchanged",
      );
      const parts = sys.runtime.partitions();
      for (const name of ['parser', 'vault']) {
        const p = parts.find((x) => x.name === name);
        assert.equal(p?.exit, null, `${name} still running`);
        assert.equal(p?.restarts, 0);
      }
      if (mode === 'free-running')
        assert.ok(
          sys.logs.some((l) => l.line.startsWith('scribbler:')),
          'the scribbler ran',
        );
    } finally {
      await sys.runtime.shutdown();
    }
  });
}
