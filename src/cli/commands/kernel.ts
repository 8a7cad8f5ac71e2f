/** `rampart kernel calls`: the kernel's system calls and result codes, from the call table. */
import { stableStringify } from '../../common/json.js';
import { callsJson, callsMarkdown } from '../../kernel/core/docs.js';
import { callNames, callTable, type CallSpec } from '../../kernel/core/table.js';
import { parseOptions, type Command } from '../command.js';

const usage = `usage: rampart kernel calls [--json | --markdown]

Lists the separation kernel's system calls (number, name, arguments in ABI order, who may call) and its
result codes. --markdown prints the table of docs/kernel.md; --json the same as JSON.`;

export const kernelCallsCommand: Command = {
  name: ['kernel', 'calls'],
  summary: "list the separation kernel's system calls and result codes",
  usage,
  async run(argv, io) {
    const { values } = parseOptions(argv, { json: { type: 'boolean' }, markdown: { type: 'boolean' } });
    if (values.json) io.out(stableStringify(callsJson(), 2));
    else if (values.markdown) io.out(callsMarkdown());
    else
      for (const n of callNames) {
        const spec: CallSpec = callTable[n];
        const args = Object.keys(spec.args).filter((a) => spec.args[a] !== 'caller');
        io.out(`${String(spec.number).padStart(3)}  ${n}(${args.join(', ')})  — ${spec.who}`);
      }
    return 0;
  },
};
