/** The firewall's packet path on its own, with the iot-gateway's addresses and ruleset, for unit tests. */
import { EntryFilter, type EntryFilterOptions } from '../../src/apps/firewall/filter.js';
import { parseIpv4, parseMac } from '../../src/lib/net/address.js';
import { IpProtocol, type Ipv4Packet } from '../../src/lib/net/ipv4.js';
import { parseRuleset } from '../../src/lib/netfilter/parse.js';
import { GATEWAY_RULES } from './gateway.js';

export const GW = parseIpv4('198.51.100.10');
export const HOST = parseIpv4('198.51.100.20');
export const GW_MAC = parseMac('02:52:50:00:00:01');
export const HOST_MAC = parseMac('02:00:00:00:53:14');

/** An entry filter with the gateway's MAC, on `rules` (default: the iot-gateway's ruleset). */
export function entryFilter(options: EntryFilterOptions = {}, rules = GATEWAY_RULES): EntryFilter {
  const f = new EntryFilter(parseRuleset(rules, { file: 'rules.v4' }), options);
  f.mac = GW_MAC;
  return f;
}

/** An IPv4 datagram from the WAN host to the gateway (TCP unless told), fields overridable. */
export function ipv4Packet(p: Partial<Ipv4Packet> & { payload: Uint8Array }): Ipv4Packet {
  return {
    dscp: 0,
    ecn: 0,
    identification: 7,
    reservedFlag: false,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: IpProtocol.TCP,
    src: HOST,
    dst: GW,
    options: [],
    ...p,
  };
}
