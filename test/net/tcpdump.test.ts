/** Real peer: tcpdump decodes and checksums the frames our encoders produce. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { formatIpv4 } from '../../src/lib/net/address.js';
import { EtherType, encodeEthernet } from '../../src/lib/net/ethernet.js';
import { encodeIcmp } from '../../src/lib/net/icmp.js';
import { type Ipv4Packet, encodeIpv4 } from '../../src/lib/net/ipv4.js';
import { encodeIpv6 } from '../../src/lib/net/ipv6.js';
import { writePcap } from '../../src/lib/net/pcap.js';
import { encodeTcp } from '../../src/lib/net/tcp.js';
import { encodeUdp } from '../../src/lib/net/udp.js';
import * as gen from './arbitraries.js';

function tcpdumpAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;
}

const ip = (p: Partial<Ipv4Packet> & Pick<Ipv4Packet, 'protocol' | 'payload'>): Uint8Array =>
  encodeIpv4({
    dscp: 0,
    ecn: 0,
    identification: 1,
    reservedFlag: false,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    src: 0x0a000001,
    dst: 0x0a000002,
    options: [],
    ...p,
  });

const eth = (type: number, payload: Uint8Array) =>
  encodeEthernet({
    dst: Uint8Array.of(2, 0, 0, 0, 0, 2),
    src: Uint8Array.of(2, 0, 0, 0, 0, 1),
    vlans: [],
    etherType: type,
    payload,
  });

test('tcpdump -vv finds every IPv4/IPv6 TCP, UDP and ICMP checksum we compute correct', (t) => {
  if (!tcpdumpAvailable()) {
    t.skip('tcpdump is not installed (apt-get install tcpdump)');
    return;
  }
  const [segments, datagrams, messages, v6] = fc.sample(
    fc.tuple(
      fc.array(fc.tuple(gen.tcp, gen.u32, gen.u32), { minLength: 40, maxLength: 40 }),
      fc.array(fc.tuple(gen.udp, gen.u32, gen.u32), { minLength: 40, maxLength: 40 }),
      fc.array(gen.icmp, { minLength: 40, maxLength: 40 }),
      fc.array(fc.tuple(gen.udp, fc.uint8Array({ minLength: 16, maxLength: 16 })), {
        minLength: 20,
        maxLength: 20,
      }),
    ),
    { seed: gen.SEED, numRuns: 1 },
  )[0]!;
  const frames: Uint8Array[] = [];
  // Ports below 1024 and a few well-known ones make tcpdump parse the payload as an application; keep clear.
  const port = (p: number) => 20000 + (p % 10000);
  for (const [s, src, dst] of segments) {
    const seg = { ...s, srcPort: port(s.srcPort), dstPort: port(s.dstPort) };
    frames.push(
      eth(EtherType.IPV4, ip({ protocol: 6, src, dst, payload: encodeTcp(seg, { version: 4, src, dst }) })),
    );
  }
  for (const [d, src, dst] of datagrams) {
    const dg = { ...d, srcPort: port(d.srcPort), dstPort: port(d.dstPort) };
    frames.push(
      eth(EtherType.IPV4, ip({ protocol: 17, src, dst, payload: encodeUdp(dg, { version: 4, src, dst }) })),
    );
  }
  for (const m of messages) {
    frames.push(eth(EtherType.IPV4, ip({ protocol: 1, payload: encodeIcmp({ ...m, type: 8, code: 0 }) })));
  }
  for (const [d, src] of v6) {
    const dst = new Uint8Array(16).fill(0x20);
    const dg = { ...d, srcPort: port(d.srcPort), dstPort: port(d.dstPort) };
    frames.push(
      eth(
        EtherType.IPV6,
        encodeIpv6({
          trafficClass: 0,
          flowLabel: 0,
          hopLimit: 64,
          src,
          dst,
          extensions: [{ kind: 'generic', type: 60, data: new Uint8Array(6).fill(1) }],
          protocol: 17,
          payload: encodeUdp(dg, { version: 6, src, dst }),
        }),
      ),
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'rampart-codec-'));
  try {
    const path = join(dir, 'frames.pcap');
    writeFileSync(path, writePcap(frames.map((frame, i) => ({ timeNs: i * 1000, frame }))));
    const r = spawnSync('tcpdump', ['-nn', '-vv', '-r', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.doesNotMatch(out, /incorrect|bad cksum|bad udp cksum|wrong icmp cksum|truncated/i);
    assert.equal((out.match(/cksum 0x[0-9a-f]+ \(correct\)/g) ?? []).length, 40, 'TCP checksums');
    assert.equal((out.match(/udp sum ok/g) ?? []).length, 60, 'UDP checksums');
    assert.equal((out.match(/ICMP echo request/g) ?? []).length, 40);
    // Addresses come out as we wrote them.
    const [, src, dst] = segments[0]!;
    assert.ok(out.includes(`${formatIpv4(src)}.`) && out.includes(`${formatIpv4(dst)}.`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
