/**
 * CLI fuzz suite: every command of the table, on truncated, huge (sparse), non-regular and adversarial
 * inputs, exits 2 with exactly one line on stderr naming the file, no stack trace, within a timeout.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../src/cli/commands/index.js';
import { INPUT_LIMITS, type InputKind } from '../../src/common/input-file.js';
import { packagePath } from '../../src/common/paths.js';
import { generateSigningKey, keyHash, privateKeyPem, publicKeyPem, toHex } from '../../src/boot/keys.js';
import { signImage } from '../../src/boot/sign.js';
import { writePcap } from '../../src/lib/net/pcap.js';
import { cliPath } from '../helpers/cli.js';

const TIMEOUT_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'rampart-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
/** A fresh file in the scratch folder holding `content`. */
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, `${serial++}-${name}`);
  writeFileSync(path, content);
  return path;
}

/** A sparse file one byte over the limit: no disk is used. */
function huge(kind: InputKind): string {
  const path = file(`huge-${kind}`, '');
  truncateSync(path, INPUT_LIMITS[kind] + 1);
  return path;
}

/** Deterministic binary garbage (xorshift32), NULs and newlines included. */
function garbage(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const subdir = join(dir, 'a-directory');
mkdirSync(subdir);
const notAFolder = file('plain-file', 'x');
const zeroLink = join(dir, 'zero-link');
symlinkSync('/dev/zero', zeroLink);

// Valid inputs, to cut short and to fill the slots not under test.
const key = generateSigningKey('ed25519');
const keyFile = file('key.pem', privateKeyPem(key));
const pubFile = file('pub.pem', publicKeyPem(key));
const rotpk = toHex(keyHash(key));
const rules = file(
  'rules.v4',
  '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
);
const pcap = file('in.pcap', writePcap([{ timeNs: 1n, frame: new Uint8Array(60) }]));
const image = file(
  'nw.img',
  signImage(
    {
      kind: 'normal-world',
      version: { major: 1, minor: 0, revision: 0, build: 0 },
      securityCounter: 1,
      components: [{ kind: 'nw-code', name: 'rich-os', bytes: new Uint8Array(64) }],
    },
    key,
  ),
);
const component = file('component.bin', new Uint8Array(16));
const recipeText = (componentPath: string) =>
  [
    'board: fuzz-board',
    `key: ${keyFile}`,
    'images:',
    ...['secure-bundle', 'normal-world'].flatMap((k) => [
      `  ${k}:`,
      '    version: 1.0.0',
      '    securityCounter: 1',
      '    components:',
      `      - { kind: ${k === 'secure-bundle' ? 'kernel-config' : 'nw-code'}, name: c, path: '${componentPath}' }`,
    ]),
    '',
  ].join('\n');
const recipe = file('recipe.yaml', recipeText(component));
const regression = file(
  'regression.json',
  JSON.stringify({
    format: 'rampart-proof-regression/1',
    target: 'examples',
    obligation: 'examples/fifo/invariant/push',
    violated: [],
    inputs: { before: { buf: [0, 0, 0, 0, 0, 0, 0, 0], head: 0, count: 8 }, args: { item: 1 } },
  }),
);

// Adversarial texts.
const deepYaml = Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}a:`).join('\n') + ' 1\n';
const deepFlow = '['.repeat(100_000) + ']'.repeat(100_000);
const aliasBomb = [
  'l0: &l0 [x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`),
].join('\n');
const chainNames = Array.from({ length: 20_000 }, (_, i) => `c${i}`);
const jumpLoop =
  '*filter\n:INPUT ACCEPT [0:0]\n' +
  chainNames.map((c) => `:${c} - [0:0]\n`).join('') +
  chainNames.map((c, i) => `-A ${c} -j ${chainNames[(i + 1) % chainNames.length]}\n`).join('') +
  'COMMIT\n';

/** One file-reading slot of a command: its arguments around the file under test. */
interface Slot {
  readonly command: string;
  readonly args: (input: string) => string[];
  readonly kind: InputKind;
  /** A valid input to cut short; absent when any prefix is valid (a component is any bytes). */
  readonly valid?: string;
  /** Garbage is refused (not so for a component). */
  readonly garbage: boolean;
  readonly adversarial?: readonly [string, string | Uint8Array][];
}

const yamlAttacks: readonly [string, string][] = [
  ['deep.yaml', deepYaml],
  ['deep-flow.yaml', deepFlow],
  ['alias-bomb.yaml', aliasBomb],
];

const slots: Slot[] = [
  {
    command: 'fw check',
    args: (f) => ['fw', 'check', f],
    kind: 'ruleset',
    valid: rules,
    garbage: true,
    adversarial: [
      ['loop.v4', jumpLoop],
      ['long-line.v4', `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ${'A'.repeat(1 << 20)}\nCOMMIT\n`],
      ['counters.v4', '*filter\n:INPUT ACCEPT [18446744073709551616:0]\nCOMMIT\n'],
    ],
  },
  {
    command: 'fw replay',
    args: (f) => ['fw', 'replay', '--rules', f, '--pcap', pcap, '--host', '10.0.0.1'],
    kind: 'ruleset',
    valid: rules,
    garbage: true,
  },
  {
    command: 'fw replay',
    args: (f) => ['fw', 'replay', '--rules', rules, '--pcap', f, '--host', '10.0.0.1'],
    kind: 'capture',
    valid: pcap,
    garbage: true,
    adversarial: [
      [
        'snaplen0.pcap',
        (() => {
          const b = readFileSync(pcap);
          b.writeUInt32LE(0, 16);
          return b;
        })(),
      ],
      [
        'caplen.pcap',
        (() => {
          const b = readFileSync(pcap);
          b.writeUInt32LE(0xffffffff, 24 + 8);
          return b;
        })(),
      ],
    ],
  },
  {
    command: 'boot',
    args: (f) => ['boot', '--board-file', f],
    kind: 'board',
    valid: packagePath('boards', 'iot-gateway.yaml'),
    garbage: true,
    adversarial: yamlAttacks,
  },
  {
    command: 'image build',
    args: (f) => ['image', 'build', '--recipe', f, '--out', join(dir, 'out')],
    kind: 'recipe',
    valid: recipe,
    garbage: true,
    adversarial: yamlAttacks,
  },
  {
    // A recipe naming the input under test as a component.
    command: 'image build',
    args: (f) => [
      'image',
      'build',
      '--recipe',
      file('recipe.yaml', recipeText(f)),
      '--out',
      join(dir, 'out'),
    ],
    kind: 'component',
    garbage: false,
  },
  {
    command: 'image inspect',
    args: (f) => ['image', 'inspect', f],
    kind: 'image',
    valid: image,
    garbage: true,
  },
  {
    command: 'image verify',
    args: (f) => ['image', 'verify', f, '--rotpk-hash', rotpk],
    kind: 'image',
    valid: image,
    garbage: true,
  },
  {
    command: 'image verify',
    args: (f) => ['image', 'verify', image, '--key', f],
    kind: 'key',
    valid: pubFile,
    garbage: true,
  },
  {
    command: 'image sign',
    args: (f) => signArgs(f, component),
    kind: 'key',
    valid: keyFile,
    garbage: true,
  },
  {
    command: 'image sign',
    args: (f) => signArgs(keyFile, f),
    kind: 'component',
    garbage: false,
  },
  {
    command: 'prove',
    args: (f) => ['prove', '--replay', f],
    kind: 'regression',
    valid: regression,
    garbage: true,
    adversarial: [
      ['deep.json', deepFlow],
      ['number.json', '1e999999'],
    ],
  },
];

function signArgs(keyPath: string, componentPath: string): string[] {
  return [
    'image',
    'sign',
    '--key',
    keyPath,
    '--kind',
    'normal-world',
    '--version',
    '1.0.0',
    '--security-counter',
    '1',
    '--component',
    `nw-code:c=${componentPath}`,
    '--out',
    join(dir, 'signed.img'),
  ];
}

/** Slots where a folder is expected: a plain file (or a path through one) there is NOT_A_DIRECTORY. */
const folderSlots: { command: string; args: (f: string) => string[] }[] = [
  { command: 'image build', args: (f) => ['image', 'build', '--recipe', recipe, '--out', f] },
  { command: 'image build-defaults', args: (f) => ['image', 'build-defaults', '--out', f] },
  { command: 'demo entry-point', args: (f) => ['demo', 'entry-point', '--out', f] },
  { command: 'boot', args: (f) => ['boot', '--images', f] },
  { command: 'prove', args: (f) => ['prove', '--write-regression', f] },
  { command: 'prove', args: (f) => ['prove', '--cache-dir', f] },
];

/** Slots where a file is written: a directory there is refused, named. */
const outputSlots: { command: string; args: (f: string) => string[] }[] = [
  { command: 'image sign', args: (f) => [...signArgs(keyFile, component).slice(0, -1), f] },
  {
    command: 'fw replay',
    args: (f) => ['fw', 'replay', '--rules', rules, '--pcap', pcap, '--host', '10.0.0.1', '--out', f],
  },
];

/** Commands that read no file: their option values are the input surface. */
const optionSlots: { command: string; args: string[]; names: string }[] = [
  { command: 'boards', args: ['boards', '--bogus'], names: '--bogus' },
  { command: 'demo hello', args: ['demo', 'hello', '--seed', '1e999'], names: '--seed' },
  { command: 'demo hello', args: ['demo', 'hello', '--seed', 'x'.repeat(100_000)], names: '--seed' },
  { command: 'kernel calls', args: ['kernel', 'calls', '--json=\n'], names: '--json' },
  // pub.key.pem is a directory: refused, named.
  {
    command: 'image keygen',
    args: ['image', 'keygen', '--out', join(dir, 'pub')],
    names: join(dir, 'pub.key.pem'),
  },
  {
    command: 'image keygen',
    args: ['image', 'keygen', '--out', join(dir, 'k'), '--algorithm', 'rsa'],
    names: '--algorithm',
  },
  { command: 'boot', args: ['boot', '--seed', '-1'], names: '--seed' },
  { command: 'prove', args: ['prove', '--jobs', '0x'], names: '--jobs' },
  { command: 'prove', args: ['prove', '--jobs', '100000'], names: '--jobs' },
  { command: 'prove', args: ['prove', '--timeout', '3000000'], names: '--timeout' },
  { command: 'prove', args: ['prove', '--rlimit', '4294967296'], names: '--rlimit' },
  {
    command: 'image build-defaults',
    args: ['image', 'build-defaults', '--recipes', notAFolder],
    names: notAFolder,
  },
];

/** Runs the built CLI; asserts exit 2, one stderr line naming `names`, no stack trace, no hang. */
function refuses(args: string[], names: string, what: string): string {
  const started = Date.now();
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const label = `${what}: rampart ${args.join(' ').slice(0, 200)}`;
  assert.equal(r.error, undefined, `${label}: ${String(r.error)} after ${Date.now() - started} ms`);
  assert.equal(r.signal, null, `${label}: killed by ${r.signal}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(r.status, 2, `${label}: exit ${r.status}\n${r.stderr.slice(0, 2000)}`);
  assert.equal(lines.length, 1, `${label}: stderr is not one line:\n${r.stderr.slice(0, 2000)}`);
  assert.doesNotMatch(r.stderr, /^ {4}at /m, `${label}: stack trace`);
  assert.doesNotMatch(r.stderr, /internal error/, label);
  assert.ok(lines[0]!.includes(names), `${label}: stderr does not name ${names}: ${lines[0]!.slice(0, 500)}`);
  assert.match(lines[0]!, /\[[A-Z0-9_]+\]$/, `${label}: no error code`);
  return lines[0]!;
}

test('the suite covers every command of the table', () => {
  const covered = new Set([
    ...slots.map((s) => s.command),
    ...folderSlots.map((s) => s.command),
    ...outputSlots.map((s) => s.command),
    ...optionSlots.map((s) => s.command),
  ]);
  for (const c of commands)
    assert.ok(covered.has(c.name.join(' ')), `rampart ${c.name.join(' ')} is not fuzzed`);
});

for (const [i, slot] of slots.entries()) {
  test(`${slot.command} (${slot.kind} slot ${i}): truncated, huge, non-regular, missing and adversarial files`, () => {
    const cases: [string, string][] = [
      ['huge', huge(slot.kind)],
      ['/dev/zero', '/dev/zero'],
      ['a directory', subdir],
      ['a FIFO', fifo],
      ['a symlink to /dev/zero', zeroLink],
      ['missing', join(dir, 'no-such-file')],
    ];
    if (slot.valid !== undefined) {
      const bytes = readFileSync(slot.valid);
      cases.push(['truncated', file('truncated', bytes.subarray(0, Math.floor(bytes.length / 2)))]);
      cases.push(['empty', file('empty', '')]);
    }
    if (slot.garbage) cases.push(['garbage', file('garbage', garbage(4096, i + 1))]);
    for (const [name, content] of slot.adversarial ?? []) cases.push([name, file(name, content)]);
    for (const [what, path] of cases) refuses(slot.args(path), path, what);
  });
}

test('a file where a folder is expected is NOT_A_DIRECTORY, before any work', () => {
  for (const slot of folderSlots) {
    for (const path of [notAFolder, join(notAFolder, 'sub')]) {
      const line = refuses(slot.args(path), path, `${slot.command} folder`);
      assert.match(line, /\[NOT_A_DIRECTORY\]$/);
    }
  }
});

test('an output file that is a directory is refused, named', () => {
  for (const slot of outputSlots) refuses(slot.args(subdir), subdir, `${slot.command} output`);
});

test('commands without input files refuse bad option values on one line', () => {
  mkdirSync(join(dir, 'pub.key.pem'), { recursive: true });
  for (const slot of optionSlots) refuses(slot.args, slot.names, slot.command);
});
