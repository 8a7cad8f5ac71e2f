/**
 * The same core, concretely, under hostile partitions: long seeded random call sequences in which every
 * partition but the admin — the Normal World's included — issues any call with any arguments (valid
 * indices, the first index past a table, NONE, any rights, any words), the interrupt lines rise at
 * random, and the admin authority now and then stops, restarts, destroys and recreates partitions and
 * rewires SMC entries. After every step: the representation invariant and world separation hold; a
 * failed call left the state exactly as it was; the code returned is one the call table declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { copyValue } from '../../src/proof/concrete.js';
import { kernelStateSchema } from '../../src/kernel/core/state.js';
import { step, type KernelState } from '../../src/kernel/core/step.js';
import {
  argSort,
  callNames,
  callTable,
  type ArgKind,
  type CallName,
  type CallSpec,
} from '../../src/kernel/core/table.js';
import { bootTestSystem, testProfile, violations } from './fixture.js';

const p = testProfile;
const sizes: Partial<Record<ArgKind, number>> = {
  partition: p.partitions,
  region: p.regions,
  endpoint: p.endpoints,
  notification: p.notifications,
  device: p.devices,
  slot: p.capSlots,
  entry: p.smcEntries,
};
const adminCalls: CallName[] = [
  'partition_create',
  'partition_start',
  'partition_stop',
  'partition_destroy',
  'set_budget',
  'smc_register',
  'cap_copy',
];
const partitionCalls = callNames.filter((n) => n !== 'irq_raise');

/** One step of the attack: who acts, which call, and raw choices the arguments are drawn from. */
interface Move {
  readonly kind: number;
  readonly who: number;
  readonly call: number;
  readonly raw: readonly number[];
}
// Uniform choices (fast-check's default integers lean towards the extremes, which modulo a table size
// would keep picking the same few entries).
const any = fc.noBias(fc.nat());
const move = fc.record({
  kind: fc.noBias(fc.nat(99)),
  who: any,
  call: any,
  raw: fc.array(any, { minLength: 8, maxLength: 8 }),
});

function argValue(kind: ArgKind, r: number): number {
  const size = sizes[kind];
  const mask = argSort(p, kind).mask;
  if (size !== undefined) {
    const pick = r % 16;
    return pick === 0 ? mask : pick === 1 ? size : (r >>> 4) % size;
  }
  switch (kind) {
    case 'rights':
      return r % 16;
    case 'bit':
      return r % 32;
    case 'flag':
      return r % 2;
    default:
      // Words: mostly small (labels, bits), sometimes anything.
      return r % 4 === 0 ? 0 : r % 4 === 1 ? (r >>> 2) % 8 : r >>> 0;
  }
}

interface Tally {
  calls: number;
  failed: number;
  codes: Set<string>;
}

function play(moves: readonly Move[], tally: Tally): void {
  const schema = kernelStateSchema(p);
  let s: KernelState = bootTestSystem();
  for (const m of moves) {
    const partState = s.tables.partState;
    const runnable = [...Array(p.partitions).keys()].filter((q) => q !== 0 && partState.get(q) === 2);
    let call: CallName;
    let caller: number;
    if (m.kind < 5 || runnable.length === 0) {
      // The admin authority (partition 0) acts; it never stops itself.
      call = adminCalls[m.call % adminCalls.length] as CallName;
      caller = 0;
    } else if (m.kind < 10) {
      call = 'irq_raise';
      caller = -1;
    } else {
      call = partitionCalls[m.call % partitionCalls.length] as CallName;
      // Mostly a runnable partition; sometimes one that is not (blocked, stopped, free, past the table).
      caller =
        m.who % 10 === 0 ? (m.who >>> 4) % (p.partitions + 2) : (runnable[m.who % runnable.length] as number);
    }
    const spec: CallSpec = callTable[call];
    const args: Record<string, number> = {};
    Object.entries(spec.args).forEach(([name, kind], i) => {
      args[name] = kind === 'caller' ? caller : argValue(kind, m.raw[i] ?? 0);
    });
    if (caller === 0 && (call === 'partition_stop' || call === 'partition_destroy') && args['target'] === 0)
      args['target'] = 1;
    const r = step(s, call, args);
    tally.calls++;
    tally.codes.add(`${call}:${r.ret.name}`);
    assert.ok(
      (spec.returns as readonly string[]).includes(r.ret.name),
      `${call} returned ${r.ret.name}, not declared`,
    );
    if (r.ret.name !== 'OK' && r.ret.name !== 'BLOCKED') {
      tally.failed++;
      assert.equal(
        r.state,
        s,
        `${call} ${JSON.stringify(args)} failed with ${r.ret.name} but changed the state`,
      );
      assert.deepEqual(r.effects, []);
    }
    const broken = violations(r.state.tables);
    assert.deepEqual(broken, [], `after ${call} ${JSON.stringify(args)} → ${r.ret.name}`);
    // Continue from a flattened copy: the checks read plain tables, not chains of pending writes.
    s = r.state === s ? s : { profile: p, tables: copyValue(schema, r.state.tables) };
  }
}

test('hostile partitions: ≥ 100k seeded random calls, invariant and world separation after every step', (t) => {
  const tally: Tally = { calls: 0, failed: 0, codes: new Set() };
  fc.assert(
    fc.property(fc.array(move, { minLength: 2500, maxLength: 2500 }), (moves) => play(moves, tally)),
    { seed: 20261123, numRuns: Number(process.env['HOSTILE_RUNS'] ?? 41), endOnFailure: true },
  );
  assert.ok(tally.calls >= 2500 * Number(process.env['HOSTILE_RUNS'] ?? 41), `only ${tally.calls} calls`);
  assert.ok(process.env['HOSTILE_RUNS'] !== undefined || tally.calls >= 100_000);
  // The attack reached most of what the call table declares, failures included.
  const declared = callNames.flatMap((n) => (callTable[n] as CallSpec).returns.map((c) => `${n}:${c}`));
  const reached = declared.filter((d) => tally.codes.has(d)).length;
  const missing = declared.filter((d) => !tally.codes.has(d));
  t.diagnostic(
    `${tally.calls} calls, ${tally.failed} failed; ${reached}/${declared.length} declared outcomes reached; never: ${missing.join(' ')}`,
  );
  assert.ok(
    reached / declared.length > 0.85,
    `only ${reached} of ${declared.length} declared outcomes reached; never: ${missing.join(' ')}`,
  );
  assert.ok(tally.failed > tally.calls / 10 && tally.failed < tally.calls, `${tally.failed} failed calls`);
});
