/**
 * A description of an image for people and scripts (`rampart image inspect`): every field with its
 * offset, whether each hash matches, who signed it. It trusts nothing and decides nothing: whether the
 * image would boot is `verifyImage`'s answer, given a trusted key hash.
 */
import { developmentKeyWithHash } from './defaults.js';
import { formatVersion, parseImage, TLV_TYPES, type ImageFault } from './format.js';
import { decodePublicKey, keyHash, sha256, toHex } from './keys.js';

const TLV_NAMES: Record<number, string> = {
  [TLV_TYPES.PUBKEY]: 'PUBKEY',
  [TLV_TYPES.SHA256]: 'SHA256',
  [TLV_TYPES.ECDSA_P256]: 'ECDSA_P256',
  [TLV_TYPES.ED25519]: 'ED25519',
};

export interface ImageDescription {
  readonly kind: string;
  readonly version: string;
  readonly securityCounter: number;
  readonly size: number;
  readonly header: { readonly manifestSize: number; readonly payloadSize: number };
  readonly components: readonly {
    index: number;
    kind: string;
    name: string;
    offset: number;
    size: number;
    sha256: string;
    hashMatches: boolean;
  }[];
  readonly tlvs: readonly { type: number; name: string; offset: number; length: number }[];
  readonly digest: { readonly value: string; readonly matches: boolean };
  readonly signer:
    | {
        readonly algorithm: string | undefined;
        readonly keyHash: string;
        /** The default board whose DEVELOPMENT key this is, if it is one. */
        readonly developmentKeyOf: string | undefined;
      }
    | undefined;
  readonly signatureAlgorithm: string | undefined;
}

export function describeImage(
  bytes: Uint8Array,
): { ok: true; description: ImageDescription } | { ok: false; fault: ImageFault } {
  const r = parseImage(bytes.slice());
  if (!r.ok) return r;
  const image = r.image;
  const m = image.manifest;
  const tlvs = [image.digest, image.publicKey, image.signature]
    .filter((t) => t !== undefined)
    .sort((a, b) => a.offset - b.offset)
    .map((t) => ({
      type: t.type,
      name: TLV_NAMES[t.type] ?? 'unknown',
      offset: t.offset,
      length: t.value.length,
    }));
  let signer: ImageDescription['signer'];
  if (image.publicKey) {
    const decoded = decodePublicKey(image.publicKey.value);
    const hash = keyHash(image.publicKey.value);
    signer = {
      algorithm: decoded.ok ? decoded.algorithm : undefined,
      keyHash: toHex(hash),
      developmentKeyOf: developmentKeyWithHash(hash)?.board,
    };
  }
  return {
    ok: true,
    description: {
      kind: image.header.kind,
      version: formatVersion(m.version),
      securityCounter: m.securityCounter,
      size: image.bytes.length,
      header: { manifestSize: image.header.manifestSize, payloadSize: image.header.payloadSize },
      components: m.components.map((c) => ({
        index: c.index,
        kind: c.kind,
        name: c.name,
        offset: c.offset,
        size: c.size,
        sha256: toHex(c.sha256),
        hashMatches: toHex(sha256(image.bytes.subarray(c.offset, c.offset + c.size))) === toHex(c.sha256),
      })),
      tlvs,
      digest: {
        value: toHex(image.digest.value),
        matches: toHex(sha256(image.bytes.subarray(0, image.signedLength))) === toHex(image.digest.value),
      },
      signer,
      signatureAlgorithm: image.signature?.algorithm,
    },
  };
}
