/**
 * Image verification, in the order the ROM applies it:
 *   1. parse (structure, sizes, TLVs — format.ts);
 *   2. the SHA256 TLV equals SHA-256(header ‖ manifest)             → else DIGEST_MISMATCH
 *   3. a signature and the signer's public key are present          → else UNSIGNED / MISSING_PUBLIC_KEY
 *   4. SHA-256(public key) equals the trusted ROTPK hash            → else KEY_NOT_TRUSTED
 *   5. the signature verifies over header ‖ manifest                → else BAD_SIGNATURE
 *   6. the image kind is the one expected in this slot              → else WRONG_IMAGE_KIND
 *   7. security counter ≥ the NV counter                            → else ROLLED_BACK
 * which yields an `AuthenticImage`; then each component is hash-checked against the authenticated
 * manifest when the stage that runs it loads it (→ else COMPONENT_TAMPERED).
 *
 * The input is copied once on entry; everything is checked and handed on from that private copy.
 */
import { timingSafeEqual } from 'node:crypto';
import { assert } from '../common/errors.js';
import {
  fault,
  formatVersion,
  parseImage,
  type ComponentEntry,
  type ComponentKind,
  type ImageFault,
  type ImageKind,
  type Manifest,
  type ParsedImage,
  type SignatureAlgorithm,
} from './format.js';
import { decodePublicKey, keyHash, sha256, toHex, verifyMessage } from './keys.js';

export interface VerifyOptions {
  /** SHA-256 of the only public key accepted (the ROTPK hash from the fuses). */
  readonly trustedKeyHash: Uint8Array;
  readonly expectedKind?: ImageKind;
  /** The NV counter value: an image whose security counter is lower is refused. */
  readonly minSecurityCounter?: number;
}

/** A printable, JSON-able description of an image. */
export interface ImageSummary {
  readonly kind: ImageKind;
  readonly version: string;
  readonly securityCounter: number;
  /** SHA-256 of header ‖ manifest: the image's measurement. */
  readonly digest: string;
  readonly size: number;
  readonly components: readonly { kind: ComponentKind; name: string; size: number; sha256: string }[];
}

/** A signed-off component: its bytes (a private copy) matched the authenticated manifest's hash. */
export interface VerifiedComponent {
  readonly kind: ComponentKind;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sha256: Uint8Array;
}

export type VerifyResult = { ok: true; image: AuthenticImage } | { ok: false; fault: ImageFault };

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function summarise(image: ParsedImage): ImageSummary {
  const m = image.manifest;
  return {
    kind: image.header.kind,
    version: formatVersion(m.version),
    securityCounter: m.securityCounter,
    digest: toHex(image.digest.value),
    size: image.bytes.length,
    components: m.components.map((c) => ({
      kind: c.kind,
      name: c.name,
      size: c.size,
      sha256: toHex(c.sha256),
    })),
  };
}

/** An image whose header and manifest are authentic and acceptable; its components are checked on load. */
export class AuthenticImage {
  readonly #image: ParsedImage;
  readonly summary: ImageSummary;
  readonly keyHash: Uint8Array;
  readonly algorithm: SignatureAlgorithm;

  private constructor(image: ParsedImage, hash: Uint8Array, algorithm: SignatureAlgorithm) {
    this.#image = image;
    this.summary = summarise(image);
    this.keyHash = hash;
    this.algorithm = algorithm;
  }

  /** @internal — only `authenticate` creates these. */
  static create(image: ParsedImage, hash: Uint8Array, algorithm: SignatureAlgorithm): AuthenticImage {
    return new AuthenticImage(image, hash, algorithm);
  }

  get manifest(): Manifest {
    return this.#image.manifest;
  }

  get kind(): ImageKind {
    return this.#image.header.kind;
  }

  get securityCounter(): number {
    return this.#image.manifest.securityCounter;
  }

  /** SHA-256 of header ‖ manifest. */
  get measurement(): Uint8Array {
    return this.#image.digest.value.slice();
  }

  /** Hash-checks one component and returns a private copy of its bytes. */
  component(
    entry: ComponentEntry,
  ): { ok: true; component: VerifiedComponent } | { ok: false; fault: ImageFault } {
    const own = this.#image.manifest.components[entry.index];
    assert(own === entry, 'component entry does not belong to this image');
    const bytes = this.#image.bytes.slice(entry.offset, entry.offset + entry.size);
    const digest = sha256(bytes);
    if (!equal(digest, entry.sha256))
      return {
        ok: false,
        fault: fault(
          'COMPONENT_TAMPERED',
          `manifest.components[${entry.index}]`,
          entry.offset,
          `${entry.kind} ${entry.name} (${entry.size} bytes at offset ${entry.offset}) does not match its signed SHA-256`,
        ),
      };
    return { ok: true, component: { kind: entry.kind, name: entry.name, bytes, sha256: digest } };
  }

  /** Hash-checks every component, in manifest order. */
  allComponents(): { ok: true; components: VerifiedComponent[] } | { ok: false; fault: ImageFault } {
    const out: VerifiedComponent[] = [];
    for (const entry of this.#image.manifest.components) {
      const r = this.component(entry);
      if (!r.ok) return r;
      out.push(r.component);
    }
    return { ok: true, components: out };
  }
}

/** Steps 1–7: parse, then authenticate header and manifest. Components are not checked yet. */
export function authenticate(input: Uint8Array, options: VerifyOptions): VerifyResult {
  const parsed = parseImage(input.slice());
  if (!parsed.ok) return parsed;
  const image = parsed.image;
  const refuse = (f: ImageFault) => ({ ok: false, fault: f }) as const;

  const signed = image.bytes.subarray(0, image.signedLength);
  if (!equal(sha256(signed), image.digest.value))
    return refuse(
      fault(
        'DIGEST_MISMATCH',
        'tlv.sha256',
        image.digest.offset,
        `SHA-256 of header+manifest (bytes 0..${image.signedLength - 1}) differs from the SHA256 TLV: header or manifest modified`,
      ),
    );
  if (!image.signature) {
    return refuse(fault('UNSIGNED', 'tlv', image.tlvOffset, 'the image carries no signature'));
  }
  if (!image.publicKey)
    return refuse(
      fault('MISSING_PUBLIC_KEY', 'tlv', image.tlvOffset, 'the image carries a signature but no PUBKEY TLV'),
    );
  const keyOffset = image.publicKey.offset;
  const decoded = decodePublicKey(image.publicKey.value);
  if (!decoded.ok)
    return refuse(
      fault(
        decoded.reason === 'bad' ? 'BAD_PUBLIC_KEY' : 'UNSUPPORTED_KEY',
        'tlv.pubkey',
        keyOffset,
        decoded.detail,
      ),
    );
  const hash = keyHash(image.publicKey.value);
  if (!equal(hash, options.trustedKeyHash))
    return refuse(
      fault(
        'KEY_NOT_TRUSTED',
        'tlv.pubkey',
        keyOffset,
        `signer key ${toHex(hash)} does not match the root-of-trust key hash ${toHex(options.trustedKeyHash)}`,
      ),
    );
  if (decoded.algorithm !== image.signature.algorithm)
    return refuse(
      fault(
        'SIGNATURE_ALGORITHM_MISMATCH',
        'tlv.signature',
        image.signature.offset,
        `${image.signature.algorithm} signature with an ${decoded.algorithm} key`,
      ),
    );
  if (!verifyMessage(decoded.algorithm, decoded.key, signed, image.signature.value))
    return refuse(
      fault(
        'BAD_SIGNATURE',
        'tlv.signature',
        image.signature.offset,
        `${decoded.algorithm} signature does not verify`,
      ),
    );
  if (options.expectedKind !== undefined && image.header.kind !== options.expectedKind)
    return refuse(
      fault(
        'WRONG_IMAGE_KIND',
        'header.imageKind',
        7,
        `a ${image.header.kind} image where a ${options.expectedKind} belongs`,
      ),
    );
  const min = options.minSecurityCounter;
  if (min !== undefined && image.manifest.securityCounter < min)
    return refuse(
      fault(
        'ROLLED_BACK',
        'manifest.securityCounter',
        32 + 8,
        `security counter ${image.manifest.securityCounter} is below the device's anti-rollback counter ${min}`,
      ),
    );
  return { ok: true, image: AuthenticImage.create(image, hash, decoded.algorithm) };
}

/** Full verification: authenticate, then hash-check every component. */
export function verifyImage(
  input: Uint8Array,
  options: VerifyOptions,
): { ok: true; image: AuthenticImage; components: VerifiedComponent[] } | { ok: false; fault: ImageFault } {
  const a = authenticate(input, options);
  if (!a.ok) return a;
  const c = a.image.allComponents();
  if (!c.ok) return c;
  return { ok: true, image: a.image, components: c.components };
}
