/**
 * Proof cache: solver answers keyed by SHA-256 of the exact query (backend, version, resource limit and
 * SMT-LIB text). Any change to the code an obligation depends on changes its text, so only the obligations
 * a change touches are solved again. Only definite answers (sat/unsat) are kept; unknowns are retried.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readInputText } from '../common/input-file.js';
import { join } from 'node:path';
import type { SolveAnswer } from './solver/backend.js';

export function queryHash(backend: string, version: string, rlimit: number, text: string): string {
  return createHash('sha256').update(`${backend}\n${version}\n${rlimit}\n`).update(text).digest('hex');
}

export class ProofCache {
  constructor(readonly dir: string) {}

  private path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.json`);
  }

  get(hash: string): SolveAnswer | undefined {
    let text: string;
    try {
      text = readInputText(this.path(hash));
    } catch {
      return undefined;
    }
    try {
      const a = JSON.parse(text) as SolveAnswer;
      if ((a.status === 'sat' && typeof a.model === 'object') || a.status === 'unsat') return a;
    } catch {
      // a torn or foreign file is a miss; it is overwritten below
    }
    return undefined;
  }

  put(hash: string, answer: SolveAnswer): void {
    if (answer.status !== 'sat' && answer.status !== 'unsat') return;
    const file = this.path(hash);
    mkdirSync(join(this.dir, hash.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(answer));
    renameSync(tmp, file);
  }
}
