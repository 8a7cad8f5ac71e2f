/**
 * `rampart boot`: the main job. Brings the hardware of a board up, stages its signed images in flash,
 * runs the verified boot chain (ROM → kernel → trusted applications → Normal World) and the running
 * system until it is idle (or for a given virtual time), then prints the machine, the measured-boot log
 * and the partitions with what they logged. `--hardware-only` stops after the hardware bring-up (and
 * locks the fabric itself), for boards without a boot section or images.
 */
import { InputError } from '../../common/errors.js';
import { stableStringify } from '../../common/json.js';
import { BANK_NAMES } from '../../boot/flash-layout.js';
import { outcomeReport } from '../../boot/rom.js';
import type { PartitionReport } from '../../kernel/runtime/runtime.js';
import { startBoard } from '../../platform/running-board.js';
import {
  bringUp,
  describeMachine,
  loadBoardByName,
  loadBoardFile,
  type ChipReport,
  type MachineReport,
} from '../../soc/index.js';
import { checkOutputDir } from '../../common/input-file.js';
import { intOption, parseOptions, type CliIO, type Command } from '../command.js';

export const DEFAULT_BOARD = 'iot-gateway';

export const bootCommand: Command = {
  name: ['boot'],
  summary: 'boot a board: hardware, verified boot chain, kernel, trusted applications, Normal World',
  usage: [
    'usage: rampart boot [--board NAME | --board-file PATH] [--seed N] [--for MS] [--images DIR]',
    '                    [--mode uniprocessor|free-running] [--hardware-only] [--json]',
    '',
    `Builds the emulated machine of a board (default: ${DEFAULT_BOARD}), stages the board's signed images`,
    'in its flash, runs the boot chain ROM → kernel → trusted applications → Normal World and the running',
    'system until it is idle, then prints the memory map with security attributes, the peripherals and',
    'their worlds, the interrupt routing, the measured-boot log, the partitions and what they logged.',
    '  --board NAME       a board shipped in boards/ (see rampart boards)',
    '  --board-file PATH  a board file anywhere',
    '  --seed N           seed of the run (default 0): same seed, same run hash',
    '  --for MS           run the system for MS milliseconds of virtual time (default: until idle)',
    '  --images DIR       where the signed images are (default .rampart/images; the default boards',
    '                     build theirs there when missing: rampart image build-defaults)',
    '  --mode M           uniprocessor (default: reproducible) or free-running',
    '  --hardware-only    bring the hardware up, program and lock the fabric, stop there',
    '  --json             machine-readable report (see docs/soc.md and docs/runtime.md)',
  ].join('\n'),
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseOptions(argv, {
      board: { type: 'string' },
      'board-file': { type: 'string' },
      seed: { type: 'string' },
      for: { type: 'string' },
      images: { type: 'string' },
      mode: { type: 'string' },
      'hardware-only': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.board !== undefined && values['board-file'] !== undefined)
      throw new InputError('BAD_ARGUMENTS', 'give either --board or --board-file, not both');
    const mode = values.mode ?? 'uniprocessor';
    if (mode !== 'uniprocessor' && mode !== 'free-running')
      throw new InputError('BAD_ARGUMENTS', `--mode is uniprocessor or free-running, not '${mode}'`);
    const seed = intOption(values.seed, 'seed') ?? 0;
    const forMs = intOption(values.for, 'for');
    if (values.images !== undefined) checkOutputDir(values.images, '--images');
    const { board, file } =
      values['board-file'] !== undefined
        ? loadBoardFile(values['board-file'])
        : loadBoardByName(values.board ?? DEFAULT_BOARD);
    if (values['hardware-only'] || !board.chips.some((c) => c.boot !== undefined)) {
      const machine = bringUp(board, { seed });
      const report = describeMachine(machine, file);
      io.out(values.json ? stableStringify(report, 2) : formatReport(report));
      return 0;
    }
    const running = await startBoard({
      board,
      file,
      seed,
      mode,
      buildMissingImages: values.board !== undefined || values['board-file'] === undefined,
      ...(values.images !== undefined ? { imagesDir: values.images } : {}),
    });
    try {
      const runtime = running.runtime;
      const end = runtime
        ? await runtime.run(forMs === undefined ? {} : { untilNs: running.machine.clock.nowNs + forMs * 1e6 })
        : 'halted';
      const partitions = runtime?.partitions() ?? [];
      const report = {
        ...describeMachine(running.machine, file),
        boot: outcomeReport(running.boot.outcome),
        run: { end, calls: runtime?.callsServed ?? 0, mode },
        partitions,
      };
      io.out(values.json ? stableStringify(report, 2) : formatRunning(report, running.boot.outcome));
      return running.boot.outcome.status === 'running' ? 0 : 1;
    } finally {
      await running.shutdown();
    }
  },
};

function formatRunning(
  r: MachineReport & {
    run: { end: string; calls: number; mode: string };
    partitions: readonly PartitionReport[];
  },
  outcome: Parameters<typeof outcomeReport>[0],
): string {
  const lines = [formatReport(r), 'boot chain'];
  for (const a of outcome.refused)
    lines.push(
      `    refused bank ${BANK_NAMES[a.bank]} (${a.mode}): ${a.failure.stage}: ${a.failure.code}: ${a.failure.detail}`,
    );
  if (outcome.status === 'halted') {
    lines.push('    HALTED: no bank booted');
    return lines.join('\n');
  }
  lines.push(
    `    bank ${BANK_NAMES[outcome.bank]} (${outcome.mode}): secure bundle ${outcome.secureBundle.version} (counter ${outcome.secureBundle.securityCounter}), Normal World ${outcome.normalWorld.version}`,
  );
  lines.push('  measured boot');
  lines.push(
    ...table(
      outcome.events.map((e) => [
        String(e.sequence),
        `pcr${e.pcr}`,
        e.stage,
        e.type,
        e.name,
        Buffer.from(e.digest).toString('hex').slice(0, 16) + '…',
      ]),
    ),
  );
  outcome.pcrs.forEach((p, i) => lines.push(`    PCR${i} ${Buffer.from(p).toString('hex')}`));
  lines.push(`partitions (${r.run.mode}; ${r.run.calls} calls served; ${r.run.end})`);
  lines.push(
    ...table(
      r.partitions.map((p) => [
        String(p.slot),
        p.name,
        p.domain,
        p.world,
        p.program,
        p.state,
        `${p.calls} calls`,
        p.exit === null ? '' : `exit: ${p.exit}`,
      ]),
    ),
  );
  for (const p of r.partitions) for (const l of p.log) lines.push(`  [${p.name}] ${l}`);
  return lines.join('\n');
}

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
