/**
 * Loads board files: YAML → schema (zod) → consistency rules. Any problem is an `InputError` naming the
 * file, the line and column (from the YAML node the problem is about) and the field path, e.g.
 * `boards/x.yaml:14:13, field chips[0].memory[1].base: region 'b' [0x1000, 0x3000) overlaps …`.
 * Boards ship in `boards/NAME.yaml`; a board can also be loaded from any path.
 */
import { readdirSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { InputError } from '../../common/errors.js';
import { readInputText } from '../../common/input-file.js';
import { packagePath } from '../../common/paths.js';
import { parseStructured } from '../../common/structured.js';
import { boardSchema, type Board } from './schema.js';
import { checkBoard } from './check.js';

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
  const text = readInputText(path, {
    display,
    kind: 'board',
    what: 'board file',
    unreadableCode: 'BOARD_UNREADABLE',
  });
  return { board: parseBoard(text, display), file: display };
}

/** Parses and validates board text; `file` names it in errors. */
export function parseBoard(text: string, file: string): Board {
  return parseStructured(text, {
    file,
    schema: boardSchema,
    code: 'BOARD',
    check: checkBoard,
    unionWhat: (path) => (path.includes('devices') ? 'device' : path.includes('links') ? 'link' : 'node'),
  });
}

function relativeOrAbsolute(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}
