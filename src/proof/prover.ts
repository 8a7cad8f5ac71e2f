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
import { evaluate, type Env, type Quantifier, type Term } from './term.js';

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
/** Counterexample-guided refinements of a quantified query before giving up with `unknown`. */
export const maxRefinements = 12;

/**
 * States an obligation: hypotheses asserted, goal negated — unsatisfiable means proven. Quantifiers made
 * with `forall` at the top of a goal clause are proven for a fresh witness index; at the top of a
 * hypothesis they are instantiated at every index the step, the goal and earlier instances read or wrote
 * in the same index space; anywhere else they are unrolled. When a model is spurious (it breaks a
 * quantified hypothesis at an index not instantiated), `refine` adds the instances that model violates.
 */
export class QueryBuilder {
  private readonly o = new SymbolicOps();
  private readonly assertions: { term: Term; comment?: string }[] = [];
  private readonly quantified: { q: Quantifier; name: string }[] = [];
  private readonly instances: { term: Term; comment: string }[] = [];
  private readonly instantiatedAt = new Set<string>();
  private readonly goal: Term;
  private readonly goalNames: string[];
  private readonly started = performance.now();

  constructor(readonly ob: Obligation) {
    const o = this.o;
    const T = o.terms;
    const x = freshValue(o, ob.inputs, '');
    const c = ob.check<SymbolicTheory>(o, x as never);
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
        o.touch(q.space.dims, k); // the witness is a candidate for the hypotheses over the same space
        const inRange = q.space.dims.map((d, j) =>
          d.size === 2 ** d.width ? T.true : T.ult(k[j] as Term, T.bv(d.width, d.size)),
        );
        this.assertions.push({
          term: T.and(inRange),
          comment: `witness ${w} of a quantified goal is in range`,
        });
        goalParts.push(q.body(k));
      }
    }
    this.goal = T.and(goalParts);
    this.goalNames = Object.keys(c.prove);
    // Hypotheses: instantiate top-level quantifiers at the touched indices.
    for (const [name, t] of Object.entries(c.assume ?? {})) {
      for (const part of conjuncts(t)) {
        if (part.op === 'forall') this.quantified.push({ q: T.quantifier(part), name });
        else this.assertions.push({ term: part, comment: `assume ${name}` });
      }
    }
    for (let round = 0; round < instantiationRounds && this.quantified.length > 0; round++) {
      const candidates = new Map<string, (readonly Term[])[]>();
      for (const [key, m] of o.touched) candidates.set(key, [...m.values()]);
      let added = false;
      for (const [n, { q }] of this.quantified.entries()) {
        for (const index of candidates.get(q.space.key) ?? []) added = this.instantiate(n, index) || added;
      }
      if (!added) break;
    }
  }

  /** Whether hypotheses were instantiated at chosen indices only (sound; models may be spurious). */
  get instantiated(): boolean {
    return this.quantified.length > 0;
  }

  private instantiate(n: number, index: readonly Term[]): boolean {
    const key = `${n}@${index.map((t) => t.id).join(',')}`;
    if (this.instantiatedAt.has(key)) return false;
    this.instantiatedAt.add(key);
    const { q, name } = this.quantified[n] as { q: Quantifier; name: string };
    this.instances.push({ term: q.instance(index), comment: `assume ${name} (instance)` });
    return true;
  }

  /**
   * Adds the constant instances of every quantified hypothesis that `model` violates; false when it
   * violates none (the model is then a real counterexample to the query as stated).
   */
  refine(model: Readonly<Record<string, number | boolean>>): boolean {
    const env: Env = (name) => model[name];
    let added = false;
    for (const [n, { q }] of this.quantified.entries()) {
      for (const index of q.tuples()) {
        if (evaluate(q.body(index), env) === false) added = this.instantiate(n, index) || added;
      }
    }
    return added;
  }

  build(): BuiltQuery {
    const T = this.o.terms;
    const memo = new Map<Term, Term>();
    const all = [
      ...this.assertions,
      ...this.instances,
      { term: T.not(this.goal), comment: `negated goal: ${this.goalNames.join(' ∧ ')}` },
    ].map((a) => ({ ...a, term: T.expandQuantifiers(a.term, memo) }));
    const q = printAssertions(all);
    return {
      text: `; obligation ${this.ob.name}\n${q.text}`,
      variables: q.variables,
      terms: T.size,
      buildMs: performance.now() - this.started,
      instantiated: this.instantiated,
    };
  }
}

export function buildQuery(ob: Obligation): BuiltQuery {
  return new QueryBuilder(ob).build();
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
  /** Counterexample-guided instantiation rounds a quantified obligation needed (absent when none). */
  readonly refinements?: number;
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
  /** Counterexample-guided refinements of a quantified query before `unknown` (default `maxRefinements`). */
  readonly maxRefinements?: number;
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

async function solveAll(
  q: BuiltQuery,
  backends: readonly Backend[],
  versions: readonly { id: BackendId; version: string }[],
  cache: ProofCache | undefined,
  rlimit: number,
  timeoutMs: number,
): Promise<{ answers: { id: BackendId; answer: SolveAnswer }[]; cached: boolean; hashes: string[] }> {
  const answers: { id: BackendId; answer: SolveAnswer }[] = [];
  let cached = true;
  const hashes: string[] = [];
  await Promise.all(
    backends.map(async (b, k) => {
      const v = versions[k] as { id: BackendId; version: string };
      const hash = queryHash(v.id, v.version, rlimit, q.text);
      hashes[k] = hash;
      let answer = cache?.get(hash);
      if (!answer) {
        cached = false;
        answer = await b.solve({
          text: q.text,
          variables: q.variables.map((x) => x.name),
          rlimit,
          timeoutMs,
        });
        cache?.put(hash, answer);
      }
      answers[k] = { id: v.id, answer };
    }),
  );
  return { answers, cached, hashes };
}

async function proveOne(
  ob: Obligation,
  backends: readonly Backend[],
  versions: readonly { id: BackendId; version: string }[],
  cache: ProofCache | undefined,
  options: ProverOptions,
): Promise<ObligationResult> {
  const rlimit = ob.rlimit ?? options.rlimit;
  const base = { name: ob.name, kind: ob.kind, backend: versions.map((v) => v.id).join('+') };
  let builder: QueryBuilder;
  let q: BuiltQuery;
  try {
    builder = new QueryBuilder(ob);
    q = builder.build();
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
  let solveMs = 0;
  let allCached = true;
  for (let refinement = 0; ; refinement++) {
    const solved = await solveAll(q, backends, versions, cache, rlimit, options.timeoutMs);
    const { answer, disagreement } = combine(solved.answers);
    solveMs += answer.ms;
    allCached &&= solved.cached;
    const common = {
      ...base,
      solveMs,
      buildMs: q.buildMs,
      cached: allCached,
      hash: solved.hashes.join('+'),
      queryBytes: Buffer.byteLength(q.text),
      variables: q.variables.length,
      ...(refinement > 0 ? { refinements: refinement } : {}),
    };
    switch (answer.status) {
      case 'unsat':
        return { ...common, status: 'proven' };
      case 'sat': {
        const model = answer.model ?? {};
        const verdict = replayModel(ob, model);
        // Spurious: the model breaks a quantified hypothesis where it was not instantiated. (If it breaks
        // no instance at all, the interpreters disagree: an error, below.)
        if (verdict.code === 'mismatch' && verdict.brokenHypothesis !== undefined && builder.refine(model)) {
          if (refinement < (options.maxRefinements ?? maxRefinements)) {
            q = builder.build();
            continue;
          }
          return {
            ...common,
            status: 'unknown',
            reason:
              `spurious counterexample after ${refinement} refinements: it breaks hypothesis ` +
              `'${verdict.brokenHypothesis}' at an index the instantiation did not cover; ` +
              'unroll that clause (all instead of forall)',
            counterexample: verdict.counterexample,
          };
        }
        if (verdict.code === 'mismatch')
          return {
            ...common,
            status: 'error',
            reason: verdict.detail,
            counterexample: verdict.counterexample,
          };
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
}
