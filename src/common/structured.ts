/**
 * Structured input files (YAML, which includes JSON): parse → schema (zod) → consistency rules, with
 * every problem reported as an `InputError` naming the file, the line and column of the YAML node it is
 * about, and the field path, e.g. `boards/x.yaml:14:13, field chips[0].memory[1].base: …`.
 * Board files, image recipes and system configurations all load through here.
 */
import {
  LineCounter,
  isAlias,
  isCollection,
  isMap,
  isPair,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors.js';

/** One problem, at a field path. */
export interface Issue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** Point at the key of the last path element rather than its value (e.g. an unknown field). */
  readonly atKey?: boolean;
}

export interface StructuredOptions<T> {
  /** How the file is named in errors. */
  readonly file: string;
  readonly schema: z.ZodType<T>;
  /** Error code for syntax errors (`code + '_SYNTAX'`) and invalid content (`code + '_INVALID'`). */
  readonly code: string;
  /** Rules a schema cannot state field by field; each problem names its field. */
  readonly check?: (value: T) => readonly Issue[];
  /** What a discriminated union at `path` is a union of ('device', 'link' …), for messages. */
  readonly unionWhat?: (path: readonly (string | number)[]) => string;
}

/** Deepest nesting of mappings and sequences a structured file may have (board files use under 10). */
export const MAX_YAML_DEPTH = 64;

/** Most alias expansions (`*name`) a structured file may make: no billion-laughs. */
export const MAX_YAML_ALIASES = 100;

/** Parses and validates structured text; throws an `InputError` at the first problem. */
export function parseStructured<T>(text: string, options: StructuredOptions<T>): T {
  const { file, code } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    // The yaml parser itself recurses; nesting deep enough to exhaust the stack is reported as such.
    if (/call stack/i.test(yamlError.message))
      throw new InputError(`${code}_TOO_COMPLEX`, `YAML: nested deeper than ${MAX_YAML_DEPTH} levels`, {
        file,
        line: pos.line,
        column: pos.col,
      });
    throw new InputError(`${code}_SYNTAX`, `YAML: ${yamlError.message.split('\n')[0]}`, {
      file,
      line: pos.line,
      column: pos.col,
    });
  }
  const firstAlias = checkShape(doc, lineCounter, file, code);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // yaml's guard against exponential alias expansion (a ReferenceError).
    if (!(e instanceof ReferenceError)) throw e;
    const pos = firstAlias === undefined ? undefined : lineCounter.linePos(firstAlias);
    throw new InputError(
      `${code}_TOO_COMPLEX`,
      `YAML: aliases expand too far (over ${MAX_YAML_ALIASES}, yaml's maxAliasCount)`,
      { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
    );
  }
  const parsed = options.schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => describeZodIssue(i, data, options.unionWhat));
    throw locatedError(doc, lineCounter, file, `${code}_INVALID`, issues);
  }
  const issues = options.check?.(parsed.data) ?? [];
  if (issues.length > 0) throw locatedError(doc, lineCounter, file, `${code}_INVALID`, issues);
  return parsed.data;
}

/**
 * Refuses nesting deeper than `MAX_YAML_DEPTH` and more than `MAX_YAML_ALIASES` aliases, located at the
 * offending node, before the document is turned into data; returns the offset of the first alias.
 * Iterative, so no input can overflow the stack.
 */
function checkShape(doc: Document, lines: LineCounter, file: string, code: string): number | undefined {
  const fail = (node: Node, detail: string) => {
    const pos = node.range ? lines.linePos(node.range[0]) : undefined;
    return new InputError(`${code}_TOO_COMPLEX`, detail, {
      file,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
    });
  };
  let aliases = 0;
  let firstAlias: number | undefined;
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isAlias(node)) {
      if (++aliases > MAX_YAML_ALIASES) throw fail(node, `YAML: more than ${MAX_YAML_ALIASES} aliases`);
      const at = node.range?.[0];
      if (at !== undefined && (firstAlias === undefined || at < firstAlias)) firstAlias = at;
    }
    if (!isCollection(node)) continue;
    if (depth > MAX_YAML_DEPTH) throw fail(node, `YAML: nested deeper than ${MAX_YAML_DEPTH} levels`);
    for (const item of node.items as unknown[]) {
      if (isPair(item)) stack.push([item.key, depth + 1], [item.value, depth + 1]);
      else stack.push([item, depth + 1]);
    }
  }
  return firstAlias;
}

function locatedError(
  doc: Document,
  lines: LineCounter,
  file: string,
  code: string,
  issues: readonly Issue[],
): InputError {
  const first = issues[0] as Issue;
  const at = locate(doc, first.path, first.atKey ?? false);
  const pos = at === undefined ? undefined : lines.linePos(at);
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new InputError(code, first.message + more, {
    file,
    ...(pos ? { line: pos.line, column: pos.col } : {}),
    ...(first.path.length > 0 ? { field: fieldPath(first.path) } : {}),
  });
}

/** `['chips', 0, 'memory', 1, 'base']` → `chips[0].memory[1].base`. */
export function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Source offset of the node at `path`: its value (or its key when `atKey`), the key of a key without a
 * value, else the nearest ancestor.
 */
function locate(doc: Document, path: readonly (string | number)[], atKey: boolean): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const node = (n === 0 ? doc.contents : doc.getIn(prefix, true)) as Node | null | undefined;
    if (!(atKey && n === path.length) && node && typeof node === 'object' && 'range' in node && node.range)
      return node.range[0];
    // A key without a value node (or an unknown key): point at the key.
    const parent = (n <= 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true)) as Node | null | undefined;
    const key = path[n - 1];
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return keyNode.range[0];
    }
  }
  return undefined;
}

function describeZodIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  unionWhat: ((path: readonly (string | number)[]) => string) | undefined,
): Issue {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] as string;
      return { path: [...path, key], message: `unknown field '${key}'`, atKey: true };
    }
    case 'invalid_union':
      if ('note' in issue && issue.note === 'No matching discriminator') {
        const value = valueAt(data, path);
        const what = unionWhat?.(path) ?? 'variant';
        const options = 'options' in issue ? (issue.options as unknown[]) : [];
        return {
          path,
          message:
            value === undefined
              ? `missing field 'kind' (a ${what} kind: ${options.join(', ')})`
              : `unknown ${what} kind ${JSON.stringify(value)} (known: ${options.join(', ')})`,
        };
      }
      break;
    case 'invalid_type':
      if (valueAt(data, path) === undefined)
        return { path, message: `missing field '${String(last)}' (expected ${issue.expected})` };
      return { path, message: `expected ${issue.expected}, got ${describe(valueAt(data, path))}` };
  }
  return { path, message: issue.message };
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
