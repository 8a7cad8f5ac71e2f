import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionHost } from '../../src/kernel/runtime/partition-host.js';

const START = 1;
const EXIT = 2;
const REPORT = 3;

/** Serves one partition until it exits or overruns its budget; REPORT calls collect text payloads. */
async function serve(code: string, budgetMs = 2000, memoryQuotaMb = 32) {
  const host = new PartitionHost({
    name: 't',
    code,
    memoryQuotaMb,
    startCall: START,
    exitCall: EXIT,
    logCall: REPORT,
  });
  const reports: string[] = [];
  // Booting the isolate (SES lockdown) is not charged to the partition: it ends with the start call.
  let budget = 10_000;
  let lastReply = performance.now();
  for (;;) {
    const event = await host.next(budget);
    if (event === 'overrun') await host.stop({ kind: 'killed', reason: 'cpu budget' });
    if (event !== 'request') break;
    const req = host.channel.takeRequest();
    if (req.call === EXIT) {
      await host.stop({ kind: 'exited', status: req.args[0] ?? 0 });
      break;
    }
    if (req.call === REPORT) reports.push(Buffer.from(req.payload).toString('utf8'));
    budget = budgetMs;
    host.channel.reply([0]);
    lastReply = performance.now();
  }
  return { reports, exit: host.exit, sinceLastReply: performance.now() - lastReply };
}

const reportFn = `const report = (s) => sys.callWithPayload(${REPORT}, new TextEncoder().encode(String(s)));`;

test('partition code reaches none of the ambient authorities', async () => {
  const probes = [
    'typeof process',
    'typeof require',
    'typeof module',
    'typeof setTimeout',
    'typeof setImmediate',
    'typeof queueMicrotask === "function" ? "fn" : "none"',
    'typeof parentPort',
    'typeof globalThis.workerData',
    'typeof SharedArrayBuffer',
    'typeof Atomics',
    'typeof WebAssembly',
    'typeof fetch',
    'typeof Buffer',
    'typeof Date.now === "function" ? (() => { try { return Date.now() } catch { return "throws" } })() : "none"',
  ];
  const code = `
    ${reportFn}
    for (const p of ${JSON.stringify(probes)}) report(p + '\\u0000' + (0, eval)(p));
  `;
  const { reports, exit } = await serve(code);
  assert.deepEqual(exit, { kind: 'exited', status: 0 });
  const seen = Object.fromEntries(reports.map((r) => r.split('\u0000') as [string, string]));
  for (const p of probes.slice(0, 5)) assert.equal(seen[p], 'undefined', p);
  for (const p of [
    'typeof parentPort',
    'typeof globalThis.workerData',
    'typeof SharedArrayBuffer',
    'typeof Atomics',
    'typeof WebAssembly',
    'typeof fetch',
    'typeof Buffer',
  ]) {
    assert.equal(seen[p], 'undefined', p);
  }
  assert.equal(seen[probes[13]!], 'throws', 'Date.now is tamed');
});

test('escapes through constructors, import and prototypes throw', async () => {
  const attempts = {
    functionConstructor: `(function(){}).constructor('return process')()`,
    sysConstructor: `sys.call.constructor('return globalThis.process')()`,
    asyncConstructor: `(async function(){}).constructor('return process')`,
    arrowThis: `(() => this)() === undefined ? 'no global' : typeof (() => this)().process`,
    dynamicImport: `(0, eval)("imp" + "ort('node:fs')")`,
    prototypePollution: `Object.prototype.polluted = 1`,
    arrayPollution: `Array.prototype.push = () => 0`,
    freezeCheck: `Object.isFrozen(Object.prototype)`,
  };
  const code = `
    ${reportFn}
    for (const [name, src] of Object.entries(${JSON.stringify(attempts)})) {
      let outcome;
      try { const v = (0, eval)(src); outcome = 'value:' + (typeof v === 'string' ? v : typeof v); }
      catch (e) { outcome = 'threw'; }
      report(name + '=' + outcome);
    }
  `;
  const { reports, exit } = await serve(code);
  assert.deepEqual(exit, { kind: 'exited', status: 0 });
  const seen = Object.fromEntries(reports.map((r) => r.split('=') as [string, string]));
  assert.equal(seen.functionConstructor, 'threw');
  assert.equal(seen.sysConstructor, 'threw');
  assert.equal(seen.asyncConstructor, 'threw');
  assert.notEqual(seen.arrowThis, 'value:object');
  assert.equal(seen.dynamicImport, 'threw');
  assert.equal(seen.prototypePollution, 'threw');
  assert.equal(seen.arrayPollution, 'threw');
  assert.equal(seen.freezeCheck, 'value:boolean');
});

test('a static import in partition code is rejected and the partition exits with status 1', async () => {
  const { exit } = await serve(`import fs from 'node:fs'; sys.call(${REPORT});`);
  assert.deepEqual(exit, { kind: 'exited', status: 1 });
});

test('an infinite loop is stopped within twice its budget', async () => {
  const budgetMs = 200;
  const { exit, sinceLastReply } = await serve(`sys.call(${REPORT}); for (;;) {}`, budgetMs);
  assert.deepEqual(exit, { kind: 'killed', reason: 'cpu budget' });
  assert.ok(sinceLastReply < 2 * budgetMs, `stopped after ${sinceLastReply} ms`);
});

test('a memory bomb hits the isolate quota and leaves the host alive', async () => {
  const budgetMs = 5000;
  const { exit, sinceLastReply } = await serve(
    `sys.call(${REPORT}); const hog = []; for (;;) hog.push(new Array(1e5).fill(hog.length));`,
    budgetMs,
    16,
  );
  assert.deepEqual(exit, { kind: 'killed', reason: 'memory quota' });
  assert.ok(sinceLastReply < budgetMs, `noticed after ${sinceLastReply} ms`);
});
