/**
 * The compiled classifier: per chain, a tuple-space index (as in Open vSwitch's classifier, and in the
 * spirit of nft sets and ipset) that returns, for a packet, the few rules that may match, in rule order.
 *
 * Each rule is described by the fields it constrains exactly or by prefix: source and destination
 * address (from `-s`/`-d` or an `-m iprange` cut into CIDR blocks), protocol, source and destination port
 * (from `--sport/--dport` ranges or `-m multiport` lists cut into prefix blocks), input and output
 * interface (exact names), and conntrack state (one key per state bit). The tuple of prefix lengths is the
 * rule's *shape*; rules of a shape live in one hash table keyed by the masked field values. A lookup
 * probes one table per shape, so its cost grows with the number of shapes, not of rules. Every candidate
 * is then checked in full with the same `ruleMatches` the linear evaluator uses, and rules are visited in
 * order, so the first match, the counters, LOG and jumps are exactly the linear walk's. Fields that cannot
 * be indexed (negations, wildcards, non-contiguous masks, large unions, anything after a `-m limit`
 * or an xt `--icmp-type T/C`, which have effects whenever they are reached) are left to that check.
 */
import { type CandidateCursor, type CandidateSource, type Decision, Program, traverse } from './evaluate.js';
import type { MatchContext } from './match.js';
import { CtState } from './names.js';
import type { FilterPacket } from './packet.js';
import type { BuiltinChain, PortRange, Rule, Ruleset } from './ruleset.js';

const FIELDS = 8;
const F_SRC = 0;
const F_DST = 1;
const F_PROTO = 2;
const F_SPORT = 3;
const F_DPORT = 4;
const F_IIF = 5;
const F_OIF = 6;
const F_CT = 7;
/** Bit width of each field; a key atom is (value, prefix length ≤ width). */
const WIDTH = [32, 32, 8, 16, 16, 1, 1, 1];
/** More keys than this for one rule and the widest field is left to the full check. */
const MAX_KEYS_PER_RULE = 64;
const MAX_BLOCKS = 16;

interface Atom {
  readonly value: number;
  readonly length: number;
}

const WILDCARD: readonly Atom[] = [{ value: 0, length: 0 }];

interface Shape {
  /** Prefix length per field. */
  readonly lengths: Int8Array;
  readonly masks: Uint32Array;
  readonly table: Map<number, Int32Array>;
}

interface ChainIndex {
  readonly shapes: readonly Shape[];
}

export class CompiledClassifier implements CandidateSource {
  readonly program: Program;
  private readonly index: readonly ChainIndex[];
  private readonly interfaceIds = new Map<string, number>();

  constructor(ruleset: Ruleset) {
    this.program = new Program(ruleset);
    this.index = this.program.chains.map((c) => this.build(c.rules));
  }

  /** Number of shapes per chain (the lookup cost), for reports. */
  get shapeCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.program.chains.forEach((c, i) => (out[c.name] = this.index[i]?.shapes.length ?? 0));
    return out;
  }

  evaluate(hook: BuiltinChain, p: FilterPacket, ctx: MatchContext): Decision {
    return traverse(this.program, this, hook, p, ctx);
  }

  candidates(chain: number, p: FilterPacket): CandidateCursor {
    const shapes = this.index[chain]!.shapes;
    const values = packetValues(p, this.interfaceIds);
    const lists: Int32Array[] = [];
    for (const s of shapes) {
      const hit = s.table.get(hashKey(values, s.masks));
      if (hit) lists.push(hit);
    }
    return cursorOver(lists);
  }

  private interfaceId(name: string): number {
    let id = this.interfaceIds.get(name);
    if (id === undefined) {
      id = this.interfaceIds.size + 1;
      this.interfaceIds.set(name, id);
    }
    return id;
  }

  private build(rules: readonly Rule[]): ChainIndex {
    const byShape = new Map<string, { lengths: Int8Array; keys: Map<number, number[]> }>();
    rules.forEach((rule, index) => {
      const atoms = this.atoms(rule);
      // Keep the cross product of keys bounded: widen the field with most atoms first.
      for (;;) {
        const count = atoms.reduce((n, a) => n * a.length, 1);
        if (count <= MAX_KEYS_PER_RULE) break;
        let widest = 0;
        atoms.forEach((a, f) => {
          if (a.length > (atoms[widest]?.length ?? 0)) widest = f;
        });
        atoms[widest] = WILDCARD;
      }
      // A rule whose atoms differ in prefix length within a field spans several shapes.
      for (const combo of product(atoms)) {
        const lengths = Int8Array.from(combo, (a) => a.length);
        const shapeKey = lengths.join(',');
        let shape = byShape.get(shapeKey);
        if (!shape) byShape.set(shapeKey, (shape = { lengths, keys: new Map() }));
        const h = atomKey(combo);
        const list = shape.keys.get(h);
        if (!list) shape.keys.set(h, [index]);
        else if (list[list.length - 1] !== index) list.push(index);
      }
    });
    const shapes: Shape[] = [];
    for (const { lengths, keys } of byShape.values()) {
      const table = new Map<number, Int32Array>();
      for (const [h, list] of keys) table.set(h, Int32Array.from(list));
      shapes.push({ lengths, masks: masksOf(lengths), table });
    }
    return { shapes };
  }

  /** Per field, the (value, prefix) atoms a matching packet must hit one of; WILDCARD when unconstrained. */
  private atoms(r: Rule): (readonly Atom[])[] {
    const out: (readonly Atom[])[] = new Array<readonly Atom[]>(FIELDS).fill(WILDCARD);
    const cidr = (
      a: { address: number; mask: number; invert: boolean } | undefined,
    ): readonly Atom[] | undefined => {
      if (!a || a.invert) return undefined;
      const inv = ~a.mask >>> 0;
      if ((inv & (inv + 1)) !== 0) return undefined;
      const len = 32 - Math.log2(inv + 1);
      return [{ value: len === 0 ? 0 : a.address >>> (32 - len), length: len }];
    };
    const range = (
      x: { min: number; max: number; invert: boolean } | undefined,
    ): readonly Atom[] | undefined =>
      x && !x.invert && x.min <= x.max ? blocks(x.min, x.max, 32) : undefined;
    let src = cidr(r.src);
    let dst = cidr(r.dst);
    let sport: readonly Atom[] | undefined;
    let dport: readonly Atom[] | undefined;
    let ct: readonly Atom[] | undefined;
    for (const m of r.matches) {
      // A limit charges its bucket, and an xt icmp match may drop the packet, whenever reached:
      // what follows them must not keep a rule from being tried.
      if (
        m.kind === 'limit' ||
        (m.kind === 'icmp' && m.type !== 0xff && !(m.codeMin === 0 && m.codeMax === 0xff))
      )
        break;
      switch (m.kind) {
        case 'iprange':
          src ??= range(m.src);
          dst ??= range(m.dst);
          break;
        case 'tcp':
        case 'udp':
          if (m.sport && !m.sport.invert) sport ??= blocks(m.sport.min, m.sport.max, 16);
          if (m.dport && !m.dport.invert) dport ??= blocks(m.dport.min, m.dport.max, 16);
          break;
        case 'multiport':
          if (!m.invert && m.direction === 'src') sport ??= unionBlocks(m.ports);
          if (!m.invert && m.direction === 'dst') dport ??= unionBlocks(m.ports);
          break;
        case 'conntrack':
        case 'state': {
          const states = (m.invert ? ~m.states : m.states) & 0x7f;
          ct ??= Object.values(CtState)
            .filter((bit) => states & bit)
            .map((bit) => ({ value: bit, length: 1 }));
          break;
        }
        default:
          break;
      }
    }
    if (src) out[F_SRC] = src;
    if (dst) out[F_DST] = dst;
    if (r.protocol && !r.protocol.invert) out[F_PROTO] = [{ value: r.protocol.number, length: 8 }];
    if (sport) out[F_SPORT] = sport;
    if (dport) out[F_DPORT] = dport;
    const iface = (m: { name: string; invert: boolean } | undefined): readonly Atom[] | undefined =>
      m && !m.invert && !m.name.endsWith('+') ? [{ value: this.interfaceId(m.name), length: 1 }] : undefined;
    out[F_IIF] = iface(r.inInterface) ?? WILDCARD;
    out[F_OIF] = iface(r.outInterface) ?? WILDCARD;
    if (ct) out[F_CT] = ct;
    return out;
  }
}

/** The packet's value per field; prefix lengths > 1 read the top bits (a value's atom is value >>> (w - len)). */
function packetValues(p: FilterPacket, ifaces: ReadonlyMap<string, number>): number[] {
  return [
    p.src,
    p.dst,
    p.protocol,
    // Ports absent (fragments, short headers): a value no key can equal.
    p.fragmentOffset === 0 && p.l4Length >= 2 ? p.sport : -1,
    p.fragmentOffset === 0 && p.l4Length >= 4 ? p.dport : -1,
    ifaces.get(p.inInterface) ?? -1,
    ifaces.get(p.outInterface) ?? -1,
    p.ctState,
  ];
}

/** Per field, how far to shift a packet value down to the shape's prefix; 32 marks a wildcard. */
function masksOf(lengths: Int8Array): Uint32Array {
  const out = new Uint32Array(FIELDS);
  for (let f = 0; f < FIELDS; f++) {
    const len = lengths[f] ?? 0;
    // Fields of width 1 (interfaces, ct state) and the protocol compare the whole value.
    out[f] = len === 0 ? 32 : WIDTH[f] === 1 || f === F_PROTO ? 0 : (WIDTH[f] ?? 32) - len;
  }
  return out;
}

/** Hash of a packet's key under a shape: each indexed field's value shifted down to its prefix. */
function hashKey(values: readonly number[], shifts: Uint32Array): number {
  let h = 0x2f1c3a5b;
  for (let f = 0; f < FIELDS; f++) {
    const s = shifts[f]!;
    if (s === 32) continue;
    const v = values[f]!;
    h = mix(h, v < 0 ? -1 : v >>> s, f);
  }
  return h;
}

/** Hash of a rule's key: the same combination over its atoms, which are already prefixes. */
function atomKey(combo: readonly Atom[]): number {
  let h = 0x2f1c3a5b;
  for (let f = 0; f < FIELDS; f++) {
    const a = combo[f]!;
    if (a.length === 0) continue;
    h = mix(h, a.value, f);
  }
  return h;
}

function mix(h: number, k: number, f: number): number {
  h = Math.imul(h ^ k, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ f, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Prefix blocks covering [min, max] in a `width`-bit space, as atoms of (min >>> (width - len), len). */
function blocks(min: number, max: number, width: number): readonly Atom[] | undefined {
  const out: Atom[] = [];
  let lo = min;
  while (lo <= max) {
    let len = width;
    // Grow the block while it stays aligned and inside the range.
    while (len > 0) {
      const size = 2 ** (width - len + 1);
      if (lo % size !== 0 || lo + size - 1 > max) break;
      len--;
    }
    out.push({ value: len === 0 ? 0 : Math.floor(lo / 2 ** (width - len)), length: len });
    if (out.length > MAX_BLOCKS) return undefined;
    lo += 2 ** (width - len);
  }
  return out;
}

function unionBlocks(ports: readonly PortRange[]): readonly Atom[] | undefined {
  const out: Atom[] = [];
  for (const r of ports) {
    const b = blocks(r.min, r.max, 16);
    if (!b) return undefined;
    out.push(...b);
    if (out.length > MAX_BLOCKS) return undefined;
  }
  return out;
}

function* product(atoms: (readonly Atom[])[]): Generator<Atom[]> {
  const idx = new Array<number>(atoms.length).fill(0);
  for (;;) {
    yield idx.map((k, f) => atoms[f]![k]!);
    let f = atoms.length - 1;
    while (f >= 0) {
      idx[f]!++;
      if (idx[f]! < atoms[f]!.length) break;
      idx[f] = 0;
      f--;
    }
    if (f < 0) return;
  }
}

const EMPTY: CandidateCursor = { next: () => -1 };

/** Merges sorted candidate lists. A rule may sit in several lists (overlapping port blocks); the
 * traversal always asks for the next index above the last one visited, so it is visited once. */
function cursorOver(lists: Int32Array[]): CandidateCursor {
  if (lists.length === 0) return EMPTY;
  if (lists.length === 1) {
    const l = lists[0]!;
    let k = 0;
    return {
      next(from: number): number {
        while (k < l.length && l[k]! < from) k++;
        return k < l.length ? l[k]! : -1;
      },
    };
  }
  const pos = new Int32Array(lists.length);
  return {
    next(from: number): number {
      let best = -1;
      for (let j = 0; j < lists.length; j++) {
        const l = lists[j]!;
        let k = pos[j]!;
        while (k < l.length && l[k]! < from) k++;
        pos[j] = k;
        if (k < l.length && (best < 0 || l[k]! < best)) best = l[k]!;
      }
      return best;
    },
  };
}
