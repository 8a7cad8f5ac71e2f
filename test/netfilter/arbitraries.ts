/** fast-check generators for random filter-table rulesets (as iptables-restore text) and packets. */
import fc from 'fast-check';
import { parseIpv4 } from '../../src/lib/net/address.js';
import { CtState } from '../../src/lib/netfilter/names.js';
import type { FilterPacket } from '../../src/lib/netfilter/packet.js';

export const SEED = 0x6e66;

const ADDRESSES = [
  '10.0.0.1',
  '10.0.0.2',
  '10.0.1.1',
  '192.168.1.1',
  '192.168.1.77',
  '172.16.5.4',
  '8.8.8.8',
];
const NETS = ['/32', '/24', '/16', '/8', '/0', '/255.0.255.0', ''];
const PORTS = [0, 22, 53, 80, 443, 1000, 1024, 8080, 65535];
const IFACES = ['eth0', 'eth1', 'wlan0', 'eth+', 'wl+'];
const USER_CHAINS = ['u0', 'u1', 'u2', 'u3'];

const not = fc.constantFrom('', '', '! ');

/** Present one time in four, so that random rules still match random packets often. */
function rarely<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: a, weight: 1 });
}
const addr = fc
  .tuple(not, fc.constantFrom(...ADDRESSES), fc.constantFrom(...NETS))
  .map(([n, a, m]) => ({ n, am: a + m }));
const port = fc.constantFrom(...PORTS);
const portRange = fc.oneof(
  port.map(String),
  fc.tuple(port, port).map(([a, b]) => `${Math.min(a, b)}:${Math.max(a, b)}`),
);
const multiportList = fc
  .uniqueArray(
    fc.oneof(
      port.map((p) => [p, p] as const),
      fc.tuple(port, port),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((items) =>
    items.map(([a, b]) => (a === b ? String(a) : `${Math.min(a, b)}:${Math.max(a, b)}`)).join(','),
  )
  .filter((s) => s.split(',').reduce((n, x) => n + (x.includes(':') ? 2 : 1), 0) <= 15);
const states = fc
  .subarray(['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED'], { minLength: 1 })
  .map((s) => s.join(','));
const flagList = fc
  .subarray(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'], { minLength: 1 })
  .map((s) => s.join(','));

function l4Matches(proto: string): fc.Arbitrary<string[]> {
  const common: fc.Arbitrary<string>[] = [
    fc.tuple(not, states).map(([n, s]) => `-m conntrack ${n}--ctstate ${s}`),
    fc
      .tuple(
        not,
        states.filter((s) => !s.includes('SNAT')),
      )
      .map(([n, s]) => `-m state ${n}--state ${s}`),
    fc
      .tuple(not, fc.constantFrom(...ADDRESSES), fc.constantFrom(...ADDRESSES))
      .map(([n, a, b]) => `-m iprange ${n}--src-range ${a}-${b}`),
    fc.tuple(not, fc.constantFrom(...ADDRESSES)).map(([n, a]) => `-m iprange ${n}--dst-range 10.0.0.0-${a}`),
    fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.constantFrom('sec', 'min'), fc.integer({ min: 1, max: 3 }))
      .map(([r, u, b]) => `-m limit --limit ${r}/${u} --limit-burst ${b}`),
    fc.constant('-m comment --comment "a rule"'),
  ];
  const byProto: fc.Arbitrary<string>[] = [];
  if (proto === 'tcp' || proto === 'udp') {
    byProto.push(
      fc.tuple(not, portRange).map(([n, r]) => `${n}--dport ${r}`),
      fc.tuple(not, portRange).map(([n, r]) => `${n}--sport ${r}`),
      fc
        .tuple(not, fc.constantFrom('sports', 'dports', 'ports'), multiportList)
        .map(([n, d, l]) => `-m multiport ${n}--${d} ${l}`),
    );
  }
  if (proto === 'tcp')
    byProto.push(
      fc.tuple(not, flagList, flagList).map(([n, m, c]) => `${n}--tcp-flags ${m} ${c}`),
      not.map((n) => `${n}--syn`),
    );
  if (proto === 'icmp')
    byProto.push(
      fc
        .tuple(
          not,
          fc.constantFrom('echo-request', 'echo-reply', 'port-unreachable', '3', '3/1', 'any', '11/0'),
        )
        .map(([n, t]) => `${n}--icmp-type ${t}`),
    );
  return fc
    .tuple(
      byProto.length > 0
        ? fc.subarray([0, 1, 2, 3, 4].slice(0, byProto.length))
        : fc.constant([] as number[]),
      fc.array(fc.oneof(...common), { maxLength: 2 }),
    )
    .chain(([pick, extra]) =>
      (pick.length === 0 ? fc.constant([] as string[]) : fc.tuple(...pick.map((k) => byProto[k]!))).map(
        (opts) => {
          // One tcp/udp option of each kind: multiport and the port options may coexist, flags only once.
          const seen = new Set<string>();
          const kept = opts.filter((o) => {
            const key = o.replace(/^! /, '').split(' ')[0]!;
            const k = key === '--syn' ? '--tcp-flags' : key;
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          });
          return [...kept, ...extra];
        },
      ),
    );
}

function target(chainIndex: number, proto: string): fc.Arbitrary<string> {
  const later = USER_CHAINS.slice(chainIndex + 1);
  const opts: fc.Arbitrary<string>[] = [
    fc.constantFrom('-j ACCEPT', '-j DROP', '-j RETURN', '', '-j LOG --log-prefix "fw "'),
    fc.constantFrom('-j REJECT', '-j REJECT --reject-with icmp-host-prohibited'),
  ];
  if (proto === 'tcp') opts.push(fc.constant('-j REJECT --reject-with tcp-reset'));
  if (later.length > 0)
    opts.push(fc.tuple(fc.constantFrom('-j', '-g'), fc.constantFrom(...later)).map(([j, c]) => `${j} ${c}`));
  return fc.oneof(...opts);
}

/** One rule line for chain `chain`; `chainIndex` is -1 for built-in chains (they may jump to any user chain). */
function ruleLine(chain: string, chainIndex: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      rarely(addr),
      rarely(addr),
      rarely(fc.tuple(not, fc.constantFrom(...IFACES))),
      rarely(fc.tuple(not, fc.constantFrom(...IFACES))),
      fc.constantFrom('tcp', 'udp', 'icmp', '47', ''),
      fc.constantFrom('', '', '', '-f', '! -f'),
    )
    .chain(([s, d, i, o, proto, frag]) =>
      fc.tuple(l4Matches(proto), target(chainIndex, proto)).map(([ms, t]) => {
        const parts = [`-A ${chain}`];
        if (s && !(s.n && (s.am.endsWith('/0') || s.am === ''))) parts.push(`${s.n}-s ${s.am || '10.0.0.1'}`);
        if (d && !(d.n && d.am.endsWith('/0'))) parts.push(`${d.n}-d ${d.am || '10.0.0.2'}`);
        if (i && chain !== 'OUTPUT') parts.push(`${i[0]}-i ${i[1]}`);
        if (o && chain !== 'INPUT') parts.push(`${o[0]}-o ${o[1]}`);
        if (proto) parts.push(`-p ${proto}`);
        if (frag) parts.push(frag);
        parts.push(...ms, t);
        return parts.filter((x) => x !== '').join(' ');
      }),
    );
}

/** A whole restore file: three built-in chains and four user chains that only jump forward. */
export function rulesetText(maxRules = 8): fc.Arbitrary<string> {
  const chain = (name: string, index: number) => fc.array(ruleLine(name, index), { maxLength: maxRules });
  return fc
    .tuple(
      fc.constantFrom('ACCEPT', 'DROP'),
      fc.constantFrom('ACCEPT', 'DROP'),
      fc.constantFrom('ACCEPT', 'DROP'),
      chain('INPUT', -1),
      chain('FORWARD', -1),
      chain('OUTPUT', -1),
      ...USER_CHAINS.map((c, i) => chain(c, i)),
    )
    .map(([pi, pf, po, ...rules]) =>
      [
        '*filter',
        `:INPUT ${pi} [0:0]`,
        `:FORWARD ${pf} [0:0]`,
        `:OUTPUT ${po} [0:0]`,
        ...USER_CHAINS.map((c) => `:${c} - [0:0]`),
        ...rules.flat(),
        'COMMIT',
        '',
      ].join('\n'),
    );
}

export type Hook = 'INPUT' | 'FORWARD' | 'OUTPUT';

export const packet: fc.Arbitrary<{ hook: Hook; p: FilterPacket }> = fc
  .record({
    hook: fc.constantFrom<Hook>('INPUT', 'FORWARD', 'OUTPUT'),
    src: fc.oneof(
      { arbitrary: fc.constantFrom(...ADDRESSES).map(parseIpv4), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
    ),
    dst: fc.oneof(
      { arbitrary: fc.constantFrom(...ADDRESSES).map(parseIpv4), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
    ),
    protocol: fc.constantFrom(6, 6, 17, 17, 1, 47, 50),
    length: fc.integer({ min: 20, max: 1500 }),
    fragmentOffset: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 185),
    inInterface: fc.constantFrom('eth0', 'eth1', 'wlan0', 'lo', 'ethx'),
    outInterface: fc.constantFrom('eth0', 'eth1', 'wlan0', 'wlx'),
    l4Length: fc.constantFrom(0, 1, 3, 8, 13, 20, 20, 20, 40, 40),
    sport: fc.oneof(
      { arbitrary: fc.constantFrom(...PORTS), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 65535 }), weight: 1 },
    ),
    dport: fc.oneof(
      { arbitrary: fc.constantFrom(...PORTS), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 65535 }), weight: 1 },
    ),
    tcpFlags: fc.integer({ min: 0, max: 255 }),
    icmpType: fc.constantFrom(0, 3, 8, 11, 42),
    icmpCode: fc.constantFrom(0, 1, 3, 9),
    ctState: fc.constantFrom(...Object.values(CtState).slice(0, 5)),
  })
  .map(({ hook, ...f }) => {
    const l4 = f.fragmentOffset === 0 ? f.l4Length : 0;
    const ports = (f.protocol === 6 || f.protocol === 17) && l4 >= 4;
    const p: FilterPacket = {
      ...f,
      l4Length: l4,
      inInterface: hook === 'OUTPUT' ? '' : f.inInterface,
      outInterface: hook === 'INPUT' ? '' : f.outInterface,
      sport: ports ? f.sport : -1,
      dport: ports ? f.dport : -1,
      tcpFlags: f.protocol === 6 && l4 >= 14 ? f.tcpFlags : -1,
      icmpType: f.protocol === 1 && l4 >= 2 ? f.icmpType : -1,
      icmpCode: f.protocol === 1 && l4 >= 2 ? f.icmpCode : -1,
    };
    return { hook, p };
  });
