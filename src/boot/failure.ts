/** Why a boot attempt stopped: an image fault, or a step of the chain that failed. */
import { AssertionFailed } from '../common/errors.js';
import type { ImageFault, ImageFaultCode, ImageKind } from './format.js';

export type BootStage = 'rom' | 'kernel';

export type ChainFaultCode =
  /** The fuses hold no usable root-of-trust key hash: nothing can be verified, nothing boots. */
  | 'NO_ROOT_OF_TRUST'
  /** A device port (flash, counters, configurator) failed. */
  | 'DEVICE_ERROR'
  /** The kernel, a trusted application or the Normal World refused to start. */
  | 'STAGE_FAILED'
  /** The security configuration read back differs from the board policy. */
  | 'SECURITY_CONFIG_MISMATCH'
  /** The security configuration did not stay locked. */
  | 'SECURITY_CONFIG_NOT_LOCKED';

export interface BootFailure {
  readonly code: ImageFaultCode | ChainFaultCode;
  readonly stage: BootStage;
  readonly detail: string;
  /** For image faults: which image, and where in it. */
  readonly image?: ImageKind;
  readonly field?: string;
  readonly offset?: number;
}

export function imageFailure(stage: BootStage, image: ImageKind, f: ImageFault): BootFailure {
  return { code: f.code, stage, image, detail: f.detail, field: f.field, offset: f.offset };
}

export function chainFailure(
  stage: BootStage,
  code: ChainFaultCode,
  detail: string,
  field?: string,
): BootFailure {
  return field === undefined ? { code, stage, detail } : { code, stage, detail, field };
}

/** Runs a port call; a throw becomes a failure of the given code (Rampart's own assertion failures propagate). */
export async function guarded<T>(
  stage: BootStage,
  code: ChainFaultCode,
  what: string,
  call: () => T | Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; failure: BootFailure }> {
  try {
    return { ok: true, value: await call() };
  } catch (e) {
    if (e instanceof AssertionFailed) throw e;
    return {
      ok: false,
      failure: chainFailure(stage, code, `${what}: ${e instanceof Error ? e.message : String(e)}`),
    };
  }
}
