/** `rampart image …` end to end, through the compiled binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { DEVELOPMENT_KEYS } from '../../src/boot/defaults.js';
import { keyHash, loadPrivateKey, loadPublicKey, toHex } from '../../src/boot/keys.js';
import { packagePath } from '../../src/common/paths.js';
import { verifyImage } from '../../src/boot/verify.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-image-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function write(name: string, text: string): string {
  writeFileSync(at(name), text);
  return at(name);
}

const kernel = write('kernel.json', '{"partitions":3}');
const taManifest = write('hello.json', '{"uuid":"8aaaf200-2450-11e4-abe2-0002a5d5c51b"}');
const taCode = write('hello.js', 'export function invoke(x) { return x; }');
const nwCode = write('os.js', 'export const os = 1;');

function signBundle(key: string, out: string, counter = 2): ReturnType<typeof runCli> {
  return runCli([
    'image',
    'sign',
    '--key',
    key,
    '--kind',
    'secure-bundle',
    '--version',
    '1.4.2+9',
    '--security-counter',
    String(counter),
    '--component',
    `kernel-config:kernel=${kernel}`,
    '--component',
    `ta-manifest:hello=${taManifest}`,
    '--component',
    `ta-code:hello=${taCode}`,
    '--out',
    out,
  ]);
}

for (const algorithm of ['ed25519', 'ecdsa-p256'] as const) {
  test(`round trip with ${algorithm}: keygen → sign → verify → inspect`, () => {
    const prefix = at(`root-${algorithm}`);
    const gen = runCli(['image', 'keygen', '--out', prefix, '--algorithm', algorithm, '--json']);
    assert.equal(gen.status, 0, gen.stderr);
    const keys = JSON.parse(gen.stdout) as { keyHash: string; algorithm: string; privateKey: string };
    assert.equal(keys.algorithm, algorithm);
    assert.equal(statSync(`${prefix}.key.pem`).mode & 0o777, 0o600);
    const pub = loadPublicKey(readFileSync(`${prefix}.pub.pem`, 'utf8'), 'pub');
    assert.equal(toHex(keyHash(pub.key)), keys.keyHash);
    // keygen refuses to overwrite.
    assert.equal(runCli(['image', 'keygen', '--out', prefix]).status, 2);

    const image = at(`bundle-${algorithm}.img`);
    const signed = signBundle(`${prefix}.key.pem`, image);
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(signed.stderr, '', 'no development-key warning for an own key');

    const byHash = runCli([
      'image',
      'verify',
      image,
      '--rotpk-hash',
      keys.keyHash,
      '--kind',
      'secure-bundle',
      '--json',
    ]);
    assert.equal(byHash.status, 0, byHash.stderr);
    const v = JSON.parse(byHash.stdout) as {
      ok: boolean;
      image: { version: string; securityCounter: number };
      signer: { algorithm: string };
    };
    assert.deepEqual(
      [v.ok, v.image.version, v.image.securityCounter, v.signer.algorithm],
      [true, '1.4.2+9', 2, algorithm],
    );
    const byKey = runCli(['image', 'verify', image, '--key', `${prefix}.pub.pem`]);
    assert.equal(byKey.status, 0);
    assert.match(byKey.stdout, /^OK /);

    const inspected = runCli(['image', 'inspect', image, '--json']);
    assert.equal(inspected.status, 0, inspected.stderr);
    const d = JSON.parse(inspected.stdout) as {
      kind: string;
      components: { name: string; kind: string; hashMatches: boolean }[];
      tlvs: { name: string }[];
      digest: { matches: boolean };
      signer: { keyHash: string };
    };
    assert.equal(d.kind, 'secure-bundle');
    assert.deepEqual(
      d.components.map((c) => [c.kind, c.name, c.hashMatches]),
      [
        ['kernel-config', 'kernel', true],
        ['ta-manifest', 'hello', true],
        ['ta-code', 'hello', true],
      ],
    );
    assert.deepEqual(
      d.tlvs.map((t) => t.name),
      ['SHA256', 'PUBKEY', algorithm === 'ed25519' ? 'ED25519' : 'ECDSA_P256'],
    );
    assert.equal(d.digest.matches, true);
    assert.equal(d.signer.keyHash, keys.keyHash);
    assert.match(runCli(['image', 'inspect', image]).stdout, /ta-code\s+hello/);
  });
}

test('refusals: tampered or untrusted → exit 1; truncated or trailing bytes → exit 2; each with its reason', () => {
  const prefix = at('refusals');
  assert.equal(runCli(['image', 'keygen', '--out', prefix]).status, 0);
  const other = at('other');
  assert.equal(runCli(['image', 'keygen', '--out', other]).status, 0);
  const image = at('refusals.img');
  assert.equal(signBundle(`${prefix}.key.pem`, image, 3).status, 0);
  const bytes = readFileSync(image);
  const verify = (file: string, ...extra: string[]) =>
    runCli(['image', 'verify', file, '--key', `${prefix}.pub.pem`, '--json', ...extra]);
  const fault = (r: ReturnType<typeof runCli>) =>
    (JSON.parse(r.stdout) as { fault: { code: string; class: string; offset: number } }).fault;

  const tampered = Buffer.from(bytes);
  tampered[tampered.length - 200] = tampered[tampered.length - 200]! ^ 0x01; // inside the payload or TLVs, never the header
  writeFileSync(at('tampered.img'), tampered);
  const t = verify(at('tampered.img'));
  assert.equal(t.status, 1);
  assert.equal(fault(t).class, 'rejected');

  const componentTampered = Buffer.from(bytes);
  const firstComponent = 32 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  componentTampered[firstComponent] = componentTampered[firstComponent]! ^ 0x20;
  writeFileSync(at('component.img'), componentTampered);
  const c = verify(at('component.img'));
  assert.deepEqual([c.status, fault(c).code, fault(c).offset], [1, 'COMPONENT_TAMPERED', firstComponent]);

  const manifest = Buffer.from(bytes);
  manifest[40] = 9;
  writeFileSync(at('manifest.img'), manifest);
  assert.deepEqual(
    [verify(at('manifest.img')).status, fault(verify(at('manifest.img'))).code],
    [1, 'DIGEST_MISMATCH'],
  );

  const untrusted = runCli(['image', 'verify', image, '--key', `${other}.pub.pem`]);
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /KEY_NOT_TRUSTED/);

  const rolledBack = verify(image, '--min-security-counter', '4');
  assert.deepEqual([rolledBack.status, fault(rolledBack).code], [1, 'ROLLED_BACK']);
  const wrongKind = verify(image, '--kind', 'normal-world');
  assert.deepEqual([wrongKind.status, fault(wrongKind).code], [1, 'WRONG_IMAGE_KIND']);

  writeFileSync(at('truncated.img'), bytes.subarray(0, bytes.length - 10));
  const tr = verify(at('truncated.img'));
  assert.deepEqual([tr.status, fault(tr).code, fault(tr).class], [2, 'TRUNCATED', 'malformed']);
  const plain = runCli(['image', 'verify', at('truncated.img'), '--key', `${prefix}.pub.pem`]);
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /truncated\.img, field tlv, offset \d+: .*\[TRUNCATED\]/);

  writeFileSync(at('trailing.img'), Buffer.concat([bytes, Buffer.from([0])]));
  const tg = verify(at('trailing.img'));
  assert.deepEqual([tg.status, fault(tg).code, fault(tg).offset], [2, 'TRAILING_DATA', bytes.length]);

  const ins = runCli(['image', 'inspect', at('truncated.img')]);
  assert.equal(ins.status, 2);
  assert.match(ins.stderr, /TRUNCATED/);
  // Inspect shows a tampered component without refusing.
  const shown = JSON.parse(runCli(['image', 'inspect', at('component.img'), '--json']).stdout) as {
    components: { hashMatches: boolean }[];
  };
  assert.deepEqual(
    shown.components.map((x) => x.hashMatches),
    [false, true, true],
  );
});

test('bad arguments exit 2 and say which', () => {
  const cases: [string[], RegExp][] = [
    [['image', 'verify'], /exactly one image FILE/],
    [['image', 'verify', kernel], /exactly one of --rotpk-hash/],
    [['image', 'verify', kernel, '--rotpk-hash', 'abc'], /64 hex digits/],
    [['image', 'verify', at('missing.img'), '--rotpk-hash', '0'.repeat(64)], /missing\.img/],
    [['image', 'keygen', '--out', at('x'), '--algorithm', 'rsa'], /ed25519, ecdsa-p256/],
    [['image', 'sign', '--key', kernel], /--kind is required/],
    [
      [
        'image',
        'sign',
        '--key',
        kernel,
        '--kind',
        'secure-bundle',
        '--version',
        '1',
        '--security-counter',
        '1',
        '--out',
        at('y'),
      ],
      /MAJOR\.MINOR\.REVISION/,
    ],
    [
      [
        'image',
        'sign',
        '--key',
        kernel,
        '--kind',
        'normal-world',
        '--version',
        '1.0.0',
        '--security-counter',
        '1',
        '--component',
        `nw-code:os=${nwCode}`,
        '--out',
        at('y'),
      ],
      /kernel\.json.*not a PEM private key/,
    ],
    [
      [
        'image',
        'sign',
        '--key',
        kernel,
        '--kind',
        'normal-world',
        '--version',
        '1.0.0',
        '--security-counter',
        '1',
        '--out',
        at('y'),
        '--component',
        'bogus',
      ],
      /KIND:NAME=PATH/,
    ],
    [['image', 'verify', kernel, '--rotpk-hash', '0'.repeat(64), '--bogus'], /bogus/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  // A well-formed non-image file.
  const r = runCli(['image', 'verify', kernel, '--rotpk-hash', '1'.repeat(64), '--json']);
  assert.equal(r.status, 2);
  assert.equal((JSON.parse(r.stdout) as { fault: { code: string } }).fault.code, 'TRUNCATED');
});

test('the development keys are what keys/dev/README.md and defaults.ts say, and images signed with them are flagged', () => {
  const readme = readFileSync(packagePath('keys/dev/README.md'), 'utf8');
  assert.match(readme, /NEVER USE IN PRODUCTION/);
  for (const k of DEVELOPMENT_KEYS) {
    assert.match(k.privateKey, /DEVELOPMENT-ONLY/);
    const priv = loadPrivateKey(readFileSync(packagePath(k.privateKey), 'utf8'), k.privateKey);
    const pub = loadPublicKey(readFileSync(packagePath(k.publicKey), 'utf8'), k.publicKey);
    assert.equal(priv.algorithm, k.algorithm);
    assert.equal(toHex(keyHash(priv.key)), k.keyHash);
    assert.equal(toHex(keyHash(pub.key)), k.keyHash);
    assert.ok(readme.includes(k.keyHash), `README lists ${k.board}`);
  }
  const image = at('dev.img');
  const r = signBundle(packagePath(DEVELOPMENT_KEYS[0]!.privateKey), image);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /DEVELOPMENT key of iot-gateway/);
  const v = runCli(['image', 'verify', image, '--rotpk-hash', DEVELOPMENT_KEYS[0]!.keyHash]);
  assert.equal(v.status, 0);
  assert.match(v.stderr, /never use it in production/);
});

function recipe(board: string, extra = ''): string {
  return `# test recipe
board: ${board}
${extra}images:
  secure-bundle:
    version: 1.0.0+3
    securityCounter: 1
    components:
      - { kind: kernel-config, name: kernel, path: ../kernel.json }
      - { kind: ta-manifest, name: hello, path: ../hello.json }
      - { kind: ta-code, name: hello, path: ../hello.js }
  normal-world:
    version: 1.0.0
    securityCounter: 1
    components:
      - { kind: nw-code, name: rich-os, path: ../os.js }
`;
}

test('build-defaults signs every default board with its development key; images verify against the board ROTPK hash', () => {
  const recipes = at('recipes');
  mkdirSync(recipes, { recursive: true });
  for (const k of DEVELOPMENT_KEYS) writeFileSync(join(recipes, `${k.board}.yaml`), recipe(k.board));
  const out = at('images');
  const r = runCli(['image', 'build-defaults', '--recipes', recipes, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const built = JSON.parse(r.stdout) as {
    board: string;
    paths: { secureBundle: string; normalWorld: string };
  }[];
  assert.deepEqual(
    built.map((b) => b.board),
    DEVELOPMENT_KEYS.map((k) => k.board),
  );
  for (const [i, k] of DEVELOPMENT_KEYS.entries()) {
    const paths = built[i]!.paths;
    assert.equal(paths.secureBundle, join(out, k.board, 'secure-bundle.img'));
    for (const [file, kind] of [
      [paths.secureBundle, 'secure-bundle'],
      [paths.normalWorld, 'normal-world'],
    ] as const) {
      const v = verifyImage(new Uint8Array(readFileSync(file)), {
        trustedKeyHash: Buffer.from(k.keyHash, 'hex'),
        expectedKind: kind,
      });
      assert.ok(v.ok, `${file}: ${v.ok ? '' : v.fault.detail}`);
      assert.equal(v.image.algorithm, k.algorithm);
    }
  }
});

test('recipes: a missing recipe, a bad field, a missing component file each exit 2 naming file, line and field', () => {
  const recipes = at('recipes-bad');
  mkdirSync(recipes, { recursive: true });
  writeFileSync(join(recipes, 'iot-gateway.yaml'), recipe('iot-gateway'));
  const missing = runCli(['image', 'build-defaults', '--recipes', recipes, '--out', at('o1')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no image recipe for uconnect-headunit/);

  const bad = write(
    'recipes-bad/bad.yaml',
    recipe('iot-gateway').replace('securityCounter: 1', 'securityCounter: -1'),
  );
  const b = runCli(['image', 'build', '--recipe', bad, '--out', at('o2')]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /bad\.yaml:6:\d+, field images\.secure-bundle\.securityCounter/);

  const unknownKind = write(
    'recipes-bad/kind.yaml',
    recipe('iot-gateway').replace('kind: nw-code', 'kind: firmware'),
  );
  assert.match(
    runCli(['image', 'build', '--recipe', unknownKind]).stderr,
    /kind\.yaml:15:\d+, field images\.normal-world\.components\[0\]\.kind/,
  );

  const noFile = write('recipes-bad/nofile.yaml', recipe('iot-gateway').replace('../os.js', '../absent.js'));
  const n = runCli(['image', 'build', '--recipe', noFile, '--out', at('o3')]);
  assert.equal(n.status, 2);
  assert.match(n.stderr, /field images\.normal-world\.components\[0\]\.path: cannot read .*absent\.js/);

  const noKey = write('recipes-bad/nokey.yaml', recipe('my-board'));
  assert.match(
    runCli(['image', 'build', '--recipe', noKey, '--out', at('o4')]).stderr,
    /my-board has no development key/,
  );

  const own = at('own');
  assert.equal(runCli(['image', 'keygen', '--out', own]).status, 0);
  const withKey = write('recipes-bad/own.yaml', recipe('my-board', `key: ${own}.key.pem\n`));
  const ok = runCli(['image', 'build', '--recipe', withKey, '--out', at('o5')]);
  assert.equal(ok.status, 0, ok.stderr);

  const yamlError = write('recipes-bad/broken.yaml', 'board: [x\n');
  assert.match(runCli(['image', 'build', '--recipe', yamlError]).stderr, /broken\.yaml:\d+:\d+/);
});
