/**
 * A minimal bundler for the SES test: turns the compiled ES modules reachable from an entry (relative
 * imports only, the forms tsc emits for this code) into one script that a `Compartment` can evaluate.
 * Each module becomes a factory; exports are getters, so declaration order and cycles do not matter.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'([^']+)';/gm;
const REEXPORT = /^export\s*\{([^}]*)\}\s*from\s*'([^']+)';/gm;
const DECLARATION = /^export\s+(?:async\s+)?(function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/gm;

export function bundle(entry: string, root: string, epilogue: string): string {
  const order: string[] = [];
  const seen = new Set<string>();
  const factories: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    const id = (spec: string) => {
      if (!spec.startsWith('.')) throw new Error(`${file}: non-relative import '${spec}'`);
      const target = resolve(dirname(file), spec);
      visit(target);
      return JSON.stringify(relative(root, target));
    };
    const names = (list: string) =>
      list
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((s) => {
          const [from, to] = s.split(/\s+as\s+/);
          return { from: (from ?? '').trim(), to: (to ?? from ?? '').trim() };
        });
    const exported: string[] = [];
    let body = source.replace(IMPORT, (_, list: string, spec: string) => {
      const bindings = names(list).map((n) => (n.from === n.to ? n.from : `${n.from}: ${n.to}`));
      return `const { ${bindings.join(', ')} } = __require(${id(spec)});`;
    });
    let reexports = 0;
    body = body.replace(REEXPORT, (_, list: string, spec: string) => {
      const tmp = `__re${reexports++}`;
      for (const n of names(list)) exported.push(`${n.to}: () => ${tmp}.${n.from}`);
      return `const ${tmp} = __require(${id(spec)});`;
    });
    body = body.replace(DECLARATION, (_, kind: string, name: string) => {
      exported.push(`${name}: () => ${name}`);
      return `${kind} ${name}`;
    });
    if (/^\s*(import|export)\b/m.test(body))
      throw new Error(`${file}: module syntax the bundler does not handle`);
    order.push(file);
    factories.push(
      `__define(${JSON.stringify(relative(root, file))}, (__exports) => {\n` +
        `__getters(__exports, { ${exported.join(', ')} });\n${body}\n});`,
    );
  };
  visit(entry);
  return [
    '(() => {',
    'const __factories = new Map(); const __cache = new Map();',
    'const __define = (id, f) => __factories.set(id, f);',
    'const __getters = (o, g) => { for (const k of Object.keys(g)) Object.defineProperty(o, k, { get: g[k], enumerable: true }); };',
    'const __require = (id) => { let e = __cache.get(id); if (e) return e; e = {}; __cache.set(id, e); __factories.get(id)(e); return e; };',
    ...factories,
    `const __entry = __require(${JSON.stringify(relative(root, entry))});`,
    epilogue,
    '})()',
  ].join('\n');
}
