/** Human-readable reports: one line per obligation, counterexamples as concrete values, the summary. */
import type { ObligationResult, ProofReport } from './prover.js';

const mark: Record<ObligationResult['status'], string> = {
  proven: '✓',
  failed: '✗',
  unknown: '?',
  timeout: '⧗',
  error: '!',
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** `✓ name   123 ms (cached)` */
export function formatResultLine(r: ObligationResult, width = 0): string {
  const status = r.status === 'proven' ? '' : ` ${r.status.toUpperCase()}`;
  const cached = r.cached ? ' (cached)' : '';
  return `${mark[r.status]} ${r.name.padEnd(width)} ${formatMs(r.solveMs).padStart(8)}${cached}${status}`;
}

/** Leaf paths of a plain JSON value: `owner[3]` → 2, `ret.status` → 0. */
function leaves(v: unknown, path: string, out: Map<string, unknown>): void {
  if (Array.isArray(v)) v.forEach((x, k) => leaves(x, `${path}[${k}]`, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  } else out.set(path, v);
}

/** A value on one line: arrays inline, records as `{ a: 1, b: [0, 2] }`. */
export function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const fields = Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`);
    return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
  }
  return String(v);
}

/** Which shown value a later one should be compared with, to print only what changed. */
const previousOf: Readonly<Record<string, string>> = {
  after: 'before',
  sAfter: 's',
  tAfter: 't',
  specAfter: 'specBefore',
  observedAfter: 'observedBefore',
};

function formatShown(
  key: string,
  v: unknown,
  shown: Readonly<Record<string, unknown>>,
  indent: string,
): string[] {
  const prevKey = previousOf[key];
  if (prevKey !== undefined && prevKey in shown && v !== null && typeof v === 'object') {
    const before = new Map<string, unknown>();
    const after = new Map<string, unknown>();
    leaves(shown[prevKey], '', before);
    leaves(v, '', after);
    const changes = [...after]
      .filter(([p, x]) => before.get(p) !== x)
      .map(([p, x]) => `${p}: ${formatValue(before.get(p))} → ${formatValue(x)}`);
    return [
      `${indent}${key} (changes from ${prevKey}):${changes.length === 0 ? ' none' : ''}`,
      ...changes.map((c) => `${indent}  ${c}`),
    ];
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v);
    if (entries.length > 1 && entries.some(([, x]) => x !== null && typeof x === 'object')) {
      return [`${indent}${key}:`, ...entries.map(([k, x]) => `${indent}  ${k}: ${formatValue(x)}`)];
    }
  }
  return [`${indent}${key}: ${formatValue(v)}`];
}

/** The details printed under a result that is not proven. */
export function formatDetails(r: ObligationResult, indent = '    '): string[] {
  const lines: string[] = [];
  if (r.reason) lines.push(`${indent}${r.reason}`);
  const c = r.counterexample;
  if (c) {
    if (c.violated.length > 0) lines.push(`${indent}violated: ${c.violated.join('; ')}`);
    for (const [k, v] of Object.entries(c.show)) lines.push(...formatShown(k, v, c.show, indent));
  }
  return lines;
}

export function formatSummary(report: ProofReport): string {
  const s = report.summary;
  const parts = [`${s.proven} proven`];
  for (const k of ['failed', 'unknown', 'timeout', 'error'] as const)
    if (s[k] > 0) parts.push(`${s[k]} ${k}`);
  const backends = report.backends.map((b) => b.version).join(' + ');
  return (
    `${s.total} obligation${s.total === 1 ? '' : 's'}: ${parts.join(', ')} · ${s.cached} cached · ` +
    `${formatMs(s.wallMs)} wall, ${formatMs(s.solveMs)} solving · ${backends}`
  );
}
