/**
 * `npm run bench kernel`: system calls per second through the proven core's concrete interpreter
 * (`Kernel.call`, in place, with and without computing effects; `step`, persistent), on the application
 * profile's tables. Baseline, measured in the same run: `yield` (dispatch, argument checks and one guard,
 * no state change), so the ratios show what a state change and its effects cost on top.
 */
import { sampleConfig } from '../src/kernel/core/config.js';
import { applicationProfile } from '../src/kernel/core/profile.js';
import { Kernel, step } from '../src/kernel/core/step.js';
import { opsPerSecond, percentiles, type BenchSuite } from './suite.js';

const p = applicationProfile;
const NW = 2;
const TA = 1;

function bootBench(): Kernel {
  const k = Kernel.boot(p, sampleConfig(p));
  const ok = (r: { ret: { name: string } }, what: string): void => {
    if (r.ret.name !== 'OK' && r.ret.name !== 'BLOCKED')
      throw new Error(`bench setup: ${what}: ${r.ret.name}`);
  };
  for (const q of [TA, NW]) {
    ok(k.call('partition_create', { caller: 0, target: q, budget: 1000 }), 'create');
    ok(k.call('partition_start', { caller: 0, target: q }), 'start');
  }
  ok(k.call('notification_create', { caller: TA, notification: 0, slot: 0 }), 'notification');
  ok(k.call('endpoint_create', { caller: TA, endpoint: 0, slot: 1 }), 'endpoint');
  ok(k.call('smc_register', { caller: 0, entry: 0, endpoint: 0, valid: 1 }), 'smc entry');
  return k;
}

const m = { mr0: 1, mr1: 2, mr2: 3, mr3: 4 };

/**
 * The SMC round trip through the core alone, in µs per round trip (`smc` + `endpoint_reply_receive`,
 * in place, with effects): the floor under the runtime's figure, for the same run to compare against.
 */
export function coreSmcRoundTripUs(samples = 3000): ReturnType<typeof percentiles> {
  const k = bootBench();
  k.call('endpoint_receive', { caller: TA, slot: 1 });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    const call = k.call('smc', { caller: NW, entry: 0, label: 7, ...m });
    const back = k.call('endpoint_reply_receive', { caller: TA, slot: 1, label: 0, ...m });
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (call.ret.name !== 'BLOCKED' || back.ret.name !== 'BLOCKED')
      throw new Error(`bench: core round trip: ${call.ret.name}, ${back.ret.name}`);
  }
  return percentiles(times);
}

export const kernelBench: BenchSuite = {
  name: 'kernel',
  async run() {
    const k = bootBench();
    // Baseline: the cheapest call.
    const baseline = opsPerSecond(() => {
      for (let i = 0; i < 1000; i++) k.call('yield', { caller: TA });
      return 1000;
    });
    const signalPoll = (effects: boolean) =>
      opsPerSecond(() => {
        for (let i = 0; i < 200; i++) {
          k.call('notification_signal', { caller: TA, slot: 0, bits: 1 }, effects);
          k.call('notification_poll', { caller: TA, slot: 0 }, effects);
        }
        return 400;
      });
    const noEffects = signalPoll(false);
    const withEffects = signalPoll(true);
    // An SMC round trip: the Secure World waits, the Normal World enters, the Secure World replies.
    const smc = opsPerSecond(() => {
      for (let i = 0; i < 100; i++) {
        k.call('endpoint_receive', { caller: TA, slot: 1 });
        k.call('smc', { caller: NW, entry: 0, label: 7, ...m });
        k.call('endpoint_reply', { caller: TA, label: 0, ...m });
      }
      return 300;
    });
    // The same with the combined call: the Secure World answers and waits again in one call.
    k.call('endpoint_receive', { caller: TA, slot: 1 });
    const smcReplyReceive = opsPerSecond(() => {
      for (let i = 0; i < 100; i++) {
        k.call('smc', { caller: NW, entry: 0, label: 7, ...m });
        k.call('endpoint_reply_receive', { caller: TA, slot: 1, label: 0, ...m });
      }
      return 200;
    });
    let s = k.snapshot();
    const persistent = opsPerSecond(() => {
      for (let i = 0; i < 200; i++) {
        s = step(s, 'notification_signal', { caller: TA, slot: 0, bits: 1 }).state;
        s = step(s, 'notification_poll', { caller: TA, slot: 0 }).state;
      }
      return 400;
    });
    const round = (x: number) => Math.round(x);
    return {
      profile: p.name,
      callsPerSecond: {
        signalPollNoEffects: round(noEffects),
        signalPollWithEffects: round(withEffects),
        smcRoundTripCalls: round(smc),
        persistentStep: round(persistent),
      },
      smcRoundTripsPerSecond: round(smc / 3),
      smcRoundTripsPerSecondReplyReceive: round(smcReplyReceive / 2),
      baselineYieldCallsPerSecond: round(baseline),
      ratioToBaseline: {
        signalPollWithEffects: Number((withEffects / baseline).toFixed(3)),
        smcRoundTripCalls: Number((smc / baseline).toFixed(3)),
      },
    };
  },
};
