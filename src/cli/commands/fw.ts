/** `rampart fw check` and `rampart fw replay`: the netfilter-compatible firewall engine from the shell. */
import { writeFileSync } from 'node:fs';
import { type InputKind, readInputFile } from '../../common/input-file.js';
import { InputError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import { tryParseIpv4 } from '../../lib/net/address.js';
import { LinkType, readCapture, writePcap, writePcapng } from '../../lib/net/pcap.js';
import { CompiledClassifier } from '../../lib/netfilter/compiled.js';
import { parseRuleset } from '../../lib/netfilter/parse.js';
import {
  type ReplayMode,
  type ReplayPacket,
  parseNetworks,
  replayCapture,
} from '../../lib/netfilter/replay.js';
import { usesConntrack } from '../../lib/netfilter/ruleset.js';
import { formatRule, saveRuleset } from '../../lib/netfilter/save.js';
import { type Command, parseOptions } from '../command.js';

function readText(path: string, what: string, kind: InputKind): string {
  return new TextDecoder().decode(readBytes(path, what, kind));
}

function readBytes(path: string, what: string, kind: InputKind): Uint8Array {
  return readInputFile(path, { kind, what, unreadableCode: 'FILE_UNREADABLE' });
}

export const fwCheck: Command = {
  name: ['fw', 'check'],
  summary: 'parse an iptables-save ruleset, report errors, print it normalised',
  usage: `usage: rampart fw check RULES [--no-counters] [--json]

Reads an iptables-save / iptables-restore file (filter table) and prints it the way
iptables-nft-save -c prints it after iptables-restore. Unsupported syntax is refused with
the line, the column and the token (exit 2).

  --no-counters   omit the [packets:bytes] of each rule
  --json          print {chains, conntrack, normalised} instead (see docs/netfilter.md)`,
  async run(argv, io) {
    const { values, positionals } = parseOptions(
      argv,
      { json: { type: 'boolean' }, 'no-counters': { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new InputError('BAD_ARGUMENTS', 'expected exactly one RULES file');
    const file = positionals[0]!;
    const ruleset = parseRuleset(readText(file, 'rules file', 'ruleset'), { file });
    const normalised = saveRuleset(ruleset, { counters: !values['no-counters'] });
    if (!values.json) {
      io.out(normalised);
      return 0;
    }
    const shapes = new CompiledClassifier(ruleset).shapeCounts;
    io.out(
      stableStringify(
        {
          chains: ruleset.chains.map((c) => ({
            name: c.name,
            builtin: c.builtin,
            ...(c.policy ? { policy: c.policy } : {}),
            rules: c.rules.map((r, i) => ({
              number: i + 1,
              line: r.line,
              text: `-A ${c.name}${formatRule(r)}`,
            })),
            indexShapes: shapes[c.name] ?? 0,
          })),
          conntrack: usesConntrack(ruleset),
          normalised,
        },
        2,
      ),
    );
    return 0;
  },
};

export const fwReplay: Command = {
  name: ['fw', 'replay'],
  summary: 'run a packet capture through a ruleset: verdicts, deciding rules, counters',
  usage: `usage: rampart fw replay --rules RULES --pcap IN (--host ADDR[,ADDR…] | --gateway IF_A,IF_B)
                          [--side-a NET[,NET…]] [--iface NAME] [--out OUT.pcap]
                          [--evaluator compiled|linear] [--conntrack auto|on|off]
                          [--icmp-source ADDR] [--json]

Host mode (--host): datagrams to one of the host's addresses go through INPUT (arriving on
--iface, default eth0), datagrams from them through OUTPUT.
Gateway mode (--gateway IF_A,IF_B): every datagram is forwarded through FORWARD, from IF_A to
IF_B or back. The interface a datagram arrived on is taken from a pcapng capture whose
interfaces are named IF_A and IF_B, or else from --side-a: sources in those networks
arrived on IF_A, all others on IF_B.

Prints one line per packet (verdict, the rule that decided, conntrack state), then the
final counters as iptables-save -c prints them. --out writes the frames that passed.
Timestamps of the capture are the firewall's (virtual) time.`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      rules: { type: 'string' },
      pcap: { type: 'string' },
      out: { type: 'string' },
      host: { type: 'string' },
      iface: { type: 'string' },
      gateway: { type: 'string' },
      'side-a': { type: 'string' },
      evaluator: { type: 'string' },
      conntrack: { type: 'string' },
      'icmp-source': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.rules) throw new InputError('BAD_ARGUMENTS', '--rules RULES is required');
    if (!values.pcap) throw new InputError('BAD_ARGUMENTS', '--pcap IN is required');
    if (!!values.host === !!values.gateway)
      throw new InputError(
        'BAD_ARGUMENTS',
        'give exactly one of --host (host mode) or --gateway (gateway mode)',
      );
    const ruleset = parseRuleset(readText(values.rules, 'rules file', 'ruleset'), { file: values.rules });
    const capture = readCapture(readBytes(values.pcap, 'capture', 'capture'), values.pcap);
    let mode: ReplayMode;
    if (values.host) {
      const addresses = values.host.split(',').map((a) => {
        const v = tryParseIpv4(a);
        if (v === undefined) throw new InputError('BAD_ARGUMENTS', `--host: '${a}' is not an IPv4 address`);
        return v;
      });
      mode = { kind: 'host', addresses, iface: values.iface ?? 'eth0' };
    } else {
      const ifs = values.gateway!.split(',');
      if (ifs.length !== 2 || !ifs[0] || !ifs[1] || ifs[0] === ifs[1])
        throw new InputError('BAD_ARGUMENTS', '--gateway expects two different interface names: IF_A,IF_B');
      mode = {
        kind: 'gateway',
        a: ifs[0],
        b: ifs[1],
        sideA: parseNetworks(values['side-a'] ?? '', '--side-a'),
      };
    }
    const evaluator = values.evaluator ?? 'compiled';
    if (evaluator !== 'compiled' && evaluator !== 'linear')
      throw new InputError('BAD_ARGUMENTS', `--evaluator: expected compiled or linear, got '${evaluator}'`);
    const ct = values.conntrack ?? 'auto';
    if (ct !== 'auto' && ct !== 'on' && ct !== 'off')
      throw new InputError('BAD_ARGUMENTS', `--conntrack: expected auto, on or off, got '${ct}'`);
    let icmpSource: number | undefined;
    if (values['icmp-source'] !== undefined) {
      icmpSource = tryParseIpv4(values['icmp-source']);
      if (icmpSource === undefined)
        throw new InputError('BAD_ARGUMENTS', `--icmp-source: not an IPv4 address`);
    }
    const report = replayCapture(capture, ruleset, mode, {
      evaluator,
      conntrack: ct === 'auto' ? 'auto' : ct === 'on',
      ...(icmpSource !== undefined ? { forwardIcmpSource: icmpSource } : {}),
    });
    if (values.out) {
      const records = report.passed.map((r) => ({
        timeNs: r.timeNs,
        frame: r.frame,
        interfaceIndex: r.interfaceIndex,
      }));
      const bytes =
        capture.format === 'pcapng'
          ? writePcapng(records, {
              interfaces: capture.interfaces.map((i) => ({
                linkType: i.linkType,
                ...(i.name !== undefined ? { name: i.name } : {}),
              })),
              application: 'rampart fw replay',
            })
          : writePcap(records, { linkType: capture.interfaces[0]?.linkType ?? LinkType.ETHERNET });
      try {
        writeFileSync(values.out, bytes);
      } catch (e) {
        throw new InputError('FILE_UNWRITABLE', `cannot write '${values.out}': ${(e as Error).message}`, {
          file: values.out,
        });
      }
    }
    if (values.json) {
      io.out(
        stableStringify(
          {
            mode: mode.kind,
            conntrack: report.conntrack,
            evaluator,
            packets: report.packets,
            totals: report.totals,
            passed: report.passed.length,
            counters: report.counters,
          },
          2,
        ),
      );
      return 0;
    }
    for (const p of report.packets) io.out(formatPacket(p));
    const t = report.totals;
    io.out(
      `\n${report.packets.length} packets: ${t.ACCEPT} accepted, ${t.DROP} dropped, ${t.REJECT} rejected, ` +
        `${t.HELD} fragments held, ${t['INVALID-PACKET']} invalid, ${t['NOT-IPV4']} not IPv4` +
        (mode.kind === 'host' ? `, ${t['NOT-FOR-HOST']} not for the host` : '') +
        `; conntrack ${report.conntrack ? 'on' : 'off'}\n`,
    );
    io.out(report.counters);
    return 0;
  },
};

function formatPacket(p: ReplayPacket): string {
  const head = `#${p.index} ${p.summary}`;
  const where = p.hook ? ` [${p.hook}${p.in ? ` in=${p.in}` : ''}${p.out ? ` out=${p.out}` : ''}]` : '';
  let s = `${head}${where} -> ${p.outcome}`;
  if (p.rule) s += ` by ${p.rule.chain} rule ${p.rule.number} (line ${p.rule.line}: ${p.rule.text})`;
  else if (p.policy) s += ` by ${p.hook} policy`;
  if (p.ctState) s += ` ct=${p.ctState}`;
  if (p.ctReason) s += ` (${p.ctReason})`;
  if (p.detail) s += ` — ${p.detail}`;
  if (p.fragments) s += ` fragments #${p.fragments.join(',#')}`;
  for (const l of p.logs ?? []) s += `\n    LOG ${l}`;
  if (p.reply) s += `\n    reply ${p.reply}`;
  return s;
}
