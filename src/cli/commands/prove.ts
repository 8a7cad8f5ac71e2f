/** `rampart prove`: discharge the proof obligations of one or more targets. */
import { writeFileSync } from 'node:fs';
import { checkOutputDir, makeOutputDir, readInputText } from '../../common/input-file.js';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, RampartError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import { formatDetails, formatMs, formatResultLine, formatSummary } from '../../proof/format.js';
import { mutationCheck } from '../../proof/mutation.js';
import type { Obligation, ProofTarget } from '../../proof/obligation.js';
import {
  defaultRlimit,
  defaultTimeoutMs,
  proveObligations,
  selectObligations,
  type ObligationResult,
} from '../../proof/prover.js';
import type { Guards } from '../../proof/guards.js';
import {
  checkRegression,
  parseRegressionFile,
  regressionFormat,
  type RegressionFile,
} from '../../proof/replay.js';
import { intOption, parseOptions, type CliIO, type Command } from '../command.js';
import { defaultTargets, proofTargets } from '../prove-targets.js';

const usage = `usage: rampart prove [TARGET…] [options]

Proves every obligation of the named targets (default: ${defaultTargets.join(', ')}; known: ${Object.keys(proofTargets).join(', ')}).
Exit status: 0 when every obligation is proven, 1 when any is failed, unknown, timed out or in error,
2 on bad input.

options:
  --only NAME             only obligations whose name contains NAME as whole /-segments (* = any in a segment);
                          repeatable
  --jobs N                solver workers (default: ${availableParallelism()}, the cores of this machine)
  --backend B             z3 (default, z3-solver wasm), cvc5 (the cvc5 binary), or both (must agree)
  --rlimit N              solver resource limit per query (default ${defaultRlimit}); exceeding it is 'unknown'
  --timeout SECONDS       wall-clock guard per query (default ${defaultTimeoutMs / 1000}); exceeding it is 'timeout'
  --cache-dir DIR         proof cache (default .rampart/proof-cache)
  --no-cache              neither read nor write the cache
  --write-regression DIR  write each counterexample as DIR/<obligation>.json (replay with --replay)
  --replay FILE           replay a regression file concretely (repeatable): exit 1 while it still fails
  --mutants               mutation check: for every named guard, prove a mutant without it; each must fail
                          with a counterexample (exit 1 unless the kill rate is 100%)
  --list                  list the obligations and exit
  --json                  print the report as JSON (format documented in docs/proof.md)`;

/** Bounds of the numeric options: each worker loads a solver; timers hold at most 2^31-1 ms. */
const MAX_JOBS = 256;
const MAX_RLIMIT = 2 ** 32 - 1;
const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

async function loadTargets(targets: readonly string[]): Promise<ProofTarget[]> {
  const out: ProofTarget[] = [];
  for (const name of targets) {
    const load = proofTargets[name];
    if (!load)
      throw new InputError(
        'NO_SUCH_TARGET',
        `unknown proof target '${name}' (known: ${Object.keys(proofTargets).join(', ')})`,
        {
          field: 'TARGET',
        },
      );
    out.push(await load());
  }
  return out;
}

/** Target name of every obligation, for regression files. */
const targetOf = new Map<string, string>();

async function loadObligations(targets: readonly string[]): Promise<Obligation[]> {
  const out: Obligation[] = [];
  const loaded = await loadTargets(targets);
  for (const [k, t] of loaded.entries()) {
    for (const ob of t.obligations()) {
      if (targetOf.has(ob.name) && out.some((o) => o.name === ob.name))
        throw new RampartError('DUPLICATE_OBLIGATION', `two obligations are named '${ob.name}'`);
      targetOf.set(ob.name, targets[k] ?? t.name);
      out.push(ob);
    }
  }
  return out;
}

function regressionName(obligation: string): string {
  return obligation.replace(/[^A-Za-z0-9._-]+/g, '-') + '.json';
}

/** JSON.parse, with a syntax error as a one-line `BAD_REGRESSION` at its line and column. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    const before = at ? text.slice(0, Number(at[1])) : undefined;
    const line = before === undefined ? undefined : before.split('\n').length;
    const column = before === undefined ? undefined : before.length - before.lastIndexOf('\n');
    // V8 quotes the offending text (which may hold newlines); keep only its description.
    const detail = message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position.*$/s, '');
    throw new InputError(
      'BAD_REGRESSION',
      `not JSON: ${detail.replace(/\s+/g, ' ')}`,
      line === undefined ? { file } : { file, line, column: column! },
    );
  }
}

async function replayFiles(files: readonly string[], io: CliIO, json: boolean): Promise<number> {
  const verdicts: { file: string; obligation: string; verdict: ReturnType<typeof checkRegression> }[] = [];
  for (const file of files) {
    const data = parseRegressionFile(parseJson(readInputText(file, { kind: 'regression' }), file), file);
    if (!Object.hasOwn(proofTargets, data.target))
      throw new InputError(
        'BAD_REGRESSION',
        `unknown proof target '${data.target}' (known: ${Object.keys(proofTargets).join(', ')})`,
        { file, field: 'target' },
      );
    const obligations = await loadObligations([data.target]);
    const ob = obligations.find((o) => o.name === data.obligation);
    if (!ob)
      throw new InputError(
        'BAD_REGRESSION',
        `target '${data.target}' has no obligation '${data.obligation}'`,
        { file, field: 'obligation' },
      );
    verdicts.push({ file, obligation: ob.name, verdict: checkRegression(ob, data, file) });
  }
  if (json) io.out(stableStringify({ format: 'rampart-prove-replay/1', replays: verdicts }, 2));
  else
    for (const v of verdicts) {
      const what =
        v.verdict.code === 'still-failing'
          ? `STILL FAILING: ${v.verdict.violated.join('; ')}`
          : v.verdict.code === 'fixed'
            ? 'fixed (every clause holds)'
            : `fixed (inputs no longer admitted: ${v.verdict.hypothesis})`;
      io.out(`${v.verdict.code === 'still-failing' ? '✗' : '✓'} ${v.obligation} (${v.file}): ${what}`);
    }
  return verdicts.some((v) => v.verdict.code === 'still-failing') ? 1 : 0;
}

/** A progress bar on a terminal: redrawn in place on stderr, cleared before each printed line. */
class Progress {
  private line = '';
  constructor(private readonly enabled: boolean) {}
  draw(done: number, total: number, last: string): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${last}`;
    this.line = text.slice(0, (process.stderr.columns ?? 100) - 1);
    process.stderr.write(`\r\x1b[2K${this.line}`);
  }
  clear(): void {
    if (this.enabled && this.line) process.stderr.write('\r\x1b[2K');
    this.line = '';
  }
}

export const proveCommand: Command = {
  name: ['prove'],
  summary: 'prove the obligations of the kernel, the hypervisor or the examples',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOptions(
      argv,
      {
        only: { type: 'string', multiple: true },
        jobs: { type: 'string' },
        backend: { type: 'string' },
        rlimit: { type: 'string' },
        timeout: { type: 'string' },
        'cache-dir': { type: 'string' },
        'no-cache': { type: 'boolean' },
        'write-regression': { type: 'string' },
        replay: { type: 'string', multiple: true },
        list: { type: 'boolean' },
        mutants: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      true,
    );
    const json = values.json === true;
    // Folders first: a file in the way is refused before any obligation is loaded.
    if (values['cache-dir'] !== undefined) checkOutputDir(values['cache-dir'], '--cache-dir');
    if (values['write-regression'] !== undefined)
      checkOutputDir(values['write-regression'], '--write-regression');
    if (values.replay) return replayFiles(values.replay, io, json);
    const backend = values.backend ?? 'z3';
    if (backend !== 'z3' && backend !== 'cvc5' && backend !== 'both')
      throw new InputError('BAD_ARGUMENTS', `--backend must be z3, cvc5 or both, got '${backend}'`, {
        field: 'backend',
      });
    const jobs = intOption(values.jobs, 'jobs') ?? availableParallelism();
    if (jobs < 1 || jobs > MAX_JOBS)
      throw new InputError('BAD_ARGUMENTS', `--jobs must be 1 to ${MAX_JOBS} (one solver worker each)`, {
        field: 'jobs',
      });
    const rlimit = intOption(values.rlimit, 'rlimit') ?? defaultRlimit;
    if (rlimit > MAX_RLIMIT)
      throw new InputError(
        'BAD_ARGUMENTS',
        `--rlimit must be at most ${MAX_RLIMIT} (the solvers' unsigned int)`,
        {
          field: 'rlimit',
        },
      );
    const timeoutS = intOption(values.timeout, 'timeout');
    if (timeoutS !== undefined && (timeoutS < 1 || timeoutS > MAX_TIMEOUT_S))
      throw new InputError(
        'BAD_ARGUMENTS',
        `--timeout must be 1 to ${MAX_TIMEOUT_S} seconds (a Node timer's range)`,
        { field: 'timeout' },
      );
    const timeoutMs = timeoutS !== undefined ? timeoutS * 1000 : defaultTimeoutMs;
    const targets = positionals.length > 0 ? positionals : [...defaultTargets];
    const obligations = selectObligations(await loadObligations(targets), values.only ?? []);

    if (values.list) {
      if (json)
        io.out(
          stableStringify(
            obligations.map((o) => ({ name: o.name, kind: o.kind })),
            2,
          ),
        );
      else for (const o of obligations) io.out(`${o.name}  (${o.kind})`);
      return 0;
    }

    const cacheDir = values['no-cache']
      ? undefined
      : resolve(values['cache-dir'] ?? join('.rampart', 'proof-cache'));
    const progress = new Progress(process.stderr.isTTY === true);

    if (values.mutants) {
      const only = values.only ?? [];
      const loaded = await loadTargets(targets);
      const build = (g: Guards) =>
        selectObligations(
          loaded.flatMap((t) => t.obligations(g)),
          only,
        );
      const report = await mutationCheck(
        build,
        { backend, jobs, rlimit, timeoutMs, ...(cacheDir !== undefined ? { cacheDir } : {}) },
        (m, done, total) => {
          progress.clear();
          if (!json) {
            const by = m.killed
              ? `killed by ${m.killedBy.join(', ')}`
              : 'SURVIVED: no obligation fails without it';
            io.out(`${m.killed ? '✓' : '✗'} ${m.guard}: ${by}`);
          }
          progress.draw(done, total, m.guard);
        },
      );
      progress.clear();
      if (json) io.out(stableStringify({ format: 'rampart-prove-mutants/1', targets, ...report }, 2));
      else
        io.out(
          `\nkill rate: ${report.killed}/${report.guards} guards (${(report.killRate * 100).toFixed(1)}%)`,
        );
      return report.killed === report.guards ? 0 : 1;
    }
    const width = Math.min(72, Math.max(0, ...obligations.map((o) => o.name.length)));
    if (!json)
      io.out(
        `rampart prove: ${obligations.length} obligations (${targets.join(', ')}) · ${jobs} jobs · ${backend}`,
      );
    const report = await proveObligations(obligations, {
      backend,
      jobs,
      rlimit,
      timeoutMs,
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      onStart: (total) => progress.draw(0, total, ''),
      onResult: (r, done, total) => {
        progress.clear();
        if (!json) io.out(formatResultLine(r, width));
        progress.draw(done, total, `${r.name} ${formatMs(r.solveMs)}`);
      },
    });
    progress.clear();

    const failed = report.results.filter((r) => r.status !== 'proven');
    const written: string[] = [];
    if (values['write-regression'] !== undefined) {
      const dir = resolve(values['write-regression']);
      makeOutputDir(dir, '--write-regression');
      for (const r of failed) {
        if (r.status !== 'failed' || !r.counterexample) continue;
        const target = targetOf.get(r.name) ?? '';
        const file: RegressionFile = {
          format: regressionFormat,
          target,
          obligation: r.name,
          violated: r.counterexample.violated,
          inputs: r.counterexample.inputs,
        };
        const path = join(dir, regressionName(r.name));
        writeFileSync(path, stableStringify(file, 2) + '\n');
        written.push(path);
      }
    }

    if (json) {
      io.out(
        stableStringify(
          {
            format: 'rampart-prove/1',
            targets,
            backends: report.backends,
            options: { jobs, rlimit, timeoutMs, cache: cacheDir !== undefined },
            summary: report.summary,
            obligations: report.results.map((r: ObligationResult) => r),
            regressions: written,
          },
          2,
        ),
      );
    } else {
      for (const r of failed) {
        io.out('');
        io.out(formatResultLine(r));
        for (const line of formatDetails(r)) io.out(line);
      }
      for (const path of written) io.out(`regression written: ${path}`);
      io.out('');
      io.out(formatSummary(report));
    }
    return failed.length === 0 ? 0 : 1;
  },
};
