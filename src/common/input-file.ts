/**
 * The one bounded way to read an input file: open without blocking, `fstat` the open descriptor, refuse
 * anything but a regular file (a FIFO, a device such as /dev/zero, a directory) and any file over the
 * size limit of its kind before reading a byte, then read at most the size `fstat` reported. Every file
 * the CLI and the loaders read comes through here (docs/cli.md §"Input limits").
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Largest input file Rampart reads unless a caller states a smaller limit: 256 MiB. */
export const MAX_INPUT_BYTES = 256 * MiB;

/** Size limit of each kind of input: far above any real one, small enough to refuse a wrong path fast. */
export const INPUT_LIMITS = {
  /** Board files and system configurations (YAML). */
  board: 1 * MiB,
  /** Image recipes (YAML). */
  recipe: 1 * MiB,
  /** iptables-save rulesets. */
  ruleset: 16 * MiB,
  /** pcap and pcapng captures. */
  capture: MAX_INPUT_BYTES,
  /** Signed images: the format's own limit (boot/format.ts MAX_IMAGE_SIZE). */
  image: 64 * MiB,
  /** Image components; a component lives inside an image, so the image limit bounds it too. */
  component: 64 * MiB,
  /** PEM keys. */
  key: 64 * KiB,
  /** `prove --replay` regression files (JSON). */
  regression: 16 * MiB,
  /** Small bookkeeping files such as `inputs.sha256`. */
  digest: 4 * KiB,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

export interface ReadInputOptions {
  /** How the file is named in errors; the path itself by default. */
  readonly display?: string;
  /** The kind of input, which sets the size limit (`INPUT_LIMITS`). */
  readonly kind?: InputKind;
  /** Size limit in bytes, overriding `kind`; `MAX_INPUT_BYTES` when neither is given. */
  readonly maxBytes?: number;
  /** What the file is, for the message when it cannot be opened ('board file'…); 'file' by default. */
  readonly what?: string;
  /** Error code when the file cannot be opened or read (missing, no permission…); `INPUT_UNREADABLE` by default. */
  readonly unreadableCode?: string;
}

/**
 * Reads a regular file within its size limit. Throws `InputError` naming the file: `INPUT_NOT_REGULAR`,
 * `INPUT_TOO_LARGE`, or `unreadableCode` when the system refuses to open or read it.
 */
export function readInputFile(path: string, options: ReadInputOptions = {}): Uint8Array {
  const file = options.display ?? path;
  const maxBytes = options.maxBytes ?? (options.kind ? INPUT_LIMITS[options.kind] : MAX_INPUT_BYTES);
  const unreadable = (e: unknown) =>
    new InputError(
      options.unreadableCode ?? 'INPUT_UNREADABLE',
      `cannot read ${options.what ?? 'file'}: ${systemReason(e)}`,
      { file },
      { cause: e },
    );
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang (POSIX open(2)).
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw unreadable(e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new InputError('INPUT_NOT_REGULAR', `not a regular file (${kindOf(st)}); refusing to read it`, {
        file,
      });
    }
    if (st.size > maxBytes) {
      throw new InputError('INPUT_TOO_LARGE', `file is ${st.size} bytes, over the limit of ${maxBytes}`, {
        file,
      });
    }
    const bytes = new Uint8Array(st.size);
    let done = 0;
    try {
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw unreadable(e);
    }
    // A file that shrank while being read is returned as it now is; one that grew is cut at `st.size`.
    return done === bytes.length ? bytes : bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** `readInputFile`, decoded as UTF-8 (invalid sequences become U+FFFD, as `readFileSync(…, 'utf8')`). */
export function readInputText(path: string, options: ReadInputOptions = {}): string {
  return new TextDecoder().decode(readInputFile(path, options));
}

/**
 * Refuses an output folder that exists as something other than a directory (`NOT_A_DIRECTORY`, naming
 * it and `option`), before any work is done; a missing folder is fine (it is created when written).
 */
export function checkOutputDir(path: string, option?: string): void {
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    // ENOTDIR: a parent is a file.
    throw new InputError(
      'NOT_A_DIRECTORY',
      `cannot use it as a folder: ${systemReason(e)}`,
      located(path, option),
    );
  }
  if (st && !st.isDirectory())
    throw new InputError('NOT_A_DIRECTORY', 'exists and is not a directory', located(path, option));
}

/** `mkdir -p`, with a failure (a file in the way, no permission) as an `InputError` naming the folder. */
export function makeOutputDir(path: string, option?: string): void {
  checkOutputDir(path, option);
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new InputError(
      (e as NodeJS.ErrnoException).code === 'ENOTDIR' || (e as NodeJS.ErrnoException).code === 'EEXIST'
        ? 'NOT_A_DIRECTORY'
        : 'OUTPUT_UNWRITABLE',
      `cannot create the folder: ${systemReason(e)}`,
      located(path, option),
    );
  }
}

function located(file: string, option: string | undefined) {
  return option === undefined ? { file } : { file, field: option };
}

/** The errno name and message of a system error without the path Node repeats (`ENOENT: no such file…`). */
function systemReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const message = String(err.message ?? e).replace(/, \w+ '.*'$/, '');
  return message;
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  return 'a socket or block device';
}
