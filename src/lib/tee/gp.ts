/**
 * GlobalPlatform TEE constants shared by the Normal World client library and the trusted-application
 * framework. GP TEE Client API Specification v1.0 (GPD_SPE_007) §4.4 (constants) and
 * TEE Internal Core API v1.3.1 (GPD_SPE_010) §4.3.6 (return codes).
 */

/** Return codes (`TEEC_Result` / `TEE_Result`), Client API §4.4.2. */
export const TeeResult = {
  SUCCESS: 0x00000000,
  ERROR_GENERIC: 0xffff0000,
  ERROR_ACCESS_DENIED: 0xffff0001,
  ERROR_CANCEL: 0xffff0002,
  ERROR_ACCESS_CONFLICT: 0xffff0003,
  ERROR_EXCESS_DATA: 0xffff0004,
  ERROR_BAD_FORMAT: 0xffff0005,
  ERROR_BAD_PARAMETERS: 0xffff0006,
  ERROR_BAD_STATE: 0xffff0007,
  ERROR_ITEM_NOT_FOUND: 0xffff0008,
  ERROR_NOT_IMPLEMENTED: 0xffff0009,
  ERROR_NOT_SUPPORTED: 0xffff000a,
  ERROR_NO_DATA: 0xffff000b,
  ERROR_OUT_OF_MEMORY: 0xffff000c,
  ERROR_BUSY: 0xffff000d,
  ERROR_COMMUNICATION: 0xffff000e,
  ERROR_SECURITY: 0xffff000f,
  ERROR_SHORT_BUFFER: 0xffff0010,
  ERROR_TARGET_DEAD: 0xffff3024,
} as const;
export type TeeResult = (typeof TeeResult)[keyof typeof TeeResult];

const resultNames = new Map<number, string>(Object.entries(TeeResult).map(([k, v]) => [v, `TEE_${k}`]));

/** `TEE_ERROR_BAD_PARAMETERS` etc.; unknown codes as hex. */
export function resultName(code: number): string {
  return resultNames.get(code >>> 0) ?? `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

/** Where an error was detected (`TEEC_ORIGIN_*`), Client API §4.4.3. */
export const ReturnOrigin = {
  API: 1,
  COMMS: 2,
  TEE: 3,
  TRUSTED_APP: 4,
} as const;
export type ReturnOrigin = (typeof ReturnOrigin)[keyof typeof ReturnOrigin];

/** Parameter types (`TEEC_NONE` …), Client API §4.4.5. */
export const ParamType = {
  NONE: 0x0,
  VALUE_INPUT: 0x1,
  VALUE_OUTPUT: 0x2,
  VALUE_INOUT: 0x3,
  MEMREF_TEMP_INPUT: 0x5,
  MEMREF_TEMP_OUTPUT: 0x6,
  MEMREF_TEMP_INOUT: 0x7,
  MEMREF_WHOLE: 0xc,
  MEMREF_PARTIAL_INPUT: 0xd,
  MEMREF_PARTIAL_OUTPUT: 0xe,
  MEMREF_PARTIAL_INOUT: 0xf,
} as const;
export type ParamType = (typeof ParamType)[keyof typeof ParamType];

const paramTypes: ReadonlySet<number> = new Set(Object.values(ParamType));

export function isParamType(t: number): t is ParamType {
  return paramTypes.has(t);
}

/** `TEEC_PARAM_TYPES(t0, t1, t2, t3)`: four 4-bit fields, Client API §4.5.1. */
export function packParamTypes(
  t0: ParamType,
  t1: ParamType = 0,
  t2: ParamType = 0,
  t3: ParamType = 0,
): number {
  return (t0 | (t1 << 4) | (t2 << 8) | (t3 << 12)) >>> 0;
}

export function paramTypeAt(packed: number, index: number): number {
  return (packed >>> (4 * index)) & 0xf;
}

/** Login methods (`TEEC_LOGIN_*`), Client API §4.4.4. */
export const LoginMethod = {
  PUBLIC: 0x0,
  USER: 0x1,
  GROUP: 0x2,
  APPLICATION: 0x4,
  USER_APPLICATION: 0x5,
  GROUP_APPLICATION: 0x6,
} as const;

/** Shared memory flags (`TEEC_MEM_INPUT` / `TEEC_MEM_OUTPUT`), Client API §4.4.6. */
export const SharedMemoryFlag = {
  INPUT: 0x1,
  OUTPUT: 0x2,
} as const;

/** Number of parameters of an invocation, Client API §4.4.1 (`TEEC_CONFIG_PAYLOAD_REF_COUNT` is 4). */
export const PARAM_COUNT = 4;
