/** Building and signing images (the producer side of format.ts). */
import type { KeyObject } from 'node:crypto';
import { InputError } from '../common/errors.js';
import {
  appendTlvs,
  checkSpec,
  encodeBody,
  SIGNATURE_TLV,
  TLV_TYPES,
  type EncodedTlv,
  type ImageSpec,
  type SignatureAlgorithm,
} from './format.js';
import { keyAlgorithm, publicKeyDer, sha256, signMessage } from './keys.js';

/**
 * Encodes and signs an image: header + manifest + payload, then the TLV area holding SHA-256 of
 * header+manifest, the signer's public key and the signature over header+manifest.
 */
export function signImage(spec: ImageSpec, privateKey: KeyObject): Uint8Array {
  const problem = checkSpec(spec);
  if (problem) throw new InputError('BAD_IMAGE_SPEC', problem.detail, { field: problem.field });
  const algorithm = keyAlgorithm(privateKey);
  if (!algorithm || privateKey.type !== 'private')
    throw new InputError('UNSUPPORTED_KEY', 'images are signed with an Ed25519 or ECDSA P-256 private key');
  const body = encodeBody(spec, sha256);
  const signed = body.subarray(0, signedLength(body));
  return appendTlvs(body, [
    { type: TLV_TYPES.SHA256, value: sha256(signed) },
    { type: TLV_TYPES.PUBKEY, value: publicKeyDer(privateKey) },
    signatureTlv(algorithm, signMessage(algorithm, privateKey, signed)),
  ]);
}

/** An image with its digest but no key and no signature: what the ROM calls UNSIGNED. */
export function sealUnsigned(spec: ImageSpec): Uint8Array {
  const problem = checkSpec(spec);
  if (problem) throw new InputError('BAD_IMAGE_SPEC', problem.detail, { field: problem.field });
  const body = encodeBody(spec, sha256);
  return appendTlvs(body, [{ type: TLV_TYPES.SHA256, value: sha256(body.subarray(0, signedLength(body))) }]);
}

export function signatureTlv(algorithm: SignatureAlgorithm, signature: Uint8Array): EncodedTlv {
  return { type: SIGNATURE_TLV[algorithm], value: signature };
}

/** Header + manifest length of an encoded body (header bytes 8..11 hold the manifest size). */
function signedLength(body: Uint8Array): number {
  return 32 + new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(8, true);
}
