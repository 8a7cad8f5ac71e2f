/**
 * `rampart boot --board NAME|--board-file PATH [--seed N] [--json]`: brings the hardware of a board up
 * (src/soc bringUp) and prints its memory map with each region's security attribute, each peripheral and
 * its world, the interrupt routing, and the run hash.
 */
import { InputError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import {
  bringUp,
  describeMachine,
  loadBoardByName,
  loadBoardFile,
  type ChipReport,
  type MachineReport,
} from '../../soc/index.js';
import { intOption, parseOptions, type CliIO, type Command } from '../command.js';

export const DEFAULT_BOARD = 'iot-gateway';

export const bootCommand: Command = {
  name: ['boot'],
  summary: 'bring up the hardware of a board and print its configuration',
  usage: [
    'usage: rampart boot [--board NAME | --board-file PATH] [--seed N] [--json]',
    '',
    `Builds the emulated machine of a board (default: ${DEFAULT_BOARD}), programs TZASC, TZPC and interrupt`,
    'routing from the board and locks them, then prints the memory map with security attributes, the',
    'peripherals and their worlds, the interrupt routing and the run hash.',
    '  --board NAME       a board shipped in boards/ (see rampart boards)',
    '  --board-file PATH  a board file anywhere',
    '  --seed N           seed of the run (default 0): same seed, same run hash',
    '  --json             machine-readable report (see docs/soc.md)',
  ].join('\n'),
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseOptions(argv, {
      board: { type: 'string' },
      'board-file': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.board !== undefined && values['board-file'] !== undefined)
      throw new InputError('BAD_ARGUMENTS', 'give either --board or --board-file, not both');
    const seed = intOption(values.seed, 'seed') ?? 0;
    const { board, file } =
      values['board-file'] !== undefined
        ? loadBoardFile(values['board-file'])
        : loadBoardByName(values.board ?? DEFAULT_BOARD);
    const machine = bringUp(board, { seed });
    const report = describeMachine(machine, file);
    io.out(values.json ? stableStringify(report, 2) : formatReport(report));
    return 0;
  },
};

const hex = (n: number, width = 8) => `0x${n.toString(16).padStart(width, '0')}`;

function formatSize(bytes: number): string {
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes % 2 ** 10 === 0) return `${bytes / 2 ** 10} KiB`;
  return `${bytes} B`;
}

function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => ('    ' + r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).trimEnd());
}

function formatChip(c: ChipReport): string[] {
  const security = c.trustzone
    ? `TrustZone; TZASC ${c.locked.tzasc ? 'locked' : 'unlocked'}, TZPC ${c.locked.tzpc ? 'locked' : 'unlocked'}, interrupt groups ${c.locked.interruptGroups ? 'locked' : 'unlocked'}`
    : 'no TrustZone';
  const lines = [`chip ${c.name}: ${c.cpu.count} × ${c.cpu.model}, ${security}`, '  memory'];
  lines.push(
    ...table(
      c.memory.map((m) => [
        `${hex(m.base)}-${hex(m.base + m.size - 1)}`,
        formatSize(m.size),
        m.kind,
        m.name,
        m.security ?? '-',
      ]),
    ),
  );
  lines.push('  peripherals');
  lines.push(
    ...table(
      [...c.peripherals]
        .sort((a, b) => a.base - b.base)
        .map((p) => [
          hex(p.base),
          p.name,
          p.kind,
          p.world ?? '-',
          p.irq === null ? '' : `irq ${p.irq}`,
          p.link === null ? '' : `link ${p.link}`,
        ]),
    ),
  );
  lines.push('  interrupts');
  lines.push(
    ...table(
      c.interrupts.map((i) => [
        String(i.line),
        i.device,
        c.trustzone ? i.group : '-',
        `priority ${i.priority}`,
        `cpu ${i.target}`,
        i.enabled ? 'enabled' : 'disabled',
      ]),
    ),
  );
  return lines;
}

function formatReport(r: MachineReport): string {
  const lines = [`board ${r.board} (${r.file}), seed ${r.seed}`];
  for (const c of r.chips) lines.push(...formatChip(c));
  if (r.links.length > 0) {
    lines.push('links');
    lines.push(...table(r.links.map((l) => [l.name, l.kind, `${l.bitRate} bit/s`, l.endpoints.join(', ')])));
  }
  if (r.nodes.length > 0) {
    lines.push('nodes');
    lines.push(
      ...table(
        r.nodes.map((n) => [n.name, n.kind, `on ${n.link}`, `diagnostic address ${hex(n.diagAddress, 2)}`]),
      ),
    );
  }
  lines.push(`run hash ${r.runHash} (${r.traceEvents} trace events at ${r.timeNs} ns)`);
  return lines.join('\n');
}
