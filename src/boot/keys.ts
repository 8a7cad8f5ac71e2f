/**
 * Signing keys: Ed25519 (RFC 8032) and ECDSA over P-256 with SHA-256 (FIPS 186-4), through node:crypto only.
 * A public key is identified by its hash: SHA-256 of its DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7),
 * which is what the OTP fuses hold as the root-of-trust public key hash (ROTPK hash).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { InputError } from '../common/errors.js';
import type { SignatureAlgorithm } from './format.js';

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'ecdsa-p256'];

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** The algorithm a key belongs to, or undefined for any other key type or curve. */
export function keyAlgorithm(key: KeyObject): SignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-p256';
  return undefined;
}

/** DER SubjectPublicKeyInfo of a public (or private) key. */
export function publicKeyDer(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

/** The key's identity: SHA-256 of its DER SubjectPublicKeyInfo. */
export function keyHash(key: KeyObject | Uint8Array): Uint8Array {
  return sha256(key instanceof Uint8Array ? key : publicKeyDer(key));
}

export function generateSigningKey(algorithm: SignatureAlgorithm): KeyObject {
  const pair =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return pair.privateKey;
}

export function privateKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** Loads a PKCS#8 PEM private signing key; `file` names it in errors. */
export function loadPrivateKey(pem: string, file: string): { key: KeyObject; algorithm: SignatureAlgorithm } {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new InputError('BAD_KEY', `not a PEM private key: ${(e as Error).message}`, { file });
  }
  const algorithm = keyAlgorithm(key);
  if (!algorithm)
    throw new InputError('UNSUPPORTED_KEY', 'signing keys are Ed25519 or ECDSA P-256', { file });
  return { key, algorithm };
}

/** Loads a PEM public key (or the public half of a PEM private key). */
export function loadPublicKey(pem: string, file: string): { key: KeyObject; algorithm: SignatureAlgorithm } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new InputError('BAD_KEY', `not a PEM public or private key: ${(e as Error).message}`, { file });
  }
  const algorithm = keyAlgorithm(key);
  if (!algorithm) throw new InputError('UNSUPPORTED_KEY', 'keys are Ed25519 or ECDSA P-256', { file });
  return { key, algorithm };
}

/**
 * Decodes a public key from image bytes. Only the canonical DER encoding is accepted (re-encoding must
 * give the same bytes), so one key has exactly one hash.
 */
export function decodePublicKey(
  der: Uint8Array,
):
  | { ok: true; key: KeyObject; algorithm: SignatureAlgorithm }
  | { ok: false; reason: 'bad' | 'unsupported'; detail: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (e) {
    return { ok: false, reason: 'bad', detail: `not a DER SubjectPublicKeyInfo: ${(e as Error).message}` };
  }
  const algorithm = keyAlgorithm(key);
  if (!algorithm)
    return { ok: false, reason: 'unsupported', detail: 'only Ed25519 and ECDSA P-256 keys are accepted' };
  if (!Buffer.from(publicKeyDer(key)).equals(Buffer.from(der)))
    return { ok: false, reason: 'bad', detail: 'public key is not in canonical DER form' };
  return { ok: true, key, algorithm };
}

/** Ed25519 over the message; ECDSA P-256 over SHA-256(message), signature as r‖s (64 bytes, IEEE P1363). */
export function signMessage(algorithm: SignatureAlgorithm, key: KeyObject, message: Uint8Array): Uint8Array {
  if (algorithm === 'ed25519') return new Uint8Array(sign(null, message, key));
  return new Uint8Array(sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }));
}

export function verifyMessage(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (algorithm === 'ed25519') return verify(null, message, key, signature);
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Parses a 64-hex-digit SHA-256 value; undefined if it is not one. */
export function parseHash(text: string): Uint8Array | undefined {
  return /^[0-9a-fA-F]{64}$/.test(text) ? new Uint8Array(Buffer.from(text, 'hex')) : undefined;
}
