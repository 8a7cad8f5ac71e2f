/**
 * Worker for ses.test.ts: hardens the realm with SES `lockdown()`, removes the host's ambient globals
 * (what a Hardened JavaScript compartment does not have), then runs a TCP transfer between two stacks.
 */
import { parentPort } from 'node:worker_threads';
import 'ses';
import { bundleSource } from '../../helpers/bundle.js';

lockdown({ errorTaming: 'safe', overrideTaming: 'severe', consoleTaming: 'safe' });

// 1. The stack bundled into one script and evaluated in a Compartment with no endowments at all.
const driver = `
const { NetworkStack, Simulation } = __entry;
const sim = new Simulation(5);
const seg = sim.segment({ delayNs: 1e6, lossRate: 0.05, reorderRate: 0.05 });
const a = new NetworkStack({ mac: '02:00:00:00:00:01', ipv4: { address: '10.0.0.1', prefixLength: 24 } });
const b = new NetworkStack({ mac: '02:00:00:00:00:02', ipv4: { address: '10.0.0.2', prefixLength: 24 } });
sim.attach(a, seg);
sim.attach(b, seg);
let received = 0, ended = false;
b.tcp.listen(80, { onAccept(s) { s.handlers = { onData: (d) => (received += d.length), onEnd: () => (ended = true) }; } });
const c = a.tcp.connect(0x0a000002, 80);
c.socket.send(new Uint8Array(200000).fill(3));
c.socket.close();
sim.runUntil(() => ended, 600e9);
return { received, ended, hasProcess: typeof process !== 'undefined', hasBuffer: typeof Buffer !== 'undefined' };
`;
const script = `${bundleSource('src/lib/net/stack/index.ts', '__entry')}\n(function () {${driver}})();`;
const compartment = new Compartment({ globals: {}, __options__: true });
const inCompartment = compartment.evaluate(script) as Record<string, unknown>;

const g = globalThis as Record<string, unknown>;
const removed: string[] = [];
for (const name of [
  'Buffer',
  'process',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'queueMicrotask',
  'performance',
  'TextEncoder',
  'TextDecoder',
  'crypto',
  'fetch',
  'require',
]) {
  if (name in g) {
    delete g[name];
    removed.push(name);
  }
}
// Date and Math are frozen by lockdown; their ambient use is ruled out by the static check in ses.test.ts.
const stack = await import('../../../src/lib/net/stack/index.js');
const { parseIpv4 } = await import('../../../src/lib/net/address.js');
const sim = new stack.Simulation(3);
const seg = sim.segment({ delayNs: 1e6, lossRate: 0.05 });
const a = new stack.NetworkStack({
  mac: '02:00:00:00:00:01',
  ipv4: { address: '10.0.0.1', prefixLength: 24 },
});
const b = new stack.NetworkStack({
  mac: '02:00:00:00:00:02',
  ipv4: { address: '10.0.0.2', prefixLength: 24 },
});
sim.attach(a, seg);
sim.attach(b, seg);
let received = 0;
let ended = false;
b.tcp.listen(80, {
  onAccept(s) {
    s.handlers = {
      onData: (d) => (received += d.length),
      onEnd: () => (ended = true),
    };
  },
});
const c = a.tcp.connect(parseIpv4('10.0.0.2'), 80);
if (!c.ok) throw new Error(c.detail);
c.socket.send(new Uint8Array(100_000).fill(7));
c.socket.close();
sim.runUntil(() => ended, 600e9);
const pings: string[] = [];
a.ping('10.0.0.2', {}, (r) => pings.push(r.kind));
sim.runFor(2e9);
parentPort?.postMessage({
  inCompartment,
  bundleBytes: script.length,
  removed,
  received,
  ended,
  ping: pings[0],
  frozen: Object.isFrozen(Array.prototype),
});
