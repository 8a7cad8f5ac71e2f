/**
 * Nothing a frame holds throws: arbitrary fragment sequences, options, flags, oversize and corrupted
 * datagrams from both sides, first through the firewall's packet path on its own (many runs), then
 * through the running iot-gateway (the firewall trusted application between the WAN and the Normal
 * World), which must keep serving: a ping from the WAN still passes, no partition restarts, nothing
 * counted as an internal error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EntryFilter } from '../../src/apps/firewall/filter.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { decodeEthernet, encodeEthernet, EtherType } from '../../src/lib/net/ethernet.js';
import { encodeIcmp, echoRest } from '../../src/lib/net/icmp.js';
import { encodeIpv4, IpProtocol } from '../../src/lib/net/ipv4.js';
import { askFirewall, attachWanHost, GATEWAY_RULES, startGateway } from '../helpers/gateway.js';
import { bursts, GW, GW_MAC, HOST, HOST_MAC } from './frame-arbitraries.js';

const S = 1_000_000_000n;

test('the packet path on its own: arbitrary frames from both sides are each a counted outcome, none an internal error; a ping passes after', () => {
  fc.assert(
    fc.property(bursts(12), (frames) => {
      const f = new EntryFilter(parseRuleset(GATEWAY_RULES, { file: 'rules.v4' }));
      f.mac = GW_MAC;
      frames.forEach(({ side, frame }, i) => {
        const o = f.process(side, frame, BigInt(i) * 1_000_000n);
        for (const out of o.forward) {
          const eth = decodeEthernet(out);
          if (eth.etherType === EtherType.IPV4)
            assert.ok(((eth.payload[2] ?? 0) << 8) + (eth.payload[3] ?? 0) <= 1500, 'fits the link');
        }
      });
      assert.equal(f.counters.wan.internalErrors, 0);
      assert.equal(f.counters['normal-world'].internalErrors, 0);
      const ping = encodeIpv4({
        dscp: 0,
        ecn: 0,
        identification: 0xbeef,
        reservedFlag: false,
        dontFragment: false,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: IpProtocol.ICMP,
        src: HOST,
        dst: GW,
        options: [],
        payload: encodeIcmp({ type: 8, code: 0, rest: echoRest(0x7777, 1), payload: new Uint8Array(56) }),
      });
      const frame = encodeEthernet(
        { dst: GW_MAC, src: HOST_MAC, vlans: [], etherType: EtherType.IPV4, payload: ping },
        { pad: true },
      );
      const o = f.process('wan', frame, BigInt(frames.length) * 1_000_000n + 10n * S);
      assert.equal(o.verdict, 'ACCEPT', o.log.join('\n'));
    }),
    { seed: 0xf122, numRuns: 300 },
  );
});

test('the running gateway: arbitrary frames from the WAN and the Normal World, and it keeps serving', async () => {
  await fc.assert(
    fc.asyncProperty(bursts(8), async (frames) => {
      const fromNormal = frames
        .filter((f) => f.side === 'normal-world')
        .map((f) => Buffer.from(f.frame).toString('hex'));
      const g = startGateway({
        normal: {
          entry: 'test/fixtures/partitions/fuzz-gateway-nw.ts',
          prologue: `const TEST = ${JSON.stringify({ frames: fromNormal })};`,
        },
      });
      try {
        await g.runtime.run({
          until: () => g.log('rich-os').some((l) => l.startsWith('net: listening')),
          untilNs: g.machine.clock.nowNs + 1e9,
        });
        const host = attachWanHost(g);
        for (const f of frames) if (f.side === 'wan') host.sendRaw(f.frame);
        await g.runtime.run({
          until: () => g.log('rich-os').some((l) => l.startsWith('fuzz: sent')),
          untilNs: g.machine.clock.nowNs + 2e9,
        });
        assert.ok(
          g.log('rich-os').some((l) => l.startsWith('fuzz: sent')),
          g.log('rich-os').join('\n'),
        );
        // A second: the ping rule's limit (20/s, burst 10) has refilled whatever the frames took.
        await g.runtime.run({ untilNs: g.machine.clock.nowNs + 1e9 });
        let replies = 0;
        host.act((s) => s.ping(GW, { sequence: 1 }, (r) => void (r.kind === 'reply' && replies++)));
        await g.runtime.run({ until: () => replies === 1, untilNs: g.machine.clock.nowNs + 3e9 });
        assert.equal(replies, 1, `the ping came back\n${g.log('firewall').slice(-20).join('\n')}`);
        const stats = JSON.parse(await askFirewall(g, 'stats')) as Record<string, Record<string, number>>;
        assert.equal(stats.wan?.internalErrors, 0);
        assert.equal(stats.normalWorld?.internalErrors, 0);
        // Every WAN frame reached the firewall, and the ping (with ARP, and whatever the WAN host
        // answered to what the Normal World sent).
        const wanSent = frames.filter((f) => f.side === 'wan').length;
        assert.ok((stats.wan?.frames ?? 0) >= wanSent + 1, `${stats.wan?.frames} frames of ${wanSent} + 1`);
        for (const name of ['firewall', 'nic-driver']) {
          const p = g.runtime.partitions().find((x) => x.name === name);
          assert.equal(p?.restarts, 0, name);
          assert.equal(p?.exit, null, name);
        }
      } finally {
        await g.runtime.shutdown();
      }
    }),
    // Each run boots the gateway (about half a second): few runs, each of many frames.
    { seed: 0xf123, numRuns: 25 },
  );
});
