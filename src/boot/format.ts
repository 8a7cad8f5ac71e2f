/**
 * The Rampart signed image format (byte layout in docs/boot.md §"Image format"), modelled on MCUboot's
 * header + body + TLV trailer: a 32-byte header, a manifest (version, security counter, one entry per
 * component with its SHA-256), the component bytes, then an unprotected TLV area holding the digest of
 * header+manifest, the signer's public key and the signature. The signature covers header+manifest; the
 * manifest covers the components through their hashes, so each stage can check only what it loads.
 *
 * The parser trusts nothing: every size is checked against its container before it is used, every
 * reserved byte must be zero, unknown and duplicate TLVs are refused, and the image must end exactly
 * where its TLV area ends. Problems come back as an `ImageFault` naming the field and byte offset.
 */
import { assert } from '../common/errors.js';

// ---- constants -------------------------------------------------------------------------------------

/** Header magic: the ASCII bytes "RIMG". */
export const IMAGE_MAGIC = Uint8Array.of(0x52, 0x49, 0x4d, 0x47);
export const HEADER_SIZE = 32;
export const FORMAT_VERSION = 1;
export const MANIFEST_FIXED_SIZE = 16;
export const COMPONENT_ENTRY_SIZE = 88;
export const COMPONENT_NAME_MAX = 48;
export const MAX_COMPONENTS = 255;
/** TLV area magic: the ASCII bytes "RTLV". */
export const TLV_MAGIC = Uint8Array.of(0x52, 0x54, 0x4c, 0x56);
export const TLV_INFO_SIZE = 8;
export const TLV_HEADER_SIZE = 4;
/** No image, whatever its sizes say, may exceed this many bytes (64 MiB). */
export const MAX_IMAGE_SIZE = 64 * 1024 * 1024;
export const SHA256_SIZE = 32;
export const SIGNATURE_SIZE = 64;
export const MAX_PUBLIC_KEY_SIZE = 512;

export type ImageKind = 'secure-bundle' | 'normal-world';
export const IMAGE_KIND_CODES: Readonly<Record<ImageKind, number>> = {
  'secure-bundle': 0x01,
  'normal-world': 0x02,
};

export type ComponentKind = 'kernel-config' | 'ta-manifest' | 'ta-code' | 'ta-data' | 'nw-code';
export const COMPONENT_KIND_CODES: Readonly<Record<ComponentKind, number>> = {
  'kernel-config': 0x01,
  'ta-manifest': 0x02,
  'ta-code': 0x03,
  /** Data of one trusted application (e.g. a firewall's ruleset), named `<application>/<file>`. */
  'ta-data': 0x04,
  'nw-code': 0x10,
};

/** The trusted application a `ta-data` component belongs to: the part of its name before the first `/`. */
export function taDataOwner(name: string): string | undefined {
  const slash = name.indexOf('/');
  return slash > 0 && slash < name.length - 1 ? name.slice(0, slash) : undefined;
}

/** TLV types; the numbers are MCUboot's (bootutil/image.h) where MCUboot has the same item. */
export const TLV_TYPES = {
  PUBKEY: 0x02,
  SHA256: 0x10,
  ECDSA_P256: 0x22,
  ED25519: 0x24,
} as const;
export type TlvName = keyof typeof TLV_TYPES;

export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256';
export const SIGNATURE_TLV: Readonly<Record<SignatureAlgorithm, number>> = {
  ed25519: TLV_TYPES.ED25519,
  'ecdsa-p256': TLV_TYPES.ECDSA_P256,
};

/** Component names: 1 to 48 bytes of [A-Za-z0-9._/-]. */
export const COMPONENT_NAME_PATTERN = /^[A-Za-z0-9._/-]{1,48}$/;

// ---- faults ----------------------------------------------------------------------------------------

/** Malformed: the bytes are not a well-formed image. */
export const MALFORMED_CODES = [
  'TRUNCATED',
  'EMPTY_SLOT',
  'BAD_MAGIC',
  'BAD_HEADER_SIZE',
  'UNSUPPORTED_FORMAT',
  'UNKNOWN_IMAGE_KIND',
  'RESERVED_NONZERO',
  'SIZE_OVERFLOW',
  'MANIFEST_SIZE_MISMATCH',
  'BAD_COMPONENT',
  'DUPLICATE_COMPONENT',
  'INVALID_BUNDLE',
  'PAYLOAD_SIZE_MISMATCH',
  'BAD_TLV_MAGIC',
  'BAD_TLV_LENGTH',
  'UNKNOWN_TLV',
  'DUPLICATE_TLV',
  'TRAILING_DATA',
  'MISSING_DIGEST',
] as const;

/** Rejected: a well-formed image that is not authentic, not trusted, or not acceptable on this device. */
export const REJECTED_CODES = [
  'DIGEST_MISMATCH',
  'UNSIGNED',
  'MISSING_PUBLIC_KEY',
  'BAD_PUBLIC_KEY',
  'UNSUPPORTED_KEY',
  'KEY_NOT_TRUSTED',
  'SIGNATURE_ALGORITHM_MISMATCH',
  'BAD_SIGNATURE',
  'WRONG_IMAGE_KIND',
  'ROLLED_BACK',
  'COMPONENT_TAMPERED',
] as const;

export type MalformedCode = (typeof MALFORMED_CODES)[number];
export type RejectedCode = (typeof REJECTED_CODES)[number];
export type ImageFaultCode = MalformedCode | RejectedCode;

export interface ImageFault {
  readonly code: ImageFaultCode;
  readonly detail: string;
  /** Dotted path of the offending field, e.g. `manifest.components[2].size`. */
  readonly field: string;
  /** Byte offset of that field from the start of the image. */
  readonly offset: number;
}

export function isMalformed(code: ImageFaultCode): code is MalformedCode {
  return (MALFORMED_CODES as readonly string[]).includes(code);
}

export function fault(code: ImageFaultCode, field: string, offset: number, detail: string): ImageFault {
  return { code, field, offset, detail };
}

// ---- parsed structures -------------------------------------------------------------------------------

export interface ImageVersion {
  readonly major: number;
  readonly minor: number;
  readonly revision: number;
  readonly build: number;
}

export interface ImageHeader {
  readonly kind: ImageKind;
  readonly manifestSize: number;
  readonly payloadSize: number;
}

export interface ComponentEntry {
  readonly index: number;
  readonly kind: ComponentKind;
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  /** Offset of the component's bytes in the image. */
  readonly offset: number;
  /** Offset of its 88-byte entry in the image. */
  readonly entryOffset: number;
}

export interface Manifest {
  readonly version: ImageVersion;
  readonly securityCounter: number;
  readonly components: readonly ComponentEntry[];
}

export interface Tlv {
  readonly type: number;
  /** Offset of the TLV's 4-byte header in the image. */
  readonly offset: number;
  readonly value: Uint8Array;
}

export interface ParsedImage {
  /** The image bytes the parse was made from; every view below points into it. */
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
  readonly manifest: Manifest;
  /** Header + manifest: what the digest TLV and the signature cover. */
  readonly signedLength: number;
  readonly payloadOffset: number;
  readonly tlvOffset: number;
  readonly digest: Tlv;
  readonly publicKey: Tlv | undefined;
  readonly signature: (Tlv & { readonly algorithm: SignatureAlgorithm }) | undefined;
}

export type ParseResult = { ok: true; image: ParsedImage } | { ok: false; fault: ImageFault };

// ---- little-endian helpers ---------------------------------------------------------------------------

function u16(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

function putU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function bytesEqual(a: Uint8Array, b: Uint8Array, at = 0): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

function firstNonZero(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] !== 0) return i;
  return -1;
}

function codeName<K extends string>(table: Readonly<Record<K, number>>, code: number): K | undefined {
  for (const [name, value] of Object.entries(table) as [K, number][]) if (value === code) return name;
  return undefined;
}

export function formatVersion(v: ImageVersion): string {
  return `${v.major}.${v.minor}.${v.revision}+${v.build}`;
}

// ---- header --------------------------------------------------------------------------------------------

/**
 * Checks the 32-byte header at the start of `bytes`. Used by the parser and by the slot reader, which
 * must know the image's extent before it reads the rest.
 */
export function parseHeader(
  bytes: Uint8Array,
): { ok: true; header: ImageHeader } | { ok: false; fault: ImageFault } {
  if (bytes.length < HEADER_SIZE)
    return {
      ok: false,
      fault: fault(
        'TRUNCATED',
        'header',
        bytes.length,
        `image is ${bytes.length} bytes, the header alone is 32`,
      ),
    };
  if (!bytesEqual(bytes, IMAGE_MAGIC))
    return {
      ok: false,
      fault: fault('BAD_MAGIC', 'header.magic', 0, 'not a Rampart image (magic is not "RIMG")'),
    };
  const headerSize = u16(bytes, 4);
  if (headerSize !== HEADER_SIZE)
    return {
      ok: false,
      fault: fault('BAD_HEADER_SIZE', 'header.headerSize', 4, `header size is ${headerSize}, expected 32`),
    };
  if (bytes[6] !== FORMAT_VERSION)
    return {
      ok: false,
      fault: fault(
        'UNSUPPORTED_FORMAT',
        'header.formatVersion',
        6,
        `format version ${bytes[6]} is not supported (1 is)`,
      ),
    };
  const kind = codeName(IMAGE_KIND_CODES, bytes[7] ?? 0);
  if (kind === undefined)
    return {
      ok: false,
      fault: fault(
        'UNKNOWN_IMAGE_KIND',
        'header.imageKind',
        7,
        `unknown image kind 0x${hex8(bytes[7] ?? 0)}`,
      ),
    };
  const manifestSize = u32(bytes, 8);
  const payloadSize = u32(bytes, 12);
  const flags = u32(bytes, 16);
  if (flags !== 0)
    return {
      ok: false,
      fault: fault('RESERVED_NONZERO', 'header.flags', 16, 'no flags are defined; must be 0'),
    };
  const reserved = firstNonZero(bytes, 20, HEADER_SIZE);
  if (reserved >= 0)
    return {
      ok: false,
      fault: fault('RESERVED_NONZERO', 'header.reserved', reserved, 'reserved byte is not 0'),
    };
  if (HEADER_SIZE + manifestSize + TLV_INFO_SIZE > MAX_IMAGE_SIZE)
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'header.manifestSize',
        8,
        `manifest size ${manifestSize} exceeds the 64 MiB image limit`,
      ),
    };
  if (HEADER_SIZE + manifestSize + payloadSize + TLV_INFO_SIZE > MAX_IMAGE_SIZE)
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'header.payloadSize',
        12,
        `payload size ${payloadSize} exceeds the 64 MiB image limit`,
      ),
    };
  return { ok: true, header: { kind, manifestSize, payloadSize } };
}

function hex8(v: number): string {
  return v.toString(16).padStart(2, '0');
}

// ---- manifest ------------------------------------------------------------------------------------------

function parseManifest(
  bytes: Uint8Array,
  header: ImageHeader,
): { ok: true; manifest: Manifest } | { ok: false; fault: ImageFault } {
  const at = HEADER_SIZE;
  const fail = (code: ImageFaultCode, field: string, offset: number, detail: string) =>
    ({ ok: false, fault: fault(code, `manifest.${field}`, offset, detail) }) as const;
  if (header.manifestSize < MANIFEST_FIXED_SIZE)
    return {
      ok: false,
      fault: fault(
        'MANIFEST_SIZE_MISMATCH',
        'header.manifestSize',
        8,
        `manifest size ${header.manifestSize} < 16`,
      ),
    };
  if (bytes.length < at + header.manifestSize)
    return fail(
      'TRUNCATED',
      'components',
      bytes.length,
      `image ends inside the manifest (${header.manifestSize} bytes from offset 32)`,
    );
  const version = {
    major: bytes[at] ?? 0,
    minor: bytes[at + 1] ?? 0,
    revision: u16(bytes, at + 2),
    build: u32(bytes, at + 4),
  };
  const securityCounter = u32(bytes, at + 8);
  const count = u16(bytes, at + 12);
  if (u16(bytes, at + 14) !== 0)
    return fail('RESERVED_NONZERO', 'reserved', at + 14, 'reserved bytes are not 0');
  if (count === 0)
    return fail('INVALID_BUNDLE', 'componentCount', at + 12, 'the manifest lists no component');
  if (count > MAX_COMPONENTS)
    return fail('SIZE_OVERFLOW', 'componentCount', at + 12, `${count} components; at most ${MAX_COMPONENTS}`);
  if (header.manifestSize !== MANIFEST_FIXED_SIZE + count * COMPONENT_ENTRY_SIZE)
    return fail(
      'MANIFEST_SIZE_MISMATCH',
      'componentCount',
      at + 12,
      `${count} components need a ${MANIFEST_FIXED_SIZE + count * COMPONENT_ENTRY_SIZE}-byte manifest, header says ${header.manifestSize}`,
    );

  const payloadOffset = HEADER_SIZE + header.manifestSize;
  const payloadEnd = payloadOffset + header.payloadSize;
  const components: ComponentEntry[] = [];
  const seen = new Set<string>();
  let cursor = payloadOffset;
  for (let i = 0; i < count; i++) {
    const e = at + MANIFEST_FIXED_SIZE + i * COMPONENT_ENTRY_SIZE;
    const field = `components[${i}]`;
    const kind = codeName(COMPONENT_KIND_CODES, bytes[e] ?? 0);
    if (kind === undefined)
      return fail('BAD_COMPONENT', `${field}.kind`, e, `unknown component kind 0x${hex8(bytes[e] ?? 0)}`);
    const nameLength = bytes[e + 1] ?? 0;
    if (nameLength < 1 || nameLength > COMPONENT_NAME_MAX)
      return fail(
        'BAD_COMPONENT',
        `${field}.nameLength`,
        e + 1,
        `name length ${nameLength} is not 1..${COMPONENT_NAME_MAX}`,
      );
    if (u16(bytes, e + 2) !== 0)
      return fail('RESERVED_NONZERO', `${field}.reserved`, e + 2, 'reserved bytes are not 0');
    const size = u32(bytes, e + 4);
    const nameBytes = bytes.subarray(e + 8, e + 8 + nameLength);
    const name = String.fromCharCode(...nameBytes);
    if (!COMPONENT_NAME_PATTERN.test(name))
      return fail(
        'BAD_COMPONENT',
        `${field}.name`,
        e + 8,
        `component name ${JSON.stringify(name)} is not [A-Za-z0-9._/-]+`,
      );
    const padding = firstNonZero(bytes, e + 8 + nameLength, e + 8 + COMPONENT_NAME_MAX);
    if (padding >= 0) return fail('RESERVED_NONZERO', `${field}.name`, padding, 'name padding is not 0');
    const key = `${kind}:${name}`;
    if (seen.has(key))
      return fail('DUPLICATE_COMPONENT', `${field}.name`, e + 8, `second ${kind} component named ${name}`);
    seen.add(key);
    if (size > payloadEnd - cursor)
      return fail(
        'SIZE_OVERFLOW',
        `${field}.size`,
        e + 4,
        `component ${name} (${size} bytes at offset ${cursor}) runs past the payload end at offset ${payloadEnd}`,
      );
    components.push({
      index: i,
      kind,
      name,
      size,
      sha256: bytes.subarray(e + 56, e + 56 + SHA256_SIZE),
      offset: cursor,
      entryOffset: e,
    });
    cursor += size;
  }
  if (cursor !== payloadEnd)
    return {
      ok: false,
      fault: fault(
        'PAYLOAD_SIZE_MISMATCH',
        'header.payloadSize',
        12,
        `payload is ${header.payloadSize} bytes but the components add up to ${cursor - payloadOffset}`,
      ),
    };
  const composition = checkComposition(header.kind, components);
  if (composition) return { ok: false, fault: composition };
  return { ok: true, manifest: { version, securityCounter, components } };
}

/** What each image kind must contain (docs/boot.md §"Component rules"). */
export function checkComposition(
  kind: ImageKind,
  components: readonly ComponentEntry[],
): ImageFault | undefined {
  const bad = (c: ComponentEntry, detail: string) =>
    fault('INVALID_BUNDLE', `manifest.components[${c.index}].kind`, c.entryOffset, detail);
  if (kind === 'normal-world') {
    for (const c of components)
      if (c.kind !== 'nw-code') return bad(c, `a normal-world image holds only nw-code, not ${c.kind}`);
    return undefined;
  }
  let kernel = 0;
  const manifests = new Set<string>();
  const codes = new Set<string>();
  for (const c of components) {
    if (c.kind === 'nw-code') return bad(c, 'a secure bundle holds no nw-code');
    if (c.kind === 'kernel-config' && ++kernel > 1)
      return bad(c, 'a secure bundle holds exactly one kernel-config');
    if (c.kind === 'ta-manifest') manifests.add(c.name);
    if (c.kind === 'ta-code') codes.add(c.name);
  }
  if (kernel === 0)
    return fault(
      'INVALID_BUNDLE',
      'manifest.components',
      HEADER_SIZE + MANIFEST_FIXED_SIZE,
      'a secure bundle needs a kernel-config',
    );
  for (const c of components) {
    if (c.kind === 'ta-manifest' && !codes.has(c.name))
      return bad(c, `trusted application ${c.name} has a manifest but no ta-code`);
    if (c.kind === 'ta-code' && !manifests.has(c.name))
      return bad(c, `trusted application ${c.name} has code but no ta-manifest`);
    if (c.kind === 'ta-data') {
      const owner = taDataOwner(c.name);
      if (owner === undefined || !manifests.has(owner))
        return bad(
          c,
          `ta-data ${c.name} does not name a trusted application of the bundle (<application>/<file>)`,
        );
    }
  }
  return undefined;
}

// ---- whole image -------------------------------------------------------------------------------------

const TLV_NAMES: Readonly<Record<number, TlvName>> = Object.fromEntries(
  Object.entries(TLV_TYPES).map(([name, code]) => [code, name as TlvName]),
);

function tlvValueSizeOk(type: number, length: number): boolean {
  switch (type) {
    case TLV_TYPES.SHA256:
      return length === SHA256_SIZE;
    case TLV_TYPES.ED25519:
    case TLV_TYPES.ECDSA_P256:
      return length === SIGNATURE_SIZE;
    case TLV_TYPES.PUBKEY:
      return length >= 1 && length <= MAX_PUBLIC_KEY_SIZE;
    default:
      return false;
  }
}

/** Parses a whole image, strictly: the bytes must be exactly one image, nothing more. */
export function parseImage(bytes: Uint8Array): ParseResult {
  const h = parseHeader(bytes);
  if (!h.ok) return h;
  const header = h.header;
  const m = parseManifest(bytes, header);
  if (!m.ok) return m;
  const payloadOffset = HEADER_SIZE + header.manifestSize;
  const tlvOffset = payloadOffset + header.payloadSize;
  if (bytes.length < tlvOffset)
    return {
      ok: false,
      fault: fault(
        'TRUNCATED',
        'payload',
        bytes.length,
        `image ends inside the payload, which runs to offset ${tlvOffset}`,
      ),
    };
  if (bytes.length < tlvOffset + TLV_INFO_SIZE)
    return {
      ok: false,
      fault: fault(
        'TRUNCATED',
        'tlv',
        bytes.length,
        `image ends before its TLV area header at offset ${tlvOffset}`,
      ),
    };
  if (!bytesEqual(bytes, TLV_MAGIC, tlvOffset))
    return {
      ok: false,
      fault: fault('BAD_TLV_MAGIC', 'tlv.magic', tlvOffset, 'TLV area magic is not "RTLV"'),
    };
  const tlvTotal = u32(bytes, tlvOffset + 4);
  if (tlvTotal < TLV_INFO_SIZE)
    return {
      ok: false,
      fault: fault('BAD_TLV_LENGTH', 'tlv.totalSize', tlvOffset + 4, `TLV area size ${tlvTotal} < 8`),
    };
  const end = tlvOffset + tlvTotal;
  if (end > MAX_IMAGE_SIZE)
    return {
      ok: false,
      fault: fault(
        'SIZE_OVERFLOW',
        'tlv.totalSize',
        tlvOffset + 4,
        `TLV area size ${tlvTotal} exceeds the 64 MiB image limit`,
      ),
    };
  if (bytes.length < end)
    return {
      ok: false,
      fault: fault(
        'TRUNCATED',
        'tlv',
        bytes.length,
        `image ends at offset ${bytes.length}, its TLV area runs to ${end}`,
      ),
    };
  if (bytes.length > end)
    return {
      ok: false,
      fault: fault(
        'TRAILING_DATA',
        'image',
        end,
        `${bytes.length - end} bytes after the end of the image at offset ${end}`,
      ),
    };

  let digest: Tlv | undefined;
  let publicKey: Tlv | undefined;
  let signature: (Tlv & { algorithm: SignatureAlgorithm }) | undefined;
  let at = tlvOffset + TLV_INFO_SIZE;
  for (let i = 0; at < end; i++) {
    const field = `tlv[${i}]`;
    if (end - at < TLV_HEADER_SIZE)
      return {
        ok: false,
        fault: fault('BAD_TLV_LENGTH', field, at, 'TLV header crosses the end of the TLV area'),
      };
    const type = u16(bytes, at);
    const length = u16(bytes, at + 2);
    if (length > end - at - TLV_HEADER_SIZE)
      return {
        ok: false,
        fault: fault(
          'BAD_TLV_LENGTH',
          `${field}.length`,
          at + 2,
          `TLV value of ${length} bytes crosses the end of the TLV area`,
        ),
      };
    const name = TLV_NAMES[type];
    if (name === undefined)
      return {
        ok: false,
        fault: fault('UNKNOWN_TLV', `${field}.type`, at, `unknown TLV type 0x${type.toString(16)}`),
      };
    if (!tlvValueSizeOk(type, length))
      return {
        ok: false,
        fault: fault('BAD_TLV_LENGTH', `${field}.length`, at + 2, `${name} TLV cannot be ${length} bytes`),
      };
    const tlv: Tlv = {
      type,
      offset: at,
      value: bytes.subarray(at + TLV_HEADER_SIZE, at + TLV_HEADER_SIZE + length),
    };
    const duplicate = () =>
      ({ ok: false, fault: fault('DUPLICATE_TLV', `${field}.type`, at, `second ${name} TLV`) }) as const;
    if (type === TLV_TYPES.SHA256) {
      if (digest) return duplicate();
      digest = tlv;
    } else if (type === TLV_TYPES.PUBKEY) {
      if (publicKey) return duplicate();
      publicKey = tlv;
    } else {
      if (signature)
        return {
          ok: false,
          fault: fault('DUPLICATE_TLV', `${field}.type`, at, 'second signature TLV: one signature per image'),
        };
      signature = { ...tlv, algorithm: type === TLV_TYPES.ED25519 ? 'ed25519' : 'ecdsa-p256' };
    }
    at += TLV_HEADER_SIZE + length;
  }
  if (!digest)
    return {
      ok: false,
      fault: fault('MISSING_DIGEST', 'tlv', tlvOffset, 'no SHA256 TLV: the image was never sealed'),
    };
  return {
    ok: true,
    image: {
      bytes,
      header,
      manifest: m.manifest,
      signedLength: payloadOffset,
      payloadOffset,
      tlvOffset,
      digest,
      publicKey,
      signature,
    },
  };
}

// ---- encoder -----------------------------------------------------------------------------------------

export interface ComponentInput {
  readonly kind: ComponentKind;
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ImageSpec {
  readonly kind: ImageKind;
  readonly version: ImageVersion;
  readonly securityCounter: number;
  readonly components: readonly ComponentInput[];
}

export interface EncodedTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * Lays out header + manifest + payload. `sha256` computes component hashes (passed in so this file
 * stays free of crypto). The spec must already be valid (see `checkSpec`).
 */
export function encodeBody(spec: ImageSpec, sha256: (data: Uint8Array) => Uint8Array): Uint8Array {
  const problem = checkSpec(spec);
  assert(problem === undefined, `invalid image spec: ${problem?.detail}`);
  const n = spec.components.length;
  const manifestSize = MANIFEST_FIXED_SIZE + n * COMPONENT_ENTRY_SIZE;
  const payloadSize = spec.components.reduce((s, c) => s + c.bytes.length, 0);
  const out = new Uint8Array(HEADER_SIZE + manifestSize + payloadSize);
  out.set(IMAGE_MAGIC, 0);
  putU16(out, 4, HEADER_SIZE);
  out[6] = FORMAT_VERSION;
  out[7] = IMAGE_KIND_CODES[spec.kind];
  putU32(out, 8, manifestSize);
  putU32(out, 12, payloadSize);
  const m = HEADER_SIZE;
  out[m] = spec.version.major;
  out[m + 1] = spec.version.minor;
  putU16(out, m + 2, spec.version.revision);
  putU32(out, m + 4, spec.version.build);
  putU32(out, m + 8, spec.securityCounter);
  putU16(out, m + 12, n);
  let cursor = HEADER_SIZE + manifestSize;
  spec.components.forEach((c, i) => {
    const e = m + MANIFEST_FIXED_SIZE + i * COMPONENT_ENTRY_SIZE;
    out[e] = COMPONENT_KIND_CODES[c.kind];
    out[e + 1] = c.name.length;
    putU32(out, e + 4, c.bytes.length);
    for (let k = 0; k < c.name.length; k++) out[e + 8 + k] = c.name.charCodeAt(k);
    out.set(sha256(c.bytes), e + 56);
    out.set(c.bytes, cursor);
    cursor += c.bytes.length;
  });
  return out;
}

/** Appends the TLV area to a body. */
export function appendTlvs(body: Uint8Array, tlvs: readonly EncodedTlv[]): Uint8Array {
  const total = TLV_INFO_SIZE + tlvs.reduce((s, t) => s + TLV_HEADER_SIZE + t.value.length, 0);
  const out = new Uint8Array(body.length + total);
  out.set(body, 0);
  let at = body.length;
  out.set(TLV_MAGIC, at);
  putU32(out, at + 4, total);
  at += TLV_INFO_SIZE;
  for (const t of tlvs) {
    assert(t.value.length <= 0xffff, 'TLV value too long');
    putU16(out, at, t.type);
    putU16(out, at + 2, t.value.length);
    out.set(t.value, at + TLV_HEADER_SIZE);
    at += TLV_HEADER_SIZE + t.value.length;
  }
  return out;
}

/** Checks an image spec before encoding: the same rules the parser enforces, reported by field. */
export function checkSpec(spec: ImageSpec): { field: string; detail: string } | undefined {
  const v = spec.version;
  const inRange = (x: number, max: number) => Number.isInteger(x) && x >= 0 && x <= max;
  if (!inRange(v.major, 0xff)) return { field: 'version.major', detail: 'must be 0..255' };
  if (!inRange(v.minor, 0xff)) return { field: 'version.minor', detail: 'must be 0..255' };
  if (!inRange(v.revision, 0xffff)) return { field: 'version.revision', detail: 'must be 0..65535' };
  if (!inRange(v.build, 0xffffffff)) return { field: 'version.build', detail: 'must be 0..4294967295' };
  if (!inRange(spec.securityCounter, 0xffffffff))
    return { field: 'securityCounter', detail: 'must be 0..4294967295' };
  const n = spec.components.length;
  if (n === 0 || n > MAX_COMPONENTS)
    return { field: 'components', detail: `needs 1..${MAX_COMPONENTS} components` };
  let total = HEADER_SIZE + MANIFEST_FIXED_SIZE + n * COMPONENT_ENTRY_SIZE + TLV_INFO_SIZE + 1024;
  const entries: ComponentEntry[] = [];
  const seen = new Set<string>();
  for (const [i, c] of spec.components.entries()) {
    if (!COMPONENT_NAME_PATTERN.test(c.name))
      return {
        field: `components[${i}].name`,
        detail: `${JSON.stringify(c.name)} is not 1..48 of [A-Za-z0-9._/-]`,
      };
    if (!(c.kind in COMPONENT_KIND_CODES))
      return { field: `components[${i}].kind`, detail: `unknown kind ${c.kind}` };
    if (seen.has(`${c.kind}:${c.name}`))
      return { field: `components[${i}].name`, detail: `duplicate ${c.kind} ${c.name}` };
    seen.add(`${c.kind}:${c.name}`);
    total += c.bytes.length;
    entries.push({
      index: i,
      kind: c.kind,
      name: c.name,
      size: c.bytes.length,
      sha256: new Uint8Array(32),
      offset: 0,
      entryOffset: 0,
    });
  }
  if (total > MAX_IMAGE_SIZE) return { field: 'components', detail: 'the image would exceed 64 MiB' };
  const composition = checkComposition(spec.kind, entries);
  if (composition) return { field: composition.field.replace(/^manifest\./, ''), detail: composition.detail };
  return undefined;
}
