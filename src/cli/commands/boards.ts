/** `rampart boards [--json]`: the boards shipped in boards/, validated. */
import { stableStringify } from '../../common/json.js';
import { boardNames, loadBoardByName, summariseBoard, type BoardSummary } from '../../soc/index.js';
import { parseOptions, type CliIO, type Command } from '../command.js';

export const boardsCommand: Command = {
  name: ['boards'],
  summary: 'list the boards shipped with Rampart',
  usage: [
    'usage: rampart boards [--json]',
    '',
    'Lists every board in boards/ (each is loaded and validated): its chips, links and emulated nodes.',
    '  --json   print {"boards": [...]} (see docs/soc.md)',
  ].join('\n'),
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseOptions(argv, { json: { type: 'boolean' } });
    const boards = boardNames().map((name) => {
      const { board, file } = loadBoardByName(name);
      return summariseBoard(board, file);
    });
    io.out(values.json ? stableStringify({ boards }, 2) : boards.map(formatBoard).join('\n'));
    return 0;
  },
};

function formatBoard(b: BoardSummary): string {
  const lines = [`${b.name}  (${b.file})`, `  ${b.description}`];
  for (const c of b.chips)
    lines.push(
      `  chip ${c.name}: ${c.cpu.count} × ${c.cpu.model}, ${c.trustzone ? 'TrustZone' : 'no TrustZone'}, ${c.devices} devices`,
    );
  if (b.links.length > 0) lines.push(`  links: ${b.links.map((l) => `${l.name} (${l.kind})`).join(', ')}`);
  if (b.nodes.length > 0)
    lines.push(`  nodes: ${b.nodes.map((n) => `${n.name} (${n.kind} on ${n.link})`).join(', ')}`);
  return lines.join('\n');
}
