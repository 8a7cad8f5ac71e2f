/**
 * Loads board files: YAML → schema (zod) → consistency rules. Any problem is an `InputError` naming the
 * file, the line and column (from the YAML node the problem is about) and the field path, e.g.
 * `boards/x.yaml:14:13, field chips[0].memory[1].base: region 'b' [0x1000, 0x3000) overlaps …`.
 * Boards ship in `boards/NAME.yaml`; a board can also be loaded from any path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { LineCounter, isMap, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../../common/errors.js';
import { packagePath } from '../../common/paths.js';
import { boardSchema, type Board } from './schema.js';
import { checkBoard, type BoardIssue } from './check.js';

export function boardsDir(): string {
  return packagePath('boards');
}

/** The shipped board names, sorted. */
export function boardNames(): string[] {
  return readdirSync(boardsDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

export interface LoadedBoard {
  readonly board: Board;
  /** The file it came from, as given (or relative to the package for shipped boards). */
  readonly file: string;
}

/** Loads a shipped board by name. */
export function loadBoardByName(name: string): LoadedBoard {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !boardNames().includes(name))
    throw new InputError(
      'BOARD_NOT_FOUND',
      `no board named '${name}' (available: ${boardNames().join(', ')})`,
    );
  const path = packagePath('boards', `${name}.yaml`);
  const loaded = loadBoardFile(path, `boards/${name}.yaml`);
  if (loaded.board.name !== name)
    throw new InputError('BOARD_INVALID', `board file declares name '${loaded.board.name}'`, {
      file: loaded.file,
      field: 'name',
    });
  return loaded;
}

/** Loads a board file from a path. `display` is how the file is named in errors. */
export function loadBoardFile(path: string, display = relativeOrAbsolute(path)): LoadedBoard {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(
      'BOARD_UNREADABLE',
      `cannot read board file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file: display },
    );
  }
  return { board: parseBoard(text, display), file: display };
}

/** Parses and validates board text; `file` names it in errors. */
export function parseBoard(text: string, file: string): Board {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new InputError('BOARD_SYNTAX', `YAML: ${yamlError.message.split('\n')[0]}`, {
      file,
      line: pos.line,
      column: pos.col,
    });
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = boardSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => describeZodIssue(i, data));
    throw boardError(doc, lineCounter, file, issues);
  }
  const issues = checkBoard(parsed.data);
  if (issues.length > 0) throw boardError(doc, lineCounter, file, issues);
  return parsed.data;
}

function boardError(
  doc: Document,
  lines: LineCounter,
  file: string,
  issues: readonly BoardIssue[],
): InputError {
  const first = issues[0] as BoardIssue;
  const at = locate(doc, first.path, first.atKey ?? false);
  const pos = at === undefined ? undefined : lines.linePos(at);
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new InputError('BOARD_INVALID', first.message + more, {
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

function describeZodIssue(issue: z.core.$ZodIssue, data: unknown): BoardIssue {
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
        const what = path.includes('devices') ? 'device' : path.includes('links') ? 'link' : 'node';
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

function relativeOrAbsolute(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
