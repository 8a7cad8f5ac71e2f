import { test } from 'node:test';
import assert from 'node:assert/strict';
import { B_IP, collect, equalBytes, pair, pattern, pump } from './helpers.js';
import type { TcpSocket } from '../../../src/lib/net/stack/index.js';

test('smoke: 100 kB each way', () => {
  const { sim, a, b } = pair();
  let server: TcpSocket | undefined;
  const dataA = pattern(100_000, 1);
  const dataB = pattern(100_000, 2);
  let atB: ReturnType<typeof collect> | undefined;
  const l = b.tcp.listen(80, {
    onAccept(s) {
      server = s;
      atB = collect(s);
      pump(s, dataB);
    },
  });
  assert.ok(l.ok);
  const c = a.tcp.connect(B_IP, 80);
  assert.ok(c.ok);
  const atA = collect(c.socket);
  pump(c.socket, dataA);
  const ok = sim.runUntil(() => atA.ended() && (atB?.ended() ?? false), 100e9);
  console.log(sim.now, a.stats().tcp, b.stats().tcp, c.socket.state, server?.state);
  assert.ok(ok);
  assert.ok(equalBytes(atA.bytes(), dataB));
  assert.ok(equalBytes(atB!.bytes(), dataA));
});
