/**
 * The hello demo: boot the default board and let its Normal World open a session on the hello trusted
 * application and invoke it with values, a temporary memory reference, allocated and registered shared
 * memory (src/normal/rich-os/hello-client.ts). The client reports each step on its console as a
 * `demo: {json}` line; this collects them.
 */
import { loadBoardByName } from '../soc/board/loader.js';
import { startBoard, type StartOptions } from './running-board.js';

export interface DemoStep {
  readonly step: string;
  readonly [field: string]: unknown;
}

export interface HelloDemo {
  readonly board: string;
  readonly booted: boolean;
  readonly steps: readonly DemoStep[];
  /** Every step the client runs succeeded (it reports `error` otherwise, and stops early). */
  readonly ok: boolean;
  /** Steps whose answer is not what the trusted application must have computed. */
  readonly problems?: readonly string[];
  readonly calls: number;
  readonly virtualTimeNs: number;
  readonly wallMs: number;
}

const EXPECTED = [
  'open-session',
  'invoke-value',
  'invoke-temp-memref',
  'invoke-shared-memory',
  'invoke-sum',
  'invoke-registered-memory',
  'cancel-before-start',
  'invoke-unknown-command',
  'close-session',
];

export async function runHelloDemo(options: Partial<StartOptions> = {}): Promise<HelloDemo> {
  const t0 = performance.now();
  const board = options.board ?? loadBoardByName('iot-gateway').board;
  const running = await startBoard({ buildMissingImages: true, ...options, board });
  try {
    const runtime = running.runtime;
    if (!runtime)
      return {
        board: board.name,
        booted: false,
        steps: [],
        ok: false,
        calls: 0,
        virtualTimeNs: 0,
        wallMs: performance.now() - t0,
      };
    await runtime.run();
    const steps = runtime
      .partitions()
      .flatMap((p) => p.log)
      .filter((l) => l.startsWith('demo: '))
      .map((l) => JSON.parse(l.slice('demo: '.length)) as DemoStep);
    const names = steps.map((s) => s.step);
    const problems = steps.flatMap((s) => checkStep(s));
    return {
      board: board.name,
      booted: true,
      steps,
      ok: EXPECTED.every((e) => names.includes(e)) && !names.includes('error') && problems.length === 0,
      problems,
      calls: runtime.callsServed,
      virtualTimeNs: running.machine.clock.nowNs,
      wallMs: performance.now() - t0,
    };
  } finally {
    await running.shutdown();
  }
}

const reversed = (v: unknown) => (typeof v === 'string' ? [...v].reverse().join('') : undefined);

/** What each step's answer must be, computed here independently of both worlds. */
function checkStep(s: DemoStep): string[] {
  const bad = (why: string) => [`${s.step}: ${why}`];
  switch (s.step) {
    case 'invoke-value':
      return s.received === (s.sent as number) + 1
        ? []
        : bad(`expected ${(s.sent as number) + 1}, got ${String(s.received)}`);
    case 'invoke-temp-memref':
    case 'invoke-shared-memory':
      return s.received === reversed(s.sent) ? [] : bad('the bytes did not come back reversed');
    case 'invoke-registered-memory':
      return s.received === reversed('registered client buffer')
        ? []
        : bad('the registered buffer did not come back reversed');
    case 'invoke-sum': {
      const text = 'shared memory, copied in before it is checked';
      const sum = [...text].reduce((a, c) => a + c.charCodeAt(0), 0);
      return s.bytes === text.length && s.sum === sum
        ? []
        : bad(`expected ${text.length} bytes summing to ${sum}`);
    }
    case 'cancel-before-start':
      return String(s.result).startsWith('TEE_ERROR_CANCEL') ? [] : bad('not cancelled');
    case 'invoke-unknown-command':
      return String(s.result).startsWith('TEE_ERROR_NOT_SUPPORTED')
        ? []
        : bad('an unknown command did not fail as NOT_SUPPORTED');
    default:
      return [];
  }
}
