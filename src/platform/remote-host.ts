/**
 * An emulated remote host: a TCP/IP stack (src/lib/net/stack/) attached to one of the board's packet
 * segments through the SoC's port interface, driven by the machine's virtual clock. Frames it sends go on
 * the segment (and its tap); frames on the segment reach it after serialisation and latency like any
 * NIC's; its timers (retransmission, TIME-WAIT, ARP retries) run as clock events, so a host keeps
 * working while the board's partitions sleep.
 *
 * The lab and the demos script it with `act` (everything that calls into the stack from outside a frame
 * or a timer must go through it, so that the stack sees the current time and its next deadline is
 * scheduled), and can put hand-made frames on the wire with `sendRaw`.
 */
import { assert } from '../common/errors.js';
import { NetworkStack, type NetworkStackOptions } from '../lib/net/stack/index.js';
import type { Machine } from '../soc/machine.js';
import type { SegmentPort } from '../soc/links/segment.js';

export interface RemoteHostOptions extends Omit<NetworkStackOptions, 'link'> {
  /** Port name on the segment (and clock target), unique on the board. */
  readonly name: string;
  /** The segment to attach to (an Ethernet or Wi-Fi link of the board). */
  readonly link: string;
  /** Wi-Fi passphrase, for a host outside the board joining a protected network. */
  readonly passphrase?: string;
}

export class RemoteHost {
  readonly stack: NetworkStack;
  readonly name: string;
  private readonly port: SegmentPort;
  private readonly target: string;
  private readonly link: string;
  private scheduledNs: number | undefined;
  /** Frames this host received from the segment (whatever their destination). */
  framesReceived = 0;

  private constructor(
    private readonly machine: Machine,
    options: RemoteHostOptions,
  ) {
    this.name = options.name;
    this.target = `host:${options.name}`;
    this.link = options.link;
    const segment = machine.segment(options.link);
    assert(
      segment.medium !== 'cellular',
      'a remote host with an Ethernet stack needs an Ethernet or Wi-Fi link',
    );
    const attached = segment.attach(
      options.name,
      { deliver: (frame, timeNs) => this.deliver(frame, timeNs) },
      options.passphrase === undefined ? {} : { passphrase: options.passphrase },
    );
    assert(
      attached.ok,
      `cannot attach ${options.name} to ${options.link}: ${attached.ok ? '' : attached.code}`,
    );
    this.port = attached.port;
    const { name: _n, link: _l, passphrase: _p, ...stackOptions } = options;
    this.stack = new NetworkStack({ ...stackOptions, link: { send: (frame) => this.port.send(frame) } });
    machine.clock.register(this.target, () => this.onTimer());
    this.stack.tick(BigInt(machine.clock.nowNs));
  }

  /** Attaches a new host to segment `options.link` of the machine. */
  static attach(machine: Machine, options: RemoteHostOptions): RemoteHost {
    return new RemoteHost(machine, options);
  }

  /** Runs `fn` on the stack at the machine's current time, then schedules the stack's next deadline. */
  act<T>(fn: (stack: NetworkStack) => T): T {
    this.stack.tick(BigInt(this.machine.clock.nowNs));
    try {
      return fn(this.stack);
    } finally {
      this.reschedule();
    }
  }

  /** Puts a frame on the segment as it is (malformed or hand-made frames). */
  sendRaw(frame: Uint8Array): void {
    this.port.send(frame);
  }

  /** Leaves the segment; its timers stop. */
  detach(): void {
    this.machine.clock.cancel(this.target);
    this.machine.clock.unregister(this.target);
    this.machine.segment(this.link).detach(this.name);
  }

  private deliver(frame: Uint8Array, timeNs: number): void {
    this.framesReceived++;
    this.stack.tick(BigInt(timeNs));
    this.stack.receive(frame);
    this.reschedule();
  }

  private onTimer(): void {
    this.scheduledNs = undefined;
    this.stack.tick(BigInt(this.machine.clock.nowNs));
    this.reschedule();
  }

  private reschedule(): void {
    const next = this.stack.nextDeadlineNs();
    const clock = this.machine.clock;
    if (next === undefined) {
      if (this.scheduledNs !== undefined) clock.cancel(this.target);
      this.scheduledNs = undefined;
      return;
    }
    const at = Math.max(Number(next), clock.nowNs);
    if (this.scheduledNs === at) return;
    if (this.scheduledNs !== undefined) clock.cancel(this.target);
    clock.scheduleAt(at, this.target, 'tick');
    this.scheduledNs = at;
  }
}
