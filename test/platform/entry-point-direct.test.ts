/**
 * The architecture without the Secure World in the data path — the baseline of `npm run bench
 * entry-point`: the iot-gateway board with eth0 given to the Normal World, whose rich OS drives the NIC
 * itself (src/normal/nic-direct/). Its services, the D-Bus port included, are then open to the WAN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/common/errors.js';
import { parseIpv4 } from '../../src/lib/net/address.js';
import { loadSystemConfig } from '../../src/kernel/runtime/system.js';
import { socView } from '../../src/platform/running-board.js';
import { bringUp, loadBoardByName } from '../../src/soc/index.js';
import { attachWanHost, DIRECT_SYSTEM, directBoard, startDirect } from '../helpers/gateway.js';

const GATEWAY = parseIpv4('198.51.100.10');

test('direct: the rich OS drives eth0 itself; the WAN reaches its services, the D-Bus port included', async () => {
  const g = startDirect({ normal: { entry: 'src/normal/rich-os/main.ts' } });
  try {
    await g.runtime.run({
      until: () => g.log('rich-os').some((l) => l.startsWith('net: listening')),
      untilNs: g.machine.clock.nowNs + 1e9,
    });
    assert.ok(
      g.log('rich-os').some((l) => l.startsWith('net: up on eth0 198.51.100.10/24 MAC 02:52:50:00:00:01')),
      g.log('rich-os').join('\n'),
    );
    // The kernel's tables: the Normal World's partition owns the NIC.
    const state = g.runtime.kernel.state;
    const richOs = g.runtime.partitions().findIndex((p) => p.name === 'rich-os');
    assert.equal(state.tables.devOwner.get(0), richOs);

    const host = attachWanHost(g);
    let replies = 0;
    let http = '';
    let dbus = '';
    host.act((s) => {
      s.ping(GATEWAY, { sequence: 1 }, (r) => void (r.kind === 'reply' && replies++));
      const c = s.tcp.connect(GATEWAY, 80, {
        handlers: {
          onConnect: () =>
            host.act(() => c.ok && c.socket.send(new TextEncoder().encode('GET /d HTTP/1.0\r\n\r\n'))),
          onData: (d) => void (http += new TextDecoder().decode(d)),
        },
      });
      const b = s.tcp.connect(GATEWAY, 6667, {
        handlers: {
          onConnect: () =>
            host.act(() => b.ok && b.socket.send(new TextEncoder().encode('\0AUTH ANONYMOUS\r\n'))),
          onData: (d) => void (dbus += new TextDecoder().decode(d)),
        },
      });
    });
    await g.runtime.run({
      until: () => replies === 1 && http.includes('/d') && dbus.startsWith('OK'),
      untilNs: g.machine.clock.nowNs + 5e9,
    });
    assert.equal(replies, 1);
    assert.match(http, /^HTTP\/1\.0 200 OK/);
    assert.match(dbus, /^OK /, 'nothing stands between the WAN and D-Bus');
    assert.ok(g.log('rich-os').some((l) => l.startsWith('dbus: connection from 198.51.100.20')));
  } finally {
    await g.runtime.shutdown();
  }
});

test('direct: the iot-gateway board as built refuses that configuration (eth0 is a secure peripheral)', () => {
  const built = bringUp(loadBoardByName('iot-gateway').board, { seed: 1 });
  assert.throws(
    () => loadSystemConfig(DIRECT_SYSTEM, 'direct.yaml', socView(built.chip('soc'))),
    (e: unknown) =>
      e instanceof InputError &&
      /devices\[0\]\.domain/.test(e.message) &&
      /'eth0' is a secure device \(TZPC\); domain 'normal-world' is non-secure/.test(e.message),
  );
  // On the variant it loads.
  const direct = bringUp(directBoard(), { seed: 1 });
  assert.equal(
    loadSystemConfig(DIRECT_SYSTEM, 'direct.yaml', socView(direct.chip('soc'))).spec.devices[0]?.name,
    'eth0',
  );
});
