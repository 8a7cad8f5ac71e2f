/** The shape of a `rampart` subcommand: a thin adapter from argv to a layer's API. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../common/errors.js';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  /** Words after `rampart`, e.g. `['fw', 'check']`. */
  readonly name: readonly string[];
  readonly summary: string;
  readonly usage: string;
  /** Returns the process exit code: 0 success, 1 runtime failure, 2 bad input. */
  run(argv: string[], io: CliIO): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `node:util` parseArgs with strict checking, turning its errors into exit-code-2 input errors. */
export function parseOptions<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new InputError('BAD_ARGUMENTS', (e as Error).message);
  }
}

/** Parses a decimal or 0x-prefixed integer option, naming the option on failure. */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InputError('BAD_ARGUMENTS', `--${name} expects a non-negative integer, got '${value}'`);
  return n;
}
