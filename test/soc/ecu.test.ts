import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E2eReceiver, protect } from '../../src/lib/can/e2e.js';
import { canFrame, type CanFrame } from '../../src/lib/can/frame.js';
import { isoTpPayload, isoTpSingleFrame } from '../../src/lib/can/uds.js';
import {
  BRAKE_REQUEST,
  DID_STATE,
  ENGINE_STATUS,
  IO_BRAKE_BLEED,
  ROUTINE_ENGINE_STOP,
  STEERING_TORQUE,
  diagRequestId,
  diagResponseId,
} from '../../src/lib/can/vehicle-can.js';
import { S3_NS, bringUp, type BrakeEcu, type EngineEcu, type SteeringEcu } from '../../src/soc/index.js';
import { everyDeviceBoard } from './helpers.js';

function vehicle() {
  const m = bringUp(everyDeviceBoard(), { seed: 4 });
  const received: CanFrame[] = [];
  const tester = m.canBus('bus').attach('tester', { receive: (f) => void received.push(f) });
  return {
    m,
    engine: m.node<EngineEcu>('engine'),
    brakes: m.node<BrakeEcu>('brakes'),
    steering: m.node<SteeringEcu>('steering'),
    tester,
    received,
    /** Sends a UDS request to `ecu` and returns the response payload (or undefined). */
    diag(ecu: number, request: number[]): number[] | undefined {
      const before = received.length;
      tester.transmit(canFrame(diagRequestId(ecu), isoTpSingleFrame(request), { extended: true }));
      m.runFor(2_000_000);
      const resp = received.slice(before).find((f) => f.extended && f.id === diagResponseId(ecu));
      return resp ? [...(isoTpPayload(resp.data) ?? [])] : undefined;
    },
  };
}

test('the engine broadcasts protected status frames; the other ECUs learn the speed from them', () => {
  const v = vehicle();
  v.engine.setSpeed(42);
  v.m.runFor(1_000_000_000);
  const status = v.received.filter((f) => f.id === ENGINE_STATUS);
  assert.equal(status.length, 9);
  const r = new E2eReceiver();
  for (const f of status) assert.ok(r.check(f.id, f.data).ok);
  assert.equal(status[0]!.data[2], 42);
  assert.equal(v.brakes.speedKmh(), 42);
  assert.equal(v.steering.speedKmh(), 42);
});

test('brake requests apply when counter and CRC are right, and only then', () => {
  const v = vehicle();
  v.tester.transmit(canFrame(BRAKE_REQUEST, protect(BRAKE_REQUEST, [80], 1)));
  v.m.runFor(1_000_000);
  assert.equal(v.brakes.state().pressureBar, 80);
  const forged = protect(BRAKE_REQUEST, [0], 2);
  forged[7] = (forged[7] as number) ^ 0xff;
  v.tester.transmit(canFrame(BRAKE_REQUEST, forged));
  v.tester.transmit(canFrame(BRAKE_REQUEST, protect(BRAKE_REQUEST, [10], 1))); // replayed counter
  v.m.runFor(1_000_000);
  assert.equal(v.brakes.state().pressureBar, 80);
  assert.equal(v.brakes.counters.crc, 1);
  assert.equal(v.brakes.counters.counter, 1);
  // An attacker who knows the scheme computes both: no key protects these frames.
  v.tester.transmit(canFrame(BRAKE_REQUEST, protect(BRAKE_REQUEST, [0], 2)));
  v.m.runFor(1_000_000);
  assert.equal(v.brakes.state().pressureBar, 0);
});

test('diagnostics at standstill: extended session, then the engine-stop routine kills the engine', () => {
  const v = vehicle();
  v.m.runFor(200_000_000);
  assert.equal(v.engine.state().running, true);
  assert.deepEqual(
    v.diag(0x10, [0x31, 0x01, ROUTINE_ENGINE_STOP >> 8, ROUTINE_ENGINE_STOP & 0xff]),
    [0x7f, 0x31, 0x7f],
    'not in the default session',
  );
  assert.deepEqual(v.diag(0x10, [0x10, 0x03]), [0x50, 0x03, 0x00, 0x32, 0x01, 0xf4]);
  assert.deepEqual(
    v.diag(0x10, [0x31, 0x01, ROUTINE_ENGINE_STOP >> 8, ROUTINE_ENGINE_STOP & 0xff]),
    [0x71, 0x01, 0x02, 0x03],
  );
  assert.equal(v.engine.state().running, false);
  assert.deepEqual(v.diag(0x10, [0x22, DID_STATE >> 8, DID_STATE & 0xff]), [0x62, 0x01, 0x00, 0, 0, 0, 0]);
  assert.deepEqual(v.diag(0x10, [0x99]), [0x7f, 0x99, 0x11]);
});

test('diagnostics above the speed limit are refused (conditionsNotCorrect) and change nothing', () => {
  const v = vehicle();
  v.engine.setSpeed(60);
  v.m.runFor(200_000_000);
  assert.deepEqual(v.diag(0x10, [0x10, 0x03]), [0x7f, 0x10, 0x22]);
  assert.equal(v.engine.session(), 'default');
  assert.deepEqual(v.diag(0x28, [0x10, 0x03]), [0x7f, 0x10, 0x22]);
  assert.equal(v.engine.state().running, true);
  // In session at standstill, then the car moves: the routine is refused.
  v.engine.setSpeed(0);
  v.m.runFor(200_000_000);
  assert.deepEqual(v.diag(0x10, [0x10, 0x03])?.[0], 0x50);
  v.engine.setSpeed(30);
  v.m.runFor(200_000_000);
  assert.deepEqual(v.diag(0x10, [0x31, 0x01, 0x02, 0x03]), [0x7f, 0x31, 0x22]);
  assert.equal(v.engine.state().running, true);
});

test('brake bleed by I/O control holds while the session lives and ends with it (S3 timeout)', () => {
  const v = vehicle();
  v.tester.transmit(canFrame(BRAKE_REQUEST, protect(BRAKE_REQUEST, [50], 1)));
  v.m.runFor(1_000_000);
  assert.equal(v.diag(0x28, [0x10, 0x03])?.[0], 0x50);
  assert.deepEqual(
    v.diag(0x28, [0x2f, IO_BRAKE_BLEED >> 8, IO_BRAKE_BLEED & 0xff, 0x03]),
    [0x6f, 0x01, 0x01, 0x03],
  );
  assert.equal(v.brakes.state().pressureBar, 0);
  v.tester.transmit(canFrame(BRAKE_REQUEST, protect(BRAKE_REQUEST, [90], 2)));
  v.m.runFor(1_000_000);
  assert.equal(v.brakes.state().pressureBar, 0, 'bleeding: no pressure builds');
  v.m.runFor(S3_NS / 2);
  assert.deepEqual(v.diag(0x28, [0x3e, 0x00]), [0x7e, 0x00], 'tester present keeps the session');
  v.m.runFor(S3_NS / 2);
  assert.equal(v.brakes.session(), 'extended');
  v.m.runFor(S3_NS);
  assert.equal(v.brakes.session(), 'default', 'S3 expired');
  assert.equal(v.brakes.state().bleeding, false);
  assert.equal(v.brakes.state().pressureBar, 90, 'control returned to the ECU');
});

test('steering applies park-assist torque only at low speed', () => {
  const v = vehicle();
  const torque = (centiNm: number, ctr: number) => {
    const t = centiNm & 0xffff;
    v.tester.transmit(canFrame(STEERING_TORQUE, protect(STEERING_TORQUE, [t >> 8, t & 0xff], ctr)));
    v.m.runFor(1_000_000);
  };
  torque(-350, 1);
  assert.equal(v.steering.state().torqueCentiNm, -350);
  v.engine.setSpeed(80);
  v.m.runFor(150_000_000);
  assert.equal(v.steering.state().torqueCentiNm, 0, 'torque released above the limit');
  torque(500, 2);
  assert.equal(v.steering.state().torqueCentiNm, 0);
  assert.equal(v.steering.state().ignoredAtSpeed, 1);
});
