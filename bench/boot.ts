/**
 * Boot chain costs: image verification per signature algorithm (against the SHA-256 of the same bytes,
 * the floor any verifier pays), a whole ROM → kernel stage → Normal World boot on in-memory ports
 * (device work excluded: the stage ports do nothing), so the ROM's share of a cold boot is known, and the
 * same boot on the emulated iot-gateway (fuses, counters, flash through the bus; world ports idle).
 */
import { readFileSync } from 'node:fs';
import { percentiles, type BenchSuite } from './suite.js';
import { planFlashLayout } from '../src/boot/flash-layout.js';
import type { ComponentInput, ImageSpec } from '../src/boot/format.js';
import { parseImage } from '../src/boot/format.js';
import { developmentKeyFor } from '../src/boot/defaults.js';
import { generateSigningKey, keyHash, loadPrivateKey, sha256 } from '../src/boot/keys.js';
import { bootMachine, factoryProgramImages } from '../src/boot/machine-boot.js';
import { packagePath } from '../src/common/paths.js';
import { bringUp, loadBoardByName } from '../src/soc/index.js';
import type { BootPolicy } from '../src/boot/policy.js';
import type { BootDevice, SecurityConfiguration } from '../src/boot/ports.js';
import { coldBoot } from '../src/boot/rom.js';
import { signImage } from '../src/boot/sign.js';
import { provisionDevice } from '../src/boot/update.js';
import { verifyImage } from '../src/boot/verify.js';

function time(fn: () => void, runs: number): { median: number; p99: number; min: number; max: number } {
  for (let i = 0; i < Math.min(20, runs); i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return percentiles(samples);
}

async function timeAsync(fn: () => Promise<void>, runs: number): Promise<{ median: number; p99: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return percentiles(samples);
}

function bundle(taCount: number, taBytes: number): ImageSpec {
  const fill = (n: number, seed: number) =>
    Uint8Array.from({ length: n }, (_, i) => 32 + ((i * 31 + seed) % 90));
  const components: ComponentInput[] = [{ kind: 'kernel-config', name: 'kernel', bytes: fill(512, 1) }];
  for (let i = 0; i < taCount; i++)
    components.push(
      { kind: 'ta-manifest', name: `ta${i}`, bytes: fill(256, i) },
      { kind: 'ta-code', name: `ta${i}`, bytes: fill(taBytes, i + 7) },
    );
  return {
    kind: 'secure-bundle',
    version: { major: 1, minor: 0, revision: 0, build: 0 },
    securityCounter: 1,
    components,
  };
}

const normal: ImageSpec = {
  kind: 'normal-world',
  version: { major: 1, minor: 0, revision: 0, build: 0 },
  securityCounter: 1,
  components: [{ kind: 'nw-code', name: 'rich-os', bytes: new Uint8Array(64 * 1024).fill(0x61) }],
};

const security: SecurityConfiguration = {
  regions: [{ name: 'secure-ram', base: 0x0e00_0000, size: 0x0100_0000, world: 'secure' }],
  peripherals: [{ name: 'nic0', world: 'secure' }],
  interrupts: [{ line: 40, group: 'secure' }],
};

/** Plain in-memory ports; the stages do nothing, so only the chain's own work is timed. */
function device(rotpk: Uint8Array, size: number): BootDevice {
  const bytes = new Uint8Array(size).fill(0xff);
  let config: SecurityConfiguration = { regions: [], peripherals: [], interrupts: [] };
  let locked = false;
  const counters = [0, 0];
  return {
    rootOfTrust: { rotpkHash: () => rotpk.slice() },
    counters: {
      count: 2,
      read: (i) => counters[i] ?? 0,
      advanceTo: (i, v) => void (counters[i] = Math.max(counters[i] ?? 0, v)),
    },
    flash: {
      size,
      eraseBlockSize: 4096,
      read: (o, n) => bytes.slice(o, o + n),
      erase: (o, n) => void bytes.fill(0xff, o, o + n),
      program: (o, d) => void bytes.set(d, o),
    },
    security: {
      apply: (c) => void (config = c),
      readBack: () => config,
      lock: () => void (locked = true),
      isLocked: () => locked,
    },
    reset: { warmReset: () => void (locked = false) },
    secureWorld: { startKernel: () => {}, startTrustedApplication: () => {} },
    normalWorld: { start: () => {} },
  };
}

export const bootBench: BenchSuite = {
  name: 'boot',
  async run() {
    const ed = generateSigningKey('ed25519');
    const p256 = generateSigningKey('ecdsa-p256');
    const spec = bundle(4, 64 * 1024);
    const edImage = signImage(spec, ed);
    const p256Image = signImage(spec, p256);
    const runs = 200;
    const hashFloor = time(() => void sha256(edImage), runs);
    const parse = time(() => void parseImage(edImage), runs);
    const verifyEd = time(() => assertOk(verifyImage(edImage, { trustedKeyHash: keyHash(ed) }).ok), runs);
    const verifyP256 = time(
      () => assertOk(verifyImage(p256Image, { trustedKeyHash: keyHash(p256) }).ok),
      runs,
    );

    const layout = planFlashLayout({
      flashSize: 1024 * 1024,
      eraseBlockSize: 4096,
      secureSlotSize: 384 * 1024,
      normalSlotSize: 96 * 1024,
    });
    const policy: BootPolicy = { layout, security, counters: { secureBundle: 0, normalWorld: 1 } };
    const d = device(keyHash(ed), 1024 * 1024);
    provisionDevice(d.flash, layout, { secureBundle: edImage, normalWorld: signImage(normal, ed) });
    const boot = await timeAsync(async () => {
      d.reset.warmReset();
      assertOk((await coldBoot(d, policy)).status === 'running');
    }, 100);

    // The same images on the iot-gateway SoC, signed with its development key.
    const dev = developmentKeyFor('iot-gateway');
    if (!dev) throw new Error('no development key for iot-gateway');
    const devKey = loadPrivateKey(readFileSync(packagePath(dev.privateKey), 'utf8'), dev.privateKey).key;
    const socImages = { secureBundle: signImage(spec, devKey), normalWorld: signImage(normal, devKey) };
    const { board } = loadBoardByName('iot-gateway');
    const idle = {
      secureWorld: { startKernel: () => {}, startTrustedApplication: () => {} },
      normalWorld: { start: () => {} },
    };
    const bringUpSamples: number[] = [];
    const socSamples: number[] = [];
    let virtualNs = 0;
    for (let i = 0; i < 25; i++) {
      let start = process.hrtime.bigint();
      const m = bringUp(board, { seed: i, lock: false });
      bringUpSamples.push(Number(process.hrtime.bigint() - start) / 1000);
      factoryProgramImages(m, 'soc', socImages);
      start = process.hrtime.bigint();
      assertOk((await bootMachine(m, 'soc', idle)).outcome.status === 'running');
      socSamples.push(Number(process.hrtime.bigint() - start) / 1000);
      virtualNs = m.clock.nowNs;
    }
    const socBoot = percentiles(socSamples.slice(5));

    return {
      unit: 'µs',
      imageBytes: edImage.length,
      components: spec.components.length,
      sha256OfImage: hashFloor,
      parse,
      verifyEd25519: verifyEd,
      verifyEcdsaP256: verifyP256,
      verifyEd25519OverSha256Floor: round(verifyEd.median / hashFloor.median),
      verifyEcdsaP256OverSha256Floor: round(verifyP256.median / hashFloor.median),
      coldBootInMemory: { ...boot, secureBundleBytes: edImage.length, trustedApplications: 4 },
      coldBootOnIotGateway: { ...socBoot, virtualNs },
      bringUpIotGatewayUnlocked: percentiles(bringUpSamples.slice(5)),
      coldBootOnIotGatewayOverInMemory: round(socBoot.median / boot.median),
    };
  },
};

function assertOk(ok: boolean): void {
  if (!ok) throw new Error('bench image did not verify');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
