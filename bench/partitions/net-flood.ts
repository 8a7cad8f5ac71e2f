/**
 * Bench Normal World: the rich OS's stack on whatever interface the board gives it (the proxy driver to
 * the Secure World's firewall, or a NIC it owns itself), sending BENCH.datagrams UDP datagrams (CoAP
 * telemetry, port 5683) to a host on the WAN as fast as the interface takes them, after BENCH.warmup
 * datagrams (JIT, caches) whose payload is filled with 0x57 where the measured ones carry 0x42. Logs
 * `bench:go` once the host's address is resolved and the warm-up handed over, `bench:sent` when the last
 * datagram was handed over.
 */
import { log } from '../../src/kernel/abi/sys.js';
import { parseIpv4 } from '../../src/lib/net/address.js';
import type { NetworkInterface } from '../../src/normal/proxy-net/proxy-net.js';
import { createStack, openInterface, runNetwork } from '../../src/normal/rich-os/network.js';

declare const BENCH: { warmup: number; datagrams: number; payload: number; remote: string };

const opened = openInterface();
if (!opened) throw new Error('no network interface');
const iface: NetworkInterface = opened;
const stack = createStack(iface, 1);
const remote = parseIpv4(BENCH.remote);
const bound = stack.udp.bind(5000);
if (!bound.ok) throw new Error('cannot bind');
const socket = bound.socket;
let resolved = false;
stack.ping(remote, { timeoutNs: 1e9 }, (r) => (resolved = r.kind === 'reply'));
runNetwork(iface, stack, () => resolved);

/** Sends `count` datagrams of `payload`, as fast as the interface takes them. */
function send(count: number, payload: Uint8Array): void {
  let sent = 0;
  while (sent < count) {
    while (sent < count && iface.writable()) {
      socket.sendTo(remote, 5683, payload);
      sent++;
    }
    iface.flush();
    if (sent < count) {
      iface.poll((f) => stack.receive(f));
      if (!iface.writable()) iface.wait();
    }
  }
}

send(BENCH.warmup, new Uint8Array(BENCH.payload).fill(0x57));
log('bench:go');
send(BENCH.datagrams, new Uint8Array(BENCH.payload).fill(0x42));
log('bench:sent');
runNetwork(iface, stack);
