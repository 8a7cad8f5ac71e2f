import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { InputError } from '../../src/common/errors.js';
import { MAX_YAML_ALIASES, MAX_YAML_DEPTH, parseStructured } from '../../src/common/structured.js';

const anything = { file: 'x.yaml', schema: z.unknown(), code: 'T' };

function tooComplex(line: number | undefined, message: RegExp) {
  return (e: unknown) =>
    e instanceof InputError &&
    e.code === 'T_TOO_COMPLEX' &&
    e.location.file === 'x.yaml' &&
    e.location.line === line &&
    message.test(e.message);
}

/** `depth` nested block mappings: `a:\n  a:\n    a: 1`. */
function nested(depth: number): string {
  return Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}a:${i === depth - 1 ? ' 1' : ''}`).join(
    '\n',
  );
}

test('YAML nesting is bounded at MAX_YAML_DEPTH, located at the first node too deep', () => {
  assert.doesNotThrow(() => parseStructured(nested(MAX_YAML_DEPTH), anything));
  assert.throws(
    () => parseStructured(nested(MAX_YAML_DEPTH + 1), anything),
    tooComplex(MAX_YAML_DEPTH + 1, /nested deeper than 64 levels/),
  );
  // Deep enough to exhaust the parser's own stack: still a located, typed error.
  const flow = '['.repeat(200_000) + ']'.repeat(200_000);
  assert.throws(() => parseStructured(flow, anything), tooComplex(1, /nested deeper/));
});

test('YAML aliases are bounded: too many alias nodes, or an exponential expansion', () => {
  const many = `a: &a 1\nb: [${Array.from({ length: MAX_YAML_ALIASES + 1 }, () => '*a').join(', ')}]\n`;
  assert.throws(() => parseStructured(many, anything), tooComplex(2, /more than 100 aliases/));
  const few = `a: &a 1\nb: [${Array.from({ length: 50 }, () => '*a').join(', ')}]\n`;
  assert.equal((parseStructured(few, anything) as { b: number[] }).b.length, 50);
  // 9 levels of 9 aliases each: 81 alias nodes, 9^9 values once expanded.
  const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  assert.throws(() => parseStructured(lines.join('\n'), anything), tooComplex(2, /aliases expand too far/));
});
