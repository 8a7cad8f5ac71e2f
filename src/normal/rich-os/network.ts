/**
 * The rich OS's networking: its own TCP/IP stack (src/lib/net/stack/) on whatever interface the board
 * gives the Normal World — the proxy driver to the Secure World's firewall when the NIC is secure, the
 * NIC itself when the Normal World owns it — and its services. Runs for ever: the event loop ticks the
 * stack with virtual time, drains received frames, pushes sent ones out, and sleeps on the interface's
 * notification. (The board has no timer for the Normal World: the stack's timers run when it wakes.)
 */
import { formatIpv4 } from '../../lib/net/address.js';
import { NetworkStack } from '../../lib/net/stack/index.js';
import { log, now } from '../../kernel/abi/sys.js';
import { DirectNicInterface } from '../nic-direct/nic-direct.js';
import { ProxyNetInterface, type NetworkInterface } from '../proxy-net/proxy-net.js';
import { GATEWAY_WAN } from './network-config.js';
import { startServices } from './services.js';

/** The interface the board gives the Normal World, if any. */
export function openInterface(): NetworkInterface | undefined {
  return ProxyNetInterface.open() ?? DirectNicInterface.open();
}

export function createStack(iface: NetworkInterface, seed = 1): NetworkStack {
  return new NetworkStack({
    mac: iface.mac,
    ipv4: { address: GATEWAY_WAN.address, prefixLength: GATEWAY_WAN.prefixLength },
    seed,
    // Acknowledge at once: without a timer, a delayed ACK would wait for the next frame.
    tcp: { delayedAckNs: 0, noDelay: true, timeWaitNs: 1_000_000_000 },
    link: { send: (frame) => void iface.send(frame) },
  });
}

/** Runs the event loop for ever (or until `until` says stop). */
export function runNetwork(iface: NetworkInterface, stack: NetworkStack, until?: () => boolean): void {
  for (;;) {
    stack.tick(now());
    const n = iface.poll((frame) => stack.receive(frame));
    iface.flush();
    if (until?.()) return;
    if (n === 0) iface.wait();
  }
}

export function startNetwork(): void {
  const iface = openInterface();
  if (!iface) return log('net: no network interface on this board');
  const stack = createStack(iface);
  const mac = Array.from(iface.mac, (b) => b.toString(16).padStart(2, '0')).join(':');
  log(`net: up on ${iface.name} ${formatIpv4(stack.address)}/${GATEWAY_WAN.prefixLength} MAC ${mac}`);
  startServices(stack, log);
  runNetwork(iface, stack);
}
