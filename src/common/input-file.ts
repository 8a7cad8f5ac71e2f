/**
 * The one bounded way to read an input file: open without blocking, `fstat` the open descriptor, refuse
 * anything but a regular file (a FIFO, a device such as /dev/zero, a directory) and any file over the
 * size limit before reading a byte, then read at most the size `fstat` reported.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';

/** Largest input file Rampart reads unless a caller states a smaller limit: 256 MiB. */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export interface ReadInputOptions {
  /** How the file is named in errors; the path itself by default. */
  readonly display?: string;
  /** Size limit in bytes; `MAX_INPUT_BYTES` by default. */
  readonly maxBytes?: number;
}

/**
 * Reads a regular file of at most `maxBytes` bytes. Throws `InputError` `INPUT_NOT_REGULAR` or
 * `INPUT_TOO_LARGE` naming the file; open and read failures propagate as the system's errors.
 */
export function readInputFile(path: string, options: ReadInputOptions = {}): Uint8Array {
  const file = options.display ?? path;
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  // O_NONBLOCK: opening a FIFO with no writer must not hang (POSIX open(2)).
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
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
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
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

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  return 'a socket or block device';
}
