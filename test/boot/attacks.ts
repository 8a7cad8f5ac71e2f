/**
 * The image attacks and the helpers to build them, shared by the chain tests on in-memory ports and on
 * the emulated SoC.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import {
  parseImage,
  TLV_TYPES,
  type ComponentKind,
  type ImageFaultCode,
  type ImageKind,
} from '../../src/boot/format.js';
import type { FlashLayout } from '../../src/boot/flash-layout.js';
import { signImage } from '../../src/boot/sign.js';
import { SLOT_TRAILER_SIZE } from '../../src/boot/slots.js';
import type { BankImages } from '../../src/boot/update.js';
import { bundleSpec, flip, goodImages, normalSpec } from './images.js';
import { bodyOf, seal, setU32 } from './tamper.js';

/** Offset in the image of a component's bytes. */
export function componentOffset(image: Uint8Array, kind: ComponentKind, name: string): number {
  const r = parseImage(image);
  assert.ok(r.ok);
  const c = r.image.manifest.components.find((x) => x.kind === kind && x.name === name);
  assert.ok(c);
  return c.offset;
}

export interface ImageAttack {
  readonly name: string;
  readonly images: () => BankImages;
  /** Optional damage done after staging, to the flash (not the image): `corrupt` changes the byte at a flash offset. */
  readonly after?: (corrupt: (flashOffset: number) => void, layout: FlashLayout) => void;
  readonly code: ImageFaultCode;
  readonly stage: 'rom' | 'kernel';
  readonly image: ImageKind;
}

/**
 * Every image attack of docs/boot.md §Tests, as an update staged on a device whose confirmed bank runs
 * genuine images at security counter 2: images signed with `rootKey` (the key the fuses name) at counter 3,
 * then damaged; `otherKey` is a key the fuses do not name.
 */
export function imageAttacks(rootKey: KeyObject, otherKey: KeyObject): ImageAttack[] {
  const update = () => goodImages(3, 'v3', rootKey);
  const withSecure = (secureBundle: Uint8Array): BankImages => ({ ...update(), secureBundle });
  const withNormal = (normalWorld: Uint8Array): BankImages => ({ ...update(), normalWorld });
  return [
    {
      name: 'tampered kernel configuration',
      images: () =>
        withSecure(
          flip(update().secureBundle, componentOffset(update().secureBundle, 'kernel-config', 'kernel')),
        ),
      code: 'COMPONENT_TAMPERED',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'tampered trusted application code',
      images: () => {
        const s = update().secureBundle;
        return withSecure(flip(s, componentOffset(s, 'ta-code', 'storage') + 3));
      },
      code: 'COMPONENT_TAMPERED',
      stage: 'kernel',
      image: 'secure-bundle',
    },
    {
      name: 'tampered Normal World component',
      images: () => {
        const n = update().normalWorld;
        return withNormal(flip(n, componentOffset(n, 'nw-code', 'tee-client')));
      },
      code: 'COMPONENT_TAMPERED',
      stage: 'kernel',
      image: 'normal-world',
    },
    {
      name: 'tampered manifest (security counter raised)',
      images: () => withSecure(flip(update().secureBundle, 32 + 8, 0x40)),
      code: 'DIGEST_MISMATCH',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'tampered manifest with the digest recomputed',
      images: () => {
        const body = bodyOf(update().secureBundle);
        body[32 + 8] = 0x40;
        const resealed = seal(body, otherKey, { claimedKey: rootKey });
        return withSecure(resealed);
      },
      code: 'BAD_SIGNATURE',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'unsigned',
      images: () => withSecure(seal(bodyOf(update().secureBundle), rootKey, { omitSignature: true })),
      code: 'UNSIGNED',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'signed by a key the fuses do not name',
      images: () => goodImages(3, 'v3', otherKey),
      code: 'KEY_NOT_TRUSTED',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'Normal World signed by a key the fuses do not name',
      images: () => withNormal(signImage(normalSpec(3), otherKey)),
      code: 'KEY_NOT_TRUSTED',
      stage: 'kernel',
      image: 'normal-world',
    },
    {
      name: 'wrongly signed: another key, claiming the trusted one',
      images: () => withSecure(seal(bodyOf(update().secureBundle), otherKey, { claimedKey: rootKey })),
      code: 'BAD_SIGNATURE',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'rolled back secure bundle (genuine, older)',
      images: () => withSecure(signImage(bundleSpec(1), rootKey)),
      code: 'ROLLED_BACK',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'rolled back Normal World (genuine, older)',
      images: () => withNormal(signImage(normalSpec(1), rootKey)),
      code: 'ROLLED_BACK',
      stage: 'kernel',
      image: 'normal-world',
    },
    {
      name: 'truncated image',
      images: () => withSecure(update().secureBundle.slice(0, -40)),
      code: 'TRUNCATED',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'interrupted write (no slot trailer)',
      images: update,
      after: (corrupt, layout) =>
        corrupt(layout.banks[1].secure.offset + layout.banks[1].secure.size - SLOT_TRAILER_SIZE + 8),
      code: 'TRUNCATED',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'trailing garbage',
      images: () => withSecure(Uint8Array.from([...update().secureBundle, 0xde, 0xad])),
      code: 'TRAILING_DATA',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'duplicate TLV',
      images: () =>
        withSecure(
          seal(bodyOf(update().secureBundle), rootKey, {
            extra: [{ type: TLV_TYPES.SHA256, value: new Uint8Array(32) }],
          }),
        ),
      code: 'DUPLICATE_TLV',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'unknown TLV',
      images: () =>
        withNormal(
          seal(bodyOf(update().normalWorld), rootKey, { extra: [{ type: 0x50, value: new Uint8Array(4) }] }),
        ),
      code: 'UNKNOWN_TLV',
      stage: 'kernel',
      image: 'normal-world',
    },
    {
      name: 'size overflow (component sizes that wrap a 32-bit sum), signed by the trusted key',
      images: () => {
        const body = bodyOf(update().secureBundle);
        const e0 = 32 + 16;
        const e1 = e0 + 88;
        const view = new DataView(body.buffer);
        const first = view.getUint32(e0 + 4, true);
        setU32(body, e0 + 4, 0xffff_fff0);
        setU32(body, e1 + 4, view.getUint32(e1 + 4, true) + first + 16);
        return withSecure(seal(body, rootKey));
      },
      code: 'SIZE_OVERFLOW',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'a Normal World image in the secure slot (mix and match)',
      images: () => withSecure(update().normalWorld),
      code: 'WRONG_IMAGE_KIND',
      stage: 'rom',
      image: 'secure-bundle',
    },
    {
      name: 'a secure bundle in the Normal World slot',
      images: () => withNormal(update().secureBundle),
      code: 'WRONG_IMAGE_KIND',
      stage: 'kernel',
      image: 'normal-world',
    },
  ];
}
