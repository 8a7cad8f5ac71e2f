/**
 * The board file schema (zod). A board declares its chips — CPUs (with or without TrustZone), memory map,
 * devices with their world and interrupt line — the links between chips and to the outside (segments,
 * CAN buses, SPI links), and the emulated nodes on those links. Structural rules live here; rules that
 * relate fields to each other (overlaps, interrupts used twice, links that exist) live in `check.ts`.
 */
import { z } from 'zod';

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a name is lower-case letters, digits and dashes');
const address = z.number().int().min(0).max(0xffffffff);
const size = z
  .number()
  .int()
  .min(1)
  .max(2 ** 32);
const world = z.enum(['secure', 'non-secure']);
const description = z.string().optional();

const interrupt = z.preprocess(
  (v) => (typeof v === 'number' ? { line: v } : v),
  z.strictObject({
    line: z.number().int().min(0),
    priority: z.number().int().min(0).max(255).default(0xa0),
    target: z.number().int().min(0).default(0),
  }),
);

const deviceCommon = {
  name,
  base: address,
  /** TZPC assignment; required on TrustZone chips, forbidden elsewhere (checked in check.ts). */
  world: world.optional(),
  irq: interrupt.optional(),
  description,
};

export const deviceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...deviceCommon, kind: z.literal('gic'), lines: z.number().int().min(32).max(768) }),
  z.strictObject({ ...deviceCommon, kind: z.literal('tzasc') }),
  z.strictObject({ ...deviceCommon, kind: z.literal('tzpc') }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('mpu'),
    regions: z.number().int().min(1).max(16).default(8),
  }),
  z.strictObject({ ...deviceCommon, kind: z.literal('uart') }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('otp-fuses'),
    /** Factory provisioning: the ROTPK hash fused (and the array locked) when the machine is built. */
    rotpkHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a ROTPK hash is a SHA-256: 64 lower-case hex digits')
      .refine(
        (h) => !/^(0{64}|f{64})$/.test(h),
        'an all-zero or all-one hash is a blank fuse: leave rotpkHash out for an unprovisioned chip',
      )
      .optional(),
  }),
  z.strictObject({ ...deviceCommon, kind: z.literal('trng') }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('nv-counters'),
    counters: z.number().int().min(1).max(64).default(4),
    max: z.number().int().min(1).max(0xffffffff).default(0xffffffff),
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('nor-flash'),
    size,
    blockSize: size,
    pageSize: size,
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('ethernet-nic'),
    link: name,
    mac: z
      .string()
      .regex(
        /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/,
        'a MAC address is six lower-case hex bytes: 02:00:00:00:00:01',
      ),
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('wifi-nic'),
    link: name,
    mac: z
      .string()
      .regex(
        /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/,
        'a MAC address is six lower-case hex bytes: 02:00:00:00:00:01',
      ),
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('cellular-modem'),
    link: name,
    address: z.ipv4(),
  }),
  z.strictObject({ ...deviceCommon, kind: z.literal('can-controller'), link: name }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('spi-controller'),
    link: name,
    role: z.enum(['master', 'slave']),
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('gps'),
    origin: z.strictObject({
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      altitudeM: z.number().default(0),
    }),
    maxSpeedMps: z.number().min(0).max(100).default(30),
  }),
  z.strictObject({
    ...deviceCommon,
    kind: z.literal('microphone'),
    sampleRate: z.number().int().min(8000).max(48000).default(16000),
  }),
]);

export const memorySchema = z.strictObject({
  name,
  kind: z.enum(['ram', 'rom']),
  base: address,
  size: size.refine((s) => s % 0x1000 === 0, 'a region size is a multiple of 4 KiB'),
  /** TZASC attribute the board intends; required on TrustZone chips, forbidden elsewhere. */
  security: world.optional(),
  description,
});

/**
 * What the chip's secure boot chain (src/boot) runs on: the fuses holding the root-of-trust key hash, the
 * NV counters guarding each image, the boot flash and the sizes of its slots, and the secure memory the
 * boot code moves flash data through. The SoC only validates it; `src/boot` reads it.
 */
export const bootSchema = z.strictObject({
  fuses: name,
  counters: z.strictObject({
    device: name,
    secureBundle: z.number().int().min(0).max(63),
    normalWorld: z.number().int().min(0).max(63),
  }),
  flash: z.strictObject({ device: name, secureSlot: size, normalSlot: size }),
  buffer: z.strictObject({ region: name, offset: address, size }),
  trialAttempts: z.number().int().min(1).max(254).default(1),
  description,
});

export const chipSchema = z.strictObject({
  name,
  description,
  cpu: z.strictObject({ model: z.string().min(1), count: z.number().int().min(1).max(8) }),
  trustzone: z.boolean(),
  memory: z.array(memorySchema).min(1),
  devices: z.array(deviceSchema).min(1),
  boot: bootSchema.optional(),
});

export const linkSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    name,
    kind: z.literal('ethernet-segment'),
    bitRate: z.number().int().min(1).default(1_000_000_000),
    latencyNs: z.number().int().min(0).default(1_000),
    description,
  }),
  z.strictObject({
    name,
    kind: z.literal('wifi-segment'),
    ssid: z.string().min(1).max(32),
    passphrase: z.string().min(8).max(63),
    bitRate: z.number().int().min(1).default(54_000_000),
    latencyNs: z.number().int().min(0).default(2_000),
    description,
  }),
  z.strictObject({
    name,
    kind: z.literal('cellular-segment'),
    bitRate: z.number().int().min(1).default(10_000_000),
    latencyNs: z.number().int().min(0).default(30_000_000),
    description,
  }),
  z.strictObject({
    name,
    kind: z.literal('can-bus'),
    bitRate: z.number().int().min(1).max(1_000_000).default(500_000),
    description,
  }),
  z.strictObject({
    name,
    kind: z.literal('spi-link'),
    bitRate: z.number().int().min(1).default(10_000_000),
    description,
  }),
]);

const ecu = {
  name,
  link: name,
  diagAddress: z.number().int().min(0).max(0xff).optional(),
  diagSpeedLimitKmh: z.number().min(0).max(255).default(8),
  description,
};

export const nodeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...ecu, kind: z.literal('engine-ecu') }),
  z.strictObject({ ...ecu, kind: z.literal('brake-ecu') }),
  z.strictObject({ ...ecu, kind: z.literal('steering-ecu') }),
]);

export const boardSchema = z.strictObject({
  name,
  description: z.string().min(1),
  chips: z.array(chipSchema).min(1),
  links: z.array(linkSchema).default([]),
  nodes: z.array(nodeSchema).default([]),
});

export type Board = z.output<typeof boardSchema>;
export type ChipSpec = Board['chips'][number];
export type BootSpec = NonNullable<ChipSpec['boot']>;
export type DeviceSpec = ChipSpec['devices'][number];
export type MemorySpec = ChipSpec['memory'][number];
export type LinkSpec = Board['links'][number];
export type NodeSpec = Board['nodes'][number];
export type DeviceKind = DeviceSpec['kind'];
export type LinkKind = LinkSpec['kind'];

/** Device kinds that make up the security fabric rather than being peripherals the TZPC assigns. */
export const FABRIC_KINDS: ReadonlySet<DeviceKind> = new Set(['gic', 'tzasc', 'tzpc', 'mpu']);

/** Which link kind each linked device or node needs. */
export const LINK_OF: Partial<Record<DeviceKind | NodeSpec['kind'], LinkKind>> = {
  'ethernet-nic': 'ethernet-segment',
  'wifi-nic': 'wifi-segment',
  'cellular-modem': 'cellular-segment',
  'can-controller': 'can-bus',
  'spi-controller': 'spi-link',
  'engine-ecu': 'can-bus',
  'brake-ecu': 'can-bus',
  'steering-ecu': 'can-bus',
};

/** Every device window is 4 KiB. */
export const WINDOW_SIZE = 0x1000;
