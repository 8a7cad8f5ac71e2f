/** `rampart demo …`: end-to-end demonstrations on the default boards. */
import { stableStringify } from '../../common/json.js';
import { runHelloDemo } from '../../platform/demo-hello.js';
import { runEntryPointDemo } from '../../platform/demo-entry-point.js';
import { checkOutputDir } from '../../common/input-file.js';
import { intOption, parseOptions, type CliIO, type Command } from '../command.js';

export const demoHelloCommand: Command = {
  name: ['demo', 'hello'],
  summary: 'a Normal World client opens a session on a trusted application and invokes it',
  usage: [
    'usage: rampart demo hello [--seed N] [--json]',
    '',
    'Boots iot-gateway (signed images, verified chain), then its Normal World uses the TEE client API:',
    'opens a session on the hello trusted application by UUID, invokes it with value parameters, a',
    'temporary memory reference, allocated and registered shared memory, shows cancellation and an',
    'unknown command, and closes the session. Exit 0 when every step succeeded.',
  ].join('\n'),
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseOptions(argv, { seed: { type: 'string' }, json: { type: 'boolean' } });
    const seed = intOption(values.seed, 'seed') ?? 0;
    const demo = await runHelloDemo({ seed });
    if (values.json) io.out(stableStringify(demo, 2));
    else {
      io.out(`hello demo on ${demo.board}: ${demo.booted ? 'booted' : 'did not boot'}`);
      for (const s of demo.steps) {
        const { step, ...rest } = s;
        io.out(
          `  ${step.padEnd(26)} ${Object.entries(rest)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join('  ')}`,
        );
      }
      io.out(
        `${demo.ok ? 'ok' : 'FAILED'}: ${demo.steps.length} steps, ${demo.calls} kernel calls, ${(demo.virtualTimeNs / 1e6).toFixed(3)} ms virtual, ${demo.wallMs.toFixed(0)} ms wall`,
      );
    }
    return demo.ok ? 0 : 1;
  },
};

/** `rampart demo entry-point [--json]`: the paper's Figure 1, end to end. */
export const demoEntryPointCommand: Command = {
  name: ['demo', 'entry-point'],
  summary: 'a remote host scans and connects to the gateway; the Secure World firewall decides',
  usage: [
    'usage: rampart demo entry-point [--seed N] [--out DIR] [--json]',
    '',
    'Boots iot-gateway (signed images: NIC driver and firewall in the Secure World, ruleset signed into',
    'the secure bundle; the rich OS with its own TCP/IP stack behind the proxy driver). A remote host on',
    'the WAN pings the gateway, scans its TCP ports, fetches a page from its HTTP responder, uses its echo',
    "service, tries the D-Bus port 6667 (the 2015 Jeep attack's way in) and probes a UDP port. Prints what",
    'passed, what the firewall dropped (its log), its final counters (iptables-save -c, read on its secure',
    'console) and writes the captures of both sides of the firewall.',
    '  --seed N    seed of the run (default 0)',
    "  --out DIR   write DIR/wan.pcap (the WAN segment) and DIR/inside.pcap (the firewall's Normal World link)",
    '  --json      machine-readable report (docs/entry-point.md)',
    'Exit 0 only when every expected outcome was observed (docs/entry-point.md lists the checks).',
  ].join('\n'),
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseOptions(argv, {
      seed: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    });
    const seed = intOption(values.seed, 'seed') ?? 0;
    if (values.out !== undefined) checkOutputDir(values.out, '--out');
    const demo = await runEntryPointDemo({
      seed,
      ...(values.out !== undefined ? { outDir: values.out } : {}),
    });
    if (values.json) {
      io.out(stableStringify(demo, 2));
      return demo.ok ? 0 : 1;
    }
    const ports = (state: string) =>
      demo.scan
        .filter((s) => s.state === state)
        .map((s) => s.port)
        .join(', ') || '-';
    io.out(
      `entry-point demo on ${demo.board}: ${demo.booted ? 'booted' : 'did not boot'} (seed ${demo.seed})`,
    );
    io.out(
      `  gateway ${demo.gateway.address} (${demo.gateway.mac || '?'}), NIC and firewall in the Secure World; remote host ${demo.remoteHost.address} on the WAN`,
    );
    io.out(`  ping        ${demo.ping.replies}/${demo.ping.sent} replies`);
    io.out(
      `  scan        open: ${ports('open')}   closed: ${ports('closed')}   filtered: ${ports('filtered')}`,
    );
    for (const s of demo.services)
      io.out(
        `  ${s.service.padEnd(11)} port ${String(s.port).padEnd(5)} ${s.ok ? 'as expected' : 'UNEXPECTED'}: ${s.detail}`,
      );
    io.out(
      `passed: ${demo.passed.toNormalWorld} frames to the Normal World, ${demo.passed.fromNormalWorld} from it (the firewall's capture)`,
    );
    io.out(`dropped (the firewall's log on its console, ${demo.dropped.length} lines):`);
    for (const l of demo.dropped) io.out(`  ${l}`);
    io.out(`counters (iptables-save -c on the firewall's secure console):`);
    for (const l of demo.counters.trimEnd().split('\n')) io.out(`  ${l}`);
    if (demo.pcaps)
      io.out(
        `pcaps: ${demo.pcaps.wan} (${demo.frames.wan} frames), ${demo.pcaps.inside} (${demo.frames.inside} frames)`,
      );
    for (const p of demo.problems) io.out(`problem: ${p}`);
    io.out(
      `${demo.ok ? 'ok: every expected outcome observed' : 'FAILED'}: ${demo.calls} kernel calls, ${(demo.virtualTimeNs / 1e6).toFixed(1)} ms virtual, ${demo.wallMs.toFixed(0)} ms wall`,
    );
    return demo.ok ? 0 : 1;
  },
};
