/**
 * The static configuration (set at boot from the board's security policy, immutable afterwards) and the
 * initial state. `checkConfig` is the boot-time check: a configuration it accepts satisfies the
 * configuration clauses of the representation invariant, for which every proof holds (the proofs
 * quantify over all configurations, not one). Unlisted table entries belong to the admin domain.
 */
import { InputError } from '../../common/errors.js';
import type { ConcreteTheory } from '../../proof/concrete.js';
import { concreteOps } from '../../proof/concrete.js';
import type { Ops } from '../../proof/ops.js';
import type { ArraySort, Theory } from '../../proof/sorts.js';
import { kernelSorts, type KernelProfile } from './profile.js';
import {
  ADMIN,
  DEVICE,
  FREE,
  NONSECURE,
  RUNNABLE,
  SECURE,
  SHARED,
  KernelStateRecord,
  kernelStateSchema,
  regionKindNames,
  type KState,
} from './state.js';

export type World = 'secure' | 'non-secure';
export type RegionKind = (typeof regionKindNames)[number];

export interface KernelConfig {
  /** Domain i's world; domain 0 is the admin authority (secure). */
  readonly domains: readonly { readonly name?: string; readonly world: World }[];
  /** Flows beyond those implied (reflexive, to and from the admin, both ways along every channel). */
  readonly flows?: readonly (readonly [number, number])[];
  /** The domain of each partition slot (slot 0 is the root admin partition, runnable at boot). */
  readonly partitions: readonly { readonly domain: number }[];
  readonly regions?: readonly {
    readonly domain: number;
    readonly peer?: number;
    readonly world: World;
    readonly kind: RegionKind;
    readonly device?: number;
  }[];
  readonly endpoints?: readonly { readonly domain: number; readonly peer?: number }[];
  readonly notifications?: readonly { readonly domain: number; readonly peer?: number }[];
  readonly devices?: readonly { readonly domain: number; readonly world: World }[];
}

/** The configuration as the state's tables (plain numbers, one array per configuration field). */
export interface ConfigTables {
  readonly domWorld: number[];
  readonly flow: number[];
  readonly partDom: number[];
  readonly regionDom: number[];
  readonly regionPeer: number[];
  readonly regionWorld: number[];
  readonly regionKind: number[];
  readonly regionDev: number[];
  readonly epDom: number[];
  readonly epPeer: number[];
  readonly ntfDom: number[];
  readonly ntfPeer: number[];
  readonly devDom: number[];
  readonly devWorld: number[];
}

const worldBit = (w: World): number => (w === 'secure' ? SECURE : NONSECURE);

/** Checks a configuration against a profile and returns its tables; errors name the offending field. */
export function checkConfig(
  p: KernelProfile,
  cfg: KernelConfig,
  file = 'kernel configuration',
): ConfigTables {
  const k = kernelSorts(p);
  const fail = (field: string, detail: string): never => {
    throw new InputError('BAD_KERNEL_CONFIG', detail, { file, field });
  };
  const D = cfg.domains.length;
  if (D < 2 || D > p.domains) fail('domains', `${D} domains; profile ${p.name} allows 2..${p.domains}`);
  if (cfg.domains[0]?.world !== 'secure')
    fail('domains[0].world', 'domain 0 is the admin authority and must be secure');
  const within = (n: number, max: number, field: string): void => {
    if (!Number.isInteger(n) || n < 0 || n >= max) fail(field, `${n} is not in 0..${max - 1}`);
  };
  const table = <X>(xs: readonly X[] | undefined, size: number, field: string): readonly X[] => {
    const list = xs ?? [];
    if (list.length > size) fail(field, `${list.length} entries; profile ${p.name} has ${size}`);
    return list;
  };
  cfg.domains.forEach((d, i) => {
    if (d.world !== 'secure' && d.world !== 'non-secure')
      fail(`domains[${i}].world`, `'${String(d.world)}' is not secure or non-secure`);
  });
  const domWorld = Array.from({ length: p.domains }, (_, d) =>
    d < D ? worldBit((cfg.domains[d] as { world: World }).world) : SECURE,
  );
  const secure = (d: number): boolean => domWorld[d] === SECURE;
  const flow = new Array<number>(p.domains * p.domains).fill(0);
  const allow = (a: number, b: number): void => {
    flow[a * p.domains + b] = 1;
  };
  for (let d = 0; d < p.domains; d++) {
    allow(d, d);
    allow(ADMIN, d);
    allow(d, ADMIN);
  }

  const parts = table(cfg.partitions, p.partitions, 'partitions');
  if (parts.length === 0 || parts[0]?.domain !== ADMIN)
    fail('partitions[0].domain', 'partition 0 is the root admin partition: domain 0');
  const partDom = Array.from({ length: p.partitions }, (_, i) => {
    const d = parts[i]?.domain ?? ADMIN;
    within(d, D, `partitions[${i}].domain`);
    return d;
  });

  const channel = (field: string, dom: number, peer: number): void => {
    within(dom, D, `${field}.domain`);
    within(peer, D, `${field}.peer`);
    allow(dom, peer);
    allow(peer, dom);
  };

  const devs = table(cfg.devices, p.devices, 'devices');
  const devDom = Array.from({ length: p.devices }, (_, i) => devs[i]?.domain ?? ADMIN);
  const devWorld = Array.from({ length: p.devices }, (_, i) => {
    const d = devs[i];
    if (!d) return SECURE;
    within(d.domain, D, `devices[${i}].domain`);
    const w = worldBit(d.world);
    if (w === SECURE && !secure(d.domain))
      fail(`devices[${i}].world`, 'a secure device must belong to a secure domain');
    return w;
  });

  const regs = table(cfg.regions, p.regions, 'regions');
  const regionDom: number[] = [];
  const regionPeer: number[] = [];
  const regionWorld: number[] = [];
  const regionKind: number[] = [];
  const regionDev: number[] = [];
  for (let i = 0; i < p.regions; i++) {
    const r = regs[i] ?? { domain: ADMIN, world: 'secure' as World, kind: 'private' as RegionKind };
    const at = `regions[${i}]`;
    const kind = regionKindNames.indexOf(r.kind);
    if (kind < 0) fail(`${at}.kind`, `'${String(r.kind)}' is not one of ${regionKindNames.join(', ')}`);
    const peer = r.peer ?? r.domain;
    if (kind !== SHARED && peer !== r.domain) fail(`${at}.peer`, 'only a shared region names a peer domain');
    channel(at, r.domain, peer);
    const w = worldBit(r.world);
    if (w === SECURE && !(secure(r.domain) && secure(peer)))
      fail(`${at}.world`, 'secure memory belongs to, and is shared with, secure domains only');
    if (secure(r.domain) && !secure(peer))
      fail(
        `${at}.peer`,
        'a secure domain shares only with secure domains (the Normal World shares its own memory)',
      );
    let dev = k.NONE;
    if (kind === DEVICE) {
      if (r.device === undefined) fail(`${at}.device`, 'a device window names its device');
      dev = r.device as number;
      within(dev, p.devices, `${at}.device`);
      if (devDom[dev] !== r.domain) fail(`${at}.device`, "a device window belongs to its device's domain");
      if (devWorld[dev] !== w) fail(`${at}.world`, "a device window has its device's world");
    } else if (r.device !== undefined) fail(`${at}.device`, 'only a device window names a device');
    regionDom.push(r.domain);
    regionPeer.push(peer);
    regionWorld.push(w);
    regionKind.push(kind);
    regionDev.push(dev);
  }

  const pair = (
    xs: readonly { domain: number; peer?: number }[] | undefined,
    size: number,
    field: string,
  ) => {
    const list = table(xs, size, field);
    const dom: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < size; i++) {
      const e = list[i] ?? { domain: ADMIN };
      channel(`${field}[${i}]`, e.domain, e.peer ?? e.domain);
      dom.push(e.domain);
      peer.push(e.peer ?? e.domain);
    }
    return { dom, peer };
  };
  const eps = pair(cfg.endpoints, p.endpoints, 'endpoints');
  const ntfs = pair(cfg.notifications, p.notifications, 'notifications');

  (cfg.flows ?? []).forEach(([a, b], i) => {
    within(a, D, `flows[${i}][0]`);
    within(b, D, `flows[${i}][1]`);
    allow(a, b);
  });

  return {
    domWorld,
    flow,
    partDom,
    regionDom,
    regionPeer,
    regionWorld,
    regionKind,
    regionDev,
    epDom: eps.dom,
    epPeer: eps.peer,
    ntfDom: ntfs.dom,
    ntfPeer: ntfs.peer,
    devDom,
    devWorld,
  };
}

/** The configuration part of a state, as values of an interpretation. */
export type ConfigValues<T extends Theory> = Pick<KState<T>, keyof ConfigTables>;

/** The initial state for a configuration: partition 0 (admin) runnable, everything else free. */
export function initialState<T extends Theory>(p: KernelProfile, o: Ops<T>, cfg: ConfigValues<T>): KState<T> {
  const k = kernelSorts(p);
  const S = kernelStateSchema(p);
  const f = S.fields;
  const none = o.lit(k.Idx, k.NONE);
  const zero = (a: ArraySort): T['arr'] => o.constArray(a, o.lit(a.value, 0));
  const nones = (a: ArraySort): T['arr'] => o.constArray(a, none);
  return {
    ...cfg,
    partState: o.store(
      o.constArray(f.partState, o.lit(k.Small, FREE)),
      o.lit(k.Idx, 0),
      o.lit(k.Small, RUNNABLE),
    ),
    partBudget: zero(f.partBudget),
    partBlockedOn: nones(f.partBlockedOn),
    partReplyTo: nones(f.partReplyTo),
    partOwned: zero(f.partOwned),
    partMaps: zero(f.partMaps),
    partStatus: zero(f.partStatus),
    partLabel: zero(f.partLabel),
    partBadge: zero(f.partBadge),
    partMr: zero(f.partMr),
    regionOwner: nones(f.regionOwner),
    regionShare: zero(f.regionShare),
    regionRefs: zero(f.regionRefs),
    map: zero(f.map),
    epOwner: nones(f.epOwner),
    epGen: zero(f.epGen),
    epWaiter: nones(f.epWaiter),
    ntfOwner: nones(f.ntfOwner),
    ntfGen: zero(f.ntfGen),
    ntfPending: zero(f.ntfPending),
    ntfWaiter: nones(f.ntfWaiter),
    capType: zero(f.capType),
    capObj: zero(f.capObj),
    capRights: zero(f.capRights),
    capGen: zero(f.capGen),
    capBadge: zero(f.capBadge),
    devOwner: nones(f.devOwner),
    devNtf: nones(f.devNtf),
    devBindGen: zero(f.devBindGen),
    devBit: zero(f.devBit),
    devMasked: zero(f.devMasked),
    devWindows: zero(f.devWindows),
    smcEp: nones(f.smcEp),
    smcValid: zero(f.smcValid),
  } as KState<T>;
}

/** The configuration tables as values of an interpretation (constant arrays filled entry by entry). */
export function configValues<T extends Theory>(
  p: KernelProfile,
  o: Ops<T>,
  t: ConfigTables,
): ConfigValues<T> {
  const f = kernelStateSchema(p).fields;
  const build = (sort: (typeof f)[keyof ConfigTables], values: readonly number[]): T['arr'] => {
    let a = o.constArray(sort, o.lit(sort.value, 0));
    values.forEach((v, i) => {
      if (v !== 0) a = o.store(a, o.lit(sort.index, i), o.lit(sort.value, v));
    });
    return a;
  };
  const flowSort = f.flow;
  let flow = o.constArray(flowSort, o.lit(flowSort.value, 0));
  const D = p.domains;
  t.flow.forEach((v, i) => {
    if (v !== 0)
      flow = o.store2(
        flow,
        o.lit(flowSort.index, Math.floor(i / D)),
        o.lit(flowSort.index, i % D),
        o.lit(flowSort.value, v),
      );
  });
  return {
    domWorld: build(f.domWorld, t.domWorld),
    flow,
    partDom: build(f.partDom, t.partDom),
    regionDom: build(f.regionDom, t.regionDom),
    regionPeer: build(f.regionPeer, t.regionPeer),
    regionWorld: build(f.regionWorld, t.regionWorld),
    regionKind: build(f.regionKind, t.regionKind),
    regionDev: build(f.regionDev, t.regionDev),
    epDom: build(f.epDom, t.epDom),
    epPeer: build(f.epPeer, t.epPeer),
    ntfDom: build(f.ntfDom, t.ntfDom),
    ntfPeer: build(f.ntfPeer, t.ntfPeer),
    devDom: build(f.devDom, t.devDom),
    devWorld: build(f.devWorld, t.devWorld),
  };
}

/** The concrete initial state of a checked configuration. */
export function bootState(p: KernelProfile, cfg: KernelConfig, file?: string): KState<ConcreteTheory> {
  const s = initialState(p, concreteOps, configValues(p, concreteOps, checkConfig(p, cfg, file)));
  return new KernelStateRecord(s) as unknown as KState<ConcreteTheory>;
}

/**
 * A representative configuration of any profile: the admin domain, a secure application domain, the
 * Normal World, and (when the profile has room) a second secure domain; every object kind and every
 * channel shape (private, shared S–S and NS–S memory, a device window, an SMC endpoint, a signal from
 * the Secure World to the Normal World).
 */
export function sampleConfig(p: KernelProfile): KernelConfig {
  const ns = p.domains >= 3 ? 2 : 1;
  const ta = 1;
  const domains: { world: World }[] = [{ world: 'secure' }, { world: 'secure' }];
  if (ns === 2) domains.push({ world: 'non-secure' });
  else domains[1] = { world: 'non-secure' };
  for (let d = domains.length; d < Math.min(p.domains, 4); d++) domains.push({ world: 'secure' });
  const other = domains.length > 3 ? 3 : ta;
  const cycle = <X>(xs: X[], n: number): X[] => Array.from({ length: n }, (_, i) => xs[i % xs.length] as X);
  const partitions = cycle(
    [{ domain: ADMIN }, { domain: ta }, { domain: ns }, { domain: other }],
    p.partitions,
  );
  const devices = cycle<{ domain: number; world: World }>(
    [
      { domain: ta, world: 'secure' },
      { domain: ns, world: 'non-secure' },
    ],
    p.devices,
  );
  const regions = cycle<NonNullable<KernelConfig['regions']>[number]>(
    [
      { domain: ta, world: 'secure', kind: 'private' },
      { domain: ns, peer: ta, world: 'non-secure', kind: 'shared' },
      { domain: ta, world: 'secure', kind: 'device', device: 0 },
      { domain: ns, world: 'non-secure', kind: 'private' },
      { domain: ta, peer: other, world: 'secure', kind: other === ta ? 'private' : 'shared' },
    ],
    p.regions,
  ).map((r) =>
    r.kind === 'shared' && r.peer === r.domain ? { ...r, kind: 'private' as const, peer: r.domain } : r,
  );
  const endpoints = cycle(
    [
      { domain: ta, peer: ns },
      { domain: ta, peer: other },
      { domain: ns, peer: ns },
    ],
    p.endpoints,
  );
  const notifications = cycle(
    [
      { domain: ta, peer: ta },
      { domain: ns, peer: ta },
    ],
    p.notifications,
  );
  return { domains, partitions, regions, endpoints, notifications, devices };
}
