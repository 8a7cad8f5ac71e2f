/** fast-check generators for well-formed packets of every codec (shared by the codec and firewall tests). */
import fc from 'fast-check';

import type { ArpPacket } from '../../src/lib/net/arp.js';
import type { EthernetFrame, VlanTag } from '../../src/lib/net/ethernet.js';
import type { IcmpMessage } from '../../src/lib/net/icmp.js';
import { type Ipv4Option, type Ipv4Packet, ipv4HeaderLength } from '../../src/lib/net/ipv4.js';
import type { Ipv6Extension, Ipv6Packet } from '../../src/lib/net/ipv6.js';
import { type TcpOption, type TcpSegment, encodeTcpOptions } from '../../src/lib/net/tcp.js';
import type { UdpDatagram } from '../../src/lib/net/udp.js';

export const SEED = 0x72616d70;

/** fc.record with ordinary prototypes, so that deepStrictEqual compares generated and decoded values. */
export function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

export const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

export const vlanTag: fc.Arbitrary<VlanTag> = rec({
  tpid: fc.constantFrom(0x8100, 0x88a8),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  vid: fc.integer({ min: 0, max: 4095 }),
});

export const ethernet: fc.Arbitrary<EthernetFrame> = rec({
  dst: mac,
  src: mac,
  vlans: fc.array(vlanTag, { maxLength: 2 }),
  etherType: u16.filter((t) => t !== 0x8100 && t !== 0x88a8),
  payload: bytes(100),
});

export const arp: fc.Arbitrary<ArpPacket> = fc
  .record({ h: fc.integer({ min: 1, max: 8 }), p: fc.integer({ min: 1, max: 16 }) })
  .chain(({ h, p }) =>
    rec({
      hardwareType: u16,
      protocolType: u16,
      operation: u16,
      senderHardware: fc.uint8Array({ minLength: h, maxLength: h }),
      senderProtocol: fc.uint8Array({ minLength: p, maxLength: p }),
      targetHardware: fc.uint8Array({ minLength: h, maxLength: h }),
      targetProtocol: fc.uint8Array({ minLength: p, maxLength: p }),
    }),
  );

const ipv4Option: fc.Arbitrary<Ipv4Option> = fc.oneof(
  fc.constant({ type: 1, data: new Uint8Array(0) }),
  rec({ type: fc.integer({ min: 2, max: 255 }), data: bytes(6) }),
);

/** Option lists that fit 40 bytes and decode back identically (an EOL ends any unaligned list). */
export const ipv4Options: fc.Arbitrary<Ipv4Option[]> = fc.array(ipv4Option, { maxLength: 6 }).map((opts) => {
  const out: Ipv4Option[] = [];
  for (const o of opts)
    if (ipv4HeaderLength([...out, o, { type: 0, data: new Uint8Array(0) }]) <= 60) out.push(o);
  const raw = out.reduce((n, o) => n + (o.type <= 1 ? 1 : 2 + o.data.length), 0);
  if (raw % 4 !== 0) out.push({ type: 0, data: new Uint8Array(0) });
  return out;
});

export function ipv4With(
  payload: fc.Arbitrary<Uint8Array>,
  protocol?: fc.Arbitrary<number>,
): fc.Arbitrary<Ipv4Packet> {
  return rec({
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    identification: u16,
    reservedFlag: fc.boolean(),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 4000 }).map((x) => x * 8),
    ttl: u8,
    protocol: protocol ?? u8,
    src: u32,
    dst: u32,
    options: ipv4Options,
    payload,
  });
}

export const ipv4 = ipv4With(bytes(200));

const tlvExtension = (type: number): fc.Arbitrary<Ipv6Extension> =>
  fc
    .integer({ min: 0, max: 3 })
    .chain((k) => fc.uint8Array({ minLength: 6 + 8 * k, maxLength: 6 + 8 * k }))
    .map((data) => ({ kind: 'generic' as const, type, data }));

const ipv6Extension: fc.Arbitrary<Ipv6Extension> = fc.oneof(
  fc.constantFrom(43, 60, 135, 139, 140).chain(tlvExtension),
  fc
    .integer({ min: 0, max: 4 })
    .chain((k) => fc.uint8Array({ minLength: 6 + 4 * k, maxLength: 6 + 4 * k }))
    .map((data) => ({ kind: 'generic' as const, type: 51, data })),
  rec({
    kind: fc.constant('fragment' as const),
    fragmentOffset: fc.integer({ min: 0, max: 8191 }).map((x) => x * 8),
    moreFragments: fc.boolean(),
    identification: u32,
    reserved: u8,
    reservedBits: fc.integer({ min: 0, max: 3 }),
  }),
);

export const ipv6: fc.Arbitrary<Ipv6Packet> = rec({
  trafficClass: u8,
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  hopLimit: u8,
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  extensions: fc
    .tuple(fc.option(tlvExtension(0), { nil: undefined }), fc.array(ipv6Extension, { maxLength: 4 }))
    .map(([hbh, rest]) => (hbh ? [hbh, ...rest] : rest)),
  // Anything that is not itself an extension header ends the chain.
  protocol: u8.filter((p) => ![0, 43, 44, 51, 60, 135, 139, 140].includes(p)),
  payload: bytes(200),
});

export const tcpOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant({ type: 'nop' as const }),
  rec({ type: fc.constant('mss' as const), mss: u16 }),
  rec({ type: fc.constant('window-scale' as const), shift: u8 }),
  fc.constant({ type: 'sack-permitted' as const }),
  rec({
    type: fc.constant('sack' as const),
    blocks: fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 3 }),
  }),
  rec({ type: fc.constant('timestamps' as const), value: u32, echo: u32 }),
  rec({
    type: fc.constant('other' as const),
    kind: fc.integer({ min: 2, max: 255 }).filter((k) => ![2, 3, 4, 5, 8].includes(k)),
    data: bytes(6),
  }),
);

/** TCP option lists that fit 40 bytes and decode back identically. */
export const tcpOptions: fc.Arbitrary<TcpOption[]> = fc.array(tcpOption, { maxLength: 5 }).map((opts) => {
  const out: TcpOption[] = [];
  for (const o of opts) if (encodeTcpOptions([...out, o, { type: 'eol' }]).length <= 40) out.push(o);
  const unpadded = encodeTcpOptions(out).length;
  const rawLength = out.reduce((n, o) => n + rawTcpOptionLength(o), 0);
  if (rawLength !== unpadded) out.push({ type: 'eol' });
  return out;
});

function rawTcpOptionLength(o: TcpOption): number {
  switch (o.type) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'other':
      return 2 + o.data.length;
  }
}

export const tcp: fc.Arbitrary<TcpSegment> = rec({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  reserved: fc.integer({ min: 0, max: 7 }),
  flags: fc.integer({ min: 0, max: 0x1ff }),
  window: u16,
  urgentPointer: u16,
  options: tcpOptions,
  payload: bytes(100),
});

export const udp: fc.Arbitrary<UdpDatagram> = rec({ srcPort: u16, dstPort: u16, payload: bytes(100) });

export const icmp: fc.Arbitrary<IcmpMessage> = rec({
  type: u8,
  code: u8,
  rest: u32,
  payload: bytes(100),
});
