/**
 * The classification workload of `npm run bench entry-point`, the same inside the firewall trusted
 * application and outside: a fixed mix of frames from both sides through the firewall's packet path
 * (src/apps/firewall/filter.ts) with the iot-gateway's ruleset — CoAP datagrams from the Normal World
 * (256 flows, OUTPUT, accepted), SYNs from the WAN to the HTTP port (accepted), to a closed port
 * (rejected, the RST through OUTPUT) and to the D-Bus port (logged and dropped), and ARP.
 */
import { EntryFilter } from '../../src/apps/firewall/filter.js';
import { ArpOperation, encodeArp } from '../../src/lib/net/arp.js';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { IpProtocol } from '../../src/lib/net/ipv4.js';
import { formatIpv4 } from '../../src/lib/net/address.js';
import { ip as ipDatagram } from '../../test/netfilter/packets.js';
import { encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';

const GW = ((198 << 24) | (51 << 16) | (100 << 8) | 10) >>> 0;
const GW_MAC = Uint8Array.of(2, 0x52, 0x50, 0, 0, 1);
const HOST_MAC = Uint8Array.of(2, 0, 0, 0, 0x53, 0x14);

/** An IPv4 datagram between two addresses given as numbers (the rest as `test/netfilter/packets.ts` sets it). */
const ip = (src: number, dst: number, protocol: number, payload: Uint8Array): Uint8Array =>
  ipDatagram(formatIpv4(src), formatIpv4(dst), protocol, payload);

export interface Workload {
  readonly frames: readonly { side: 'wan' | 'normal-world'; frame: Uint8Array }[];
}

export function workload(): Workload {
  const frames: { side: 'wan' | 'normal-world'; frame: Uint8Array }[] = [];
  for (let i = 0; i < 256; i++) {
    const host = (((198 << 24) | (51 << 16) | (100 << 8) | (20 + (i % 200))) >>> 0) as number;
    const udp = encodeUdp(
      { srcPort: 20000 + i, dstPort: 5683, payload: new Uint8Array(22) },
      { version: 4, src: GW, dst: host },
    );
    frames.push({
      side: 'normal-world',
      frame: encodeEthernet(
        {
          dst: HOST_MAC,
          src: GW_MAC,
          vlans: [],
          etherType: EtherType.IPV4,
          payload: ip(GW, host, IpProtocol.UDP, udp),
        },
        { pad: true },
      ),
    });
    const port = i % 4 === 0 ? 80 : i % 4 === 1 ? 22 : i % 4 === 2 ? 6667 : 80;
    const syn = encodeTcp(
      {
        srcPort: 30000 + i,
        dstPort: port,
        seq: i,
        ack: 0,
        reserved: 0,
        flags: 0x02,
        window: 1024,
        urgentPointer: 0,
        options: [],
        payload: new Uint8Array(0),
      },
      { version: 4, src: host, dst: GW },
    );
    frames.push({
      side: 'wan',
      frame: encodeEthernet(
        {
          dst: GW_MAC,
          src: HOST_MAC,
          vlans: [],
          etherType: EtherType.IPV4,
          payload: ip(host, GW, IpProtocol.TCP, syn),
        },
        { pad: true },
      ),
    });
    if (i % 16 === 0)
      frames.push({
        side: 'wan',
        frame: encodeEthernet(
          {
            dst: Uint8Array.of(255, 255, 255, 255, 255, 255),
            src: HOST_MAC,
            vlans: [],
            etherType: EtherType.ARP,
            payload: encodeArp({
              hardwareType: 1,
              protocolType: EtherType.IPV4,
              operation: ArpOperation.REQUEST,
              senderHardware: HOST_MAC,
              senderProtocol: Uint8Array.of(198, 51, 100, 20),
              targetHardware: new Uint8Array(6),
              targetProtocol: Uint8Array.of(198, 51, 100, 10),
            }),
          },
          { pad: true },
        ),
      });
  }
  return { frames };
}

/**
 * A fresh filter with `rules` over the workload: each call of the returned function runs the next `count`
 * frames of the mix (cyclically, virtual time advancing 1 µs a frame) and returns how many were accepted.
 * Parsing the ruleset and building the frames happen here, outside what is timed.
 */
export function classifier(rules: string): (count: number) => number {
  const filter = new EntryFilter(parseRuleset(rules, { file: 'rules.v4' }));
  filter.mac = GW_MAC;
  const { frames } = workload();
  let next = 0;
  let t = 1_000_000_000n;
  return (count) => {
    let accepted = 0;
    for (let i = 0; i < count; i++) {
      const f = frames[next] as { side: 'wan' | 'normal-world'; frame: Uint8Array };
      next = (next + 1) % frames.length;
      t += 1000n;
      if (filter.process(f.side, f.frame, t).verdict === 'ACCEPT') accepted++;
    }
    return accepted;
  };
}
