/**
 * The kernel runtime: the running Secure World. It hosts every partition (each trusted application and
 * the Normal World) in its own isolate, serves their syscall channels, and for every request asks the
 * proven core (`Kernel.call`) and carries out exactly the effects the core reports: who wakes with which
 * registers, which memory becomes visible to whom, which interrupt line is unmasked. It decides nothing
 * itself; the few services that move bytes the core does not model (memory copies, register accesses,
 * log text) first read the core's answer from its tables (`core/query.ts`).
 *
 * Scheduling, uniprocessor mode (the default): one partition runs at a time, in FIFO order of becoming
 * ready; each call advances virtual time by a fixed quantum and the SoC's events run in virtual time
 * between calls, so one seed gives one trace, bit for bit. Free-running mode releases every ready
 * partition at once and serves requests as they come (throughput; not reproducible).
 */
import { createHash } from 'node:crypto';
import { InputError, RampartError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import { decodeUtf8, encodeUtf8 } from '../../common/utf8.js';
import type { Chip } from '../../soc/chip.js';
import type { Machine } from '../../soc/machine.js';
import { services } from '../abi/services.js';
import type { CheckedTaManifest } from '../abi/manifest.js';
import { E, codeName } from '../core/errors.js';
import { isRunnable, mappedRights, ownsDevice, partitionStateName, worldOf } from '../core/query.js';
import { R, W, kernelSorts } from '../core/profile.js';
import { Kernel, decodeRequest, type Effect, type KernelRet } from '../core/step.js';
import { GRANT, RECV, SEND, SIGNAL, WAIT } from '../core/state.js';
import type { CallName } from '../core/table.js';
import { Monitor } from '../monitor/monitor.js';
import { PartitionHost } from './partition-host.js';
import { Doorbell } from './channel.js';
import { rightsBits, type SystemConfig } from './system.js';
import { escapeLogLine } from './log-line.js';
import type { SyscallRequest } from './channel.js';

/** A trusted application as the boot chain hands it over: verified manifest, code and data. */
export interface TrustedProgram {
  readonly manifest: CheckedTaManifest;
  readonly code: string;
  /** Its verified `ta-data` components, by file name (the component name without `<application>/`). */
  readonly data?: ReadonlyMap<string, Uint8Array>;
}

export type SchedulingMode = 'uniprocessor' | 'free-running';

export interface RuntimeOptions {
  readonly machine: Machine;
  readonly chip: string;
  readonly system: SystemConfig;
  readonly mode?: SchedulingMode;
  /** Virtual time charged for each call (default 1 µs). */
  readonly quantumNs?: number;
  /** Called with each line a partition logs. */
  readonly onLog?: (partition: string, line: string) => void;
  /** Called with every request the runtime takes (benchmarks, tracing): slot and call number. */
  readonly onRequest?: (slot: number, call: number) => void;
}

export interface RunLimits {
  /** Stop once virtual time reaches this. */
  readonly untilNs?: number;
  /** Stop after this many calls have been served. */
  readonly maxCalls?: number;
  /** Stop when this returns true (checked between calls). */
  readonly until?: () => boolean;
}

export type RunEnd = 'idle' | 'time' | 'calls' | 'condition';

export interface PartitionReport {
  readonly slot: number;
  readonly name: string;
  readonly domain: string;
  readonly world: 'secure' | 'non-secure';
  readonly program: string;
  readonly state: string;
  readonly calls: number;
  readonly restarts: number;
  readonly exit: string | null;
  /** Each time its isolate stopped: why, and how long after it was last given the processor. */
  readonly stops: readonly { reason: string; afterMs: number }[];
  readonly log: readonly string[];
}

/** One partition slot as the runtime sees it. */
interface Slot {
  readonly index: number;
  readonly name: string;
  readonly domain: string;
  readonly program: string;
  readonly budgetMs: number;
  readonly memoryMb: number;
  readonly restart: 'never' | 'always';
  code: string | undefined;
  host: PartitionHost | undefined;
  /** The reply the partition is blocked waiting for, once the core has one for it. */
  pending: { results: number[]; payload: Uint8Array | undefined } | undefined;
  /** Whether the partition has been sent a reply and not yet made its next request. */
  running: boolean;
  /** Its isolate is starting (lockdown, evaluation): not charged to its budget. */
  booting: boolean;
  /** When it was last released (free-running mode's budget clock), in performance.now() ms. */
  since: number;
  /** Calls served in its current time slice (uniprocessor mode). */
  slice: number;
  /** Its last call was `yield`. */
  yielding: boolean;
  /** Why and when its isolate was stopped: milliseconds after it was last released (budget overruns). */
  readonly stops: { reason: string; afterMs: number }[];
  calls: number;
  restarts: number;
  exit: string | null;
  readonly log: string[];
}

const LOG_LINES_KEPT = 200;
/** Words hashed at a time into the call digest. */
const CALL_BLOCK_WORDS = 8192;
/** Calls a partition may make in a row before the next ready partition runs (uniprocessor mode). */
const SLICE_CALLS = 64;
const LOG_LINE_MAX = 1000;
const ADMIN = 0;

export class KernelRuntime {
  readonly kernel: Kernel;
  readonly chip: Chip;
  readonly monitor: Monitor;
  private readonly slots: Slot[];
  private readonly ready: Slot[] = [];
  private readonly irqQueue: number[] = [];
  private readonly lineToDevice = new Map<number, number>();
  readonly mode: SchedulingMode;
  private readonly quantumNs: number;
  private served = 0;
  private unsubscribe: () => void;
  private readonly doorbell = new Doorbell();
  /** Every request served and its result, hashed (SHA-256) in blocks: the software half of the run hash. */
  private readonly callHash = createHash('sha256');
  private readonly callBlock = new Uint32Array(CALL_BLOCK_WORDS);
  private callWords = 0;
  /** Free-running mode: partitions that yielded, with their reply, until the others had a turn. */
  private readonly yielded = new Map<Slot, { results: number[]; at: number; served: number }>();
  /** Trusted applications by name, as the boot chain handed them over. */
  private readonly programs = new Map<string, TrustedProgram>();

  constructor(private readonly options: RuntimeOptions) {
    const { system, machine } = options;
    this.chip = machine.chip(options.chip);
    this.monitor = new Monitor(this.chip);
    this.mode = options.mode ?? 'uniprocessor';
    this.quantumNs = options.quantumNs ?? 1000;
    this.kernel = Kernel.boot(system.profile, system.kernel, 'system configuration');
    this.slots = system.spec.partitions.map((p, index) => ({
      index,
      name: p.name,
      domain: p.domain,
      program:
        p.program === undefined
          ? 'none'
          : p.program === 'normal-world'
            ? 'normal-world'
            : `ta:${p.program.ta}`,
      budgetMs: p.budgetMs ?? 1000,
      memoryMb: p.memoryMb ?? 64,
      restart: 'never',
      code: undefined,
      host: undefined,
      pending: undefined,
      running: false,
      booting: false,
      since: 0,
      slice: 0,
      yielding: false,
      stops: [],
      calls: 0,
      restarts: 0,
      exit: null,
      log: [],
    }));
    system.spec.devices.forEach((d, i) => {
      const line = this.chip.irqOf(d.name);
      if (line !== undefined) this.lineToDevice.set(line, i);
    });
    this.unsubscribe = this.chip.onInterrupt((_cpu, line) => {
      if (this.lineToDevice.has(line)) this.irqQueue.push(line);
    });
    this.setUp();
  }

  // ---- boot: the admin authority creates and wires everything the configuration declares

  /** Runs a core call for the boot plan; any failure stops the boot with the call and the field. */
  private admin(call: CallName, args: Record<string, number>, field: string): KernelRet {
    const r = this.kernel.call(call, args);
    if (r.ret.code !== E.OK)
      throw new InputError(
        'SYSTEM_REFUSED',
        `the kernel refused ${call}(${Object.entries(args)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}): ${r.ret.name}`,
        { file: 'system configuration', field },
      );
    this.apply(r.effects, undefined, undefined);
    return r.ret;
  }

  private setUp(): void {
    const { spec, regionIndex, endpointIndex, notificationIndex, deviceIndex, partitionIndex } =
      this.options.system;
    const idx = (m: ReadonlyMap<string, number>, n: string) => m.get(n) as number;
    spec.partitions.forEach((p, i) => {
      if (i === ADMIN) return;
      const slot = this.slots[i] as Slot;
      this.admin('partition_create', { caller: ADMIN, target: i, budget: slot.budgetMs }, `partitions[${i}]`);
      this.admin('partition_start', { caller: ADMIN, target: i }, `partitions[${i}]`);
      const at = `partitions[${i}].setup`;
      p.setup.devices.forEach((d, j) =>
        this.admin('device_claim', { caller: i, device: idx(deviceIndex, d.device) }, `${at}.devices[${j}]`),
      );
      p.setup.notifications.forEach((n, j) =>
        this.admin(
          'notification_create',
          { caller: i, notification: idx(notificationIndex, n.notification), slot: n.slot },
          `${at}.notifications[${j}]`,
        ),
      );
      p.setup.endpoints.forEach((e, j) =>
        this.admin(
          'endpoint_create',
          { caller: i, endpoint: idx(endpointIndex, e.endpoint), slot: e.slot },
          `${at}.endpoints[${j}]`,
        ),
      );
      p.setup.regions.forEach((r, j) => {
        const region = idx(regionIndex, r.region);
        this.admin('region_alloc', { caller: i, region }, `${at}.regions[${j}]`);
        if (r.map)
          this.admin(
            'region_map',
            { caller: i, region, rights: rightsBits(r.map) },
            `${at}.regions[${j}].map`,
          );
        if (r.share)
          this.admin(
            'region_share',
            { caller: i, region, rights: rightsBits(r.share) },
            `${at}.regions[${j}].share`,
          );
      });
      p.setup.devices.forEach((d, j) => {
        if (d.irq)
          this.admin(
            'irq_bind',
            { caller: i, device: idx(deviceIndex, d.device), slot: d.irq.slot, bit: d.irq.bit },
            `${at}.devices[${j}].irq`,
          );
      });
    });
    spec.grants.forEach((g, j) => {
      const bits = { send: SEND, receive: RECV, signal: SIGNAL, wait: WAIT, grant: GRANT } as const;
      this.admin(
        'cap_copy',
        {
          caller: ADMIN,
          from: idx(partitionIndex, g.from.partition),
          slot: g.from.slot,
          to: idx(partitionIndex, g.to.partition),
          toSlot: g.to.slot,
          rights: g.rights.reduce((a, r) => a | bits[r], 0),
          badge: g.badge,
        },
        `grants[${j}]`,
      );
    });
    spec.smc.forEach((e, j) =>
      this.admin(
        'smc_register',
        { caller: ADMIN, entry: e.entry, endpoint: idx(endpointIndex, e.endpoint), valid: 1 },
        `smc[${j}]`,
      ),
    );
  }

  /** Attaches a verified trusted application to the slots that run it and starts their isolates. */
  startTrustedApplication(name: string, program: TrustedProgram): void {
    this.programs.set(name, program);
    const slots = this.slots.filter((s) => s.program === `ta:${name}`);
    if (slots.length === 0)
      throw new RampartError(
        'NO_SLOT',
        `the system configuration runs no partition with trusted application '${name}'`,
      );
    for (const s of slots) {
      Object.assign(s, {
        budgetMs: program.manifest.quotas.budgetMs,
        memoryMb: program.manifest.quotas.memoryMb,
        restart: program.manifest.restart,
      });
      s.code = program.code;
      this.spawn(s);
    }
  }

  /** Starts the Normal World partition(s) with the verified Normal World code. */
  startNormalWorld(code: string): void {
    const slots = this.slots.filter((s) => s.program === 'normal-world');
    if (slots.length === 0)
      throw new RampartError('NO_SLOT', 'the system configuration has no Normal World partition');
    for (const s of slots) {
      s.code = code;
      this.spawn(s);
    }
  }

  private spawn(s: Slot): void {
    if (s.code === undefined || !isRunnable(this.kernel.state, s.index)) return;
    s.host = new PartitionHost({
      name: s.name,
      code: s.code,
      memoryQuotaMb: s.memoryMb,
      startCall: services.start.number,
      exitCall: services.exit.number,
      logCall: services.log.number,
      ...(this.mode === 'free-running' ? { doorbell: this.doorbell.buffer } : {}),
    });
    s.exit = null;
    s.pending = undefined;
    s.running = true;
    s.booting = true; // it will post its start request
  }

  // ---- effects

  /**
   * Carries out a core call's effects. `caller` and `payload` are the partition whose call it was and
   * the bytes its request carried: a partition woken by that call receives them (IPC payload).
   */
  private apply(effects: readonly Effect[], caller: Slot | undefined, payload: Uint8Array | undefined): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'wake': {
          const s = this.slots[e.partition];
          if (!s) break;
          const carries = caller !== undefined && s !== caller ? payload : undefined;
          this.makeReady(s, [e.status, 0, e.label, e.badge, ...e.mr], carries);
          break;
        }
        case 'map':
        case 'unmap':
          this.mapMemory(e.partition, e.region, e.kind === 'map' ? e.rights : 0);
          break;
        case 'region':
          if (e.owner !== null) this.zeroRegion(e.region);
          break;
        case 'device':
          this.setLine(e.device, e.owner !== null);
          break;
        case 'irq-mask':
          this.setLine(e.device, !e.masked);
          break;
        case 'partition': {
          const s = this.slots[e.partition];
          if (s?.host && (e.to === 'stopped' || e.to === 'free')) {
            void s.host.stop({ kind: 'killed', reason: `kernel: ${e.to}` });
            s.host = undefined;
            s.exit ??= `stopped by the kernel (${e.to})`;
            s.pending = undefined;
            s.running = false;
            const i = this.ready.indexOf(s);
            if (i >= 0) this.ready.splice(i, 1);
          }
          break;
        }
        case 'block':
        case 'budget':
        case 'smc-entry':
          break;
      }
    }
  }

  private makeReady(s: Slot, results: number[], payload: Uint8Array | undefined): void {
    s.pending = { results, payload };
    if (!this.ready.includes(s)) this.ready.push(s);
  }

  /** The SoC memory behind a kernel region: its chip region and the window inside it. */
  private backing(region: number): { socRegion: string; offset: number; size: number } | undefined {
    const r = this.options.system.spec.regions[region];
    if (!r || r.kind === 'device' || r.memory === undefined) return undefined;
    const mem = this.chip.region(r.memory);
    return { socRegion: r.memory, offset: r.offset, size: r.size ?? mem.size - r.offset };
  }

  /**
   * Live views are granted only to Normal World partitions, only on non-secure memory (the chip refuses
   * anything else). Secure partitions reach memory through `mem_read`/`mem_write`, which re-read the
   * core's mapping at every copy, so a revocation takes effect at once.
   */
  private mapMemory(partition: number, region: number, rights: number): void {
    const s = this.slots[partition];
    if (!s?.host || worldOf(this.kernel.state, partition) !== 'non-secure') return;
    const b = this.backing(region);
    if (!b) return;
    if (rights === 0) {
      s.host.postMemory({ kind: 'unmap', region });
      return;
    }
    const ns = this.chip.nonSecureBuffer(b.socRegion);
    if (!ns.ok)
      throw new RampartError(
        'MAP_SECURE',
        `refused to map ${b.socRegion} into a Normal World partition: ${ns.reason}`,
      );
    s.host.postMemory({
      kind: 'map',
      region,
      buffer: ns.buffer as SharedArrayBuffer,
      offset: b.offset,
      size: b.size,
    });
  }

  private zeroRegion(region: number): void {
    const b = this.backing(region);
    if (b) this.chip.region(b.socRegion).bytes.fill(0, b.offset, b.offset + b.size);
  }

  /** Enables or disables a device's interrupt line at the GIC, as the secure monitor. */
  private setLine(device: number, enabled: boolean): void {
    const name = this.options.system.spec.devices[device]?.name;
    const line = name === undefined ? undefined : this.chip.irqOf(name);
    if (line === undefined) return;
    const cpu = this.monitor.enter('secure');
    const gic = this.chip.gic.name;
    const reg = 0x400 + 4 * line;
    const cur = this.chip.readRegister(cpu, gic, reg);
    if (!cur.ok) return;
    const v = enabled ? cur.value | (1 << 24) : cur.value & ~(1 << 24);
    this.chip.writeRegister(cpu, gic, reg, v & 0x0101ffff);
  }

  // ---- interrupts: acknowledged by the monitor, delivered through the core

  private deliverInterrupts(): void {
    while (this.irqQueue.length > 0) {
      const line = this.irqQueue.shift() as number;
      const device = this.lineToDevice.get(line);
      const cpu = this.monitor.enter('secure');
      const gic = this.chip.gic.name;
      this.chip.writeRegister(cpu, gic, 0x024, line); // CLRPEND: the core now holds it
      if (device === undefined) continue;
      const r = this.kernel.call('irq_raise', { device });
      this.apply(r.effects, undefined, undefined);
    }
  }

  // ---- serving requests

  private reply(s: Slot, results: ArrayLike<number>, payload?: Uint8Array): void {
    this.makeReady(s, Array.from(results), payload);
  }

  /** Folds one word into the call digest. */
  private digestWord(w: number): void {
    this.callBlock[this.callWords++] = w >>> 0;
    if (this.callWords === CALL_BLOCK_WORDS) {
      this.callHash.update(this.callBlock);
      this.callWords = 0;
    }
  }

  /** SHA-256 of every request served (slot, call, arguments, payload length) in order, so far. */
  callDigest(): string {
    const h = this.callHash.copy();
    h.update(this.callBlock.subarray(0, this.callWords));
    return h.digest('hex');
  }

  private handle(s: Slot, req: SyscallRequest): void {
    this.options.onRequest?.(s.index, req.call);
    this.digestWord(s.index);
    this.digestWord(req.call);
    for (const a of req.args) this.digestWord(a);
    this.digestWord(req.payload.length);
    s.calls++;
    this.served++;
    s.yielding = false;
    if (req.call >= 200) return this.service(s, req);
    const decoded = decodeRequest(s.index, req.call, req.args);
    if (decoded.call === undefined) return this.reply(s, [decoded.code]);
    const r = this.kernel.call(decoded.call, decoded.args);
    s.yielding = decoded.call === 'yield';
    this.apply(r.effects, s, req.payload);
    if (r.ret.code === E.BLOCKED) return;
    // Free-running: a partition that yields waits until the others had a turn (see runFree).
    if (decoded.call === 'yield' && this.mode === 'free-running' && r.ret.code === E.OK) {
      this.yielded.set(s, { results: [r.ret.code, r.ret.value], at: performance.now(), served: this.served });
      return;
    }
    this.reply(s, [r.ret.code, r.ret.value]);
  }

  private service(s: Slot, req: SyscallRequest): void {
    const a = req.args;
    const state = this.kernel.state;
    switch (req.call) {
      case services.start.number:
        return this.reply(s, [E.OK]);
      case services.exit.number:
        return this.exited(s, a[0] === 0 ? 'exited' : 'threw');
      case services.log.number:
        this.appendLog(s, decodeUtf8(req.payload));
        return this.reply(s, [E.OK]);
      case services.clock.number: {
        const t = BigInt(this.options.machine.clock.nowNs);
        return this.reply(s, [E.OK, Number(t & 0xffffffffn), Number(t >> 32n)]);
      }
      case services.boot_info.number:
        return this.reply(s, [E.OK], encodeUtf8(stableStringify(this.bootInfo(s))));
      case services.ta_data.number: {
        // The application's own signed data only: the slot's program names it, nothing else does.
        const program = s.program.startsWith('ta:') ? this.programs.get(s.program.slice(3)) : undefined;
        const bytes = program?.data?.get(decodeUtf8(req.payload));
        if (!bytes) return this.reply(s, [E.ENOENT]);
        const offset = Math.min(a[0] ?? 0, bytes.length);
        return this.reply(s, [E.OK, bytes.length], bytes.slice(offset, offset + 4096));
      }
      case services.region_info.number: {
        const region = a[0] as number;
        const b = this.backing(region);
        if (mappedRights(state, s.index, region) === 0 || !b) return this.reply(s, [E.ENOENT]);
        return this.reply(s, [E.OK, b.size, this.chip.region(b.socRegion).base + b.offset]);
      }
      case services.mem_read.number:
      case services.mem_write.number: {
        const write = req.call === services.mem_write.number;
        const [region = 0, offset = 0, len = 0] = a;
        const length = write ? req.payload.length : len;
        const b = this.backing(region);
        const need = write ? W : R;
        if (!b || (mappedRights(state, s.index, region) & need) === 0) return this.reply(s, [E.ERIGHTS]);
        if (offset + length > b.size || length > 4096) return this.reply(s, [E.EINVAL]);
        const cpu = this.monitor.enter(worldOf(state, s.index));
        const addr = this.chip.region(b.socRegion).base + b.offset + offset;
        if (write) {
          const w = this.chip.bus.writeBytes(cpu, addr, req.payload);
          return this.reply(s, [w.ok ? E.OK : E.EWORLD]);
        }
        const r = this.chip.bus.readBytes(cpu, addr, length);
        return r.ok ? this.reply(s, [E.OK, length], r.value) : this.reply(s, [E.EWORLD]);
      }
      case services.mmio_read.number:
      case services.mmio_write.number: {
        const [device = 0, offset = 0, value = 0] = a;
        const name = this.options.system.spec.devices[device]?.name;
        if (name === undefined || !ownsDevice(state, s.index, device)) return this.reply(s, [E.EPERM]);
        if (offset % 4 !== 0 || offset >= 0x1000) return this.reply(s, [E.EINVAL]);
        const cpu = this.monitor.enter(worldOf(state, s.index));
        if (req.call === services.mmio_write.number) {
          const w = this.chip.writeRegister(cpu, name, offset, value);
          return this.reply(s, [w.ok ? E.OK : E.EWORLD]);
        }
        const r = this.chip.readRegister(cpu, name, offset);
        return this.reply(s, r.ok ? [E.OK, r.value] : [E.EWORLD]);
      }
      default:
        return this.reply(s, [E.ENOSYS]);
    }
  }

  /** Each log call is one line or more (split at newlines), each escaped and cut to LOG_LINE_MAX characters. */
  private appendLog(s: Slot, text: string): void {
    for (const line of text.replace(/\n$/, '').split('\n')) {
      const cut = escapeLogLine(line, LOG_LINE_MAX);
      s.log.push(cut);
      if (s.log.length > LOG_LINES_KEPT) s.log.shift();
      this.options.onLog?.(s.name, cut);
    }
  }

  /** What a partition may know about its own place in the system (all of it public configuration). */
  private bootInfo(s: Slot): Record<string, unknown> {
    const { spec } = this.options.system;
    const mine = spec.partitions[s.index];
    const serverOf = (endpoint: string) =>
      spec.partitions.find((p) => p.setup.endpoints.some((e) => e.endpoint === endpoint));
    return {
      partition: s.name,
      slot: s.index,
      domain: s.domain,
      world: worldOf(this.kernel.state, s.index),
      setup: mine?.setup ?? {},
      regions: spec.regions.map((r, i) => ({
        name: r.name,
        index: i,
        domain: r.domain,
        peer: r.peer ?? r.domain,
        kind: r.kind,
        size: this.backing(i)?.size ?? 0,
      })),
      devices: spec.devices.map((d, i) => ({ name: d.name, index: i })),
      /** The TEE directory: which trusted application answers at which SMC entry. */
      smc: spec.smc.map((e) => {
        const server = serverOf(e.endpoint);
        const program = server?.program;
        const ta = program && program !== 'normal-world' ? program.ta : null;
        return {
          entry: e.entry,
          endpoint: e.endpoint,
          domain: server?.domain ?? null,
          ta,
          uuid: ta === null ? null : (this.programs.get(ta)?.manifest.uuid ?? null),
        };
      }),
    };
  }

  private exited(s: Slot, how: string): void {
    s.exit = how;
    s.stops.push({ reason: how, afterMs: performance.now() - s.since });
    s.running = false;
    s.booting = false;
    s.pending = undefined;
    void s.host?.stop(
      how === 'exited' || how === 'threw'
        ? { kind: 'exited', status: how === 'exited' ? 0 : 1 }
        : { kind: 'killed', reason: how },
    );
    s.host = undefined;
    // The core learns of it from the admin authority: stop (and, per policy, start again).
    if (
      isRunnable(this.kernel.state, s.index) ||
      partitionStateName(this.kernel.state, s.index).startsWith('blocked')
    ) {
      const r = this.kernel.call('partition_stop', { caller: ADMIN, target: s.index });
      this.apply(r.effects, undefined, undefined);
    }
    if (s.restart === 'always' && how !== 'exited') {
      const r = this.kernel.call('partition_start', { caller: ADMIN, target: s.index });
      this.apply(r.effects, undefined, undefined);
      s.restarts++;
      this.spawn(s);
    }
  }

  // ---- the scheduling loop

  /** Runs the system until a limit is reached or nothing can make progress. */
  async run(limits: RunLimits = {}): Promise<RunEnd> {
    const end = await (this.mode === 'free-running' ? this.runFree(limits) : this.runUniprocessor(limits));
    // Fold the software's history into the machine's run hash: in uniprocessor mode, the same seed
    // gives the same calls in the same order, so the same hash.
    this.options.machine.trace.record(`${this.chip.name}/kernel`, 'run', {
      end,
      calls: this.served,
      digest: this.callDigest(),
    });
    return end;
  }

  /** A limit reached, or undefined. */
  private limitReached(limits: RunLimits, start: number): RunEnd | undefined {
    if (limits.until?.()) return 'condition';
    if (limits.maxCalls !== undefined && this.served - start >= limits.maxCalls) return 'calls';
    if (limits.untilNs !== undefined && this.options.machine.clock.nowNs >= limits.untilNs) return 'time';
    return undefined;
  }

  /**
   * Nobody can run: move the hardware on to its next event (bounded by the time limit). Returns how the
   * run ends if there is no such event, else undefined.
   */
  private idle(limits: RunLimits): RunEnd | undefined {
    const clock = this.options.machine.clock;
    const at = clock.nextEventNs;
    if (limits.untilNs !== undefined && (at === undefined || at > limits.untilNs)) {
      clock.runUntil(limits.untilNs);
      return 'time';
    }
    // Without a time limit, the run is over once no partition waits for something the hardware can
    // bring (a notification, which interrupts signal): a CAN bus full of ECUs never falls silent.
    if (at === undefined || (limits.untilNs === undefined && !this.waitsOnHardware())) return 'idle';
    clock.runUntil(at);
    return undefined;
  }

  /** Some partition is blocked on a notification that a device's interrupt is bound to. */
  private waitsOnHardware(): boolean {
    const t = this.kernel.state.tables;
    const NONE = kernelSorts(this.kernel.profile).NONE;
    for (let d = 0; d < this.kernel.profile.devices; d++) {
      if (t.devOwner.get(d) === NONE) continue;
      const n = t.devNtf.get(d);
      if (n !== NONE && n < this.kernel.profile.notifications && t.ntfWaiter.get(n) !== NONE) return true;
    }
    return false;
  }

  private async runUniprocessor(limits: RunLimits): Promise<RunEnd> {
    const clock = this.options.machine.clock;
    const start = this.served;
    for (;;) {
      const reached = this.limitReached(limits, start);
      if (reached) return reached;
      this.deliverInterrupts();
      const next = this.slots.find((s) => s.host && s.booting) ?? this.ready.shift();
      if (!next) {
        const end = this.idle(limits);
        if (end) return end;
        continue;
      }
      await this.activate(next);
      clock.runFor(this.quantumNs);
      // The partition that just ran keeps the processor for the rest of its time slice (so a server
      // that replies goes straight back to its receive), unless it blocked or yielded.
      const i = this.ready.indexOf(next);
      if (i > 0 && !next.yielding && ++next.slice < SLICE_CALLS) {
        this.ready.splice(i, 1);
        this.ready.unshift(next);
      } else next.slice = 0;
      // Yield to Node's event loop now and then (isolate exits, stream output).
      if (this.served % 4096 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Every ready partition runs at once; requests are served as they come. */
  private async runFree(limits: RunLimits): Promise<RunEnd> {
    const clock = this.options.machine.clock;
    const start = this.served;
    let seen = this.doorbell.count;
    for (let round = 0; ; round++) {
      const reached = this.limitReached(limits, start);
      if (reached) return reached;
      this.deliverInterrupts();
      const now = performance.now();
      for (let s = this.ready.shift(); s; s = this.ready.shift()) {
        if (!s.host || !s.pending) continue;
        s.host.channel.reply(s.pending.results, s.pending.payload);
        s.pending = undefined;
        s.running = true;
        s.since = now;
      }
      let served = 0;
      for (const s of this.slots) {
        if (!s.host || !s.running || !s.host.channel.hasRequest()) continue;
        s.running = false;
        s.booting = false;
        this.handle(s, s.host.channel.takeRequest());
        served++;
      }
      for (const s of this.slots) {
        if (s.host?.exit) this.exited(s, s.host.exit.kind === 'killed' ? s.host.exit.reason : 'exited');
        else if (s.host && s.running && !s.booting && now - s.since > s.budgetMs)
          this.exited(s, 'cpu budget');
      }
      // Release those that yielded once another partition made a call, after a millisecond, or when
      // nobody else is running.
      for (const [s, y] of this.yielded) {
        if (
          this.served > y.served ||
          now - y.at > 1 ||
          !this.slots.some((o) => o !== s && o.host && o.running)
        ) {
          this.yielded.delete(s);
          this.reply(s, y.results);
        }
      }
      if (served > 0) {
        clock.runFor(this.quantumNs * served);
        continue;
      }
      if (this.ready.length > 0) continue;
      if (!this.slots.some((s) => s.host && s.running)) {
        const end = this.idle(limits);
        if (end) return end;
        continue;
      }
      seen = this.doorbell.wait(seen, 1);
      if (round % 64 === 0) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Lets one partition run: deliver its reply, wait for its next request, serve it. */
  private async activate(s: Slot): Promise<void> {
    const host = s.host;
    if (!host) return;
    if (s.pending) {
      const { results, payload } = s.pending;
      s.pending = undefined;
      host.channel.reply(results, payload);
    }
    s.running = true;
    s.since = performance.now();
    // Booting (lockdown, evaluation of the code) is not charged to the budget.
    const event = await host.next(s.booting ? 30_000 : s.budgetMs);
    s.running = false;
    s.booting = false;
    if (event === 'overrun') return this.exited(s, 'cpu budget');
    if (event === 'ended') {
      const why = host.exit?.kind === 'killed' ? host.exit.reason : 'exited';
      return this.exited(s, why);
    }
    this.handle(s, host.channel.takeRequest());
  }

  // ---- observation

  partitions(): PartitionReport[] {
    const state = this.kernel.state;
    return this.slots.map((s) => ({
      slot: s.index,
      name: s.name,
      domain: s.domain,
      world: worldOf(state, s.index),
      program: s.program,
      state: partitionStateName(state, s.index),
      calls: s.calls,
      restarts: s.restarts,
      exit: s.exit,
      stops: s.stops.map((x) => ({ ...x })),
      log: [...s.log],
    }));
  }

  get callsServed(): number {
    return this.served;
  }

  /** Stops every isolate. */
  async shutdown(): Promise<void> {
    this.unsubscribe();
    await Promise.all(this.slots.map((s) => s.host?.stop({ kind: 'killed', reason: 'shutdown' })));
    for (const s of this.slots) s.host = undefined;
  }
}

/** The numeric code's name, for reports. */
export function codeText(code: number): string {
  return codeName(code) ?? `code ${code}`;
}
