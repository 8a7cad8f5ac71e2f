/**
 * The proof layer's public interface. Proven code imports the sorts and `Ops`; the kernel's runtime runs it
 * with `concreteOps`/`ConcreteMachine`; its proofs state obligations with the builders and are discharged
 * by `rampart prove`.
 */
export { array, bv, boolSort, describeSort, indexSort, matrix, record } from './sorts.js';
export type { ArraySort, BoolSort, BvSort, Fields, RecordSort, Sort, Theory, Val } from './sorts.js';
export type { Ops, Step } from './ops.js';
export {
  CArray,
  ConcreteMachine,
  concreteOps,
  copyValue,
  valueFromJSON,
  valueToJSON,
  zeroValue,
} from './concrete.js';
export type { ConcreteTheory, ConcreteValue } from './concrete.js';
export { SymbolicOps, SArray, freshValue, concretize } from './symbolic.js';
export type { SymbolicTheory, SymbolicValue } from './symbolic.js';
export { Guards, productionGuards } from './guards.js';
export {
  defineCall,
  integrityObligations,
  invariantObligations,
  lemma,
  noninterferenceObligations,
  refinementObligations,
} from './obligation.js';
export type {
  CallDef,
  Check,
  Clauses,
  EntryAt,
  IntegrityDef,
  FlowPolicyDef,
  Invariant,
  MachineDef,
  Obligation,
  ObligationKind,
  ProofTarget,
  RefinementDef,
} from './obligation.js';
export {
  buildQuery,
  proveObligations,
  selectObligations,
  defaultRlimit,
  defaultTimeoutMs,
} from './prover.js';
export type {
  ObligationResult,
  ObligationStatus,
  ProofReport,
  ProofSummary,
  ProverOptions,
} from './prover.js';
export { mutationCheck, discoverGuards } from './mutation.js';
export type { MutantResult, MutationReport } from './mutation.js';
export { checkRegression, replayConcrete, replayModel, regressionFormat } from './replay.js';
export type { Counterexample, RegressionFile, RegressionVerdict } from './replay.js';
