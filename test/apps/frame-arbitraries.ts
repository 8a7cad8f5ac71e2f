/**
 * fast-check generators of what either side of the firewall may send: datagrams with any flags,
 * options and fragment fields, valid datagrams cut into fragments and delivered out of order, repeated
 * or in part (DF set on some), datagrams too large for the link, corrupted frames and random bytes.
 */
import fc from 'fast-check';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { encodeIcmp } from '../../src/lib/net/icmp.js';
import { encodeIpv4, ipv4HeaderLength, type Ipv4Packet } from '../../src/lib/net/ipv4.js';
import { fragmentIpv4 } from '../../src/lib/net/ipv4-fragments.js';
import { encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';
import { parseIpv4, parseMac } from '../../src/lib/net/address.js';
import * as gen from '../net/arbitraries.js';

export const GW = parseIpv4('198.51.100.10');
export const HOST = parseIpv4('198.51.100.20');
export const GW_MAC = parseMac('02:52:50:00:00:01');
export const HOST_MAC = parseMac('02:00:00:00:53:14');

export type Side = 'wan' | 'normal-world';
export interface SentFrame {
  readonly side: Side;
  readonly frame: Uint8Array;
}

const address = fc.oneof(fc.constant(HOST), fc.constant(GW), gen.u32);

/** A transport payload for `protocol` between `src` and `dst`: well-formed (checksums right) or not. */
function transport(protocol: number, src: number, dst: number, max: number): fc.Arbitrary<Uint8Array> {
  const ph = { version: 4 as const, src, dst };
  const wellFormed =
    protocol === 6
      ? gen.tcp.map((s) => encodeTcp({ ...s, dstPort: s.dstPort % 3 === 0 ? 80 : s.dstPort }, ph))
      : protocol === 17
        ? gen.udp.map((d) => encodeUdp(d, ph))
        : protocol === 1
          ? gen.icmp.map((m) => encodeIcmp({ ...m, type: m.type % 4 === 0 ? 8 : m.type % 20 }))
          : gen.bytes(64);
  return fc.oneof(
    wellFormed,
    fc.integer({ min: 0, max: max }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff)),
    gen.bytes(200),
  );
}

/** Any IPv4 header fields over any payload, the total kept within `max` bytes. */
function datagram(max: number): fc.Arbitrary<Ipv4Packet> {
  return fc
    .record({
      src: address,
      dst: address,
      protocol: fc.oneof(fc.constantFrom(1, 6, 17), gen.u8),
      options: fc.oneof(fc.constant([]), gen.ipv4Options),
    })
    .chain(({ src, dst, protocol, options }) =>
      gen.rec<Ipv4Packet>({
        dscp: fc.integer({ min: 0, max: 63 }),
        ecn: fc.integer({ min: 0, max: 3 }),
        identification: fc.oneof(fc.integer({ min: 0, max: 3 }), gen.u16),
        reservedFlag: fc.boolean(),
        dontFragment: fc.boolean(),
        moreFragments: fc.boolean(),
        fragmentOffset: fc
          .oneof(fc.constant(0), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 8191 }))
          .map((x) => x * 8),
        ttl: gen.u8,
        protocol: fc.constant(protocol),
        src: fc.constant(src),
        dst: fc.constant(dst),
        options: fc.constant(options),
        payload: transport(protocol, src, dst, max - ipv4HeaderLength(options)).map((p) =>
          p.subarray(0, max - ipv4HeaderLength(options)),
        ),
      }),
    );
}

/** A transport message the gateway's ruleset lets through (mostly), of `size` bytes of data. */
function allowed(
  side: Side,
  src: number,
  dst: number,
  size: number,
): fc.Arbitrary<{ protocol: number; payload: Uint8Array }> {
  const ph = { version: 4 as const, src, dst };
  const data = new Uint8Array(size).map((_, i) => i & 0xff);
  return fc.constantFrom(1, 6, 17).chain((protocol) =>
    fc.record({ port: gen.u16, pick: fc.nat(3) }).map(({ port, pick }) => ({
      protocol,
      payload: message(protocol, port, pick),
    })),
  );
  function message(protocol: number, port: number, pick: number): Uint8Array {
    if (protocol === 1) return encodeIcmp({ type: 8, code: 0, rest: port, payload: data });
    if (protocol === 17)
      return encodeUdp({ srcPort: port, dstPort: pick === 0 ? port : 5683, payload: data }, ph);
    const dstPort = pick === 0 ? port : side === 'wan' ? 80 : 443;
    return encodeTcp(
      {
        srcPort: port,
        dstPort,
        seq: port * 7,
        ack: 0,
        reserved: 0,
        flags: pick === 1 ? 0x10 : 0x02,
        window: 8192,
        urgentPointer: 0,
        options: [],
        payload: data,
      },
      ph,
    );
  }
}

/**
 * A whole datagram (up to 6000 bytes, mostly one the ruleset accepts) cut at some MTU, DF set on the
 * pieces or not, the pieces shuffled, some repeated, one lost half the time.
 */
function fragments(side: Side): fc.Arbitrary<Ipv4Packet[]> {
  const [src, dst] = side === 'wan' ? [HOST, GW] : [GW, HOST];
  return fc
    .record({
      header: datagram(100),
      size: fc.integer({ min: 1, max: 6000 }),
      mtu: fc.integer({ min: 200, max: 1500 }),
      df: fc.boolean(),
      order: fc.array(fc.nat(), { maxLength: 12 }),
      lose: fc.oneof(fc.constant(-1), fc.nat()),
    })
    .chain((r) => allowed(side, src, dst, r.size).map((m) => ({ ...r, ...m })))
    .map(({ header, protocol, payload, mtu, df, order, lose }) => {
      const whole: Ipv4Packet = {
        ...header,
        protocol,
        src,
        dst,
        dontFragment: false,
        moreFragments: false,
        fragmentOffset: 0,
        payload,
      };
      const pieces = fragmentIpv4(whole, Math.max(mtu, ipv4HeaderLength(header.options) + 8)).map((f) =>
        df ? { ...f, dontFragment: true } : f,
      );
      // Half the time one piece is lost (the datagram never completes).
      const out = pieces.filter((_, i) => lose < 0 || i !== lose % pieces.length);
      for (const k of order) {
        const i = k % Math.max(1, out.length);
        const j = (k >>> 3) % Math.max(1, out.length);
        const a = out[i];
        const b = out[j];
        if (a && b) [out[i], out[j]] = [b, a];
        if (k % 5 === 0 && a) out.push(a);
      }
      return out;
    });
}

function frame(side: Side, payload: Uint8Array, etherType: number = EtherType.IPV4, src?: Uint8Array) {
  const from = side === 'wan' ? HOST_MAC : GW_MAC;
  const to = side === 'wan' ? GW_MAC : HOST_MAC;
  return encodeEthernet({ dst: to, src: src ?? from, vlans: [], etherType, payload }, { pad: true });
}

const ipFrames = (side: Side, ps: Ipv4Packet[]) =>
  ps
    .filter((p) => ipv4HeaderLength(p.options) + p.payload.length <= 1500)
    .map((p) => frame(side, encodeIpv4(p)));

/** One burst of frames from one side. */
export const burst: fc.Arbitrary<SentFrame[]> = fc
  .record({
    side: fc.constantFrom<Side>('wan', 'normal-world'),
    kind: fc.integer({ min: 0, max: 5 }),
  })
  .chain(({ side, kind }) => {
    const tag = (frames: Uint8Array[]) => frames.map((f) => ({ side, frame: f }));
    switch (kind) {
      case 0:
      case 1:
        return fragments(side).map((ps) => tag(ipFrames(side, ps)));
      case 2:
        return fc.array(datagram(1500), { maxLength: 6 }).map((ps) => tag(ipFrames(side, ps)));
      case 3:
        // A valid frame with bytes changed.
        return fc
          .record({ p: datagram(1500), flips: fc.array(fc.tuple(fc.nat(), gen.u8), { maxLength: 6 }) })
          .map(({ p, flips }) =>
            tag(
              ipFrames(side, [p]).map((f) => {
                const g = f.slice();
                for (const [at, v] of flips) g[14 + (at % Math.max(1, g.length - 14))] = v;
                return g;
              }),
            ),
          );
      case 4:
        // Datagrams a few bytes over the 1500-byte MTU, in frames the links still carry (1518 bytes
        // at most, room for a VLAN tag), with DF set or not.
        return fc
          .record({ p: datagram(1500), extra: fc.integer({ min: 1, max: 4 }), df: fc.boolean() })
          .map(({ p, extra, df }) => {
            const q = { ...p, fragmentOffset: 0, moreFragments: false, dontFragment: df };
            const payload = new Uint8Array(Math.max(0, 1500 - ipv4HeaderLength(q.options)) + extra);
            payload.set(q.payload.subarray(0, payload.length));
            return tag([frame(side, encodeIpv4({ ...q, payload }))]);
          });
      default:
        // Random bytes of any EtherType, a forged source MAC now and then.
        return fc
          .record({
            bytes: gen.bytes(1500),
            type: fc.oneof(fc.constant(EtherType.IPV4), gen.u16),
            forged: fc.boolean(),
          })
          .map(({ bytes, type, forged }) =>
            tag([frame(side, bytes, type, forged ? Uint8Array.of(2, 9, 9, 9, 9, 9) : undefined)]),
          );
    }
  });

export const bursts = (max: number) => fc.array(burst, { minLength: 1, maxLength: max }).map((b) => b.flat());
