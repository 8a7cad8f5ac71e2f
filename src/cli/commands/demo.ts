/** `rampart demo hello [--json]`: a Normal World client and a trusted application, end to end. */
import { stableStringify } from '../../common/json.js';
import { runHelloDemo } from '../../platform/demo-hello.js';
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
