import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  appendTlvs,
  COMPONENT_ENTRY_SIZE,
  HEADER_SIZE,
  MANIFEST_FIXED_SIZE,
  parseImage,
  TLV_TYPES,
  type ImageFaultCode,
} from '../../src/boot/format.js';
import { keyHash, publicKeyDer, sha256 } from '../../src/boot/keys.js';
import { sealUnsigned, signImage } from '../../src/boot/sign.js';
import { authenticate, verifyImage, type VerifyOptions } from '../../src/boot/verify.js';
import { bundleSpec, normalSpec, otherKey, p256Key, rootKey, rootKeyHash } from './images.js';
import { bodyOf, seal, setU16, setU32, tlvOffsetOf, u32At } from './tamper.js';

const trusted: VerifyOptions = { trustedKeyHash: rootKeyHash };
const good = signImage(bundleSpec(), rootKey);
const componentCount = bundleSpec().components.length;
const manifestSize = MANIFEST_FIXED_SIZE + componentCount * COMPONENT_ENTRY_SIZE;
const payloadOffset = HEADER_SIZE + manifestSize;
const entry = (i: number) => HEADER_SIZE + MANIFEST_FIXED_SIZE + i * COMPONENT_ENTRY_SIZE;

function expectFault(
  bytes: Uint8Array,
  code: ImageFaultCode,
  where: { field?: string | RegExp; offset?: number } = {},
  options: VerifyOptions = trusted,
): void {
  const r = verifyImage(bytes, options);
  assert.equal(r.ok, false, `expected ${code}, image was accepted`);
  if (r.ok) return;
  assert.equal(r.fault.code, code, `expected ${code}, got ${r.fault.code}: ${r.fault.detail}`);
  if (typeof where.field === 'string') assert.equal(r.fault.field, where.field);
  if (where.field instanceof RegExp) assert.match(r.fault.field, where.field);
  if (where.offset !== undefined) assert.equal(r.fault.offset, where.offset, `offset of ${code}`);
  assert.ok(r.fault.detail.length > 0);
}

/** Applies `patch` to the body of the genuine image and re-seals it with the trusted key. */
function patched(patch: (body: Uint8Array) => void, key = rootKey): Uint8Array {
  const body = bodyOf(good);
  patch(body);
  return seal(body, key);
}

test('a signed image parses back to its spec, byte layout as documented', () => {
  const r = parseImage(good);
  assert.ok(r.ok);
  const { header, manifest } = r.image;
  assert.deepEqual([...good.subarray(0, 4)], [0x52, 0x49, 0x4d, 0x47]);
  assert.equal(new DataView(good.buffer).getUint16(4, true), 32);
  assert.equal(good[6], 1);
  assert.equal(good[7], 0x01);
  assert.equal(header.kind, 'secure-bundle');
  assert.equal(u32At(good, 8), manifestSize);
  assert.equal(header.manifestSize, manifestSize);
  assert.equal(manifest.securityCounter, 1);
  assert.deepEqual(manifest.version, { major: 1, minor: 1, revision: 0, build: 7 });
  const spec = bundleSpec();
  assert.equal(manifest.components.length, spec.components.length);
  let offset = payloadOffset;
  manifest.components.forEach((c, i) => {
    const s = spec.components[i]!;
    assert.equal(c.kind, s.kind);
    assert.equal(c.name, s.name);
    assert.equal(c.size, s.bytes.length);
    assert.equal(c.offset, offset);
    assert.equal(c.entryOffset, entry(i));
    assert.deepEqual(good.subarray(c.offset, c.offset + c.size), s.bytes);
    assert.deepEqual(c.sha256, sha256(s.bytes));
    offset += c.size;
  });
  const tlv = r.image.tlvOffset;
  assert.equal(tlv, offset);
  assert.equal(new TextDecoder().decode(good.subarray(tlv, tlv + 4)), 'RTLV');
  assert.equal(u32At(good, tlv + 4), good.length - tlv);
  // First TLV: SHA256 (0x10), 32 bytes, = SHA-256(header ‖ manifest).
  assert.equal(good[tlv + 8], TLV_TYPES.SHA256);
  assert.deepEqual(good.subarray(tlv + 12, tlv + 44), sha256(good.subarray(0, payloadOffset)));
  assert.deepEqual(r.image.publicKey?.value, publicKeyDer(rootKey));
  assert.equal(r.image.signature?.algorithm, 'ed25519');
});

test('Ed25519 and ECDSA P-256 images verify against their key hash', () => {
  for (const [key, algorithm] of [
    [rootKey, 'ed25519'],
    [p256Key, 'ecdsa-p256'],
  ] as const) {
    for (const spec of [bundleSpec(3), normalSpec(3)]) {
      const r = verifyImage(signImage(spec, key), { trustedKeyHash: keyHash(key), minSecurityCounter: 3 });
      assert.ok(r.ok, r.ok ? '' : r.fault.detail);
      assert.equal(r.image.algorithm, algorithm);
      assert.equal(r.image.kind, spec.kind);
      assert.deepEqual(
        r.components.map((c) => c.bytes),
        spec.components.map((c) => c.bytes),
      );
    }
  }
});

test('truncated anywhere: TRUNCATED at the end of what is there', () => {
  expectFault(good.subarray(0, 20), 'TRUNCATED', { field: 'header', offset: 20 });
  expectFault(good.subarray(0, 100), 'TRUNCATED', { field: 'manifest.components', offset: 100 });
  expectFault(good.subarray(0, payloadOffset + 10), 'TRUNCATED', {
    field: 'payload',
    offset: payloadOffset + 10,
  });
  const tlv = tlvOffsetOf(good);
  expectFault(good.subarray(0, tlv + 3), 'TRUNCATED', { field: 'tlv', offset: tlv + 3 });
  expectFault(good.subarray(0, good.length - 1), 'TRUNCATED', { field: 'tlv', offset: good.length - 1 });
  expectFault(new Uint8Array(0), 'TRUNCATED', { offset: 0 });
});

test('trailing garbage: TRAILING_DATA at the first extra byte', () => {
  const longer = new Uint8Array(good.length + 5);
  longer.set(good);
  expectFault(longer, 'TRAILING_DATA', { field: 'image', offset: good.length });
});

test('header faults name their field', () => {
  expectFault(
    patched((b) => (b[0] = 0x00)),
    'BAD_MAGIC',
    { field: 'header.magic', offset: 0 },
  );
  expectFault(
    patched((b) => setU16(b, 4, 64)),
    'BAD_HEADER_SIZE',
    { field: 'header.headerSize', offset: 4 },
  );
  expectFault(
    patched((b) => (b[6] = 2)),
    'UNSUPPORTED_FORMAT',
    { offset: 6 },
  );
  expectFault(
    patched((b) => (b[7] = 9)),
    'UNKNOWN_IMAGE_KIND',
    { field: 'header.imageKind', offset: 7 },
  );
  expectFault(
    patched((b) => (b[17] = 1)),
    'RESERVED_NONZERO',
    { field: 'header.flags', offset: 16 },
  );
  expectFault(
    patched((b) => (b[25] = 1)),
    'RESERVED_NONZERO',
    { field: 'header.reserved', offset: 25 },
  );
});

test('size overflow: declared sizes beyond the 64 MiB limit or past their container', () => {
  expectFault(
    patched((b) => setU32(b, 12, 0xffff_fff0)),
    'SIZE_OVERFLOW',
    { field: 'header.payloadSize', offset: 12 },
  );
  expectFault(
    patched((b) => setU32(b, 8, 0x8000_0000)),
    'SIZE_OVERFLOW',
    { field: 'header.manifestSize', offset: 8 },
  );
  // The classic wrap: first component 2^32-16 bytes, second 16+its real size — a 32-bit sum would come
  // out right. Signed by the trusted key, so only the parser stands in the way.
  const wrapped = patched((b) => {
    const first = u32At(b, entry(0) + 4);
    setU32(b, entry(0) + 4, 0xffff_fff0);
    setU32(b, entry(1) + 4, u32At(b, entry(1) + 4) + first + 16);
  });
  expectFault(wrapped, 'SIZE_OVERFLOW', { field: 'manifest.components[0].size', offset: entry(0) + 4 });
  // A component that runs past the payload by one byte.
  const last = componentCount - 1;
  expectFault(
    patched((b) => setU32(b, entry(last) + 4, u32At(b, entry(last) + 4) + 1)),
    'SIZE_OVERFLOW',
    { field: `manifest.components[${last}].size`, offset: entry(last) + 4 },
  );
  expectFault(
    patched((b) => setU32(b, 12, u32At(b, 12) + 1)),
    'PAYLOAD_SIZE_MISMATCH',
    { field: 'header.payloadSize' },
  );
});

test('manifest faults name the component', () => {
  expectFault(
    patched((b) => setU16(b, HEADER_SIZE + 12, 4)),
    'MANIFEST_SIZE_MISMATCH',
    { offset: HEADER_SIZE + 12 },
  );
  expectFault(
    patched((b) => setU16(b, HEADER_SIZE + 12, 0)),
    'INVALID_BUNDLE',
    { field: 'manifest.componentCount' },
  );
  expectFault(
    patched((b) => (b[HEADER_SIZE + 14] = 1)),
    'RESERVED_NONZERO',
    { field: 'manifest.reserved' },
  );
  expectFault(
    patched((b) => (b[entry(2)] = 0x7f)),
    'BAD_COMPONENT',
    { field: 'manifest.components[2].kind', offset: entry(2) },
  );
  expectFault(
    patched((b) => (b[entry(1) + 1] = 0)),
    'BAD_COMPONENT',
    { field: 'manifest.components[1].nameLength' },
  );
  expectFault(
    patched((b) => (b[entry(1) + 1] = 49)),
    'BAD_COMPONENT',
    { field: 'manifest.components[1].nameLength' },
  );
  expectFault(
    patched((b) => (b[entry(1) + 8] = 0x20)),
    'BAD_COMPONENT',
    { field: 'manifest.components[1].name' },
  );
  expectFault(
    patched((b) => (b[entry(1) + 2] = 1)),
    'RESERVED_NONZERO',
    { field: 'manifest.components[1].reserved' },
  );
  expectFault(
    patched((b) => (b[entry(1) + 8 + 40] = 0x41)),
    'RESERVED_NONZERO',
    { offset: entry(1) + 48 },
  );
  // Entry 3 (ta-manifest "storage") renamed "hello" (same length would be needed: rename entry 4's code instead).
  expectFault(
    patched((b) => {
      b.fill(0, entry(4) + 8, entry(4) + 56);
      b.set(new TextEncoder().encode('hello'), entry(4) + 8);
      b[entry(4) + 1] = 5;
    }),
    'DUPLICATE_COMPONENT',
    { field: 'manifest.components[4].name' },
  );
  expectFault(
    patched((b) => (b[entry(0)] = 0x02)),
    'INVALID_BUNDLE',
  );
  expectFault(
    patched((b) => (b[entry(2)] = 0x10)),
    'INVALID_BUNDLE',
    { field: 'manifest.components[2].kind' },
  );
  expectFault(
    patched((b) => setU32(b, 12, u32At(b, 12) - 1)),
    'SIZE_OVERFLOW',
  );
  expectFault(
    patched((b) => setU32(b, entry(4) + 4, u32At(b, entry(4) + 4) - 1)),
    'PAYLOAD_SIZE_MISMATCH',
    { field: 'header.payloadSize' },
  );
});

test('TLV area faults: magic, lengths, unknown and duplicate TLVs, missing digest', () => {
  const tlv = tlvOffsetOf(good);
  expectFault(flipAt(good, tlv + 1), 'BAD_TLV_MAGIC', { field: 'tlv.magic', offset: tlv });
  const body = bodyOf(good);
  expectFault(seal(body, rootKey, { extra: [{ type: 0x50, value: new Uint8Array(4) }] }), 'UNKNOWN_TLV', {
    field: 'tlv[3].type',
  });
  expectFault(
    seal(body, rootKey, { extra: [{ type: TLV_TYPES.SHA256, value: new Uint8Array(32) }] }),
    'DUPLICATE_TLV',
    {
      field: 'tlv[3].type',
    },
  );
  expectFault(
    seal(body, rootKey, { extra: [{ type: TLV_TYPES.PUBKEY, value: publicKeyDer(rootKey) }] }),
    'DUPLICATE_TLV',
  );
  expectFault(
    seal(body, rootKey, { extra: [{ type: TLV_TYPES.ECDSA_P256, value: new Uint8Array(64) }] }),
    'DUPLICATE_TLV',
    {
      field: 'tlv[3].type',
    },
  );
  expectFault(
    seal(body, rootKey, { extra: [{ type: TLV_TYPES.ED25519, value: new Uint8Array(63) }] }),
    'BAD_TLV_LENGTH',
  );
  expectFault(seal(body, rootKey, { omitDigest: true }), 'MISSING_DIGEST', { field: 'tlv', offset: tlv });
  // TLV area length says less than the entries need / less than the 8-byte info header.
  const short = good.slice();
  setU32(short, tlv + 4, 7);
  expectFault(short, 'BAD_TLV_LENGTH', { field: 'tlv.totalSize' });
  const cut = good.slice(0, good.length - 2);
  setU32(cut, tlv + 4, cut.length - tlv);
  expectFault(cut, 'BAD_TLV_LENGTH', { field: /^tlv\[2\]/ });
  const grown = good.slice();
  setU32(grown, tlv + 4, 0x7fff_ffff);
  expectFault(grown, 'SIZE_OVERFLOW', { field: 'tlv.totalSize' });
});

test('tampered manifest: DIGEST_MISMATCH, or BAD_SIGNATURE once the digest is recomputed', () => {
  // Security counter raised from 1 to 9 in place.
  const raised = good.slice();
  raised[HEADER_SIZE + 8] = 9;
  expectFault(raised, 'DIGEST_MISMATCH', { field: 'tlv.sha256' });
  const body = bodyOf(raised);
  const resealed = appendTlvs(body, [
    { type: TLV_TYPES.SHA256, value: sha256(body.subarray(0, payloadOffset)) },
    ...parseTlvs(good).slice(1),
  ]);
  expectFault(resealed, 'BAD_SIGNATURE', { field: 'tlv.signature' });
});

test('tampered component: COMPONENT_TAMPERED at the component', () => {
  const r = parseImage(good);
  assert.ok(r.ok);
  for (const c of r.image.manifest.components) {
    expectFault(flipAt(good, c.offset + c.size - 1), 'COMPONENT_TAMPERED', {
      field: `manifest.components[${c.index}]`,
      offset: c.offset,
    });
  }
});

test('unsigned, key missing, bad key, unsupported key, untrusted key, wrong algorithm, wrong key', () => {
  expectFault(sealUnsigned(bundleSpec()), 'UNSIGNED', { field: 'tlv' });
  const body = bodyOf(good);
  expectFault(seal(body, rootKey, { omitSignature: true }), 'UNSIGNED');
  expectFault(seal(body, rootKey, { omitKey: true }), 'MISSING_PUBLIC_KEY');
  const garbageKey = appendTlvs(body, [
    { type: TLV_TYPES.SHA256, value: sha256(body.subarray(0, payloadOffset)) },
    { type: TLV_TYPES.PUBKEY, value: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) },
    { type: TLV_TYPES.ED25519, value: new Uint8Array(64) },
  ]);
  expectFault(garbageKey, 'BAD_PUBLIC_KEY', { field: 'tlv.pubkey' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
  const unsupported = appendTlvs(body, [
    { type: TLV_TYPES.SHA256, value: sha256(body.subarray(0, payloadOffset)) },
    { type: TLV_TYPES.PUBKEY, value: publicKeyDer(p384) },
    { type: TLV_TYPES.ECDSA_P256, value: new Uint8Array(64) },
  ]);
  expectFault(unsupported, 'UNSUPPORTED_KEY', { field: 'tlv.pubkey' });
  // Signed by another key, which the image names honestly: its hash is not the fused one.
  expectFault(signImage(bundleSpec(), otherKey), 'KEY_NOT_TRUSTED', { field: 'tlv.pubkey' });
  // Signed by another key, claiming to be the trusted key: the signature does not verify.
  expectFault(seal(body, otherKey, { claimedKey: rootKey }), 'BAD_SIGNATURE', { field: 'tlv.signature' });
  // An Ed25519 key with a signature labelled ECDSA.
  expectFault(seal(body, rootKey, { signatureType: TLV_TYPES.ECDSA_P256 }), 'SIGNATURE_ALGORITHM_MISMATCH');
  // A non-canonical DER encoding of the trusted key (long-form length) must not pass as that key.
  const der = publicKeyDer(rootKey);
  const longForm = new Uint8Array([0x30, 0x81, ...der.subarray(1)]);
  const noncanonical = appendTlvs(body, [
    { type: TLV_TYPES.SHA256, value: sha256(body.subarray(0, payloadOffset)) },
    { type: TLV_TYPES.PUBKEY, value: longForm },
    ...parseTlvs(good).slice(2),
  ]);
  expectFault(noncanonical, 'BAD_PUBLIC_KEY', {}, { trustedKeyHash: keyHash(longForm) });
});

test('wrong kind and rollback are refused only when asked for', () => {
  const normal = signImage(normalSpec(2), rootKey);
  expectFault(
    normal,
    'WRONG_IMAGE_KIND',
    { field: 'header.imageKind', offset: 7 },
    { ...trusted, expectedKind: 'secure-bundle' },
  );
  expectFault(
    normal,
    'ROLLED_BACK',
    { field: 'manifest.securityCounter', offset: 40 },
    { ...trusted, minSecurityCounter: 3 },
  );
  assert.ok(verifyImage(normal, { ...trusted, minSecurityCounter: 2, expectedKind: 'normal-world' }).ok);
});

test('the verifier works on its own copy: changing the input afterwards changes nothing', () => {
  const input = good.slice();
  const a = authenticate(input, trusted);
  assert.ok(a.ok);
  input.fill(0, payloadOffset);
  const all = a.image.allComponents();
  assert.ok(all.ok);
  assert.deepEqual(all.components[0]!.bytes, bundleSpec().components[0]!.bytes);
});

function flipAt(image: Uint8Array, offset: number): Uint8Array {
  const copy = image.slice();
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

function parseTlvs(image: Uint8Array): { type: number; value: Uint8Array }[] {
  const r = parseImage(image);
  assert.ok(r.ok);
  return [r.image.digest, r.image.publicKey!, r.image.signature!].map((t) => ({
    type: t.type,
    value: t.value,
  }));
}
