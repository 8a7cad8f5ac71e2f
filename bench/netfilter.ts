/**
 * Firewall classification throughput: packets per second through the INPUT chain of rulesets of 10, 1k
 * and 10k rules, for the compiled classifier and the linear reference, in one run.
 *
 * Rulesets mix the shapes real gateways use (host and subnet rules with ports, multiport lists, port
 * ranges, interface rules, address ranges, a conntrack rule on top). Half of the packets are taken from
 * a random rule (so they match it or a rule before it), half are random (most fall to the policy).
 * Both evaluators must agree on every sampled packet before anything is timed.
 */
import { formatIpv4 } from '../src/lib/net/address.js';
import { SeededRandom } from '../src/common/random.js';
import { CompiledClassifier } from '../src/lib/netfilter/compiled.js';
import { LinearEvaluator } from '../src/lib/netfilter/evaluate.js';
import { LimitState } from '../src/lib/netfilter/match.js';
import { CtState } from '../src/lib/netfilter/names.js';
import type { FilterPacket } from '../src/lib/netfilter/packet.js';
import { parseRuleset } from '../src/lib/netfilter/parse.js';
import { type BenchSuite, opsPerSecond } from './suite.js';

const SIZES = [10, 1000, 10000] as const;
const PACKETS = 4096;

interface Template {
  text: string;
  packet: Omit<
    FilterPacket,
    | 'ctState'
    | 'outInterface'
    | 'l4Length'
    | 'tcpFlags'
    | 'icmpType'
    | 'icmpCode'
    | 'fragmentOffset'
    | 'length'
  >;
}

function ruleFor(rng: SeededRandom, i: number): Template {
  const a = (0x0a000000 | rng.below(1 << 24)) >>> 0;
  const b = (0xc0a80000 | rng.below(1 << 16)) >>> 0;
  const port = 1 + rng.below(65000);
  const base = {
    src: a,
    dst: b,
    protocol: 6,
    sport: 1024 + rng.below(60000),
    dport: port,
    inInterface: 'eth0',
  };
  switch (i % 6) {
    case 0:
      return { text: `-s ${formatIpv4(a)}/32 -p tcp --dport ${port} -j ACCEPT`, packet: base };
    case 1:
      return {
        text: `-d ${formatIpv4(b & 0xffffff00)}/24 -p udp --dport ${port} -j DROP`,
        packet: { ...base, protocol: 17 },
      };
    case 2:
      return {
        text: `-s ${formatIpv4(a & 0xffff0000)}/16 -p tcp --dport ${port}:${port + 9} -j REJECT`,
        packet: base,
      };
    case 3: {
      const ports = [port, port + 100, port + 200];
      return {
        text: `-s ${formatIpv4(a & 0xffffff00)}/24 -p tcp -m multiport --dports ${ports.join(',')} -j ACCEPT`,
        packet: { ...base, dport: ports[rng.below(3)]! },
      };
    }
    case 4: {
      const ifn = `eth${rng.below(8)}`;
      return {
        text: `-i ${ifn} -d ${formatIpv4(b)}/32 -p tcp --dport ${port} -j DROP`,
        packet: { ...base, inInterface: ifn },
      };
    }
    default: {
      const lo = a & 0xffffff00;
      return {
        text: `-m iprange --src-range ${formatIpv4(lo)}-${formatIpv4(lo + 40)} -p udp --dport ${port} -j ACCEPT`,
        packet: { ...base, src: lo + rng.below(40), protocol: 17 },
      };
    }
  }
}

function build(size: number, seed: number): { text: string; packets: FilterPacket[] } {
  const rng = new SeededRandom(seed);
  const templates = Array.from({ length: size - 1 }, (_, i) => ruleFor(rng, i));
  const text = [
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ...templates.map((t) => `-A INPUT ${t.text}`),
    'COMMIT',
    '',
  ].join('\n');
  const packets: FilterPacket[] = [];
  for (let k = 0; k < PACKETS; k++) {
    const fromRule = rng.below(2) === 0;
    const p = fromRule
      ? templates[rng.below(templates.length)]!.packet
      : {
          src: rng.nextU32(),
          dst: rng.nextU32(),
          protocol: rng.below(2) === 0 ? 6 : 17,
          sport: rng.below(65536),
          dport: rng.below(65536),
          inInterface: `eth${rng.below(8)}`,
        };
    packets.push({
      ...p,
      outInterface: '',
      length: 60,
      fragmentOffset: 0,
      l4Length: 20,
      tcpFlags: p.protocol === 6 ? 0x02 : -1,
      icmpType: -1,
      icmpCode: -1,
      ctState: CtState.NEW,
    });
  }
  return { text, packets };
}

function measure(evaluate: (p: FilterPacket) => unknown, packets: FilterPacket[], ms: number): number {
  let k = 0;
  const batch = 256;
  return opsPerSecond(() => {
    for (let j = 0; j < batch; j++) {
      evaluate(packets[k]!);
      k = (k + 1) % packets.length;
    }
    return batch;
  }, ms);
}

export const netfilterBench: BenchSuite = {
  name: 'netfilter',
  async run() {
    const results: Record<string, unknown> = {};
    const pps: Record<number, { compiled: number; linear: number }> = {};
    for (const size of SIZES) {
      const { text, packets } = build(size, 0x5eed + size);
      const rs = parseRuleset(text);
      const compiled = new CompiledClassifier(rs);
      const linear = new LinearEvaluator(rs);
      const ctx = { limits: new LimitState(), nowNs: 0n };
      let matchedByRule = 0;
      for (const p of packets) {
        const a = compiled.evaluate('INPUT', p, ctx);
        const b = linear.evaluate('INPUT', p, ctx);
        if (a.verdict !== b.verdict || a.rule?.index !== b.rule?.index)
          throw new Error(`compiled and linear disagree at ${size} rules`);
        if (a.rule) matchedByRule++;
      }
      // Warm up, then time.
      measure((p) => compiled.evaluate('INPUT', p, ctx), packets, 200);
      const c = measure((p) => compiled.evaluate('INPUT', p, ctx), packets, 1500);
      measure((p) => linear.evaluate('INPUT', p, ctx), packets, 200);
      const l = measure((p) => linear.evaluate('INPUT', p, ctx), packets, size >= 10000 ? 3000 : 1500);
      pps[size] = { compiled: c, linear: l };
      results[`rules_${size}`] = {
        compiled_pps: Math.round(c),
        linear_pps: Math.round(l),
        speedup: Number((c / l).toFixed(2)),
        index_shapes: compiled.shapeCounts.INPUT,
        packets_decided_by_a_rule: Number((matchedByRule / packets.length).toFixed(3)),
      };
    }
    const c10 = pps[10]!.compiled;
    const c10k = pps[10000]!.compiled;
    results.targets = {
      compiled_pps_at_10k_rules: Math.round(c10k),
      compiled_at_10k_ge_1M_pps: c10k >= 1_000_000,
      compiled_10_over_10k_ratio: Number((c10 / c10k).toFixed(2)),
      compiled_10k_within_1_5x_of_10: c10 / c10k <= 1.5,
      linear_10_over_10k_ratio: Number((pps[10]!.linear / pps[10000]!.linear).toFixed(1)),
    };
    return results;
  },
};
