/**
 * `rampart image keygen|sign|verify|inspect|build|build-defaults`: make keys, build and check signed
 * images (docs/boot.md §"CLI"). Exit codes: 0 success; 1 the image is well formed but refused
 * (not authentic, not trusted, rolled back); 2 bad input (bad arguments, unreadable or malformed files).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { checkOutputDir, type InputKind, readInputFile } from '../../common/input-file.js';
import { InputError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import { developmentKeyWithHash } from '../../boot/defaults.js';
import {
  COMPONENT_KIND_CODES,
  IMAGE_KIND_CODES,
  isMalformed,
  type ComponentInput,
  type ComponentKind,
  type ImageFault,
  type ImageKind,
} from '../../boot/format.js';
import { describeImage, type ImageDescription } from '../../boot/inspect.js';
import {
  generateSigningKey,
  keyHash,
  loadPrivateKey,
  loadPublicKey,
  parseHash,
  privateKeyPem,
  publicKeyPem,
  SIGNATURE_ALGORITHMS,
  toHex,
} from '../../boot/keys.js';
import {
  buildDefaultImages,
  buildRecipe,
  DEFAULT_IMAGES_DIR,
  DEFAULT_RECIPES_DIR,
  parseVersion,
} from '../../boot/recipe.js';
import { signImage } from '../../boot/sign.js';
import { verifyImage, type ImageSummary } from '../../boot/verify.js';
import { intOption, parseOptions, type CliIO, type Command } from '../command.js';

function readInput(file: string, kind: InputKind): Uint8Array {
  return readInputFile(file, { kind, unreadableCode: 'UNREADABLE' });
}

function readText(file: string, kind: InputKind): string {
  return new TextDecoder().decode(readInput(file, kind));
}

function faultError(file: string, f: ImageFault): InputError {
  return new InputError(f.code, f.detail, { file, field: f.field, offset: f.offset });
}

function faultJson(f: ImageFault) {
  return { ...f, class: isMalformed(f.code) ? 'malformed' : 'rejected' };
}

function developmentWarning(hash: string | undefined): string | undefined {
  const dev = hash ? developmentKeyWithHash(Buffer.from(hash, 'hex')) : undefined;
  return dev
    ? `WARNING: signed with the DEVELOPMENT key of ${dev.board} (keys/dev): anyone can sign with it; never use it in production`
    : undefined;
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new InputError('BAD_ARGUMENTS', `--${option} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

const keygen: Command = {
  name: ['image', 'keygen'],
  summary: 'generate an image signing key pair and print its ROTPK hash',
  usage: `usage: rampart image keygen --out PREFIX [--algorithm ed25519|ecdsa-p256] [--force] [--json]

Writes PREFIX.key.pem (PKCS#8, mode 0600) and PREFIX.pub.pem (SPKI) and prints the key hash:
SHA-256 of the DER SubjectPublicKeyInfo, the value to burn into the OTP fuses as the ROTPK hash.`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      out: { type: 'string' },
      algorithm: { type: 'string', default: 'ed25519' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (!values.out) throw new InputError('BAD_ARGUMENTS', '--out PREFIX is required');
    const algorithm = oneOf(values.algorithm, SIGNATURE_ALGORITHMS, 'algorithm')!;
    const privateFile = `${values.out}.key.pem`;
    const publicFile = `${values.out}.pub.pem`;
    for (const f of [privateFile, publicFile])
      if (existsSync(f) && !values.force)
        throw new InputError('EXISTS', 'file exists (use --force to replace it)', { file: f });
    const key = generateSigningKey(algorithm);
    try {
      writeFileSync(privateFile, privateKeyPem(key), { mode: 0o600 });
      writeFileSync(publicFile, publicKeyPem(key));
    } catch (e) {
      throw new InputError('UNWRITABLE', (e as Error).message, { file: values.out });
    }
    const hash = toHex(keyHash(key));
    if (values.json)
      io.out(
        stableStringify({ algorithm, keyHash: hash, privateKey: privateFile, publicKey: publicFile }, 2),
      );
    else io.out(`${algorithm} key: ${privateFile} (private), ${publicFile} (public)\nROTPK hash: ${hash}`);
    return 0;
  },
};

/** `KIND:NAME=PATH` */
function parseComponent(text: string): ComponentInput {
  const m = /^([a-z-]+):([^=]+)=(.+)$/.exec(text);
  const kinds = Object.keys(COMPONENT_KIND_CODES);
  if (!m || !kinds.includes(m[1]!))
    throw new InputError(
      'BAD_ARGUMENTS',
      `--component expects KIND:NAME=PATH with KIND one of ${kinds.join(', ')}; got '${text}'`,
    );
  return { kind: m[1] as ComponentKind, name: m[2]!, bytes: readInput(m[3]!, 'component') };
}

function summaryText(s: ImageSummary | ImageDescription): string {
  return `${s.kind} ${s.version}, security counter ${s.securityCounter}, ${s.size} bytes, ${s.components.length} component(s)`;
}

const sign: Command = {
  name: ['image', 'sign'],
  summary: 'build and sign an image from components',
  usage: `usage: rampart image sign --key KEY.pem --kind secure-bundle|normal-world --version X.Y.Z[+BUILD]
         --security-counter N --component KIND:NAME=PATH [--component …] --out FILE [--json]

KIND is kernel-config, ta-manifest, ta-code (secure bundle) or nw-code (normal world). A secure bundle
holds one kernel-config and, per trusted application NAME, one ta-manifest and one ta-code.`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      key: { type: 'string' },
      kind: { type: 'string' },
      version: { type: 'string' },
      'security-counter': { type: 'string' },
      component: { type: 'string', multiple: true },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    for (const required of ['key', 'kind', 'version', 'security-counter', 'out'] as const)
      if (values[required] === undefined) throw new InputError('BAD_ARGUMENTS', `--${required} is required`);
    const kind = oneOf(values.kind, Object.keys(IMAGE_KIND_CODES) as ImageKind[], 'kind')!;
    const version = parseVersion(values.version!);
    if (!version)
      throw new InputError(
        'BAD_ARGUMENTS',
        `--version expects MAJOR.MINOR.REVISION[+BUILD], got '${values.version}'`,
      );
    const securityCounter = intOption(values['security-counter'], 'security-counter')!;
    const components = (values.component ?? []).map(parseComponent);
    const { key } = loadPrivateKey(readText(values.key!, 'key'), values.key!);
    const image = signImage({ kind, version, securityCounter, components }, key);
    try {
      writeFileSync(values.out!, image);
    } catch (e) {
      throw new InputError('UNWRITABLE', (e as Error).message, { file: values.out! });
    }
    const d = describeImage(image);
    if (!d.ok) throw faultError(values.out!, d.fault);
    if (values.json) io.out(stableStringify({ file: values.out, ...d.description }, 2));
    else
      io.out(
        `${values.out}: ${summaryText(d.description)}, signed ${d.description.signatureAlgorithm} by ${d.description.signer?.keyHash}`,
      );
    const warning = developmentWarning(d.description.signer?.keyHash);
    if (warning) io.err(warning);
    return 0;
  },
};

const verify: Command = {
  name: ['image', 'verify'],
  summary: 'verify an image as the boot ROM would (exit 1 if refused, 2 if malformed)',
  usage: `usage: rampart image verify FILE (--rotpk-hash HEX | --key KEY.pem) [--kind secure-bundle|normal-world]
         [--min-security-counter N] [--json]

Checks structure, digest, signature, that the signer's key hash is the trusted one (--rotpk-hash, or
the hash of --key), the kind, the anti-rollback counter, and every component hash.
Exit 0: would boot. 1: well formed but refused. 2: malformed image or bad arguments.`,
  async run(argv, io) {
    const { values, positionals } = parseOptions(
      argv,
      {
        'rotpk-hash': { type: 'string' },
        key: { type: 'string' },
        kind: { type: 'string' },
        'min-security-counter': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      true,
    );
    if (positionals.length !== 1) throw new InputError('BAD_ARGUMENTS', 'expects exactly one image FILE');
    const file = positionals[0]!;
    if ((values['rotpk-hash'] === undefined) === (values.key === undefined))
      throw new InputError('BAD_ARGUMENTS', 'give exactly one of --rotpk-hash HEX and --key KEY.pem');
    let trustedKeyHash: Uint8Array;
    if (values['rotpk-hash'] !== undefined) {
      const h = parseHash(values['rotpk-hash']);
      if (!h) throw new InputError('BAD_ARGUMENTS', '--rotpk-hash expects 64 hex digits');
      trustedKeyHash = h;
    } else trustedKeyHash = keyHash(loadPublicKey(readText(values.key!, 'key'), values.key!).key);
    const expectedKind = oneOf(values.kind, Object.keys(IMAGE_KIND_CODES) as ImageKind[], 'kind');
    const min = intOption(values['min-security-counter'], 'min-security-counter');
    const r = verifyImage(readInput(file, 'image'), {
      trustedKeyHash,
      ...(expectedKind ? { expectedKind } : {}),
      ...(min !== undefined ? { minSecurityCounter: min } : {}),
    });
    if (!r.ok) {
      const code = isMalformed(r.fault.code) ? 2 : 1;
      if (values.json) io.out(stableStringify({ ok: false, file, fault: faultJson(r.fault) }, 2));
      else io.err(`rampart image verify: ${faultError(file, r.fault).message} [${r.fault.code}]`);
      return code;
    }
    const hash = toHex(r.image.keyHash);
    if (values.json)
      io.out(
        stableStringify(
          {
            ok: true,
            file,
            image: r.image.summary,
            signer: {
              algorithm: r.image.algorithm,
              keyHash: hash,
              developmentKeyOf: developmentKeyWithHash(r.image.keyHash)?.board,
            },
          },
          2,
        ),
      );
    else io.out(`OK ${file}: ${summaryText(r.image.summary)}, signed ${r.image.algorithm} by ${hash}`);
    const warning = developmentWarning(hash);
    if (warning) io.err(warning);
    return 0;
  },
};

function describeText(file: string, d: ImageDescription): string {
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISMATCH');
  const lines = [
    `${file}: ${summaryText(d)}`,
    `header: manifest ${d.header.manifestSize} bytes, payload ${d.header.payloadSize} bytes`,
    'components:',
    ...d.components.map(
      (c) =>
        `  [${c.index}] ${c.kind.padEnd(13)} ${c.name.padEnd(24)} offset ${String(c.offset).padStart(7)}  ${String(c.size).padStart(7)} bytes  sha256 ${c.sha256} ${mark(c.hashMatches)}`,
    ),
    'tlvs:',
    ...d.tlvs.map(
      (t) =>
        `  0x${t.type.toString(16).padStart(2, '0')} ${t.name.padEnd(10)} offset ${t.offset}, ${t.length} bytes`,
    ),
    `digest (header+manifest): ${d.digest.value} ${mark(d.digest.matches)}`,
    d.signer
      ? `signer: ${d.signer.algorithm ?? 'unsupported key'} key ${d.signer.keyHash}${d.signatureAlgorithm ? `, ${d.signatureAlgorithm} signature (not checked: use image verify)` : ', no signature'}`
      : 'signer: none (unsigned)',
  ];
  return lines.join('\n');
}

const inspect: Command = {
  name: ['image', 'inspect'],
  summary: 'describe an image: header, manifest, components, TLVs, signer (exit 2 if malformed)',
  usage: `usage: rampart image inspect FILE [--json]

Prints every field with its offset and whether each hash matches; trusts nothing and does not check the
signature (use image verify with the trusted key hash for that).`,
  async run(argv, io: CliIO) {
    const { values, positionals } = parseOptions(argv, { json: { type: 'boolean', default: false } }, true);
    if (positionals.length !== 1) throw new InputError('BAD_ARGUMENTS', 'expects exactly one image FILE');
    const file = positionals[0]!;
    const d = describeImage(readInput(file, 'image'));
    if (!d.ok) {
      if (values.json) io.out(stableStringify({ ok: false, file, fault: faultJson(d.fault) }, 2));
      else io.err(`rampart image inspect: ${faultError(file, d.fault).message} [${d.fault.code}]`);
      return 2;
    }
    io.out(
      values.json
        ? stableStringify({ ok: true, file, ...d.description }, 2)
        : describeText(file, d.description),
    );
    const warning = developmentWarning(d.description.signer?.keyHash);
    if (warning) io.err(warning);
    return 0;
  },
};

const build: Command = {
  name: ['image', 'build'],
  summary: 'build and sign the two images of a board from a recipe',
  usage: `usage: rampart image build --recipe FILE [--out DIR] [--json]

Writes DIR/<board>/secure-bundle.img and DIR/<board>/normal-world.img (DIR defaults to .rampart/images
in the package). The recipe format is in docs/boot.md.`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      recipe: { type: 'string' },
      out: { type: 'string', default: DEFAULT_IMAGES_DIR },
      json: { type: 'boolean', default: false },
    });
    if (!values.recipe) throw new InputError('BAD_ARGUMENTS', '--recipe FILE is required');
    checkOutputDir(values.out, '--out');
    const built = buildRecipe(values.recipe, values.out);
    io.out(
      values.json
        ? stableStringify(built, 2)
        : `${built.board}: ${built.paths.secureBundle}, ${built.paths.normalWorld}`,
    );
    return 0;
  },
};

const buildDefaults: Command = {
  name: ['image', 'build-defaults'],
  summary: 'build the images of every embedded default board (signed with development keys)',
  usage: `usage: rampart image build-defaults [--recipes DIR] [--out DIR] [--json]

Builds DIR/<board>.yaml (DIR defaults to images/ in the package) for each default board, signed with the
board's DEVELOPMENT key from keys/dev unless the recipe names another; writes to --out (default
.rampart/images in the package).`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      recipes: { type: 'string', default: DEFAULT_RECIPES_DIR },
      out: { type: 'string', default: DEFAULT_IMAGES_DIR },
      json: { type: 'boolean', default: false },
    });
    checkOutputDir(values.out, '--out');
    const built = buildDefaultImages(values.recipes, values.out);
    io.out(
      values.json
        ? stableStringify(built, 2)
        : built.map((b) => `${b.board}: ${b.paths.secureBundle}, ${b.paths.normalWorld}`).join('\n'),
    );
    return 0;
  },
};

export const imageCommands: readonly Command[] = [keygen, sign, verify, inspect, build, buildDefaults];
