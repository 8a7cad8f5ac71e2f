// Checks the layer order of src/ (docs/layers.md): no file imports from a layer above its own; an
// application or the Normal World imports no kernel module but kernel/abi, and nothing from soc/; no
// application imports another; the Normal World takes only an application's protocol.ts; no import cycle.
//   node scripts/check-layers.mjs [ROOT] [--no-exceptions]
// Prints `file:line: <importer layer> may not import <imported layer> (<specifier>)` per violation,
// `cycle: a.ts -> b.ts -> a.ts` per import cycle, and exits 1 on any violation or cycle not in
// EXCEPTIONS / CYCLE_EXCEPTIONS, or on an exception that no longer occurs.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layers, lowest first; a file may import from its own rank or below. */
const RANKS = [
  ['common'],
  ['proof'],
  ['lib'],
  ['soc'],
  ['kernel/core'],
  ['kernel/spec'],
  ['kernel/abi', 'kernel/monitor'],
  ['kernel/runtime'],
  ['boot'],
  ['apps'],
  ['normal'],
  ['platform'],
  ['cli'],
];

/**
 * Violations allowed, each `{ file, imports, why }`: none since w2-structure's first step. A listed
 * violation that no longer occurs fails the check (remove it here).
 */
const EXCEPTIONS = [];

/** Import cycles still allowed, each as the sorted list of its files and why. None. */
const CYCLE_EXCEPTIONS = [];

/** The layer of a path under src/ (`apps/<name>`, `lib`, `kernel/<part>`, …), or undefined. */
export function layerOf(path) {
  const parts = path.split('/');
  if (parts[0] !== 'src' || parts.length < 3) return undefined;
  const top = parts[1];
  if (top === 'kernel') return parts.length > 3 ? `kernel/${parts[2]}` : undefined;
  if (top === 'apps' || top === 'normal') return parts.length > 3 ? `${top}/${parts[2]}` : undefined;
  return top;
}

function rankOf(layer) {
  const group = layer.startsWith('apps/') ? 'apps' : layer.startsWith('normal/') ? 'normal' : layer;
  const rank = RANKS.findIndex((names) => names.includes(group));
  return rank < 0 ? undefined : rank;
}

/** Why `from` may not import `to` (both paths under src/), or undefined when it may. */
function rule(from, to) {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === undefined || rankOf(a) === undefined) return 'unknown layer';
  if (b === undefined || rankOf(b) === undefined) return 'unknown layer';
  if (rankOf(b) > rankOf(a)) return 'above';
  const client = a.startsWith('apps/') || a.startsWith('normal/');
  if (client && b.startsWith('kernel/') && b !== 'kernel/abi') return 'kernel';
  if (client && b === 'soc') return 'soc';
  if (a.startsWith('apps/') && b.startsWith('apps/') && a !== b) return 'other app';
  if (a.startsWith('normal/') && b.startsWith('apps/') && !to.endsWith('/protocol.ts')) return 'app code';
  return undefined;
}

function walk(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

const SPECIFIER =
  /\bfrom\s*(['"])([^'"]+)\1|\bimport\s*\(\s*(['"])([^'"]+)\3\s*\)|^\s*import\s*(['"])([^'"]+)\5/gm;

/** Every relative import of one file: { line, specifier, target (root-relative, .ts) }. */
function importsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8');
  const found = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const specifier = m[2] ?? m[4] ?? m[6];
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    const head = text.slice(lineStart, m.index).trimStart();
    if (head.startsWith('*') || head.startsWith('//') || head.startsWith('/*')) continue;
    if (!specifier.startsWith('.')) continue;
    const line = text.slice(0, m.index).split('\n').length;
    const target = relative(root, resolve(root, dirname(file), specifier))
      .split(sep)
      .join('/')
      .replace(/\.js$/, '.ts');
    found.push({ line, specifier, target });
  }
  return found;
}

/** The strongly connected components (more than one file, or a file importing itself) of a graph. */
function cycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** One cycle through `component`, from its first file, as `a -> b -> a`. */
function cyclePath(graph, component) {
  const inside = new Set(component);
  const start = component[0];
  const path = [start];
  const seen = new Set([start]);
  const search = (v) => {
    for (const w of graph.get(v) ?? []) {
      if (w === start) return true;
      if (!inside.has(w) || seen.has(w)) continue;
      seen.add(w);
      path.push(w);
      if (search(w)) return true;
      path.pop();
    }
    return false;
  };
  search(start);
  return [...path, start].join(' -> ');
}

/** Checks the tree at `root`: { violations, stale } as printable lines. */
export function checkLayers(root, exceptions = EXCEPTIONS, cycleExceptions = CYCLE_EXCEPTIONS) {
  const files = existsSync(join(root, 'src'))
    ? walk(join(root, 'src'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => relative(root, f).split(sep).join('/'))
    : [];
  const used = new Set();
  const violations = [];
  const graph = new Map();
  for (const file of files) {
    const edges = [];
    graph.set(file, edges);
    for (const { line, specifier, target } of importsOf(root, file)) {
      if (!target.startsWith('src/')) continue;
      if (!edges.includes(target)) edges.push(target);
      const why = rule(file, target);
      if (why === undefined) continue;
      const listed = exceptions.findIndex((e) => e.file === file && e.imports === target);
      if (listed >= 0) {
        used.add(listed);
        continue;
      }
      const a = layerOf(file) ?? file;
      const b = layerOf(target) ?? target;
      const what = why === 'app code' ? `${b} (only its protocol.ts)` : b;
      violations.push(`${file}:${line}: ${a} may not import ${what} (${specifier})`);
    }
  }
  const usedCycles = new Set();
  for (const component of cycles(graph)) {
    const key = component.join(' ');
    const listed = cycleExceptions.findIndex((e) => e.files.join(' ') === key);
    if (listed >= 0) usedCycles.add(listed);
    else violations.push(`cycle: ${cyclePath(graph, component)}`);
  }
  const stale = exceptions
    .filter((_, i) => !used.has(i))
    .map(
      (e) =>
        `${e.file}: stale exception, no longer imports ${e.imports}: remove it from scripts/check-layers.mjs`,
    )
    .concat(
      cycleExceptions
        .filter((_, i) => !usedCycles.has(i))
        .map((e) => `stale cycle exception, no longer a cycle: ${e.files.join(' ')}: remove it`),
    );
  return { violations, stale };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const root = resolve(
    args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '..'),
  );
  const none = args.includes('--no-exceptions');
  const { violations, stale } = checkLayers(root, none ? [] : EXCEPTIONS, none ? [] : CYCLE_EXCEPTIONS);
  for (const line of [...violations, ...stale]) console.error(line);
  process.exit(violations.length + stale.length === 0 ? 0 : 1);
}
