/**
 * Optional second backend: Debian's `cvc5` binary (apt-get install cvc5), fed the same SMT-LIB text on
 * standard input. Absent binary → `Cvc5Missing` with the install hint; never a silent fallback.
 */
import { spawn, spawnSync } from 'node:child_process';
import { RampartError } from '../../common/errors.js';
import { parseModel, parseSExprs } from '../smtlib.js';
import { optionsPrefix, statusOf, type Backend, type SolveAnswer, type SolveRequest } from './backend.js';

export class Cvc5Missing extends RampartError {
  constructor() {
    super('CVC5_MISSING', 'the cvc5 backend needs the cvc5 binary on PATH (Debian: apt-get install cvc5)');
  }
}

/** The `cvc5 --version` first line, or undefined when the binary is missing. */
export function cvc5Version(binary = 'cvc5'): string | undefined {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout.split('\n')[0] ?? '').trim();
}

export class Cvc5Backend implements Backend {
  readonly id = 'cvc5' as const;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly children = new Set<ReturnType<typeof spawn>>();
  private readonly ver: string;

  constructor(
    readonly jobs: number,
    readonly binary = 'cvc5',
  ) {
    const v = cvc5Version(binary);
    if (v === undefined) throw new Cvc5Missing();
    this.ver = v;
  }

  async version(): Promise<string> {
    return this.ver;
  }

  async solve(request: SolveRequest): Promise<SolveAnswer> {
    if (this.running >= Math.max(1, this.jobs)) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await this.run(request);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private run(request: SolveRequest): Promise<SolveAnswer> {
    const start = performance.now();
    return new Promise((resolve) => {
      const child = spawn(this.binary, ['--lang=smt2', '--produce-models'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.children.add(child);
      let out = '';
      let err = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, request.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ status: 'error', reason: e.message, ms: performance.now() - start });
      });
      child.on('close', () => {
        clearTimeout(timer);
        this.children.delete(child);
        const ms = performance.now() - start;
        if (timedOut)
          return resolve({ status: 'timeout', reason: `no answer within ${request.timeoutMs} ms`, ms });
        const first = out.trimStart().split('\n')[0] ?? '';
        const status = statusOf(first);
        if (status === 'error') return resolve({ status, reason: (out + err).trim().slice(0, 2000), ms });
        if (status === 'unknown') {
          const info = parseSExprs(out).find((e) => Array.isArray(e) && e[0] === ':reason-unknown');
          return resolve({
            status,
            reason: Array.isArray(info) ? String(info[1]) : 'cvc5 answered unknown',
            ms,
          });
        }
        if (status === 'unsat') return resolve({ status, ms });
        const rest = out.trimStart().slice(first.length);
        resolve({ status, model: Object.fromEntries(parseModel(rest)), ms });
      });
      const names = request.variables.map((v) => `|${v}|`).join(' ');
      const tail = request.variables.length > 0 ? `(get-value (${names}))\n` : '';
      child.stdin.on('error', () => undefined);
      child.stdin.end(
        `${optionsPrefix(request.rlimit)}${request.text}(check-sat)\n(get-info :reason-unknown)\n${tail}`,
      );
    });
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
