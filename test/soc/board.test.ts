import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/common/errors.js';
import { boardNames, bringUp, loadBoardByName, loadBoardFile, parseBoard } from '../../src/soc/index.js';
import { fixturePath } from './helpers.js';

test('every board shipped in boards/ validates and brings up', () => {
  const names = boardNames();
  assert.deepEqual(names, ['iot-gateway', 'uconnect-headunit']);
  for (const name of names) {
    const { board, file } = loadBoardByName(name);
    assert.equal(file, `boards/${name}.yaml`);
    const m = bringUp(board);
    for (const chip of m.chips.values()) {
      assert.equal(chip.gic.isLocked, true);
      if (chip.trustzone) assert.equal(chip.tzasc?.isLocked && chip.tzpc?.isLocked, true);
    }
  }
});

test('every valid fixture board validates', () => {
  const dir = fixturePath();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) loadBoardFile(join(dir, f));
});

test('the head unit is the board the issue describes', () => {
  const { board } = loadBoardByName('uconnect-headunit');
  const [ap, ioc] = board.chips;
  assert.equal(ap?.trustzone, true);
  assert.equal(ioc?.trustzone, false);
  assert.ok(ioc?.devices.some((d) => d.kind === 'mpu'));
  const kinds = (c: typeof ap) => new Set(c?.devices.map((d) => d.kind));
  for (const k of ['cellular-modem', 'wifi-nic', 'gps', 'microphone', 'nor-flash', 'spi-controller'])
    assert.ok(kinds(ap).has(k as never), k);
  assert.ok(!kinds(ap).has('can-controller'), 'the application processor has no CAN controller');
  assert.ok(kinds(ioc).has('can-controller'), 'the microcontroller is the link to the CAN bus');
  assert.deepEqual(board.nodes.map((n) => n.kind).sort(), ['brake-ecu', 'engine-ecu', 'steering-ecu']);
});

interface Expectation {
  line: number;
  field: string | undefined;
  message: string;
}

function expectationOf(text: string, file: string): Expectation {
  const get = (key: string) => {
    const m = new RegExp(`^# ${key}: (.*)$`, 'm').exec(text);
    assert.ok(m?.[1], `${file} lacks '# ${key}:'`);
    return m[1];
  };
  const field = get('expect-field');
  return {
    line: Number(get('expect-line')),
    field: field === '-' ? undefined : field,
    message: get('expect-message'),
  };
}

test('every broken board fails with the expected file, line, field and message', () => {
  const dir = fixturePath('broken');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const required of [
    'overlapping-regions',
    'unknown-device-kind',
    'interrupt-used-twice',
    'missing-size',
    'unknown-link',
  ])
    assert.ok(files.includes(`${required}.yaml`), `the corpus keeps ${required}`);
  assert.ok(files.length >= 20);
  for (const f of files) {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    const want = expectationOf(text, f);
    const display = `broken/${f}`;
    assert.throws(
      () => parseBoard(text, display),
      (e: unknown) => {
        assert.ok(e instanceof InputError, `${f}: ${String(e)}`);
        assert.match(e.code, /^BOARD_(INVALID|SYNTAX)$/);
        assert.equal(e.location.file, display);
        assert.equal(e.location.line, want.line, `${f}: line`);
        assert.equal(e.location.field, want.field, `${f}: field`);
        assert.ok(e.detail.includes(want.message), `${f}: '${e.detail}' should say '${want.message}'`);
        const where = `${display}:${want.line}:`;
        assert.ok(e.message.startsWith(where), `${f}: message '${e.message}' starts with ${where}`);
        if (want.field) assert.ok(e.message.includes(`field ${want.field}`), `${f}: message names the field`);
        return true;
      },
    );
  }
});

test('boards by name: unknown names and unreadable files are input errors', () => {
  assert.throws(
    () => loadBoardByName('no-such-board'),
    (e: unknown) => e instanceof InputError && e.code === 'BOARD_NOT_FOUND' && /iot-gateway/.test(e.message),
  );
  assert.throws(
    () => loadBoardByName('../boards/iot-gateway'),
    (e: unknown) => e instanceof InputError && e.code === 'BOARD_NOT_FOUND',
  );
  assert.throws(
    () => loadBoardFile('/no/such/file.yaml'),
    (e: unknown) => e instanceof InputError && e.code === 'BOARD_UNREADABLE',
  );
});

test('property: any corruption of a board file is accepted or rejected with an InputError, nothing else', () => {
  const text = readFileSync(fixturePath('every-device.yaml'), 'utf8');
  const edit = fc.record({
    at: fc.nat({ max: text.length - 1 }),
    cut: fc.nat({ max: 8 }),
    insert: fc.oneof(
      fc.constantFrom('', ':', '{', '}', '- ', '\n', ' ', '0x', '-1', 'kind: gic', '&a', '*a', '"', 'null'),
      fc.string({ maxLength: 6 }),
    ),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      let t = text;
      for (const e of edits)
        t = t.slice(0, e.at % (t.length + 1)) + e.insert + t.slice((e.at % (t.length + 1)) + e.cut);
      try {
        const board = parseBoard(t, 'fuzz.yaml');
        bringUp(board); // whatever validates must also build
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        assert.match(e.message, /^fuzz\.yaml/);
      }
    }),
    { seed: 31337, numRuns: 300 },
  );
});
