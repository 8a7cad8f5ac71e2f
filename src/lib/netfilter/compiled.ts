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
import {
  AllRules,
  type CandidateCursor,
  type CandidateSource,
  type Decision,
  Program,
  traverse,
} from './evaluate.js';
import { HOTDROP, MATCH, type MatchContext, type MatchResult, NO_MATCH, ruleMatches } from './match.js';
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
/** Buckets per range, and atoms per multiport list, beyond which the field is left unindexed. */
const MAX_BUCKETS = 8;
const MAX_BLOCKS = 16;

interface Atom {
  readonly value: number;
  readonly length: number;
}

const WILDCARD: readonly Atom[] = [{ value: 0, length: 0 }];
const HASH_SEED = 0x2f1c3a5b;
/** Table entry end marker: the entry holds one rule index itself (entry start), not a pool range. */
const SINGLE = -1;

interface Shape {
  /** The indexed fields, in increasing order, and how far to shift the packet's value of each. */
  readonly fields: Int32Array;
  readonly shifts: Int32Array;
  /**
   * Open-addressing hash table, three slots per entry: key hash, start and end of the entry's rule
   * indices in the chain's `pool` (end 0 marks a free entry). Typed arrays keep a probe to one or two
   * cache lines, which matters once a chain has thousands of keys.
   */
  readonly table: Int32Array;
  readonly mask: number;
  /** One bit per hash (from its top 16 bits): a clear bit means no key, so the table is not touched. */
  readonly bloom: Int32Array;
  readonly bloomMask: number;
}

interface ChainIndex {
  readonly shapes: readonly Shape[];
  /** Every candidate list of the chain, end to end, each sorted by rule index. */
  readonly pool: Int32Array;
  /**
   * What the check of a candidate needs, laid out flat, one 32-byte record per rule so that checking a
   * candidate touches one cache line instead of the rule's objects: flags (HDR_*), protocol, source
   * address and mask, destination address and mask, source port range, destination port range
   * (ranges packed as min << 16 | max).
   */
  readonly records: Int32Array;
}

/**
 * Flat record of a rule, RECORD int32 words: 0 flags (R_*), 1 protocol | ct states << 8 | multiport
 * range count << 16, 2–5 source address and mask, destination address and mask, 6–7 source and
 * destination port range (min << 16 | max), 8–11 iprange source min/max and destination min/max,
 * 12 input and output interface ids (in << 16 | out), 13–15 multiport ranges (min << 16 | max).
 */
const RECORD = 16;
const MULTIPORT_FLAT = 3;
const R_SRC_INV = 1 << 0;
const R_DST_INV = 1 << 1;
const R_PROTO = 1 << 2;
const R_PROTO_INV = 1 << 3;
const R_FRAG = 1 << 4;
const R_FRAG_INV = 1 << 5;
/** Something the record cannot express: the rule object is checked after the record. */
const R_SLOW = 1 << 6;
const R_PORTS = 1 << 7;
const R_SPORT = 1 << 8;
const R_SPORT_INV = 1 << 9;
const R_DPORT = 1 << 10;
const R_DPORT_INV = 1 << 11;
const R_IIF = 1 << 12;
const R_OIF = 1 << 13;
const R_MPORT = 1 << 14;
const R_MPORT_INV = 1 << 15;
const R_MPORT_SRC = 1 << 16;
const R_MPORT_DST = 1 << 17;
const R_RANGE_SRC = 1 << 18;
const R_RANGE_SRC_INV = 1 << 19;
const R_RANGE_DST = 1 << 20;
const R_RANGE_DST_INV = 1 << 21;
const R_CT = 1 << 22;
const R_CT_INV = 1 << 23;

export class CompiledClassifier implements CandidateSource {
  readonly program: Program;
  private readonly all: AllRules;
  private readonly index: readonly ChainIndex[];
  private readonly interfaceIds = new Map<string, number>();
  /**
   * The packet's value of each field, reused across lookups. (A plain array, not a Float64Array: Hardened
   * JavaScript compartments, where the firewall runs as a trusted application, have no float typed arrays.)
   */
  private readonly values: number[] = new Array<number>(FIELDS).fill(0);

  constructor(ruleset: Ruleset) {
    this.program = new Program(ruleset);
    this.all = new AllRules(this.program);
    this.index = this.program.chains.map((c) => this.build(c.rules));
  }

  /** Number of shapes per chain (the lookup cost), for reports. */
  get shapeCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.program.chains.forEach((c, i) => (out[c.name] = this.index[i]?.shapes.length ?? 0));
    return out;
  }

  evaluate(hook: BuiltinChain, p: FilterPacket, ctx: MatchContext): Decision {
    // A datagram too short for an 8-byte transport header may make an xt match (icmp, multiport)
    // drop it wherever that match stands; the index cannot know, so such rare packets walk every rule.
    if (p.fragmentOffset === 0 && p.l4Length < 8) return traverse(this.program, this.all, hook, p, ctx);
    return traverse(this.program, this, hook, p, ctx);
  }

  candidates(chain: number, p: FilterPacket): CandidateCursor {
    const shapes = this.index[chain]!.shapes;
    const v = this.values;
    v[F_SRC] = p.src;
    v[F_DST] = p.dst;
    v[F_PROTO] = p.protocol;
    // Ports absent (fragments, short headers): a value no key can equal.
    const ports = p.fragmentOffset === 0;
    v[F_SPORT] = ports && p.l4Length >= 2 ? p.sport : -1;
    v[F_DPORT] = ports && p.l4Length >= 4 ? p.dport : -1;
    v[F_IIF] = this.interfaceIds.get(p.inInterface) ?? -1;
    v[F_OIF] = this.interfaceIds.get(p.outInterface) ?? -1;
    v[F_CT] = p.ctState;
    const pool = this.index[chain]!.pool;
    let start = -1;
    let end = -1;
    let more: number[] | undefined;
    for (let i = 0; i < shapes.length; i++) {
      const s = shapes[i]!;
      const fields = s.fields;
      const shifts = s.shifts;
      let h = HASH_SEED;
      for (let j = 0; j < fields.length; j++) {
        const f = fields[j]!;
        const x = v[f]!;
        h = mix(h, x < 0 ? -1 : x >>> shifts[j]!, f);
      }
      if ((s.bloom[(h >>> 21) & s.bloomMask]! & (1 << ((h >>> 16) & 31))) === 0) continue;
      const table = s.table;
      let slot = (h & s.mask) * 3;
      while (table[slot + 2] !== 0 && table[slot] !== h) slot = (slot + 3) % table.length;
      if (table[slot + 2] === 0) continue;
      const a = table[slot + 1]!;
      const b = table[slot + 2]!;
      if (start < 0) {
        start = a;
        end = b;
      } else (more ??= [start, end]).push(a, b);
    }
    if (start < 0) return EMPTY;
    if (more === undefined)
      return end === SINGLE ? new SingleCursor(start) : new ListCursor(pool, start, end);
    return new MergeCursor(pool, more);
  }

  /**
   * `ruleMatches` from the rule's flat record; rules marked R_SLOW are checked on the rule object
   * (whose evaluation in order is then authoritative).
   */
  matches(chain: number, i: number, p: FilterPacket, ctx: MatchContext): MatchResult {
    const rec = this.index[chain]!.records;
    const o = i * RECORD;
    const f = rec[o]!;
    if (f & R_SLOW) return ruleMatches(this.program.chains[chain]!.rules[i]!, p, ctx);
    // Addresses are stored as int32: compare as int32 too.
    if (((p.src & rec[o + 3]!) === rec[o + 2]) === ((f & R_SRC_INV) !== 0)) return NO_MATCH;
    if (((p.dst & rec[o + 5]!) === rec[o + 4]) === ((f & R_DST_INV) !== 0)) return NO_MATCH;
    const misc = rec[o + 1]!;
    if (f & R_PROTO && (p.protocol === (misc & 0xff)) === ((f & R_PROTO_INV) !== 0)) return NO_MATCH;
    if (f & R_FRAG && (p.fragmentOffset !== 0) === ((f & R_FRAG_INV) !== 0)) return NO_MATCH;
    // Interface ids of this packet were set by candidates() for the chain being walked.
    if (f & R_IIF && this.values[F_IIF] !== rec[o + 12]! >>> 16) return NO_MATCH;
    if (f & R_OIF && this.values[F_OIF] !== (rec[o + 12]! & 0xffff)) return NO_MATCH;
    if (f & R_CT && ((p.ctState & (misc >>> 8) & 0x7f) !== 0) === ((f & R_CT_INV) !== 0)) return NO_MATCH;
    if (f & R_RANGE_SRC) {
      const hit = p.src >= rec[o + 8]! >>> 0 && p.src <= rec[o + 9]! >>> 0;
      if (hit === ((f & R_RANGE_SRC_INV) !== 0)) return NO_MATCH;
    }
    if (f & R_RANGE_DST) {
      const hit = p.dst >= rec[o + 10]! >>> 0 && p.dst <= rec[o + 11]! >>> 0;
      if (hit === ((f & R_RANGE_DST_INV) !== 0)) return NO_MATCH;
    }
    if (f & R_PORTS) {
      if (p.fragmentOffset !== 0) return NO_MATCH;
      if (f & R_SPORT) {
        const r = rec[o + 6]!;
        if (p.l4Length < 2 || (p.sport >= r >>> 16 && p.sport <= (r & 0xffff)) === ((f & R_SPORT_INV) !== 0))
          return NO_MATCH;
      }
      if (f & R_DPORT) {
        const r = rec[o + 7]!;
        if (p.l4Length < 4 || (p.dport >= r >>> 16 && p.dport <= (r & 0xffff)) === ((f & R_DPORT_INV) !== 0))
          return NO_MATCH;
      }
    }
    if (f & R_MPORT) {
      if (p.fragmentOffset !== 0) return NO_MATCH;
      if (p.l4Length < 4) return HOTDROP;
      const n = (misc >>> 16) & 0xff;
      let hit = false;
      for (let k = 0; k < n && !hit; k++) {
        const r = rec[o + 13 + k]!;
        const lo = r >>> 16;
        const hi = r & 0xffff;
        if (f & R_MPORT_SRC && p.sport >= lo && p.sport <= hi) hit = true;
        if (f & R_MPORT_DST && p.dport >= lo && p.dport <= hi) hit = true;
      }
      if (hit === ((f & R_MPORT_INV) !== 0)) return NO_MATCH;
    }
    return MATCH;
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
    const pool: number[] = [];
    for (const { lengths, keys } of byShape.values()) {
      let capacity = 4;
      while (capacity < keys.size * 2) capacity *= 2;
      const table = new Int32Array(capacity * 3);
      const mask = capacity - 1;
      // Up to 2^16 bits (8 KiB), about 32 per key: few shapes without a key cost a table probe.
      let words = 32;
      while (words < 2048 && words * 32 < keys.size * 32) words *= 2;
      const bloom = new Int32Array(words);
      const bloomMask = words - 1;
      for (const [h, list] of keys) {
        bloom[(h >>> 21) & bloomMask]! |= 1 << ((h >>> 16) & 31);
        let i = h & mask;
        while (table[i * 3 + 2] !== 0) i = (i + 1) & mask;
        table[i * 3] = h;
        if (list.length === 1) {
          // A single rule (the common case) is kept in the entry: no trip to the pool.
          table[i * 3 + 1] = list[0]!;
          table[i * 3 + 2] = SINGLE;
        } else {
          table[i * 3 + 1] = pool.length;
          pool.push(...list);
          table[i * 3 + 2] = pool.length;
        }
      }
      const fields = Int32Array.from(Array.from(lengths).flatMap((len, f) => (len > 0 ? [f] : [])));
      // Fields of width 1 (interfaces, ct state) and the protocol compare the whole value.
      const shifts = fields.map((f) =>
        WIDTH[f] === 1 || f === F_PROTO ? 0 : (WIDTH[f] ?? 32) - (lengths[f] ?? 0),
      );
      shapes.push({ fields, shifts, table, mask, bloom, bloomMask });
    }
    const records = new Int32Array(rules.length * RECORD);
    rules.forEach((r, i) => this.flatten(r, records, i * RECORD));
    return { shapes, pool: Int32Array.from(pool), records };
  }

  /**
   * Writes the rule's record. Extensions are flattened only when every one is stateless and cannot
   * drop (tcp/udp ports, multiport, iprange, conntrack/state, comment), at most one of each kind:
   * their conjunction is then order-free. Anything else marks the rule R_SLOW.
   */
  private flatten(r: Rule, rec: Int32Array, o: number): void {
    let f = 0;
    let misc = 0;
    if (r.src) {
      rec[o + 2] = r.src.address;
      rec[o + 3] = r.src.mask;
      if (r.src.invert) f |= R_SRC_INV;
    }
    if (r.dst) {
      rec[o + 4] = r.dst.address;
      rec[o + 5] = r.dst.mask;
      if (r.dst.invert) f |= R_DST_INV;
    }
    if (r.protocol) {
      misc |= r.protocol.number;
      f |= R_PROTO | (r.protocol.invert ? R_PROTO_INV : 0);
    }
    if (r.fragment) f |= R_FRAG | (r.fragment.invert ? R_FRAG_INV : 0);
    const exact = (m: { name: string; invert: boolean } | undefined) => {
      const id = m && !m.invert && !m.name.endsWith('+') ? this.interfaceId(m.name) : undefined;
      return id !== undefined && id <= 0xffff ? id : undefined;
    };
    if (r.inInterface) {
      const id = exact(r.inInterface);
      if (id === undefined) f |= R_SLOW;
      else {
        f |= R_IIF;
        rec[o + 12] = (rec[o + 12]! & 0xffff) | (id << 16);
      }
    }
    if (r.outInterface) {
      const id = exact(r.outInterface);
      if (id === undefined) f |= R_SLOW;
      else {
        f |= R_OIF;
        rec[o + 12] = (rec[o + 12]! & ~0xffff) | id;
      }
    }
    const seen = new Set<string>();
    for (const m of r.matches) {
      const kind = m.kind === 'udp' ? 'tcp' : m.kind === 'state' ? 'conntrack' : m.kind;
      if (seen.has(kind)) f |= R_SLOW;
      seen.add(kind);
      switch (m.kind) {
        case 'tcp':
        case 'udp': {
          // As extensionMatches: an option not given, or a full non-inverted port range, costs nothing.
          if (m.kind === 'tcp' && m.flags && (m.flags.mask !== 0 || m.flags.comp !== 0 || m.flags.invert))
            f |= R_SLOW;
          const full = (x: { min: number; max: number; invert: boolean }) =>
            x.min === 0 && x.max === 65535 && !x.invert;
          if (m.sport && !full(m.sport)) {
            f |= R_PORTS | R_SPORT | (m.sport.invert ? R_SPORT_INV : 0);
            rec[o + 6] = (m.sport.min << 16) | m.sport.max;
          }
          if (m.dport && !full(m.dport)) {
            f |= R_PORTS | R_DPORT | (m.dport.invert ? R_DPORT_INV : 0);
            rec[o + 7] = (m.dport.min << 16) | m.dport.max;
          }
          break;
        }
        case 'multiport':
          if (m.ports.length > MULTIPORT_FLAT) {
            f |= R_SLOW;
            break;
          }
          f |= R_MPORT | (m.invert ? R_MPORT_INV : 0);
          if (m.direction !== 'dst') f |= R_MPORT_SRC;
          if (m.direction !== 'src') f |= R_MPORT_DST;
          misc |= m.ports.length << 16;
          m.ports.forEach((pr, k) => (rec[o + 13 + k] = (pr.min << 16) | pr.max));
          break;
        case 'iprange':
          if (m.src) {
            f |= R_RANGE_SRC | (m.src.invert ? R_RANGE_SRC_INV : 0);
            rec[o + 8] = m.src.min;
            rec[o + 9] = m.src.max;
          }
          if (m.dst) {
            f |= R_RANGE_DST | (m.dst.invert ? R_RANGE_DST_INV : 0);
            rec[o + 10] = m.dst.min;
            rec[o + 11] = m.dst.max;
          }
          break;
        case 'conntrack':
        case 'state':
          f |= R_CT | (m.invert ? R_CT_INV : 0);
          misc |= (m.states & 0x7f) << 8;
          break;
        case 'comment':
          break;
        default:
          f |= R_SLOW;
      }
    }
    rec[o] = f;
    rec[o + 1] = misc;
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
      // A limit charges its bucket whenever reached: what follows must not keep its rule from being tried.
      if (m.kind === 'limit') break;
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

/** Hash of a rule's key: the same combination over its atoms, which are already prefixes. */
function atomKey(combo: readonly Atom[]): number {
  let h = HASH_SEED;
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

/**
 * Buckets covering [min, max] in a `width`-bit space: the exact value when the range is one value, else
 * the buckets of the longest prefix among `lengths` that needs at most MAX_BUCKETS of them. Buckets may
 * cover more than the range (the full check trims that); using few prefix lengths keeps shapes few.
 */
function blocks(min: number, max: number, width: number): readonly Atom[] | undefined {
  if (min === max) return [{ value: min, length: width }];
  for (const length of width === 32 ? [32, 24, 16, 8] : [16, 8, 4]) {
    const shift = 2 ** (width - length);
    const lo = Math.floor(min / shift);
    const hi = Math.floor(max / shift);
    if (hi - lo + 1 > MAX_BUCKETS) continue;
    const out: Atom[] = [];
    for (let b = lo; b <= hi; b++) out.push({ value: b, length });
    return out;
  }
  return undefined;
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

class SingleCursor implements CandidateCursor {
  constructor(private readonly rule: number) {}
  next(from: number): number {
    return this.rule >= from ? this.rule : -1;
  }
}

class ListCursor implements CandidateCursor {
  constructor(
    private readonly pool: Int32Array,
    private k: number,
    private readonly end: number,
  ) {}
  next(from: number): number {
    const pool = this.pool;
    let k = this.k;
    while (k < this.end && pool[k]! < from) k++;
    this.k = k;
    return k < this.end ? pool[k]! : -1;
  }
}

/**
 * Merges sorted candidate lists, given as [start, end) pairs in the pool or as (rule, SINGLE). A rule may sit in several
 * lists (overlapping port blocks); the traversal always asks for the next index above the last one
 * visited, so it is visited once.
 */
class MergeCursor implements CandidateCursor {
  constructor(
    private readonly pool: Int32Array,
    /** start0, end0, start1, end1, …; starts advance as the merge proceeds. */
    private readonly ranges: number[],
  ) {}
  next(from: number): number {
    const pool = this.pool;
    const r = this.ranges;
    let best = -1;
    for (let j = 0; j < r.length; j += 2) {
      const end = r[j + 1]!;
      if (end === SINGLE) {
        const rule = r[j]!;
        if (rule >= from && (best < 0 || rule < best)) best = rule;
        continue;
      }
      let k = r[j]!;
      while (k < end && pool[k]! < from) k++;
      r[j] = k;
      if (k < end && (best < 0 || pool[k]! < best)) best = pool[k]!;
    }
    return best;
  }
}
