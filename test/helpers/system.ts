/**
 * Starts a kernel runtime directly on a freshly brought-up board (fabric programmed and locked, as the
 * boot chain leaves it), from a system configuration text and partition programs bundled from the
 * source tree. For tests that are about the runtime, not the boot chain.
 */
import { taManifestSchema, type TaManifest } from '../../src/kernel/abi/manifest.js';
import { KernelRuntime, type SchedulingMode } from '../../src/kernel/runtime/runtime.js';
import { checkManifest, loadSystemConfig } from '../../src/kernel/runtime/system.js';
import { socView } from '../../src/platform/running-board.js';
import { bringUp, loadBoardByName } from '../../src/soc/index.js';
import type { Machine } from '../../src/soc/machine.js';
import type { Board } from '../../src/soc/board/schema.js';
import { bundleSource } from './bundle.js';

export interface TestSystem {
  readonly machine: Machine;
  readonly runtime: KernelRuntime;
  /** Lines logged, with the wall time they arrived at (performance.now()). */
  readonly logs: { partition: string; line: string; at: number }[];
}

export interface TestSystemOptions {
  readonly board?: string | Board;
  readonly chip?: string;
  readonly system: string;
  /** Trusted applications: name → manifest and source entry (e.g. `src/apps/hello/entry.ts`). */
  readonly tas?: Readonly<
    Record<
      string,
      {
        manifest: TaManifest;
        entry: string;
        prologue?: string;
        /** Its `ta-data` files, by name (what the boot chain hands over from the secure bundle). */
        data?: Readonly<Record<string, string | Uint8Array>>;
      }
    >
  >;
  /** Normal World program: a source entry, with a prologue (e.g. `const TEST = {…};`). */
  readonly normal?: { entry: string; prologue?: string };
  readonly mode?: SchedulingMode;
  readonly seed?: number;
  readonly onRequest?: (slot: number, call: number) => void;
}

export function startSystem(o: TestSystemOptions): TestSystem {
  const board = typeof o.board === 'object' ? o.board : loadBoardByName(o.board ?? 'iot-gateway').board;
  const machine = bringUp(board, { seed: o.seed ?? 1 });
  const chip = o.chip ?? 'soc';
  const system = loadSystemConfig(o.system, 'test system', socView(machine.chip(chip)));
  const logs: TestSystem['logs'] = [];
  const runtime = new KernelRuntime({
    machine,
    chip,
    system,
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
    onLog: (partition, line) => logs.push({ partition, line, at: performance.now() }),
  });
  for (const [name, ta] of Object.entries(o.tas ?? {})) {
    const manifest = taManifestSchema.parse(ta.manifest);
    checkManifest(system, name, manifest, 'test');
    const data = Object.entries(ta.data ?? {}).map(
      ([file, v]) => [file, typeof v === 'string' ? new TextEncoder().encode(v) : v] as const,
    );
    runtime.startTrustedApplication(name, {
      manifest,
      code: `${ta.prologue ?? ''}\n${bundleSource(ta.entry)}`,
      data: new Map(data),
    });
  }
  if (o.normal) runtime.startNormalWorld(normalCode(o.normal));
  return { machine, runtime, logs };
}

/** A Normal World program's code: its prologue, then its bundle. */
export function normalCode(n: { entry: string; prologue?: string }): string {
  return `${n.prologue ?? ''}\n${bundleSource(n.entry)}`;
}
