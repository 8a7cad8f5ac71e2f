/**
 * Error conventions shared by every layer.
 *
 * Expected failures are returned as discriminated unions with a literal `code`; errors that cross a
 * trust boundary (a board file, a ruleset, a packet, an image, an SMC) are thrown as `InputError`,
 * which always says where the problem is. Misuse inside Rampart throws from `assert`.
 */

/** Where in an input a problem was found; every field is optional but at least one should be set. */
export interface Location {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the offending field, e.g. `memory[2].base`. */
  readonly field?: string;
  /** Byte offset into a binary input. */
  readonly offset?: number;
}

export function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) {
    let at = loc.file;
    if (loc.line !== undefined) at += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) at += `:${loc.column}`;
    parts.push(at);
  } else if (loc.line !== undefined) {
    parts.push(`line ${loc.line}`);
  }
  if (loc.field !== undefined) parts.push(`field ${loc.field}`);
  if (loc.offset !== undefined) parts.push(`offset ${loc.offset}`);
  return parts.join(', ');
}

/** Base class: every Rampart error carries a stable machine-readable code. */
export class RampartError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input from outside: the CLI maps it to exit code 2. */
export class InputError extends RampartError {
  readonly location: Location;
  readonly detail: string;
  constructor(code: string, detail: string, location: Location = {}, options?: { cause?: unknown }) {
    const where = formatLocation(location);
    super(code, where ? `${where}: ${detail}` : detail, options);
    this.location = location;
    this.detail = detail;
  }
}

export class AssertionFailed extends RampartError {
  constructor(message: string) {
    super('ASSERTION_FAILED', message);
  }
}

/** Internal invariant check: a failure is a bug in Rampart, never a user error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

export function unreachable(value: never, what = 'value'): never {
  throw new AssertionFailed(`unexpected ${what}: ${JSON.stringify(value)}`);
}
