/**
 * The firewall's interfaces, shared with the Normal World proxy driver (src/normal/proxy-net/) and with
 * the platform that reads its capture:
 *
 * - the `nw-link` region: Normal World memory the Normal World allocates and shares with the firewall's
 *   domain (TEE shared memory, world-separated by the kernel: the Normal World cannot take it back while
 *   the firewall maps it);
 * - the doorbell: the Normal World's only way to wake the firewall is an SMC to the firewall domain's
 *   doorbell endpoint (a Normal World partition never holds a capability to a secure object); the
 *   doorbell partition does nothing but set a bit on the firewall's notification, and reads nothing the
 *   Normal World sends;
 * - the `fw-capture` region: the firewall's own secure memory, where it records every frame that crossed
 *   its Normal World link (the inside of the firewall, for pcaps), read by the platform's debug access.
 *
 * `nw-link` layout:
 *   0     link header, written by the firewall: MAC address (6 bytes), at 8 a word: 1 once the link is up
 *   64    ring to the Secure World (frame-ring.ts): Normal World → firewall
 *   64 + ringBytes(NW_RING_CAPACITY)   ring to the Normal World: firewall → Normal World
 * The Normal World may write anything anywhere in it at any time; the firewall validates what it reads.
 */
import { ConsumerDoorbell } from '../../lib/nic/link.js';
import { ringBytes } from '../../lib/ring/frame-ring.js';

export const FIREWALL_TA = 'firewall';
export const NW_LINK_REGION = 'nw-link';
export const CAPTURE_REGION = 'fw-capture';
/** The secure console the firewall answers on (read-only administration: status, counters). */
export const CONSOLE_DEVICE = 'uart1';
/** The data component of the firewall's signed package that holds its ruleset (`ta-data firewall/rules.v4`). */
export const RULESET_FILE = 'rules.v4';
/** The interface name the ruleset sees for the NIC (`-i eth0` in INPUT, `-o eth0` in OUTPUT). */
export const WAN_INTERFACE = 'eth0';

export const LINK_HEADER_BYTES = 64;
export const LINK_UP_OFFSET = 8;
export const NW_RING_CAPACITY = 64 * 1024;
export const NW_TO_SECURE_RING = LINK_HEADER_BYTES;
export const NW_TO_NORMAL_RING = LINK_HEADER_BYTES + ringBytes(NW_RING_CAPACITY);
export const NW_LINK_BYTES = NW_TO_NORMAL_RING + ringBytes(NW_RING_CAPACITY);

/** Capability slots of the firewall partition. */
export const FirewallSlot = {
  /** Its own notification. */
  EVENTS: 0,
  /** SIGNAL on the NIC driver's notification. */
  DRIVER: 1,
  /** SIGNAL on the Normal World's notification. */
  NORMAL_WORLD: 2,
} as const;

/** Capability slots of the doorbell partition (same domain as the firewall). */
export const DoorbellSlot = {
  /** The endpoint the Normal World's SMC reaches. */
  ENDPOINT: 0,
  /** SIGNAL on the firewall's notification. */
  FIREWALL: 1,
} as const;

/** Bits of the firewall's notification. */
export const FirewallEvent = {
  /** The NIC driver's doorbells (../../lib/nic/link.ts). */
  ...ConsumerDoorbell,
  /** The Normal World rang the doorbell (through the doorbell partition). */
  NORMAL_WORLD: 1 << 2,
  /** The secure console's interrupt (bound at boot). */
  CONSOLE: 1 << 3,
} as const;

/** Capability slot of the Normal World's notification, and its bits (signalled by the firewall). */
export const NORMAL_WORLD_EVENTS_SLOT = 0;
export const NormalWorldEvent = {
  /** Frames for the Normal World on the ring to it. */
  RECEIVED: 1 << 0,
  /** The firewall took frames from the ring to the Secure World (space for more). */
  SPACE: 1 << 1,
} as const;

/** The SMC label of a doorbell (anything else is answered the same way and ignored). */
export const DOORBELL_LABEL = 0x6462; // "db"

// ---- capture (fw-capture) ---------------------------------------------------------------------------

/**
 * Header (16 bytes): magic "RCAP", version 1, bytes of records, records not kept (full).
 * Record: time (ns, u32 low, u32 high), frame length (u16), direction (u8: 0 to the Normal World,
 * 1 from it), 0, then the frame padded to 4 bytes.
 */
export const CAPTURE_MAGIC = 0x50414352; // "RCAP" little-endian
export const CAPTURE_HEADER_BYTES = 16;
export const CAPTURE_RECORD_HEADER = 12;
export const CaptureDirection = { TO_NORMAL_WORLD: 0, FROM_NORMAL_WORLD: 1 } as const;

export interface CapturedFrame {
  readonly timeNs: bigint;
  readonly direction: 'to-normal-world' | 'from-normal-world';
  readonly frame: Uint8Array;
}

const u32 = (b: Uint8Array, at: number) =>
  ((b[at] as number) |
    ((b[at + 1] as number) << 8) |
    ((b[at + 2] as number) << 16) |
    ((b[at + 3] as number) << 24)) >>>
  0;

/** Decodes a capture region's contents (the platform reads it; the firewall alone writes it). */
export function decodeCapture(bytes: Uint8Array): { frames: CapturedFrame[]; dropped: number } {
  if (bytes.length < CAPTURE_HEADER_BYTES || u32(bytes, 0) !== CAPTURE_MAGIC)
    return { frames: [], dropped: 0 };
  const used = Math.min(u32(bytes, 8), bytes.length - CAPTURE_HEADER_BYTES);
  const frames: CapturedFrame[] = [];
  let at = CAPTURE_HEADER_BYTES;
  const end = CAPTURE_HEADER_BYTES + used;
  while (at + CAPTURE_RECORD_HEADER <= end) {
    const timeNs = BigInt(u32(bytes, at)) | (BigInt(u32(bytes, at + 4)) << 32n);
    const length = (bytes[at + 8] as number) | ((bytes[at + 9] as number) << 8);
    const direction = bytes[at + 10] === 1 ? 'from-normal-world' : 'to-normal-world';
    if (at + CAPTURE_RECORD_HEADER + length > end) break;
    frames.push({ timeNs, direction, frame: bytes.slice(at + 12, at + 12 + length) });
    at += (CAPTURE_RECORD_HEADER + length + 3) & ~3;
  }
  return { frames, dropped: u32(bytes, 12) };
}
