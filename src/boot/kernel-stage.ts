/**
 * The kernel's part of the chain, after the ROM has authenticated the secure bundle and started the
 * kernel: load each trusted application (hash-checked against the signed manifest, measured, then
 * started), authenticate and measure the Normal World image, apply and lock the security
 * configuration, and only then start the Normal World.
 */
import { assert } from '../common/errors.js';
import type { BankIndex } from './flash-layout.js';
import { guarded, imageFailure, type BootFailure } from './failure.js';
import type { MeasuredBoot } from './measured-boot.js';
import { PCR } from './measured-boot.js';
import type { BootPolicy } from './policy.js';
import type { BootDevice, TrustedApplicationHandoff } from './ports.js';
import { applyAndLock } from './security-config.js';
import { readImageFromSlot } from './slots.js';
import { authenticate, type AuthenticImage, type VerifiedComponent } from './verify.js';
import { taDataOwner } from './format.js';

export interface KernelStageInput {
  readonly device: BootDevice;
  readonly policy: BootPolicy;
  readonly bank: BankIndex;
  readonly bundle: AuthenticImage;
  readonly trustedKeyHash: Uint8Array;
  readonly measured: MeasuredBoot;
}

export type KernelStageResult =
  { ok: true; normal: AuthenticImage; trustedApplications: string[] } | { ok: false; failure: BootFailure };

export async function runKernelStage(input: KernelStageInput): Promise<KernelStageResult> {
  const { device, policy, bank, bundle, measured } = input;

  // Kernel → applications: each one verified and measured before it runs, in manifest order.
  const started: string[] = [];
  const entries = bundle.manifest.components;
  for (const manifestEntry of entries.filter((c) => c.kind === 'ta-manifest')) {
    const codeEntry = entries.find((c) => c.kind === 'ta-code' && c.name === manifestEntry.name);
    assert(codeEntry !== undefined, `the parser let through TA ${manifestEntry.name} without code`);
    const manifest = bundle.component(manifestEntry);
    if (!manifest.ok) return { ok: false, failure: imageFailure('kernel', 'secure-bundle', manifest.fault) };
    const code = bundle.component(codeEntry);
    if (!code.ok) return { ok: false, failure: imageFailure('kernel', 'secure-bundle', code.fault) };
    measured.extend(
      PCR.TRUSTED_APPLICATIONS,
      'kernel',
      'component',
      `ta-manifest:${manifestEntry.name}`,
      manifest.component.sha256,
    );
    measured.extend(
      PCR.TRUSTED_APPLICATIONS,
      'kernel',
      'component',
      `ta-code:${codeEntry.name}`,
      code.component.sha256,
    );
    // Its data (a ruleset, a configuration), each component hash-checked and measured after the code.
    const data: VerifiedComponent[] = [];
    for (const dataEntry of entries.filter(
      (c) => c.kind === 'ta-data' && taDataOwner(c.name) === manifestEntry.name,
    )) {
      const d = bundle.component(dataEntry);
      if (!d.ok) return { ok: false, failure: imageFailure('kernel', 'secure-bundle', d.fault) };
      measured.extend(
        PCR.TRUSTED_APPLICATIONS,
        'kernel',
        'component',
        `ta-data:${dataEntry.name}`,
        d.component.sha256,
      );
      data.push(d.component);
    }
    const app: TrustedApplicationHandoff = {
      name: manifestEntry.name,
      manifest: manifest.component,
      code: code.component,
      data,
    };
    const run = await guarded('kernel', 'STAGE_FAILED', `trusted application ${app.name}`, () =>
      device.secureWorld.startTrustedApplication(app),
    );
    if (!run.ok) return run;
    started.push(app.name);
  }

  // The Normal World image: same root of trust, its own anti-rollback counter.
  const counter = await guarded('kernel', 'DEVICE_ERROR', 'reading the normal-world NV counter', () =>
    device.counters.read(policy.counters.normalWorld),
  );
  if (!counter.ok) return counter;
  const slot = policy.layout.banks[bank].normal;
  const read = await guarded('kernel', 'DEVICE_ERROR', 'reading the normal-world slot', () =>
    readImageFromSlot(device.flash, slot),
  );
  if (!read.ok) return read;
  if (!read.value.ok) return { ok: false, failure: imageFailure('kernel', 'normal-world', read.value.fault) };
  const auth = authenticate(read.value.bytes, {
    trustedKeyHash: input.trustedKeyHash,
    expectedKind: 'normal-world',
    minSecurityCounter: counter.value,
  });
  if (!auth.ok) return { ok: false, failure: imageFailure('kernel', 'normal-world', auth.fault) };
  const normal = auth.image;
  const components = normal.allComponents();
  if (!components.ok) return { ok: false, failure: imageFailure('kernel', 'normal-world', components.fault) };
  measured.extend(PCR.NORMAL_WORLD, 'kernel', 'image-manifest', 'normal-world', normal.measurement);
  for (const c of components.components)
    measured.extend(PCR.NORMAL_WORLD, 'kernel', 'component', `${c.kind}:${c.name}`, c.sha256);

  // The security configuration, locked before anything of the Normal World runs.
  const locked = await guarded('kernel', 'DEVICE_ERROR', 'security configuration', () =>
    applyAndLock(device.security, policy.security),
  );
  if (!locked.ok) return locked;
  if (!locked.value.ok) return locked.value;
  measured.extend(
    PCR.SECURITY_CONFIGURATION,
    'kernel',
    'security-configuration',
    'tzasc+tzpc+interrupt-groups',
    locked.value.digest,
  );

  const run = await guarded('kernel', 'STAGE_FAILED', 'normal world', () =>
    device.normalWorld.start({ bank, image: normal.summary, components: components.components }),
  );
  if (!run.ok) return run;
  return { ok: true, normal, trustedApplications: started };
}
