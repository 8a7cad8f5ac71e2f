/**
 * Plain-data descriptions of boards and machines, for `rampart boards` and `rampart boot` (their `--json`
 * output is documented field by field in docs/soc.md).
 */
import type { Board } from './board/schema.js';
import { FABRIC_KINDS } from './board/schema.js';
import type { Machine } from './machine.js';

export interface BoardSummary {
  name: string;
  description: string;
  file: string;
  chips: { name: string; cpu: { model: string; count: number }; trustzone: boolean; devices: number }[];
  links: { name: string; kind: string }[];
  nodes: { name: string; kind: string; link: string }[];
}

export function summariseBoard(board: Board, file: string): BoardSummary {
  return {
    name: board.name,
    description: board.description,
    file,
    chips: board.chips.map((c) => ({
      name: c.name,
      cpu: { model: c.cpu.model, count: c.cpu.count },
      trustzone: c.trustzone,
      devices: c.devices.length,
    })),
    links: board.links.map((l) => ({ name: l.name, kind: l.kind })),
    nodes: board.nodes.map((n) => ({ name: n.name, kind: n.kind, link: n.link })),
  };
}

export interface MachineReport {
  board: string;
  file: string;
  seed: number;
  boardHash: string;
  chips: ChipReport[];
  links: { name: string; kind: string; bitRate: number; endpoints: string[] }[];
  nodes: { name: string; kind: string; link: string; diagAddress: number }[];
  timeNs: number;
  traceEvents: number;
  runHash: string;
}

export interface ChipReport {
  name: string;
  cpu: { model: string; count: number };
  trustzone: boolean;
  locked: { tzasc: boolean; tzpc: boolean; interruptGroups: boolean };
  memory: {
    name: string;
    kind: string;
    base: number;
    size: number;
    security: string | null;
    backing: string;
  }[];
  peripherals: {
    name: string;
    kind: string;
    base: number;
    size: number;
    world: string | null;
    irq: number | null;
    link: string | null;
  }[];
  interrupts: {
    line: number;
    device: string;
    group: string;
    priority: number;
    target: number;
    enabled: boolean;
  }[];
}

export function describeMachine(machine: Machine, file: string): MachineReport {
  const chips: ChipReport[] = [];
  for (const spec of machine.board.chips) {
    const chip = machine.chip(spec.name);
    chips.push({
      name: chip.name,
      cpu: { model: spec.cpu.model, count: spec.cpu.count },
      trustzone: chip.trustzone,
      locked: {
        tzasc: chip.tzasc?.isLocked ?? false,
        tzpc: chip.tzpc?.isLocked ?? false,
        interruptGroups: chip.gic.isLocked,
      },
      memory: chip.regions.map((r) => ({
        name: r.name,
        kind: r.kind,
        base: r.base,
        size: r.size,
        security: chip.securityOf(r) ?? null,
        backing: r.buffer instanceof SharedArrayBuffer ? 'SharedArrayBuffer' : 'ArrayBuffer',
      })),
      peripherals: spec.devices.map((d) => ({
        name: d.name,
        kind: d.kind,
        base: d.base,
        size: chip.devices.get(d.name)?.windowSize ?? 0,
        world: chip.accessClass(d.name),
        irq: d.irq?.line ?? null,
        link: 'link' in d ? d.link : null,
      })),
      interrupts: spec.devices
        .filter((d) => d.irq !== undefined && !FABRIC_KINDS.has(d.kind))
        .map((d) => {
          const line = chip.gic.line(d.irq!.line);
          return {
            line: d.irq!.line,
            device: d.name,
            group: line.group,
            priority: line.priority,
            target: line.target,
            enabled: line.enabled,
          };
        })
        .sort((a, b) => a.line - b.line),
    });
  }
  return {
    board: machine.board.name,
    file,
    seed: machine.seed,
    boardHash: machine.boardHash,
    chips,
    links: machine.board.links.map((l) => ({
      name: l.name,
      kind: l.kind,
      bitRate: l.bitRate,
      endpoints: endpointsOf(machine, l.name),
    })),
    nodes: [...machine.nodes.values()].map((n) => ({
      name: n.name,
      kind: n.kind,
      link: machine.board.nodes.find((b) => b.name === n.name)?.link ?? '',
      diagAddress: n.diagAddress,
    })),
    timeNs: machine.clock.nowNs,
    traceEvents: machine.trace.count,
    runHash: machine.runHash,
  };
}

/** Devices and nodes the board wires to a link, as `chip/device` and `node:NAME`. */
function endpointsOf(machine: Machine, link: string): string[] {
  const out: string[] = [];
  for (const c of machine.board.chips)
    for (const d of c.devices) if ('link' in d && d.link === link) out.push(`${c.name}/${d.name}`);
  for (const n of machine.board.nodes) if (n.link === link) out.push(`node:${n.name}`);
  return out;
}
