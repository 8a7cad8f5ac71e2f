/**
 * The firewall trusted application. Two partitions of the firewall's domain run it:
 *
 * - `firewall` (the engine): waits on its notification, moves frames between the NIC driver's rings
 *   (`nic-link`, secure memory) and the Normal World's rings (`nw-link`, Normal World memory), and runs
 *   each frame through the netfilter engine with the ruleset signed into the secure bundle
 *   (`ta-data firewall/rules.v4`, measured at boot). It never takes a ruleset from anywhere else: it has
 *   no endpoint, and nothing the Normal World writes is ever parsed as anything but frames.
 *   Drops and rejects go to its console (the kernel keeps it; the Normal World cannot reach it); its
 *   counters and status are read on the secure console `uart1` (`iptables-save -c`, `stats`).
 * - `firewall-doorbell`: receives the Normal World's doorbell SMC, sets the NORMAL_WORLD bit on the
 *   engine's notification and answers. It reads nothing of the message. (The Normal World never holds a
 *   capability to a secure object, so it cannot signal the engine's notification itself.)
 */
import {
  bootInfo,
  deviceRegisters,
  E,
  kcall,
  log,
  now,
  regionCopier,
  regionInfo,
  taData,
} from '../../kernel/abi/sys.js';
import { decodeUtf8, encodeUtf8 } from '../../common/utf8.js';
import { RingConsumer, RingProducer, type RingMemory } from '../../lib/ring/frame-ring.js';
import { parseRuleset } from '../../lib/netfilter/parse.js';
import { TCP_STATE_NAMES } from '../../lib/netfilter/conntrack.js';
import { formatIpv4 } from '../../lib/net/address.js';
import type { Ruleset } from '../../lib/netfilter/ruleset.js';
import { EntryFilter } from './filter.js';
import { LogRing, type LogRingCounters } from './log-ring.js';
import {
  CAPTURE_HEADER_BYTES,
  CAPTURE_MAGIC,
  CAPTURE_RECORD_HEADER,
  CAPTURE_REGION,
  CONSOLE_DEVICE,
  CaptureDirection,
  DoorbellSlot,
  FirewallEvent,
  FirewallSlot,
  LINK_UP_OFFSET,
  NW_LINK_REGION,
  NW_RING_CAPACITY,
  NW_TO_NORMAL_RING,
  NW_TO_SECURE_RING,
  NormalWorldEvent,
  RULESET_FILE,
} from './protocol.js';
import {
  DriverDoorbell,
  NIC_LINK_REGION,
  NIC_RECEIVE_RING,
  NIC_RING_CAPACITY,
  NIC_TRANSMIT_RING,
} from '../../lib/nic/link.js';

interface Info {
  readonly partition: string;
  readonly setup: { readonly endpoints?: readonly unknown[] };
  readonly regions: readonly { name: string; index: number }[];
  readonly devices: readonly { name: string; index: number }[];
}

const info = bootInfo<Info>();

function runDoorbell(): void {
  let m = kcall('endpoint_receive', DoorbellSlot.ENDPOINT);
  for (;;) {
    if (m.code !== E.OK) return log(`firewall-doorbell: endpoint gone (code ${m.code})`);
    kcall('notification_signal', DoorbellSlot.FIREWALL, FirewallEvent.NORMAL_WORLD);
    m = kcall('endpoint_reply_receive', DoorbellSlot.ENDPOINT, 0, 0, 0, 0, 0);
    // The ringing client was stopped meanwhile: nothing to answer, wait for the next ring.
    if (m.code === E.ENOREPLY) m = kcall('endpoint_receive', DoorbellSlot.ENDPOINT);
  }
}

/** Log lines held per pass (the ring's size); the rest are counted and summarised (the counters stay exact). */
const LOG_LINES_PER_PASS = 32;
/** Ring bytes taken from each side per pass: the Normal World cannot starve the WAN, nor the reverse. */
const BYTES_PER_PASS = 16 * 1024;
const MAX_RECORD = 1524;
const RW = 3;

function runFirewall(): void {
  const region = (name: string) => info.regions.find((r) => r.name === name)?.index;
  const rulesBytes = taData(RULESET_FILE);
  let ruleset: Ruleset;
  try {
    if (!rulesBytes) throw new Error(`the secure bundle holds no ta-data firewall/${RULESET_FILE}`);
    ruleset = parseRuleset(decodeUtf8(rulesBytes), { file: `firewall/${RULESET_FILE}` });
  } catch (e) {
    // Fail closed: without its ruleset the firewall forwards nothing (the driver talks to no one else).
    return log(`firewall: no valid ruleset (${e instanceof Error ? e.message : String(e)}): nothing passes`);
  }
  const filter = new EntryFilter(ruleset);
  const rules = ruleset.chains.reduce((n, c) => n + c.rules.length, 0);
  log(
    `firewall: ruleset firewall/${RULESET_FILE} loaded from the secure bundle: ${rules} rules in ${ruleset.chains.length} chains, conntrack ${filter.firewall.conntrackEnabled ? `on (max ${filter.firewall.conntrackStats()?.max})` : 'off'}`,
  );

  const nicLink = region(NIC_LINK_REGION);
  const nwLink = region(NW_LINK_REGION);
  const capture = region(CAPTURE_REGION);
  const consoleDevice = info.devices.find((d) => d.name === CONSOLE_DEVICE)?.index;
  if (nicLink === undefined || nwLink === undefined)
    return log(`firewall: not configured (regions ${NIC_LINK_REGION}, ${NW_LINK_REGION})`);
  const mapped = kcall('region_map', nicLink, RW).code;
  if (mapped !== E.OK) return log(`firewall: cannot map ${NIC_LINK_REGION} (code ${mapped})`);
  const nicMemory = regionCopier(nicLink);
  const fromWan = new RingConsumer(nicMemory, { base: NIC_RECEIVE_RING, capacity: NIC_RING_CAPACITY });
  const toWan = new RingProducer(nicMemory, { base: NIC_TRANSMIT_RING, capacity: NIC_RING_CAPACITY });
  fromWan.resume();
  toWan.resume();

  // The Normal World's link: mapped as soon as the Normal World shares it (it may not have yet).
  const nwMemory = regionCopier(nwLink);
  const fromNormal = new RingConsumer(nwMemory, { base: NW_TO_SECURE_RING, capacity: NW_RING_CAPACITY });
  const toNormal = new RingProducer(nwMemory, { base: NW_TO_NORMAL_RING, capacity: NW_RING_CAPACITY });
  let nwMapped = false;
  let linkAnnounced = false;
  const mapNormalWorld = () => {
    if (nwMapped) return;
    if (kcall('region_map', nwLink, RW).code !== E.OK) return;
    nwMapped = true;
    fromNormal.resume();
    toNormal.resume();
  };

  const recorder = capture === undefined ? undefined : new CaptureWriter(capture);
  const ring = new LogRing(LOG_LINES_PER_PASS);
  const secureConsole =
    consoleDevice === undefined ? undefined : new SecureConsole(consoleDevice, ring.counters);

  const note = (lines: readonly string[]) => {
    for (const l of lines) ring.push(`fw: ${l}`);
  };
  const flushLog = () => {
    for (const text of ring.drain()) log(text);
  };

  let bits = FirewallEvent.NORMAL_WORLD | FirewallEvent.RECEIVED;
  for (;;) {
    const nowNs = now();
    let worked = false;
    let driverBits = 0;
    let normalBits = 0;
    if (bits & FirewallEvent.NORMAL_WORLD) mapNormalWorld();
    if (!filter.mac) {
      const header = nicMemory.read(0, LINK_UP_OFFSET + 4);
      if (header && header[LINK_UP_OFFSET] === 1) filter.mac = header.slice(0, 6);
    }
    if (nwMapped && filter.mac && !linkAnnounced) {
      const header = new Uint8Array(LINK_UP_OFFSET + 4);
      header.set(filter.mac, 0);
      header[LINK_UP_OFFSET] = 1;
      nwMemory.write(0, header);
      linkAnnounced = true;
      normalBits |= NormalWorldEvent.RECEIVED;
      log('firewall: link to the Normal World up');
    }

    // WAN → Normal World (INPUT).
    if (nwMapped) toNormal.refresh();
    toWan.refresh();
    const wan = fromWan.take(BYTES_PER_PASS);
    if (wan.fault) note([`ring from the driver: ${wan.fault}`]);
    for (const f of wan.frames) {
      const o = filter.process('wan', f.bytes, nowNs);
      note(o.log);
      for (const out of o.forward) {
        if (nwMapped && linkAnnounced && toNormal.push(out))
          recorder?.add(nowNs, CaptureDirection.TO_NORMAL_WORLD, out);
        else note([`DROP ring to the Normal World full or down: ${out.length} bytes`]);
      }
      for (const out of o.reply) if (!toWan.push(out)) note(['DROP ring to the driver full: a REJECT reply']);
    }
    if (wan.frames.length > 0) {
      worked = true;
      fromWan.release();
      if (fromWan.takeProducerAsleep()) driverBits |= DriverDoorbell.RECEIVE_SPACE;
    }

    // Normal World → WAN (OUTPUT), as much as the transmit ring can surely take.
    if (nwMapped) {
      const room = Math.min(BYTES_PER_PASS, toWan.free - MAX_RECORD);
      const nw = room > MAX_RECORD ? fromNormal.take(room) : { frames: [] };
      if ('fault' in nw && nw.fault) note([`ring from the Normal World: ${nw.fault}`]);
      for (const f of nw.frames) {
        recorder?.add(nowNs, CaptureDirection.FROM_NORMAL_WORLD, f.bytes);
        const o = filter.process('normal-world', f.bytes, nowNs);
        note(o.log);
        for (const out of o.forward) if (!toWan.push(out)) note(['DROP ring to the driver full']);
        for (const out of o.reply) {
          if (toNormal.push(out)) recorder?.add(nowNs, CaptureDirection.TO_NORMAL_WORLD, out);
          else note(['DROP ring to the Normal World full: a REJECT reply']);
        }
      }
      if (nw.frames.length > 0) {
        worked = true;
        fromNormal.release();
        normalBits |= NormalWorldEvent.SPACE;
      }
      if (room <= MAX_RECORD) toWan.sleep();
    }

    if (toWan.publish() > 0) driverBits |= DriverDoorbell.TRANSMIT;
    if (toNormal.publish() > 0) normalBits |= NormalWorldEvent.RECEIVED;
    if (driverBits) kcall('notification_signal', FirewallSlot.DRIVER, driverBits);
    if (normalBits && nwMapped) kcall('notification_signal', FirewallSlot.NORMAL_WORLD, normalBits);
    filter.firewall.expire(nowNs);
    recorder?.flush();
    if (secureConsole && bits & FirewallEvent.CONSOLE)
      secureConsole.serve(filter, { fromWan, toWan, fromNormal, toNormal });
    flushLog();

    if (worked) {
      bits = 0;
      continue;
    }
    // Nothing to do: say so to the Normal World (it rings the doorbell only then), look once more, sleep.
    if (nwMapped) fromNormal.sleep();
    if (fromWan.pending() || (nwMapped && fromNormal.pending())) {
      bits = 0;
      continue;
    }
    const w = kcall('notification_wait', FirewallSlot.EVENTS);
    if (w.code !== E.OK) return log(`firewall: its notification is gone (code ${w.code})`);
    bits = w.value | w.badge; // pending bits come back as the value, a wake carries them in the badge
  }
}

/** Appends every frame that crossed the Normal World link to `fw-capture` (until it is full). */
class CaptureWriter {
  private readonly memory: RingMemory;
  private readonly size: number;
  private used = 0;
  private dropped = 0;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;

  constructor(region: number) {
    this.memory = regionCopier(region);
    this.size = regionInfo(region)?.size ?? 0;
    const header = new Uint8Array(CAPTURE_HEADER_BYTES);
    new DataView(header.buffer).setUint32(0, CAPTURE_MAGIC, true);
    header[4] = 1;
    this.memory.write(0, header);
  }

  add(nowNs: bigint, direction: number, frame: Uint8Array): void {
    const record = (CAPTURE_RECORD_HEADER + frame.length + 3) & ~3;
    if (CAPTURE_HEADER_BYTES + this.used + this.batchBytes + record > this.size) {
      this.dropped++;
      return;
    }
    const r = new Uint8Array(record);
    const v = new DataView(r.buffer);
    v.setUint32(0, Number(nowNs & 0xffffffffn), true);
    v.setUint32(4, Number(nowNs >> 32n), true);
    v.setUint16(8, frame.length, true);
    r[10] = direction;
    r.set(frame, CAPTURE_RECORD_HEADER);
    this.batch.push(r);
    this.batchBytes += record;
  }

  flush(): void {
    if (this.batch.length === 0 && this.dropped === 0) return;
    const all = new Uint8Array(this.batchBytes);
    let at = 0;
    for (const r of this.batch) {
      all.set(r, at);
      at += r.length;
    }
    this.memory.write(CAPTURE_HEADER_BYTES + this.used, all);
    this.used += this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    const counts = new Uint8Array(8);
    new DataView(counts.buffer).setUint32(0, this.used, true);
    new DataView(counts.buffer).setUint32(4, this.dropped, true);
    this.memory.write(8, counts);
  }
}

interface Rings {
  readonly fromWan: RingConsumer;
  readonly toWan: RingProducer;
  readonly fromNormal: RingConsumer;
  readonly toNormal: RingProducer;
}

/**
 * The secure console (a PL011 UART of the Secure World): read-only administration. It answers
 * `iptables-save [-c]`, `stats`, `conntrack -L` and `help`, each answer followed by the prompt `fw> `.
 */
class SecureConsole {
  private readonly regs;
  private line = '';

  constructor(
    private readonly device: number,
    private readonly logCounters: LogRingCounters,
  ) {
    this.regs = deviceRegisters(device);
    this.regs.write(0x038, 1 << 4); // IMSC: receive interrupt
    this.write('fw> ');
  }

  serve(filter: EntryFilter, rings: Rings): void {
    for (let i = 0; i < 4096; i++) {
      const fr = this.regs.read(0x018);
      if (fr === undefined || fr & (1 << 4)) break; // RXFE
      const b = this.regs.read(0x000) ?? 0;
      if (b === 0x0a || b === 0x0d) {
        const command = this.line.trim();
        this.line = '';
        if (command !== '') this.write(`${this.answer(command, filter, rings)}fw> `);
      } else if (this.line.length < 256) this.line += String.fromCharCode(b & 0x7f);
    }
    this.regs.write(0x044, 1 << 4); // ICR
    kcall('irq_ack', this.device);
  }

  private answer(command: string, filter: EntryFilter, rings: Rings): string {
    switch (command) {
      case 'iptables-save -c':
        return filter.firewall.save({ counters: true });
      case 'iptables-save':
        return filter.firewall.save({ counters: false });
      case 'stats':
        return `${JSON.stringify({
          engine: filter.firewall.stats,
          conntrack: filter.firewall.conntrackStats(),
          fragments: filter.firewall.reassemblyStats(),
          log: this.logCounters,
          icmpErrors: filter.icmpLimiter.counters,
          wan: filter.counters.wan,
          normalWorld: filter.counters['normal-world'],
          rings: {
            fromWan: rings.fromWan.counters,
            toWan: rings.toWan.counters,
            fromNormalWorld: rings.fromNormal.counters,
            toNormalWorld: rings.toNormal.counters,
          },
        })}\n`;
      case 'conntrack -L': {
        const t = now();
        return filter.firewall
          .connections(t)
          .map((c) => {
            const o = c.original;
            const state = c.tcp ? ` ${TCP_STATE_NAMES[c.tcp.state] ?? c.tcp.state}` : '';
            return `${protocolName(o.protocol)} ${o.protocol} ${(c.expiresNs - t) / 1_000_000_000n}${state} src=${formatIpv4(o.src)} dst=${formatIpv4(o.dst)} sport=${o.sport} dport=${o.dport}${c.seenReply ? '' : ' [UNREPLIED]'}${c.assured ? ' [ASSURED]' : ''}\n`;
          })
          .join('');
      }
      case 'help':
        return 'commands: iptables-save [-c], stats, conntrack -L, help\n';
      default:
        return `unknown command (the ruleset comes only from the signed secure bundle): ${command}\n`;
    }
  }

  private write(text: string): void {
    for (const b of encodeUtf8(text)) this.regs.write(0x000, b);
  }
}

function protocolName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : 'unknown';
}

// The partition's role: the doorbell partition is the one that serves an endpoint.
if ((info.setup.endpoints ?? []).length > 0) runDoorbell();
else runFirewall();
