/**
 * The prover: states each obligation symbolically, prints it as SMT-LIB, looks it up in the cache, solves
 * the misses in parallel (one solver per worker), replays every counterexample concretely, and reports.
 * Only `unsat` of the negated goal counts as proven; `unknown`, timeouts and errors never do.
 */
import { InputError } from '../common/errors.js';
import { ProofCache, queryHash } from './cache.js';
import type { Obligation, ObligationKind } from './obligation.js';
import { replayModel, type Counterexample } from './replay.js';
import { printAssertions, type SmtVariable } from './smtlib.js';
import type { Backend, BackendId, SolveAnswer } from './solver/backend.js';
import { Cvc5Backend } from './solver/cvc5.js';
import { Z3Pool } from './solver/z3.js';
import { freshValue, SymbolicOps, type SymbolicTheory } from './symbolic.js';
import type { Term } from './term.js';

export interface BuiltQuery {
  readonly text: string;
  readonly variables: readonly SmtVariable[];
  /** Distinct terms built while stating the obligation. */
  readonly terms: number;
  readonly buildMs: number;
  /**
   * Whether quantified hypotheses were instantiated at chosen indices only (weaker than the full
   * hypothesis: sound, but a model may then be spurious — the replay tells).
   */
  readonly instantiated: boolean;
}

/** Top-level conjuncts of a Boolean term. */
function conjuncts(t: Term): Term[] {
  return t.op === 'and' ? t.args.flatMap(conjuncts) : [t];
}

/** Rounds of hypothesis instantiation: indices found by one round are candidates for the next. */
const instantiationRounds = 2;

/**
 * States an obligation: hypotheses asserted, goal negated — unsatisfiable means proven. Quantifiers made
 * with `forall` at the top of a goal clause are proven for a fresh witness index; at the top of a
 * hypothesis they are instantiated at every index the step, the goal and earlier instances read or wrote
 * in the same index space; anywhere else they are unrolled.
 */
export function buildQuery(ob: Obligation): BuiltQuery {
  const start = performance.now();
  const o = new SymbolicOps();
  const T = o.terms;
  const x = freshValue(o, ob.inputs, '');
  const c = ob.check<SymbolicTheory>(o, x as never);
  const assertions: { term: Term; comment?: string }[] = [];

  // Goals: skolemise top-level quantifiers.
  const goalParts: Term[] = [];
  let witnesses = 0;
  for (const t of Object.values(c.prove)) {
    for (const part of conjuncts(t)) {
      if (part.op !== 'forall') {
        goalParts.push(part);
        continue;
      }
      const q = T.quantifier(part);
      const w = witnesses++;
      const k = q.space.dims.map((d, j) => T.variable(`witness!${w}.${j}`, d.width));
      const inRange = q.space.dims.map((d, j) =>
        d.size === 2 ** d.width ? T.true : T.ult(k[j] as Term, T.bv(d.width, d.size)),
      );
      assertions.push({ term: T.and(inRange), comment: `witness ${w} of a quantified goal is in range` });
      goalParts.push(q.body(k));
    }
  }
  const goal = T.and(goalParts);

  // Hypotheses: instantiate top-level quantifiers at the touched indices.
  const quantified: { q: ReturnType<typeof T.quantifier>; name: string }[] = [];
  for (const [name, t] of Object.entries(c.assume ?? {})) {
    for (const part of conjuncts(t)) {
      if (part.op === 'forall') quantified.push({ q: T.quantifier(part), name });
      else assertions.push({ term: part, comment: `assume ${name}` });
    }
  }
  const instantiatedAt = new Set<string>();
  for (let round = 0; round < instantiationRounds && quantified.length > 0; round++) {
    const candidates = new Map<string, (readonly Term[])[]>();
    for (const [key, m] of o.touched) candidates.set(key, [...m.values()]);
    let added = false;
    for (const [n, { q, name }] of quantified.entries()) {
      for (const index of candidates.get(q.space.key) ?? []) {
        const key = `${n}@${index.map((t) => t.id).join(',')}`;
        if (instantiatedAt.has(key)) continue;
        instantiatedAt.add(key);
        added = true;
        assertions.push({ term: q.instance(index), comment: `assume ${name} (instance)` });
      }
    }
    if (!added) break;
  }

  const names = Object.keys(c.prove);
  assertions.push({ term: T.not(goal), comment: `negated goal: ${names.join(' ∧ ')}` });
  const memo = new Map<Term, Term>();
  const expanded = assertions.map((a) => ({ ...a, term: T.expandQuantifiers(a.term, memo) }));
  const q = printAssertions(expanded);
  return {
    text: `; obligation ${ob.name}\n${q.text}`,
    variables: q.variables,
    terms: T.size,
    buildMs: performance.now() - start,
    instantiated: quantified.length > 0,
  };
}

export type ObligationStatus = 'proven' | 'failed' | 'unknown' | 'timeout' | 'error';

export interface ObligationResult {
  readonly name: string;
  readonly kind: ObligationKind;
  readonly status: ObligationStatus;
  /** Solver time (ms); for a cache hit, the time the original solve took. */
  readonly solveMs: number;
  /** Time to state the obligation and print its query (ms). */
  readonly buildMs: number;
  readonly cached: boolean;
  readonly backend: string;
  /** SHA-256 cache key of the query. */
  readonly hash: string;
  readonly queryBytes: number;
  readonly variables: number;
  readonly reason?: string;
  readonly counterexample?: Counterexample;
}

export interface ProverOptions {
  /** `both` solves with z3 and cvc5 and requires them to agree. */
  readonly backend: BackendId | 'both';
  readonly jobs: number;
  /** Resource limit per query, in each solver's own units. */
  readonly rlimit: number;
  /** Wall-clock guard per query (ms). */
  readonly timeoutMs: number;
  /** Cache directory; undefined disables the cache. */
  readonly cacheDir?: string;
  readonly onStart?: (total: number) => void;
  readonly onResult?: (result: ObligationResult, done: number, total: number) => void;
}

export interface ProofSummary {
  readonly total: number;
  readonly proven: number;
  readonly failed: number;
  readonly unknown: number;
  readonly timeout: number;
  readonly error: number;
  readonly cached: number;
  readonly wallMs: number;
  readonly solveMs: number;
}

export interface ProofReport {
  readonly backends: readonly { readonly id: BackendId; readonly version: string }[];
  readonly results: readonly ObligationResult[];
  readonly summary: ProofSummary;
}

export const defaultRlimit = 50_000_000;
export const defaultTimeoutMs = 600_000;

/**
 * Selects obligations by name patterns: a pattern matches whole `/`-separated segments anywhere in a name
 * (`pages/invariant` matches `examples/pages/invariant/transfer`); `*` matches within a segment.
 */
export function selectObligations(all: readonly Obligation[], patterns: readonly string[]): Obligation[] {
  if (patterns.length === 0) return [...all];
  const res = patterns.map((p) => {
    const body = p
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*');
    return new RegExp(`(^|/)${body}($|/)`);
  });
  const chosen = all.filter((ob) => res.some((re) => re.test(ob.name)));
  for (const [k, re] of res.entries()) {
    if (!all.some((ob) => re.test(ob.name)))
      throw new InputError('NO_SUCH_OBLIGATION', `--only '${patterns[k]}' matches no obligation`, {
        field: 'only',
      });
  }
  return chosen;
}

function openBackend(id: BackendId, jobs: number): Backend {
  return id === 'z3' ? new Z3Pool(jobs) : new Cvc5Backend(jobs);
}

function combine(answers: readonly { id: BackendId; answer: SolveAnswer }[]): {
  answer: SolveAnswer;
  disagreement?: string;
} {
  const [first, ...rest] = answers;
  if (!first) return { answer: { status: 'error', reason: 'no backend', ms: 0 } };
  const ms = answers.reduce((t, a) => t + a.answer.ms, 0);
  for (const other of rest) {
    const a = first.answer.status;
    const b = other.answer.status;
    if ((a === 'sat' && b === 'unsat') || (a === 'unsat' && b === 'sat'))
      return {
        answer: { status: 'error', ms },
        disagreement: `backends disagree: ${first.id} says ${a}, ${other.id} says ${b}`,
      };
    if (a !== b) {
      // One definite, one not: the weaker (non-definite) answer decides, so nothing is proven by one alone.
      const weak = a === 'sat' || a === 'unsat' ? other : first;
      return {
        answer: { ...weak.answer, ms, reason: `${weak.id}: ${weak.answer.reason ?? weak.answer.status}` },
      };
    }
  }
  return { answer: { ...first.answer, ms } };
}

/** Proves a list of obligations; the backends are started and stopped inside. */
export async function proveObligations(
  obligations: readonly Obligation[],
  options: ProverOptions,
): Promise<ProofReport> {
  const start = performance.now();
  const ids: BackendId[] = options.backend === 'both' ? ['z3', 'cvc5'] : [options.backend];
  const backends: Backend[] = [];
  try {
    for (const id of ids) backends.push(openBackend(id, options.jobs));
    const versions = await Promise.all(backends.map(async (b) => ({ id: b.id, version: await b.version() })));
    const cache = options.cacheDir !== undefined ? new ProofCache(options.cacheDir) : undefined;
    const total = obligations.length;
    options.onStart?.(total);
    let done = 0;
    // Stating an obligation runs on this thread; yielding between them lets the solvers start on the
    // first queries while later ones are still being stated.
    const pending: Promise<ObligationResult>[] = [];
    for (const ob of obligations) {
      pending.push(
        proveOne(ob, backends, versions, cache, options).then((r) => {
          options.onResult?.(r, ++done, total);
          return r;
        }),
      );
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(pending);
    const count = (s: ObligationStatus): number => results.filter((r) => r.status === s).length;
    return {
      backends: versions,
      results,
      summary: {
        total,
        proven: count('proven'),
        failed: count('failed'),
        unknown: count('unknown'),
        timeout: count('timeout'),
        error: count('error'),
        cached: results.filter((r) => r.cached).length,
        wallMs: performance.now() - start,
        solveMs: results.reduce((t, r) => t + (r.cached ? 0 : r.solveMs), 0),
      },
    };
  } finally {
    await Promise.all(backends.map((b) => b.close()));
  }
}

async function proveOne(
  ob: Obligation,
  backends: readonly Backend[],
  versions: readonly { id: BackendId; version: string }[],
  cache: ProofCache | undefined,
  options: ProverOptions,
): Promise<ObligationResult> {
  let q: BuiltQuery;
  const rlimit = ob.rlimit ?? options.rlimit;
  const base = { name: ob.name, kind: ob.kind, backend: versions.map((v) => v.id).join('+') };
  try {
    q = buildQuery(ob);
  } catch (e) {
    return {
      ...base,
      status: 'error',
      solveMs: 0,
      buildMs: 0,
      cached: false,
      hash: '',
      queryBytes: 0,
      variables: 0,
      reason: `stating the obligation failed: ${(e as Error).message}`,
    };
  }
  const answers: { id: BackendId; answer: SolveAnswer }[] = [];
  let allCached = true;
  const hashes: string[] = [];
  await Promise.all(
    backends.map(async (b, k) => {
      const v = versions[k] as { id: BackendId; version: string };
      const hash = queryHash(v.id, v.version, rlimit, q.text);
      hashes[k] = hash;
      let answer = cache?.get(hash);
      if (!answer) {
        allCached = false;
        answer = await b.solve({
          text: q.text,
          variables: q.variables.map((x) => x.name),
          rlimit,
          timeoutMs: options.timeoutMs,
        });
        cache?.put(hash, answer);
      }
      answers[k] = { id: v.id, answer };
    }),
  );
  const { answer, disagreement } = combine(answers);
  const common = {
    ...base,
    solveMs: answer.ms,
    buildMs: q.buildMs,
    cached: allCached,
    hash: hashes.join('+'),
    queryBytes: Buffer.byteLength(q.text),
    variables: q.variables.length,
  };
  switch (answer.status) {
    case 'unsat':
      return { ...common, status: 'proven' };
    case 'sat': {
      const verdict = replayModel(ob, answer.model ?? {});
      if (verdict.code === 'mismatch' && verdict.brokenHypothesis !== undefined && q.instantiated)
        return {
          ...common,
          status: 'unknown',
          reason:
            `spurious counterexample: it breaks hypothesis '${verdict.brokenHypothesis}' at an index the ` +
            'instantiation of its quantifier did not cover; unroll that clause (all instead of forall)',
          counterexample: verdict.counterexample,
        };
      if (verdict.code === 'mismatch')
        return { ...common, status: 'error', reason: verdict.detail, counterexample: verdict.counterexample };
      return { ...common, status: 'failed', counterexample: verdict.counterexample };
    }
    case 'unknown':
      return { ...common, status: 'unknown', reason: answer.reason ?? 'solver answered unknown' };
    case 'timeout':
      return { ...common, status: 'timeout', reason: answer.reason ?? 'timeout' };
    case 'error':
      return { ...common, status: 'error', reason: disagreement ?? answer.reason ?? 'solver error' };
  }
}
