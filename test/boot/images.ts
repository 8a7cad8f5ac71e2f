/** Sample images and a sample board policy for the boot tests. */
import type { KeyObject } from 'node:crypto';
import type { ComponentInput, ImageSpec } from '../../src/boot/format.js';
import { planFlashLayout } from '../../src/boot/flash-layout.js';
import { generateSigningKey, keyHash } from '../../src/boot/keys.js';
import type { BootPolicy } from '../../src/boot/policy.js';
import { signImage } from '../../src/boot/sign.js';
import type { BankImages } from '../../src/boot/update.js';

const text = (s: string) => new TextEncoder().encode(s);

export const rootKey: KeyObject = generateSigningKey('ed25519');
export const rootKeyHash = keyHash(rootKey);
export const otherKey: KeyObject = generateSigningKey('ed25519');
export const p256Key: KeyObject = generateSigningKey('ecdsa-p256');

export function bundleComponents(tag = 'v1'): ComponentInput[] {
  return [
    { kind: 'kernel-config', name: 'kernel', bytes: text(JSON.stringify({ partitions: 4, tag })) },
    {
      kind: 'ta-manifest',
      name: 'hello',
      bytes: text(JSON.stringify({ uuid: '8aaaf200-2450-11e4-abe2-0002a5d5c51b' })),
    },
    {
      kind: 'ta-code',
      name: 'hello',
      bytes: text(`export function invoke(cmd) { return cmd + 1; } // ${tag}`),
    },
    {
      kind: 'ta-manifest',
      name: 'storage',
      bytes: text(JSON.stringify({ uuid: 'f4e750bb-1437-4fbf-8785-8d3580c34994' })),
    },
    { kind: 'ta-code', name: 'storage', bytes: text(`export function invoke() { return 0; } // ${tag}`) },
  ];
}

export function bundleSpec(securityCounter = 1, tag = 'v1'): ImageSpec {
  return {
    kind: 'secure-bundle',
    version: { major: 1, minor: securityCounter, revision: 0, build: 7 },
    securityCounter,
    components: bundleComponents(tag),
  };
}

export function normalSpec(securityCounter = 1, tag = 'v1'): ImageSpec {
  return {
    kind: 'normal-world',
    version: { major: 2, minor: securityCounter, revision: 3, build: 0 },
    securityCounter,
    components: [
      { kind: 'nw-code', name: 'rich-os', bytes: text(`console.log('rich os ${tag}')`) },
      { kind: 'nw-code', name: 'tee-client', bytes: text(`export const client = '${tag}';`) },
    ],
  };
}

export function goodImages(securityCounter = 1, tag = 'v1', key = rootKey): BankImages {
  return {
    secureBundle: signImage(bundleSpec(securityCounter, tag), key),
    normalWorld: signImage(normalSpec(securityCounter, tag), key),
  };
}

export const FLASH_SIZE = 256 * 1024;
export const ERASE_BLOCK = 4096;

export const policy: BootPolicy = {
  layout: planFlashLayout({
    flashSize: FLASH_SIZE,
    eraseBlockSize: ERASE_BLOCK,
    secureSlotSize: 64 * 1024,
    normalSlotSize: 32 * 1024,
  }),
  security: {
    regions: [
      { name: 'secure-ram', base: 0x0e00_0000, size: 0x0100_0000, world: 'secure' },
      { name: 'dram', base: 0x4000_0000, size: 0x4000_0000, world: 'non-secure' },
    ],
    peripherals: [
      { name: 'otp', world: 'secure' },
      { name: 'nic0', world: 'secure' },
      { name: 'uart0', world: 'non-secure' },
    ],
    interrupts: [
      { line: 40, group: 'secure' },
      { line: 33, group: 'non-secure' },
    ],
  },
  counters: { secureBundle: 0, normalWorld: 1 },
};

/** Byte-level editing of an image. */
export function flip(image: Uint8Array, offset: number, xor = 0x01): Uint8Array {
  const copy = image.slice();
  copy[offset] = (copy[offset] as number) ^ xor;
  return copy;
}
