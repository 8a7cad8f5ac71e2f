/**
 * ARP for IPv4 over Ethernet (RFC 826): a cache with expiry, and a resolution queue that holds outgoing
 * datagrams while a request is outstanding, retries it, and gives up after a bound (RFC 1122 §2.3.2.1
 * and §2.3.2.2: retransmission limited, a small queue per destination).
 */
import { type MacAddress, formatIpv4, formatMac } from '../address.js';
import { ARP_HARDWARE_ETHERNET, ArpOperation, decodeArp, encodeArp } from '../arp.js';
import { EtherType } from '../ethernet.js';
import { PacketError, u32 } from '../wire.js';
import type { StackContext } from './context.js';
import { BROADCAST_MAC, type EthernetLayer, type LinkInput } from './ethernet.js';
import type { Timer } from './timers.js';

export interface ArpOptions {
  /** How long a learned entry is used before it is resolved again (default 60 s). */
  readonly cacheTtlNs?: number;
  /** Interval between requests for an unresolved address (default 1 s). */
  readonly retryNs?: number;
  /** Requests sent before giving up (default 3, as Linux's mcast_solicit). */
  readonly maxRequests?: number;
  /** Datagrams held per unresolved address; older ones are dropped first (default 16). */
  readonly queueLimit?: number;
}

export interface ArpEntry {
  readonly address: string;
  readonly mac: string;
  readonly expiresNs: number;
}

interface Resolved {
  mac: MacAddress;
  expiresNs: number;
}

interface Pending {
  readonly queue: Uint8Array[];
  requests: number;
  readonly timer: Timer;
}

export class ArpLayer {
  readonly counters = {
    requestsIn: 0,
    repliesIn: 0,
    requestsOut: 0,
    repliesOut: 0,
    malformed: 0,
    ignored: 0,
    queueOverflow: 0,
    resolutionFailed: 0,
  };
  private readonly cache = new Map<number, Resolved>();
  private readonly pending = new Map<number, Pending>();
  private readonly cacheTtlNs: number;
  private readonly retryNs: number;
  private readonly maxRequests: number;
  private readonly queueLimit: number;

  constructor(
    private readonly ctx: StackContext,
    private readonly eth: EthernetLayer,
    private readonly address: number,
    /** Called with the datagrams dropped when an address could not be resolved. */
    private readonly onUnresolved: (datagrams: readonly Uint8Array[]) => void,
    options: ArpOptions = {},
  ) {
    this.cacheTtlNs = options.cacheTtlNs ?? 60e9;
    this.retryNs = options.retryNs ?? 1e9;
    this.maxRequests = options.maxRequests ?? 3;
    this.queueLimit = options.queueLimit ?? 16;
  }

  /** The cached hardware address of `ip`, if fresh. */
  lookup(ip: number): MacAddress | undefined {
    const e = this.cache.get(ip);
    if (e === undefined) return undefined;
    if (e.expiresNs <= this.ctx.timers.now) {
      this.cache.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  /** Sends an IPv4 datagram to the neighbour `nextHop`, resolving its address first if needed. */
  output(nextHop: number, datagram: Uint8Array): void {
    const mac = this.lookup(nextHop);
    if (mac !== undefined) {
      this.eth.send(mac, EtherType.IPV4, datagram);
      return;
    }
    let p = this.pending.get(nextHop);
    if (p === undefined) {
      p = { queue: [], requests: 0, timer: this.ctx.timers.timer(() => this.retry(nextHop)) };
      this.pending.set(nextHop, p);
      this.request(nextHop, p);
    }
    if (p.queue.length === this.queueLimit) {
      p.queue.shift();
      this.ctx.count(this.counters, 'queueOverflow');
    }
    p.queue.push(datagram);
  }

  /** Announces our own binding (gratuitous ARP request, RFC 5227 §3). */
  announce(): void {
    this.sendArp(ArpOperation.REQUEST, BROADCAST_MAC, new Uint8Array(6), this.address);
    this.ctx.count(this.counters, 'requestsOut');
  }

  /** RFC 826, "Packet Reception". */
  input(link: LinkInput): void {
    let arp;
    try {
      arp = decodeArp(link.payload, link.offset);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      this.ctx.count(this.counters, 'malformed');
      return;
    }
    if (
      arp.hardwareType !== ARP_HARDWARE_ETHERNET ||
      arp.protocolType !== EtherType.IPV4 ||
      arp.senderHardware.length !== 6 ||
      arp.senderProtocol.length !== 4
    ) {
      this.ctx.count(this.counters, 'ignored');
      return;
    }
    const sender = u32(arp.senderProtocol, 0);
    const target = u32(arp.targetProtocol, 0);
    if (arp.operation === ArpOperation.REQUEST) this.ctx.count(this.counters, 'requestsIn');
    else if (arp.operation === ArpOperation.REPLY) this.ctx.count(this.counters, 'repliesIn');
    // A sender claiming our own address, or the unspecified one (an RFC 5227 probe), is not learned.
    const learnable = sender !== this.address && sender !== 0;
    let merged = false;
    if (learnable && this.cache.has(sender)) {
      this.learn(sender, arp.senderHardware);
      merged = true;
    }
    if (target !== this.address) return;
    if (learnable && !merged) this.learn(sender, arp.senderHardware);
    if (arp.operation === ArpOperation.REQUEST) {
      this.sendArp(ArpOperation.REPLY, arp.senderHardware, arp.senderHardware, sender);
      this.ctx.count(this.counters, 'repliesOut');
    }
  }

  entries(): ArpEntry[] {
    const now = this.ctx.timers.now;
    return [...this.cache]
      .filter(([, e]) => e.expiresNs > now)
      .map(([ip, e]) => ({ address: formatIpv4(ip), mac: formatMac(e.mac), expiresNs: e.expiresNs }));
  }

  private learn(ip: number, mac: Uint8Array): void {
    this.cache.set(ip, { mac: mac.slice(0, 6), expiresNs: this.ctx.timers.now + this.cacheTtlNs });
    const p = this.pending.get(ip);
    if (p === undefined) return;
    this.pending.delete(ip);
    p.timer.stop();
    for (const datagram of p.queue) this.eth.send(mac, EtherType.IPV4, datagram);
  }

  private request(ip: number, p: Pending): void {
    p.requests++;
    this.sendArp(ArpOperation.REQUEST, BROADCAST_MAC, new Uint8Array(6), ip);
    this.ctx.count(this.counters, 'requestsOut');
    p.timer.after(this.retryNs);
  }

  private retry(ip: number): void {
    const p = this.pending.get(ip);
    if (p === undefined) return;
    if (p.requests < this.maxRequests) {
      this.request(ip, p);
      return;
    }
    this.pending.delete(ip);
    this.ctx.count(this.counters, 'resolutionFailed');
    this.onUnresolved(p.queue);
  }

  private sendArp(operation: number, linkDst: MacAddress, targetHardware: Uint8Array, target: number): void {
    const ip = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const payload = encodeArp({
      hardwareType: ARP_HARDWARE_ETHERNET,
      protocolType: EtherType.IPV4,
      operation,
      senderHardware: this.eth.mac,
      senderProtocol: ip(this.address),
      targetHardware: targetHardware.slice(0, 6),
      targetProtocol: ip(target),
    });
    this.eth.send(linkDst, EtherType.ARP, payload);
  }
}
