/**
 * Tools for building hostile images: patch the signed body of a genuine image and re-seal it with any
 * key and any TLV list, so that tests reach each check of the verifier on its own (including images
 * that a trusted key did sign, where only the parser stands in the way).
 */
import type { KeyObject } from 'node:crypto';
import { appendTlvs, SIGNATURE_TLV, TLV_TYPES, type EncodedTlv } from '../../src/boot/format.js';
import { keyAlgorithm, publicKeyDer, sha256, signMessage } from '../../src/boot/keys.js';

export function u32At(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}

export function setU32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, true);
}

export function setU16(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(at, v, true);
}

/** Header + manifest + payload of a genuine image (its sizes read from the header). */
export function bodyOf(image: Uint8Array): Uint8Array {
  return image.slice(0, 32 + u32At(image, 8) + u32At(image, 12));
}

export function tlvOffsetOf(image: Uint8Array): number {
  return 32 + u32At(image, 8) + u32At(image, 12);
}

export interface SealOptions {
  /** Key whose public half goes into the PUBKEY TLV (default: the signing key). */
  claimedKey?: KeyObject;
  /** Signed region length (default: 32 + manifest size from the body's header). */
  signedLength?: number;
  omitDigest?: boolean;
  omitKey?: boolean;
  omitSignature?: boolean;
  /** TLV type to use for the signature (default: the one matching the key). */
  signatureType?: number;
  extra?: EncodedTlv[];
  /** Replace the digest value with this. */
  digest?: Uint8Array;
}

/** Seals a (possibly patched) body: digest, public key and signature over header+manifest. */
export function seal(body: Uint8Array, key: KeyObject, options: SealOptions = {}): Uint8Array {
  const signedLength = options.signedLength ?? 32 + u32At(body, 8);
  const signed = body.subarray(0, signedLength);
  const algorithm = keyAlgorithm(key);
  if (!algorithm) throw new Error('unsupported test key');
  const tlvs: EncodedTlv[] = [];
  if (!options.omitDigest) tlvs.push({ type: TLV_TYPES.SHA256, value: options.digest ?? sha256(signed) });
  if (!options.omitKey) tlvs.push({ type: TLV_TYPES.PUBKEY, value: publicKeyDer(options.claimedKey ?? key) });
  if (!options.omitSignature)
    tlvs.push({
      type: options.signatureType ?? SIGNATURE_TLV[algorithm],
      value: signMessage(algorithm, key, signed),
    });
  tlvs.push(...(options.extra ?? []));
  return appendTlvs(body, tlvs);
}
