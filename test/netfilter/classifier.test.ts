import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CompiledClassifier } from '../../src/lib/netfilter/compiled.js';
import { LinearEvaluator } from '../../src/lib/netfilter/evaluate.js';
import { LimitState } from '../../src/lib/netfilter/match.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { saveRuleset } from '../../src/lib/netfilter/save.js';
import { SEED, packet, rulesetText } from './arbitraries.js';

test('random rulesets survive save and re-parse unchanged', () => {
  fc.assert(
    fc.property(rulesetText(), (text) => {
      const once = saveRuleset(parseRuleset(text));
      assert.equal(saveRuleset(parseRuleset(once)), once);
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('compiled classifier ≡ linear reference: verdicts, deciding rules, logs and counters', () => {
  let packetsSeen = 0;
  let byRule = 0;
  let ruleHits = 0;
  fc.assert(
    fc.property(
      rulesetText(10),
      fc.array(fc.tuple(packet, fc.integer({ min: 0, max: 2_000_000_000 })), { minLength: 1, maxLength: 60 }),
      (text, packets) => {
        const rs = parseRuleset(text);
        const linear = new LinearEvaluator(rs);
        const compiled = new CompiledClassifier(rs);
        const la = new LimitState();
        const lb = new LimitState();
        let now = 0n;
        for (const [{ hook, p }, dt] of packets) {
          now += BigInt(dt);
          const a = linear.evaluate(hook, p, { limits: la, nowNs: now });
          const b = compiled.evaluate(hook, p, { limits: lb, nowNs: now });
          assert.deepEqual(b, a);
          packetsSeen++;
          if (a.rule) byRule++;
        }
        const counters = linear.program.counters();
        assert.deepEqual(compiled.program.counters(), counters);
        for (const c of counters.values()) for (const r of c.rules) ruleHits += r.packets;
      },
    ),
    { seed: SEED, numRuns: 400 },
  );
  // The generators must exercise rules, not just policies.
  assert.ok(ruleHits > packetsSeen / 3, `only ${ruleHits} rule hits for ${packetsSeen} packets`);
  assert.ok(byRule > packetsSeen / 8, `only ${byRule} of ${packetsSeen} packets decided by a rule`);
});

test('compiled ≡ linear on large rulesets (many shapes and keys per chain)', () => {
  fc.assert(
    fc.property(
      rulesetText(120),
      fc.array(fc.tuple(packet, fc.integer({ min: 0, max: 50_000_000 })), { minLength: 50, maxLength: 200 }),
      (text, packets) => {
        const rs = parseRuleset(text);
        const linear = new LinearEvaluator(rs);
        const compiled = new CompiledClassifier(rs);
        const la = new LimitState();
        const lb = new LimitState();
        let now = 0n;
        for (const [{ hook, p }, dt] of packets) {
          now += BigInt(dt);
          assert.deepEqual(
            compiled.evaluate(hook, p, { limits: lb, nowNs: now }),
            linear.evaluate(hook, p, { limits: la, nowNs: now }),
          );
        }
        assert.deepEqual(compiled.program.counters(), linear.program.counters());
      },
    ),
    { seed: SEED, numRuns: 40 },
  );
});
