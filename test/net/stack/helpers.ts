/** Two stacks on a simulated segment, and the bookkeeping the stack tests share. */
import { parseIpv4 } from '../../../src/lib/net/address.js';
import {
  type LinkConditions,
  NetworkStack,
  type NetworkStackOptions,
  Simulation,
  type TcpSocket,
  type TcpState,
  type TcpOptions,
} from '../../../src/lib/net/stack/index.js';

export const A_IP = parseIpv4('10.0.0.1');
export const B_IP = parseIpv4('10.0.0.2');

export interface PairOptions {
  readonly seed?: number;
  readonly link?: LinkConditions;
  readonly tcp?: TcpOptions;
  readonly tcpA?: TcpOptions;
  readonly tcpB?: TcpOptions;
  readonly a?: Partial<NetworkStackOptions>;
  readonly b?: Partial<NetworkStackOptions>;
}

/** Fast timers for simulation: 200 ms minimum RTO (Linux's), as tests want many rounds. */
export const FAST_TCP: TcpOptions = { minRtoNs: 200e6, initialRtoNs: 1e9, timeWaitNs: 1e9 };

export function pair(options: PairOptions = {}) {
  const seed = options.seed ?? 1;
  const sim = new Simulation(seed);
  const segment = sim.segment(options.link ?? { delayNs: 1e6 });
  const a = new NetworkStack({
    mac: '02:00:00:00:00:01',
    ipv4: { address: A_IP, prefixLength: 24 },
    seed: seed * 2 + 1,
    tcp: { ...FAST_TCP, ...options.tcp, ...options.tcpA },
    ...options.a,
  });
  const b = new NetworkStack({
    mac: '02:00:00:00:00:02',
    ipv4: { address: B_IP, prefixLength: 24 },
    seed: seed * 2 + 2,
    tcp: { ...FAST_TCP, ...options.tcp, ...options.tcpB },
    ...options.b,
  });
  sim.attach(a, segment);
  sim.attach(b, segment);
  return { sim, segment, a, b };
}

/** Deterministic test data. */
export function pattern(length: number, salt = 0): Uint8Array {
  const out = new Uint8Array(length);
  let x = (salt * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Feeds `data` into `socket` as send-buffer room allows, then half-closes. */
export function pump(socket: TcpSocket, data: Uint8Array, closeWhenDone = true): { sent(): number } {
  let offset = 0;
  const push = () => {
    while (offset < data.length) {
      const r = socket.send(data.subarray(offset));
      if (!r.ok || r.accepted === 0) return;
      offset += r.accepted;
    }
    if (closeWhenDone) socket.close();
  };
  const previous = socket.handlers;
  socket.handlers = {
    ...previous,
    onConnect() {
      previous.onConnect?.();
      push();
    },
    onWritable() {
      previous.onWritable?.();
      push();
    },
  };
  if (socket.state === 'ESTABLISHED' || socket.state === 'CLOSE-WAIT') push();
  return { sent: () => offset };
}

/** Collects what arrives on `socket` through `onData`. */
export function collect(socket: TcpSocket): { bytes(): Uint8Array; ended(): boolean; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  let ended = false;
  const previous = socket.handlers;
  socket.handlers = {
    ...previous,
    onData(d) {
      chunks.push(d);
      previous.onData?.(d);
    },
    onEnd() {
      ended = true;
      previous.onEnd?.();
    },
  };
  return {
    chunks,
    ended: () => ended,
    bytes: () => {
      const n = chunks.reduce((s, c) => s + c.length, 0);
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
  };
}

/** Records a socket's state changes, starting with its current state. */
export function states(socket: TcpSocket): TcpState[] {
  const seen: TcpState[] = [socket.state];
  const previous = socket.handlers;
  socket.handlers = {
    ...previous,
    onStateChange(from, to) {
      seen.push(to);
      previous.onStateChange?.(from, to);
    },
  };
  return seen;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
