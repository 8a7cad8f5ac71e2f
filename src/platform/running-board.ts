/**
 * A running board: the emulated machine, its verified boot chain (ROM → kernel → trusted applications →
 * Normal World) and the kernel runtime the chain starts. This is the one place where the hardware
 * (`soc/`), the boot chain (`boot/`) and the kernel (`kernel/`) meet; the CLI, the lab and the tests
 * start boards through it.
 */
import { InputError, RampartError } from '../common/errors.js';
import { decodeUtf8 } from '../common/utf8.js';
import { bootMachine, factoryProgramImages, type MachineBoot } from '../boot/machine-boot.js';
import { join } from 'node:path';
import { DEFAULT_BOARDS } from '../boot/defaults.js';
import {
  DEFAULT_RECIPES_DIR,
  buildDefaultImages,
  imagesAreCurrent,
  readBoardImages,
} from '../boot/recipe.js';
import type { KernelHandoff, NormalWorldHandoff, TrustedApplicationHandoff } from '../boot/ports.js';
import { taManifestSchema } from '../kernel/abi/manifest.js';
import { KernelRuntime, type SchedulingMode } from '../kernel/runtime/runtime.js';
import {
  checkManifest,
  loadSystemConfig,
  type SocView,
  type SystemConfig,
} from '../kernel/runtime/system.js';
import type { Board } from '../soc/board/schema.js';
import { bringUp } from '../soc/bring-up.js';
import type { Machine } from '../soc/machine.js';
import type { Chip } from '../soc/chip.js';

export interface StartOptions {
  readonly board: Board;
  /** The file the board came from (for reports). */
  readonly file?: string;
  readonly seed?: number;
  /** Where the board's signed images are (`<dir>/<board>/{secure-bundle,normal-world}.img`). */
  readonly imagesDir?: string;
  /** Build the default images first when they are missing (the embedded default boards only). */
  readonly buildMissingImages?: boolean;
  /** The chip to boot (default: the first chip that declares a boot section). */
  readonly chip?: string;
  readonly mode?: SchedulingMode;
  readonly onLog?: (partition: string, line: string) => void;
}

export interface RunningBoard {
  readonly machine: Machine;
  readonly chip: string;
  readonly boot: MachineBoot;
  /** The runtime, when the chain got as far as starting the kernel (absent if the device halted). */
  readonly runtime: KernelRuntime | undefined;
  readonly system: SystemConfig | undefined;
  shutdown(): Promise<void>;
}

/**
 * The SoC as a system configuration is checked against it: the board's security policy (what the boot
 * chain programs into the TZASC and TZPC and locks before the Normal World starts).
 */
export function socView(chip: Chip): SocView {
  return {
    region(name) {
      const r = chip.spec.memory.find((x) => x.name === name);
      if (!r) return undefined;
      return { size: r.size, world: chip.trustzone && r.security === 'non-secure' ? 'non-secure' : 'secure' };
    },
    device(name) {
      const d = chip.spec.devices.find((x) => x.name === name);
      if (!d) return undefined;
      return {
        world: chip.trustzone && d.world === 'non-secure' ? 'non-secure' : 'secure',
        irq: chip.irqOf(name),
      };
    },
  };
}

/**
 * The board's signed images. With `buildMissingImages` (the default boards), images missing from the
 * directory are built; in the default directory, images built from other inputs than the current recipe,
 * partition programs, system configuration, ruleset and key (`imagesAreCurrent`) are rebuilt too, so a
 * stale image is never booted by mistake. A directory given explicitly is otherwise used as it is.
 */
function imagesFor(options: StartOptions, board: string) {
  const dir = options.imagesDir ?? '.rampart/images';
  const recipe = join(DEFAULT_RECIPES_DIR, `${board}.yaml`);
  if (
    options.buildMissingImages &&
    options.imagesDir === undefined &&
    DEFAULT_BOARDS.includes(board) &&
    !imagesAreCurrent(dir, board, recipe)
  )
    buildDefaultImages(undefined, dir);
  try {
    return readBoardImages(dir, board);
  } catch (e) {
    if (!(e instanceof InputError) || !options.buildMissingImages) throw e;
    buildDefaultImages(undefined, dir);
    return readBoardImages(dir, board);
  }
}

/** Brings a board up and boots it; the runtime is started but not run (call `runtime.run`). */
export async function startBoard(options: StartOptions): Promise<RunningBoard> {
  const { board } = options;
  const chipName = options.chip ?? board.chips.find((c) => c.boot !== undefined)?.name;
  if (chipName === undefined)
    throw new InputError('NO_BOOT_CHIP', `board ${board.name} declares no chip with a boot section`);
  const machine = bringUp(board, {
    lock: false,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  factoryProgramImages(machine, chipName, imagesFor(options, board.name));
  const chip = machine.chip(chipName);

  let runtime: KernelRuntime | undefined;
  let system: SystemConfig | undefined;
  const pendingTas: TrustedApplicationHandoff[] = [];
  const boot = await bootMachine(machine, chipName, {
    secureWorld: {
      startKernel(handoff: KernelHandoff) {
        const file = `secure bundle component '${handoff.config.name}'`;
        system = loadSystemConfig(decodeUtf8(handoff.config.bytes), file, socView(chip));
        if (system.spec.chip !== chipName)
          throw new InputError(
            'SYSTEM_INVALID',
            `configuration is for chip '${system.spec.chip}', booting '${chipName}'`,
            { file, field: 'chip' },
          );
        runtime = new KernelRuntime({
          machine,
          chip: chipName,
          system,
          ...(options.mode ? { mode: options.mode } : {}),
          ...(options.onLog ? { onLog: options.onLog } : {}),
        });
      },
      startTrustedApplication(app: TrustedApplicationHandoff) {
        if (!runtime || !system)
          throw new RampartError('BOOT_ORDER', 'a trusted application before the kernel');
        const file = `secure bundle component '${app.manifest.name}'`;
        let manifestJson: unknown;
        try {
          manifestJson = JSON.parse(decodeUtf8(app.manifest.bytes));
        } catch (e) {
          throw new InputError('TA_MANIFEST_INVALID', `not JSON: ${(e as Error).message}`, { file });
        }
        const parsed = taManifestSchema.safeParse(manifestJson);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new InputError('TA_MANIFEST_INVALID', issue?.message ?? 'invalid', {
            file,
            field: issue?.path.join('.') ?? '',
          });
        }
        if (parsed.data.name !== app.name)
          throw new InputError('TA_MANIFEST_INVALID', `manifest names '${parsed.data.name}'`, {
            file,
            field: 'name',
          });
        checkManifest(system, app.name, parsed.data, file);
        pendingTas.push(app);
        runtime.startTrustedApplication(app.name, {
          manifest: parsed.data,
          code: decodeUtf8(app.code.bytes),
          data: new Map(app.data.map((d) => [d.name.slice(app.name.length + 1), d.bytes])),
        });
      },
    },
    normalWorld: {
      start(handoff: NormalWorldHandoff) {
        if (!runtime) throw new RampartError('BOOT_ORDER', 'the Normal World before the kernel');
        const code = handoff.components.find((c) => c.kind === 'nw-code');
        if (!code)
          throw new InputError('NW_IMAGE_INVALID', 'the Normal World image has no nw-code component');
        runtime.startNormalWorld(decodeUtf8(code.bytes));
      },
    },
    beforeWarmReset() {
      // A refused attempt: whatever it started goes away with the reset.
      const r = runtime;
      runtime = undefined;
      system = undefined;
      void r?.shutdown();
    },
  });
  return {
    machine,
    chip: chipName,
    boot,
    runtime,
    system,
    async shutdown() {
      await runtime?.shutdown();
    },
  };
}
