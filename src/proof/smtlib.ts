/**
 * SMT-LIB 2.6 text for a set of assertions over the term graph (logic QF_BV), and the reader for the
 * solver's answers (`get-value` models). Shared subterms are printed once with `define-fun`, named
 * `t!N` in order of first use, so the text is a deterministic function of the terms.
 */
import { assert } from '../common/errors.js';
import { withoutQuantifiers, type Term } from './term.js';

export interface SmtVariable {
  readonly name: string;
  /** 0 for Booleans. */
  readonly width: number;
}

export interface SmtQuery {
  /** Declarations, definitions and assertions; no options, no `check-sat`. */
  readonly text: string;
  /** Every variable that occurs, in order of declaration. */
  readonly variables: readonly SmtVariable[];
}

export function quoteSymbol(name: string): string {
  return `|${name}|`;
}

function sortText(width: number): string {
  return width === 0 ? 'Bool' : `(_ BitVec ${width})`;
}

/** Prints `(assert a)` for every assertion, with comments, sharing common subterms. */
export function printAssertions(given: readonly { term: Term; comment?: string }[]): SmtQuery {
  const assertions = given.map((a) => ({ ...a, term: withoutQuantifiers(a.term) }));
  // Count uses to decide which nodes get a definition.
  const uses = new Map<Term, number>();
  const stack: Term[] = assertions.map((a) => a.term);
  while (stack.length > 0) {
    const t = stack.pop() as Term;
    const n = (uses.get(t) ?? 0) + 1;
    uses.set(t, n);
    if (n === 1) for (const a of t.args) stack.push(a);
  }
  const variables: SmtVariable[] = [];
  const defs: string[] = [];
  const printed = new Map<Term, string>();
  const text = (t: Term): string => printed.get(t) as string;
  const emit = (t: Term): string => {
    switch (t.op) {
      case 'const':
        return t.width === 0 ? (t.value ? 'true' : 'false') : `(_ bv${t.value} ${t.width})`;
      case 'var':
        return quoteSymbol(t.name);
      case 'not':
        return `(not ${text(t.args[0] as Term)})`;
      case 'eq':
        return `(= ${t.args.map(text).join(' ')})`;
      case 'extract': {
        const [hi, lo] = t.name.split(':');
        return `((_ extract ${hi} ${lo}) ${text(t.args[0] as Term)})`;
      }
      case 'forall':
        throw new Error('internal: a quantifier reached the printer unexpanded');
      case 'zext':
        return `((_ zero_extend ${t.width - (t.args[0] as Term).width}) ${text(t.args[0] as Term)})`;
      default:
        return `(${t.op} ${t.args.map(text).join(' ')})`;
    }
  };
  // Iterative post-order, so deep unrolled terms cannot overflow the stack.
  const visit = (root: Term): void => {
    const work: [Term, boolean][] = [[root, false]];
    while (work.length > 0) {
      const [t, expanded] = work.pop() as [Term, boolean];
      if (printed.has(t)) continue;
      if (!expanded) {
        work.push([t, true]);
        for (let k = t.args.length - 1; k >= 0; k--)
          if (!printed.has(t.args[k] as Term)) work.push([t.args[k] as Term, false]);
        continue;
      }
      const body = emit(t);
      if (t.op === 'var') variables.push({ name: t.name, width: t.width });
      if (t.args.length > 0 && (uses.get(t) ?? 0) > 1) {
        const name = `t!${defs.length}`;
        defs.push(`(define-fun ${name} () ${sortText(t.width)} ${body})`);
        printed.set(t, name);
      } else printed.set(t, body);
    }
  };
  const asserts: string[] = [];
  for (const a of assertions) {
    assert(a.term.isBool, 'assertions must be Boolean');
    visit(a.term);
    if (a.comment) asserts.push(`; ${a.comment.replace(/\n/g, ' ')}`);
    asserts.push(`(assert ${text(a.term)})`);
  }
  const decls = variables.map((v) => `(declare-fun ${quoteSymbol(v.name)} () ${sortText(v.width)})`);
  return { text: ['(set-logic QF_BV)', ...decls, ...defs, ...asserts, ''].join('\n'), variables };
}

// ---- reading answers

export type SExpr = string | SExpr[];

/** Parses a sequence of S-expressions (symbols keep their |quotes| stripped; strings keep their quotes). */
export function parseSExprs(input: string): SExpr[] {
  const out: SExpr[] = [];
  const stack: SExpr[][] = [out];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === '(') {
      const list: SExpr[] = [];
      (stack[stack.length - 1] as SExpr[]).push(list);
      stack.push(list);
      i++;
    } else if (c === ')') {
      assert(stack.length > 1, 'unbalanced ) in solver output');
      stack.pop();
      i++;
    } else if (c === ';') {
      while (i < input.length && input[i] !== '\n') i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '|') {
      const end = input.indexOf('|', i + 1);
      assert(end > i, 'unterminated |symbol| in solver output');
      (stack[stack.length - 1] as SExpr[]).push(input.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < input.length && !(input[j] === '"' && input[j + 1] !== '"')) j += input[j] === '"' ? 2 : 1;
      (stack[stack.length - 1] as SExpr[]).push(input.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !/[\s()|";]/.test(input[j] as string)) j++;
      (stack[stack.length - 1] as SExpr[]).push(input.slice(i, j));
      i = j;
    }
  }
  assert(stack.length === 1, 'unbalanced ( in solver output');
  return out;
}

/** A Boolean or bitvector literal as printed by z3 or cvc5. */
export function parseLiteral(e: SExpr): number | boolean {
  if (e === 'true') return true;
  if (e === 'false') return false;
  if (typeof e === 'string') {
    if (e.startsWith('#b')) return parseInt(e.slice(2), 2);
    if (e.startsWith('#x')) return parseInt(e.slice(2), 16);
  } else if (e.length === 3 && e[0] === '_' && typeof e[1] === 'string' && e[1].startsWith('bv')) {
    return Number(e[1].slice(2));
  }
  throw new Error(`unexpected value in solver model: ${JSON.stringify(e)}`);
}

/** Reads a `get-value` answer `((x v) (y w) …)` into a map from variable name to value. */
export function parseModel(answer: string): Map<string, number | boolean> {
  const model = new Map<string, number | boolean>();
  for (const top of parseSExprs(answer)) {
    if (!Array.isArray(top)) continue;
    for (const pair of top) {
      if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string') {
        model.set(pair[0], parseLiteral(pair[1] as SExpr));
      }
    }
  }
  return model;
}
