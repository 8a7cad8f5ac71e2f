/**
 * One Z3 (z3-solver, wasm) per worker thread: `check()` is serialised per module instance, so parallelism
 * comes from several workers. Only the low-level SMT-LIB entry is used (the high-level API's
 * finalizers raced solver calls in measurements here). A fresh context per query keeps the rlimit per query
 * and leaves no state behind.
 */
import { parentPort } from 'node:worker_threads';
import { init, killThreads } from 'z3-solver';
import { optionsPrefix, statusOf, type SolveAnswer } from './backend.js';
import { parseModel } from '../smtlib.js';

export type WorkerRequest =
  | {
      readonly type: 'solve';
      readonly id: number;
      readonly text: string;
      readonly variables: readonly string[];
      readonly rlimit: number;
    }
  | { readonly type: 'close' };

export type WorkerReply =
  | { readonly type: 'ready'; readonly version: string }
  | { readonly type: 'answer'; readonly id: number; readonly answer: SolveAnswer };

const port = parentPort;
if (!port) throw new Error('z3-worker must run in a worker thread');

// killThreads at shutdown makes emscripten report messages from the threads it just stopped; nothing else
// of interest goes to its stderr (solver errors come back in the SMT-LIB answer).
const api = await init({
  printErr: (text: string) => {
    if (!text.includes('terminated worker')) process.stderr.write(`z3: ${text}\n`);
  },
});
const { Z3 } = api;

interface Emscripten {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _async_Z3_eval_smtlib2_string(ctx: unknown, text: number): void;
  async_call(f: (ctx: unknown, text: number) => void, ctx: unknown, text: number): Promise<string>;
}
const em = api.em as Emscripten;

/**
 * `Z3.eval_smtlib2_string` passes the text through emscripten's `ccall`, which puts it on the C stack and
 * pops it as soon as the call returns — while the solver thread it started is still reading it. Measured
 * here: one query in ~40 failed with a parse error at a random place. So the text goes on the heap, and is
 * freed only once the solver has answered.
 */
async function evalSmtlib(ctx: unknown, text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const ptr = em._malloc(bytes.length + 1);
  if (ptr === 0) throw new Error(`cannot allocate ${bytes.length} bytes for the query`);
  try {
    em.HEAPU8.set(bytes, ptr);
    em.HEAPU8[ptr + bytes.length] = 0;
    return await em.async_call(em._async_Z3_eval_smtlib2_string, ctx, ptr);
  } finally {
    em._free(ptr);
  }
}

async function solve(text: string, variables: readonly string[], rlimit: number): Promise<SolveAnswer> {
  const start = performance.now();
  const cfg = Z3.mk_config();
  const ctx = Z3.mk_context(cfg);
  Z3.del_config(cfg);
  try {
    const out = await evalSmtlib(ctx, `${optionsPrefix(rlimit)}${text}(check-sat)\n`);
    const lines = out.trim().split('\n');
    const status = statusOf(lines[lines.length - 1] ?? '');
    if (status === 'error')
      return { status, reason: out.trim().slice(0, 2000), ms: performance.now() - start };
    const ms = performance.now() - start;
    if (status === 'sat') {
      const model: Record<string, number | boolean> = {};
      // get-value in chunks keeps each answer string small.
      for (let k = 0; k < variables.length; k += 512) {
        const names = variables
          .slice(k, k + 512)
          .map((v) => `|${v}|`)
          .join(' ');
        const values = await evalSmtlib(ctx, `(get-value (${names}))`);
        for (const [name, value] of parseModel(values)) model[name] = value;
      }
      return { status, model, ms };
    }
    if (status === 'unknown') {
      const reason = await evalSmtlib(ctx, '(get-info :reason-unknown)');
      return { status, reason: reason.trim(), ms };
    }
    return { status, ms };
  } catch (e) {
    return { status: 'error', reason: String((e as Error).message ?? e), ms: performance.now() - start };
  } finally {
    Z3.del_context(ctx);
  }
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'close') {
    void killThreads(api.em)
      .catch(() => undefined)
      .finally(() => port.close());
    return;
  }
  void solve(msg.text, msg.variables, msg.rlimit).then((answer) =>
    port.postMessage({ type: 'answer', id: msg.id, answer } satisfies WorkerReply),
  );
});
port.postMessage({ type: 'ready', version: Z3.get_full_version() } satisfies WorkerReply);
