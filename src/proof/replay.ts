/**
 * Counterexamples, concretely: a solver model becomes concrete input values, which are replayed through
 * the concrete interpreter with the very `check` the solver saw. The replay tells which clauses fail; if it
 * disagrees with the solver, the interpreters disagree — reported as an error, never as a proof.
 */
import { CArray, concreteOps, describeJson, valueFromJSON, valueToJSON } from './concrete.js';
import { InputError } from '../common/errors.js';
import type { Obligation } from './obligation.js';
import { concretize, freshValue, SymbolicOps } from './symbolic.js';
import type { Env } from './term.js';

export interface Replay {
  /** Truth of every hypothesis on the concrete inputs. */
  readonly assume: Readonly<Record<string, boolean>>;
  /** Truth of every goal clause on the concrete inputs. */
  readonly prove: Readonly<Record<string, boolean>>;
  /** The obligation's displayed values, as plain JSON. */
  readonly show: Readonly<Record<string, unknown>>;
}

export interface Counterexample {
  /** The universally quantified inputs, as plain JSON (the obligation's `inputs` schema). */
  readonly inputs: unknown;
  /** Goal clauses false on these inputs. */
  readonly violated: readonly string[];
  readonly show: Readonly<Record<string, unknown>>;
}

/** Plain JSON of any concrete value built by proven code (records, tuples, arrays, scalars). */
export function toPlain(v: unknown): unknown {
  if (v instanceof CArray) {
    const flat = v.toArray();
    const m = v.sort.matrix;
    if (!m) return flat;
    const rows: number[][] = [];
    for (let r = 0; r < m.rows; r++) rows.push(flat.slice(r * m.cols, (r + 1) * m.cols));
    return rows;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

/** Runs an obligation's check concretely on concrete inputs. */
export function replayConcrete(ob: Obligation, inputs: unknown): Replay {
  const c = ob.check(concreteOps, inputs as never);
  const bools = (cs: Readonly<Record<string, unknown>> | undefined): Record<string, boolean> => {
    const out: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(cs ?? {})) out[k] = v === true;
    return out;
  };
  const show: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.show ?? {})) show[k] = toPlain(v);
  return { assume: bools(c.assume), prove: bools(c.prove), show };
}

/** Concrete inputs of an obligation from a solver model (variables missing from the model are 0/false). */
export function inputsFromModel(ob: Obligation, model: Readonly<Record<string, number | boolean>>): unknown {
  const o = new SymbolicOps();
  const x = freshValue(o, ob.inputs, '');
  const env: Env = (name) => model[name];
  return concretize(ob.inputs, x, env);
}

export type ReplayVerdict =
  | { readonly code: 'confirmed'; readonly counterexample: Counterexample }
  | {
      readonly code: 'mismatch';
      readonly detail: string;
      /** The hypothesis the concrete replay found false, if that is the mismatch. */
      readonly brokenHypothesis?: string;
      readonly counterexample: Counterexample;
    };

/** Replays a model; `mismatch` when the concrete run does not confirm the solver's counterexample. */
export function replayModel(
  ob: Obligation,
  model: Readonly<Record<string, number | boolean>>,
): ReplayVerdict {
  const inputs = inputsFromModel(ob, model);
  const r = replayConcrete(ob, inputs);
  const violated = Object.entries(r.prove)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const cex: Counterexample = { inputs: valueToJSON(ob.inputs, inputs), violated, show: r.show };
  const brokenAssumption = Object.entries(r.assume).find(([, v]) => !v);
  if (brokenAssumption)
    return {
      code: 'mismatch',
      detail: `the concrete replay breaks hypothesis '${brokenAssumption[0]}' that the solver's model satisfies: the interpreters disagree`,
      brokenHypothesis: brokenAssumption[0],
      counterexample: cex,
    };
  if (violated.length === 0)
    return {
      code: 'mismatch',
      detail:
        'the concrete replay satisfies every goal clause the solver says fails: the interpreters disagree',
      counterexample: cex,
    };
  return { code: 'confirmed', counterexample: cex };
}

/** Format tag of a regression file written from a counterexample. */
export const regressionFormat = 'rampart-proof-regression/1';

export interface RegressionFile {
  readonly format: typeof regressionFormat;
  readonly target: string;
  readonly obligation: string;
  readonly violated: readonly string[];
  readonly inputs: unknown;
  /** Optional notes of a checked-in regression: the guard mutant that found it, what it records. */
  readonly mutant?: string;
  readonly records?: string;
}

const REGRESSION_FIELDS = ['format', 'target', 'obligation', 'violated', 'inputs'] as const;
const OPTIONAL_FIELDS = ['mutant', 'records'] as const;

/**
 * Checks the shape of a parsed regression file: an object with exactly the fields `RegressionFile`
 * names, each of its type; `inputs` is checked against the obligation's sort by `checkRegression`.
 * Errors are `BAD_REGRESSION` naming the file and the field path.
 */
export function parseRegressionFile(json: unknown, file: string): RegressionFile {
  const fail = (field: string, detail: string): never => {
    throw new InputError('BAD_REGRESSION', detail, { file, field });
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    fail('(root)', `expected a ${regressionFormat} object, got ${describeJson(json)}`);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (![...REGRESSION_FIELDS, ...OPTIONAL_FIELDS].includes(k as never))
      fail(
        k,
        `unknown field (expected ${REGRESSION_FIELDS.join(', ')}; optional ${OPTIONAL_FIELDS.join(', ')})`,
      );
  for (const k of REGRESSION_FIELDS) if (!(k in o)) fail(k, 'missing field');
  if (o.format !== regressionFormat)
    fail('format', `expected '${regressionFormat}', got ${describeJson(o.format)}`);
  for (const k of ['target', 'obligation'] as const)
    if (typeof o[k] !== 'string' || o[k] === '')
      fail(k, `expected a non-empty string, got ${describeJson(o[k])}`);
  for (const k of OPTIONAL_FIELDS)
    if (k in o && typeof o[k] !== 'string') fail(k, `expected a string, got ${describeJson(o[k])}`);
  if (!Array.isArray(o.violated))
    fail('violated', `expected a list of clause names, got ${describeJson(o.violated)}`);
  (o.violated as unknown[]).forEach((v, i) => {
    if (typeof v !== 'string') fail(`violated[${i}]`, `expected a clause name, got ${describeJson(v)}`);
  });
  return o as unknown as RegressionFile;
}

export type RegressionVerdict =
  | { readonly code: 'still-failing'; readonly violated: readonly string[] }
  | { readonly code: 'fixed' }
  | { readonly code: 'not-admitted'; readonly hypothesis: string };

/** Replays a regression's inputs against the current code: `still-failing` until the bug is fixed. */
export function checkRegression(ob: Obligation, file: RegressionFile, where: string): RegressionVerdict {
  const inputs = valueFromJSON(ob.inputs, file.inputs, where, 'inputs');
  const r = replayConcrete(ob, inputs);
  const broken = Object.entries(r.assume).find(([, v]) => !v);
  if (broken) return { code: 'not-admitted', hypothesis: broken[0] };
  const violated = Object.entries(r.prove)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  return violated.length > 0 ? { code: 'still-failing', violated } : { code: 'fixed' };
}
