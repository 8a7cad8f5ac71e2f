/**
 * The embedded default boards and their DEVELOPMENT signing keys (keys/dev/README.md). These keys are
 * public: images signed with them prove nothing, and tools say so whenever they meet one.
 */
import type { SignatureAlgorithm } from './format.js';
import { toHex } from './keys.js';

export interface DevelopmentKey {
  readonly board: string;
  readonly algorithm: SignatureAlgorithm;
  /** Private key, relative to the package root. */
  readonly privateKey: string;
  readonly publicKey: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo: what the board's OTP fuses hold. */
  readonly keyHash: string;
}

export const DEVELOPMENT_KEYS: readonly DevelopmentKey[] = [
  {
    board: 'iot-gateway',
    algorithm: 'ed25519',
    privateKey: 'keys/dev/iot-gateway.DEVELOPMENT-ONLY.ed25519.key.pem',
    publicKey: 'keys/dev/iot-gateway.DEVELOPMENT-ONLY.ed25519.pub.pem',
    keyHash: '7715bf5593fdc595afce396bd190034935d61170a8ee6f3a3580cc0a45a0b26c',
  },
  {
    board: 'uconnect-headunit',
    algorithm: 'ecdsa-p256',
    privateKey: 'keys/dev/uconnect-headunit.DEVELOPMENT-ONLY.ecdsa-p256.key.pem',
    publicKey: 'keys/dev/uconnect-headunit.DEVELOPMENT-ONLY.ecdsa-p256.pub.pem',
    keyHash: 'e5a46da190609fd93db6b706d6119fc0e00e0a9f3e41ffbff3a8e97aa2c1f4c1',
  },
];

export const DEFAULT_BOARDS: readonly string[] = DEVELOPMENT_KEYS.map((k) => k.board);

export function developmentKeyFor(board: string): DevelopmentKey | undefined {
  return DEVELOPMENT_KEYS.find((k) => k.board === board);
}

/** The development key with this hash, if the hash is one of them. */
export function developmentKeyWithHash(hash: Uint8Array): DevelopmentKey | undefined {
  const hex = toHex(hash);
  return DEVELOPMENT_KEYS.find((k) => k.keyHash === hex);
}
