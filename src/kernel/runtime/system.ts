/**
 * The system configuration: the kernel configuration component of the signed secure bundle. It is the
 * board's security policy for one chip, written by the system integrator: the security domains and
 * their flows, the partitions (which program runs in which slot of which domain), the kernel objects of
 * each domain's pools with the SoC memory and devices behind them, the SMC entries, and what each
 * partition holds when it starts. Objects are named; names resolve to the kernel's table indices in
 * declaration order. Format: docs/runtime.md §"System configuration".
 *
 * Checked here (errors name the file, line and field): names exist and are unique, SoC regions and
 * devices exist with the world the configuration claims, memory windows fit their SoC region and do not
 * overlap, every partition's setup stays within its trusted application's manifest. The kernel core then
 * checks the configuration against the profile (`checkConfig`) — the configuration clauses every proof
 * assumes.
 */
import { z } from 'zod';
import { InputError } from '../../common/errors.js';
import { fieldPath, parseStructured, type Issue } from '../../common/structured.js';
import type { KernelConfig, World } from '../core/config.js';
import { profiles, R, W, X, type KernelProfile } from '../core/profile.js';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,47}$/, 'a name is lowercase letters, digits and dashes');
const world = z.enum(['secure', 'non-secure']);
const rights = z.string().regex(/^r?w?x?$/, "rights are a subset of 'rwx' in that order");
const uint = z.number().int().min(0).max(0xffffffff);

const program = z.union([z.strictObject({ ta: name }), z.literal('normal-world')]);

const setup = z.strictObject({
  /** endpoint_create(endpoint, slot) by the partition itself. */
  endpoints: z.array(z.strictObject({ endpoint: name, slot: uint })).default([]),
  /** notification_create(notification, slot). */
  notifications: z.array(z.strictObject({ notification: name, slot: uint })).default([]),
  /** region_alloc, then region_map with `map` rights, then region_share with `share` rights. */
  regions: z
    .array(z.strictObject({ region: name, map: rights.optional(), share: rights.optional() }))
    .default([]),
  /** device_claim, then irq_bind to a notification slot and bit. */
  devices: z
    .array(
      z.strictObject({
        device: name,
        irq: z.strictObject({ slot: uint, bit: z.number().int().min(0).max(31) }).optional(),
      }),
    )
    .default([]),
});

export const systemSchema = z.strictObject({
  description: z.string().optional(),
  /** The chip of the board this configuration is for. */
  chip: name,
  profile: z.enum(['application', 'microcontroller', 'proof']),
  domains: z.array(z.strictObject({ name, world })).min(2),
  /** Flows beyond those the channels imply: [from, to] domain names. */
  flows: z.array(z.tuple([name, name])).default([]),
  partitions: z
    .array(
      z.strictObject({
        name,
        domain: name,
        program: program.optional(),
        /** For the Normal World (trusted applications take theirs from their manifest). */
        memoryMb: z.number().int().min(8).max(4096).optional(),
        budgetMs: z.number().int().min(1).max(60_000).optional(),
        setup: setup.default({ endpoints: [], notifications: [], regions: [], devices: [] }),
      }),
    )
    .min(1),
  regions: z
    .array(
      z.strictObject({
        name,
        domain: name,
        peer: name.optional(),
        kind: z.enum(['private', 'shared', 'device']),
        /** The SoC memory region (private, shared) or device (device windows) behind it. */
        memory: z.string().optional(),
        device: name.optional(),
        offset: uint.default(0),
        size: uint.optional(),
      }),
    )
    .default([]),
  endpoints: z.array(z.strictObject({ name, domain: name, peer: name.optional() })).default([]),
  notifications: z.array(z.strictObject({ name, domain: name, peer: name.optional() })).default([]),
  devices: z.array(z.strictObject({ name, domain: name })).default([]),
  smc: z.array(z.strictObject({ entry: uint, endpoint: name })).default([]),
  /** Capabilities the admin authority copies between partitions at boot (it wires the channels). */
  grants: z
    .array(
      z.strictObject({
        from: z.strictObject({ partition: name, slot: uint }),
        to: z.strictObject({ partition: name, slot: uint }),
        rights: z.array(z.enum(['send', 'receive', 'signal', 'wait', 'grant'])).min(1),
        badge: uint.default(0),
      }),
    )
    .default([]),
});

export type SystemConfigInput = z.input<typeof systemSchema>;
export type SystemConfigSpec = z.output<typeof systemSchema>;

/** What the runtime needs to know about the SoC to check a configuration against it. */
export interface SocView {
  region(name: string): { readonly size: number; readonly world: World } | undefined;
  device(name: string): { readonly world: World; readonly irq: number | undefined } | undefined;
}

/** A configuration resolved to table indices. */
export interface SystemConfig {
  readonly spec: SystemConfigSpec;
  readonly profile: KernelProfile;
  readonly kernel: KernelConfig;
  readonly domainIndex: ReadonlyMap<string, number>;
  readonly partitionIndex: ReadonlyMap<string, number>;
  readonly regionIndex: ReadonlyMap<string, number>;
  readonly endpointIndex: ReadonlyMap<string, number>;
  readonly notificationIndex: ReadonlyMap<string, number>;
  readonly deviceIndex: ReadonlyMap<string, number>;
}

export function rightsBits(text: string | undefined): number {
  if (!text) return 0;
  return (text.includes('r') ? R : 0) | (text.includes('w') ? W : 0) | (text.includes('x') ? X : 0);
}

/** What a configuration is checked against of a trusted application's manifest. */
export interface ManifestCapabilities {
  readonly capabilities: { readonly devices: readonly string[]; readonly regions: readonly string[] };
}

/**
 * Parses and checks a system configuration. `manifests`, when given, are the trusted applications of
 * the bundle; without them the per-application check is left to `checkManifest` as each arrives.
 */
export function loadSystemConfig(
  text: string,
  file: string,
  soc: SocView,
  manifests?: ReadonlyMap<string, ManifestCapabilities>,
): SystemConfig {
  const spec = parseStructured(text, {
    file,
    schema: systemSchema,
    code: 'SYSTEM',
    check: (s) => checkSystem(s, soc, manifests),
  });
  return resolve(spec, file, soc);
}

/** Refuses a configuration that gives trusted application `ta` a device or region its manifest does not name. */
export function checkManifest(
  system: SystemConfig,
  ta: string,
  manifest: ManifestCapabilities,
  file: string,
): void {
  const issues = checkSetups(system.spec, new Map([[ta, manifest]]), (name) => name === ta);
  const first = issues[0];
  if (first) throw new InputError('SYSTEM_INVALID', first.message, { file, field: fieldPath(first.path) });
}

function indexOf(list: readonly { name: string }[]): Map<string, number> {
  return new Map(list.map((x, i) => [x.name, i]));
}

function checkSystem(
  s: SystemConfigSpec,
  soc: SocView,
  manifests: ReadonlyMap<string, ManifestCapabilities> | undefined,
): Issue[] {
  const issues: Issue[] = [];
  const at = (path: (string | number)[], message: string) => issues.push({ path, message });
  const unique = (list: readonly { name: string }[], field: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.name)) at([field, i, 'name'], `'${x.name}' is declared twice`);
      seen.add(x.name);
    });
  };
  for (const f of ['domains', 'partitions', 'regions', 'endpoints', 'notifications', 'devices'] as const)
    unique(s[f], f);
  const domains = indexOf(s.domains);
  const known = (
    set: ReadonlyMap<string, number>,
    what: string,
    v: string | undefined,
    path: (string | number)[],
  ) => {
    if (v !== undefined && !set.has(v)) at(path, `no ${what} named '${v}'`);
  };
  const worldOf = (d: string) => s.domains.find((x) => x.name === d)?.world;
  if (s.domains[0]?.world !== 'secure')
    at(['domains', 0, 'world'], 'the first domain is the admin authority: secure');
  s.flows.forEach(([a, b], i) => {
    known(domains, 'domain', a, ['flows', i, 0]);
    known(domains, 'domain', b, ['flows', i, 1]);
  });
  s.partitions.forEach((p, i) => known(domains, 'domain', p.domain, ['partitions', i, 'domain']));
  if (s.partitions[0]?.program !== undefined)
    at(['partitions', 0, 'program'], 'slot 0 is the root admin partition: the runtime itself, no program');
  for (const f of ['endpoints', 'notifications', 'devices'] as const)
    s[f].forEach((o, i) => {
      known(domains, 'domain', o.domain, [f, i, 'domain']);
      if ('peer' in o) known(domains, 'domain', o.peer as string | undefined, [f, i, 'peer']);
    });

  // Devices: exist on the chip, with the world of their domain.
  s.devices.forEach((d, i) => {
    const dev = soc.device(d.name);
    if (!dev) return at(['devices', i, 'name'], `the chip has no device '${d.name}'`);
    if (worldOf(d.domain) !== undefined && dev.world === 'secure' && worldOf(d.domain) !== 'secure')
      at(
        ['devices', i, 'domain'],
        `'${d.name}' is a secure device (TZPC); domain '${d.domain}' is non-secure`,
      );
  });

  // Regions: backed by SoC memory of the right world, inside it, not overlapping one another.
  const windows = new Map<string, { from: number; to: number; i: number }[]>();
  s.regions.forEach((r, i) => {
    known(domains, 'domain', r.domain, ['regions', i, 'domain']);
    known(domains, 'domain', r.peer, ['regions', i, 'peer']);
    if (r.kind === 'device') {
      if (r.device === undefined) return at(['regions', i], 'a device window names its device');
      if (!s.devices.some((d) => d.name === r.device))
        at(['regions', i, 'device'], `no device named '${r.device}'`);
      return;
    }
    if (r.memory === undefined) return at(['regions', i], 'a memory region names its SoC memory');
    const mem = soc.region(r.memory);
    if (!mem) return at(['regions', i, 'memory'], `the chip has no memory region '${r.memory}'`);
    const size = r.size ?? mem.size - r.offset;
    if (size <= 0 || r.offset + size > mem.size)
      return at(
        ['regions', i, 'size'],
        `[0x${r.offset.toString(16)}, +0x${size.toString(16)}) does not fit '${r.memory}' (0x${mem.size.toString(16)} bytes)`,
      );
    const list = windows.get(r.memory) ?? [];
    const clash = list.find((w) => r.offset < w.to && w.from < r.offset + size);
    if (clash) at(['regions', i, 'offset'], `overlaps region '${s.regions[clash.i]?.name}' in '${r.memory}'`);
    list.push({ from: r.offset, to: r.offset + size, i });
    windows.set(r.memory, list);
    const w = mem.world;
    const domWorld = worldOf(r.domain);
    if (
      w === 'secure' &&
      (domWorld === 'non-secure' || (r.peer !== undefined && worldOf(r.peer) === 'non-secure'))
    )
      at(
        ['regions', i, 'memory'],
        `'${r.memory}' is secure memory (TZASC); a non-secure domain may not hold it`,
      );
  });

  // SMC entries and grants name existing objects.
  const endpoints = indexOf(s.endpoints);
  const partitions = indexOf(s.partitions);
  s.smc.forEach((e, i) => known(endpoints, 'endpoint', e.endpoint, ['smc', i, 'endpoint']));
  s.grants.forEach((g, i) => {
    known(partitions, 'partition', g.from.partition, ['grants', i, 'from', 'partition']);
    known(partitions, 'partition', g.to.partition, ['grants', i, 'to', 'partition']);
  });

  issues.push(...checkSetups(s, manifests, () => true));
  return issues;
}

/** Partition setups name existing objects, and stay within their trusted application's manifest. */
function checkSetups(
  s: SystemConfigSpec,
  manifests: ReadonlyMap<string, ManifestCapabilities> | undefined,
  which: (ta: string) => boolean,
): Issue[] {
  const issues: Issue[] = [];
  const at = (path: (string | number)[], message: string) => issues.push({ path, message });
  const known = (set: ReadonlyMap<string, number>, what: string, v: string, path: (string | number)[]) => {
    if (!set.has(v)) at(path, `no ${what} named '${v}'`);
  };
  const endpoints = indexOf(s.endpoints);
  const regions = indexOf(s.regions);
  const notifications = indexOf(s.notifications);
  const devices = indexOf(s.devices);
  s.partitions.forEach((p, i) => {
    const ta = p.program && p.program !== 'normal-world' ? p.program.ta : undefined;
    if (ta !== undefined && !which(ta)) return;
    const manifest = ta === undefined ? undefined : manifests?.get(ta);
    if (ta !== undefined && manifests && !manifest)
      at(['partitions', i, 'program', 'ta'], `the secure bundle has no trusted application '${ta}'`);
    const setup = ['partitions', i, 'setup'];
    p.setup.endpoints.forEach((e, j) =>
      known(endpoints, 'endpoint', e.endpoint, [...setup, 'endpoints', j, 'endpoint']),
    );
    p.setup.notifications.forEach((n, j) =>
      known(notifications, 'notification', n.notification, [...setup, 'notifications', j, 'notification']),
    );
    p.setup.regions.forEach((r, j) => {
      const path = [...setup, 'regions', j, 'region'];
      known(regions, 'region', r.region, path);
      if (manifest && !manifest.capabilities.regions.includes(r.region))
        at(path, `trusted application '${ta}' does not name region '${r.region}' in its manifest`);
    });
    p.setup.devices.forEach((d, j) => {
      const path = [...setup, 'devices', j, 'device'];
      known(devices, 'device', d.device, path);
      if (manifest && !manifest.capabilities.devices.includes(d.device))
        at(path, `trusted application '${ta}' does not name device '${d.device}' in its manifest`);
    });
  });
  return issues;
}

function resolve(s: SystemConfigSpec, file: string, soc: SocView): SystemConfig {
  const domainIndex = indexOf(s.domains);
  const d = (n: string) => domainIndex.get(n) as number;
  const deviceIndex = indexOf(s.devices);
  // Worlds come from the hardware: the TZASC attribute of the memory, the TZPC world of the device.
  const deviceWorld = (name: string): World => soc.device(name)?.world ?? 'secure';
  const kernel: KernelConfig = {
    domains: s.domains.map((x) => ({ name: x.name, world: x.world })),
    flows: s.flows.map(([a, b]) => [d(a), d(b)] as const),
    partitions: s.partitions.map((p) => ({ domain: d(p.domain) })),
    regions: s.regions.map((r) => ({
      domain: d(r.domain),
      ...(r.peer !== undefined ? { peer: d(r.peer) } : {}),
      world:
        r.kind === 'device'
          ? deviceWorld(r.device as string)
          : (soc.region(r.memory as string)?.world ?? 'secure'),
      kind: r.kind,
      ...(r.kind === 'device' ? { device: deviceIndex.get(r.device as string) as number } : {}),
    })),
    endpoints: s.endpoints.map((e) => ({
      domain: d(e.domain),
      ...(e.peer !== undefined ? { peer: d(e.peer) } : {}),
    })),
    notifications: s.notifications.map((e) => ({
      domain: d(e.domain),
      ...(e.peer !== undefined ? { peer: d(e.peer) } : {}),
    })),
    devices: s.devices.map((x) => ({ domain: d(x.domain), world: deviceWorld(x.name) })),
  };
  const profile = profiles[s.profile];
  if (!profile)
    throw new InputError('SYSTEM_INVALID', `unknown profile '${s.profile}'`, { file, field: 'profile' });
  return {
    spec: s,
    profile,
    kernel,
    domainIndex,
    partitionIndex: indexOf(s.partitions),
    regionIndex: indexOf(s.regions),
    endpointIndex: indexOf(s.endpoints),
    notificationIndex: indexOf(s.notifications),
    deviceIndex,
  };
}
