/**
 * A compact, event-driven IPv4 host stack: Ethernet, ARP, IPv4, ICMP, UDP and TCP on one interface.
 *
 * It is a pure engine. It never reads a clock, starts a timer or touches the host: frames come in by
 * `receive(frame)` and leave through the attached `LinkPort`; time moves only when the caller says so
 * with `tick(nowNs)`, and `nextDeadlineNs()` says when it must next be called. Randomness (ISNs,
 * ephemeral ports, IP and ICMP identifiers) comes from a seed. The same inputs at the same times give
 * the same outputs, bit for bit. Nothing here needs Node: it runs as is in a Hardened JavaScript
 * compartment.
 *
 * Application callbacks and outgoing frames are collected while the stack works and released when the
 * outermost call returns, so a callback can call back into the stack, and a link that delivers frames
 * synchronously cannot re-enter a half-updated stack.
 */
import { assert } from '../../../common/errors.js';
import { SeededRandom } from '../../../common/random.js';
import { type MacAddress, formatIpv4, parseIpv4, parseMac } from '../address.js';
import { EtherType } from '../ethernet.js';
import { IpProtocol } from '../ipv4.js';
import { type ArpOptions, ArpLayer } from './arp.js';
import type { StackContext } from './context.js';
import { EthernetLayer } from './ethernet.js';
import { IcmpLayer, type PingOptions, type PingRequest, type PingResult } from './icmp.js';
import { Ipv4Layer } from './ipv4.js';
import { type TcpOptions, TcpLayer } from './tcp.js';
import { TimerQueue } from './timers.js';
import { UdpLayer } from './udp.js';

/** Where frames leave the stack: a NIC driver, a proxy ring, a simulated wire. */
export interface LinkPort {
  send(frame: Uint8Array): void;
}

export interface NetworkStackOptions {
  /** Interface hardware address, as bytes or `aa:bb:cc:dd:ee:ff`. */
  readonly mac: MacAddress | string;
  readonly ipv4: {
    readonly address: number | string;
    readonly prefixLength: number;
    readonly gateway?: number | string;
    /** TTL of outgoing datagrams (default 64). */
    readonly ttl?: number;
    /** Fragment reassembly timeout (default 30 s). */
    readonly reassemblyTimeoutNs?: number;
  };
  /** Largest IP datagram on the link (default 1500). */
  readonly mtu?: number;
  /** Seed of every random choice the stack makes (default 1). */
  readonly seed?: number;
  readonly link?: LinkPort;
  readonly arp?: ArpOptions;
  readonly tcp?: TcpOptions;
  /** Accept frames for any MAC address (default false). */
  readonly promiscuous?: boolean;
}

export interface StackCounters {
  readonly link: Readonly<EthernetLayer['counters']>;
  readonly arp: Readonly<ArpLayer['counters']>;
  readonly ipv4: Readonly<Ipv4Layer['counters']>;
  readonly icmp: Readonly<IcmpLayer['counters']>;
  readonly udp: Readonly<UdpLayer['counters']>;
  readonly tcp: Readonly<TcpLayer['counters']>;
  readonly stack: Readonly<NetworkStack['counters']>;
}

export class NetworkStack {
  readonly ethernet: EthernetLayer;
  readonly arp: ArpLayer;
  readonly ip: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  private readonly timers = new TimerQueue();
  private readonly context: StackContext;
  readonly counters = { unknownEtherType: 0, framesDroppedNoLink: 0, callbackErrors: 0 };
  private link: LinkPort | undefined;
  private depth = 0;
  private flushing = false;
  private readonly outbox: Uint8Array[] = [];
  private readonly deferred: (() => void)[] = [];

  constructor(options: NetworkStackOptions) {
    const mac = typeof options.mac === 'string' ? parseMac(options.mac) : options.mac.slice(0, 6);
    assert(mac.length === 6, 'a MAC address has 6 bytes');
    const address =
      typeof options.ipv4.address === 'string' ? parseIpv4(options.ipv4.address) : options.ipv4.address >>> 0;
    const gw = options.ipv4.gateway;
    const gateway = gw === undefined ? undefined : typeof gw === 'string' ? parseIpv4(gw) : gw >>> 0;
    const prefixLength = options.ipv4.prefixLength;
    assert(
      Number.isInteger(prefixLength) && prefixLength >= 0 && prefixLength <= 32,
      `bad prefix length ${prefixLength}`,
    );
    const mtu = options.mtu ?? 1500;
    assert(
      Number.isInteger(mtu) && mtu >= 576 && mtu <= 65535,
      `MTU ${mtu} outside 576–65535 (RFC 791 §3.1)`,
    );
    const random = new SeededRandom(options.seed ?? 1);
    this.context = {
      timers: this.timers,
      random,
      defer: (callback) => {
        this.deferred.push(callback);
      },
      run: (fn) => this.run(fn),
      count: (c, name, by = 1) => {
        (c as Record<string, number>)[name] = ((c as Record<string, number>)[name] ?? 0) + by;
      },
    };
    this.link = options.link;
    this.ethernet = new EthernetLayer(
      this.context,
      mac,
      mtu,
      (frame) => this.outbox.push(frame),
      options.promiscuous ?? false,
    );
    // The ARP layer reports unresolvable next hops to ICMP, which is created below (read at call time).
    this.arp = new ArpLayer(
      this.context,
      this.ethernet,
      address,
      (d) => this.icmp.localUnreachable(d),
      options.arp,
    );
    this.ip = new Ipv4Layer(this.context, this.ethernet, this.arp, {
      address,
      prefixLength,
      ...(gateway === undefined ? {} : { gateway }),
      ...(options.ipv4.ttl === undefined ? {} : { ttl: options.ipv4.ttl }),
      ...(options.ipv4.reassemblyTimeoutNs === undefined
        ? {}
        : { reassemblyTimeoutNs: options.ipv4.reassemblyTimeoutNs }),
    });
    this.icmp = new IcmpLayer(this.context, this.ip);
    this.udp = new UdpLayer(this.context, this.ip, this.icmp);
    this.tcp = new TcpLayer(this.context, this.ip, mtu, options.tcp);
    this.ip.handlers.set(IpProtocol.ICMP, (i) => this.icmp.input(i));
    this.ip.handlers.set(IpProtocol.UDP, (i) => this.udp.input(i));
    this.ip.handlers.set(IpProtocol.TCP, (i) => this.tcp.input(i));
    this.ip.onUnknownProtocol = (i) => this.icmp.protocolUnreachable(i);
    this.icmp.errorHandlers.set(IpProtocol.UDP, (r) => this.udp.icmpError(r));
    this.icmp.errorHandlers.set(IpProtocol.TCP, (r) => this.tcp.icmpError(r));
  }

  get address(): number {
    return this.ip.address;
  }

  get addressText(): string {
    return formatIpv4(this.ip.address);
  }

  get mac(): MacAddress {
    return this.ethernet.mac;
  }

  /** Connects the stack to its link; frames sent while none is attached are counted and dropped. */
  attach(link: LinkPort | undefined): void {
    this.link = link;
  }

  /** Current virtual time. */
  get nowNs(): bigint {
    return BigInt(this.timers.now);
  }

  /** Advances virtual time to `nowNs` (never backwards) and runs every timer due by then. */
  tick(nowNs: bigint): void {
    assert(nowNs <= BigInt(Number.MAX_SAFE_INTEGER), 'virtual time beyond 2^53 ns');
    const now = Number(nowNs);
    assert(now >= this.timers.now, `time went backwards: ${now} < ${this.timers.now}`);
    this.run(() => this.timers.runDue(now));
  }

  /** When `tick` must next be called, if any timer is armed. */
  nextDeadlineNs(): bigint | undefined {
    const next = this.timers.nextDeadline();
    return next === undefined ? undefined : BigInt(next);
  }

  /** Takes one frame from the link (at the current virtual time). The stack keeps no reference to it. */
  receive(frame: Uint8Array): void {
    this.run(() => {
      const input = this.ethernet.input(frame);
      if (input === undefined) return;
      if (input.etherType === EtherType.IPV4) this.ip.input(input);
      else if (input.etherType === EtherType.ARP) this.arp.input(input);
      else this.context.count(this.counters, 'unknownEtherType');
    });
  }

  /** ICMP echo (`ping`) to `address`; the outcome arrives through `onResult` and the returned handle. */
  ping(
    address: number | string,
    options: PingOptions = {},
    onResult?: (result: PingResult) => void,
  ): PingRequest {
    const dst = typeof address === 'string' ? parseIpv4(address) : address >>> 0;
    return this.run(() => this.icmp.ping(dst, options, onResult));
  }

  /** Sends a gratuitous ARP announcing this interface's address (RFC 5227 §3). */
  announce(): void {
    this.run(() => this.arp.announce());
  }

  /** Every layer's counters (a copy). */
  stats(): StackCounters {
    return {
      link: { ...this.ethernet.counters },
      arp: { ...this.arp.counters },
      ipv4: { ...this.ip.counters },
      icmp: { ...this.icmp.counters },
      udp: { ...this.udp.counters },
      tcp: { ...this.tcp.counters },
      stack: { ...this.counters },
    };
  }

  private run<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.flush();
    }
  }

  /** Sends queued frames and runs deferred callbacks until both queues are empty. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    let failure: { error: unknown } | undefined;
    try {
      let f = 0;
      let d = 0;
      while (f < this.outbox.length || d < this.deferred.length) {
        while (f < this.outbox.length) {
          const frame = this.outbox[f++] as Uint8Array;
          if (this.link === undefined) this.context.count(this.counters, 'framesDroppedNoLink');
          else {
            try {
              this.link.send(frame);
            } catch (error) {
              failure ??= { error };
            }
          }
        }
        if (d < this.deferred.length) {
          const callback = this.deferred[d++] as () => void;
          this.depth++;
          try {
            callback();
          } catch (error) {
            this.context.count(this.counters, 'callbackErrors');
            failure ??= { error };
          } finally {
            this.depth--;
          }
        }
      }
      this.outbox.length = 0;
      this.deferred.length = 0;
    } finally {
      this.flushing = false;
    }
    // A callback's exception reaches the caller once the stack is consistent again.
    if (failure !== undefined) throw failure.error;
  }
}
