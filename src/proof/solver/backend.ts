/** The solver side of the prover: SMT-LIB text in, a verdict (and a model when satisfiable) out. */

export type BackendId = 'z3' | 'cvc5';

export interface SolveRequest {
  /** The query from `printAssertions` (declarations, definitions, assertions; no options, no check-sat). */
  readonly text: string;
  /** Variables whose values a model must give. */
  readonly variables: readonly string[];
  /** Deterministic resource limit, in the backend's own units. */
  readonly rlimit: number;
  /** Wall-clock guard (ms): only a safety net; an expiry is reported as `timeout`, never as success. */
  readonly timeoutMs: number;
}

export type SolveStatus = 'sat' | 'unsat' | 'unknown' | 'timeout' | 'error';

export interface SolveAnswer {
  readonly status: SolveStatus;
  /** Variable values, for `sat`. */
  readonly model?: Readonly<Record<string, number | boolean>>;
  /** Why the answer is `unknown`, `timeout` or `error`. */
  readonly reason?: string;
  /** Solver time in milliseconds (wall clock, as measured around the call). */
  readonly ms: number;
}

export interface Backend {
  readonly id: BackendId;
  /** Version string recorded in the cache key and in reports. */
  version(): Promise<string>;
  solve(request: SolveRequest): Promise<SolveAnswer>;
  /** Stops every worker or process so the caller can exit. */
  close(): Promise<void>;
}

/** The options prefix every backend puts before the query. */
export function optionsPrefix(rlimit: number): string {
  return `(set-option :produce-models true)\n(set-option :rlimit ${rlimit})\n`;
}

/** Turns the first line of a solver's answer into a status. */
export function statusOf(line: string): SolveStatus {
  const t = line.trim();
  return t === 'sat' || t === 'unsat' || t === 'unknown' ? t : 'error';
}
