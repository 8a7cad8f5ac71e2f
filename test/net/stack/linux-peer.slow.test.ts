/**
 * Interoperability with the real Linux TCP/IP stack (root needed).
 *
 * A veth pair joins two network namespaces: one end (10.77.0.1) is an ordinary Linux host; the other
 * end carries no address and belongs to Rampart's stack (10.77.0.2), whose frames a small Python
 * helper relays over AF_PACKET to and from this process. Checksum and segmentation offloads are
 * turned off on the Linux end so that frames on the wire are what a NIC would carry. The Linux side
 * uses its own tools: curl, Python sockets (TCP client and server, raw-socket ping, UDP). The stack is
 * driven in real time: `tick` from a 1 ms interval and on every frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SeededRandom } from '../../../src/common/random.js';
import { NetworkStack, type TcpSocket } from '../../../src/lib/net/stack/index.js';

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const scripts = resolve(here, '../../../../test/net/stack/linux');
const RELAY = join(scripts, 'afpacket-relay.py');
const PEER = join(scripts, 'linux-peer.py');
const PYTHON = '/usr/bin/python3';
const LINUX_IP = '10.77.0.1';
const STACK_IP = '10.77.0.2';

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'needs root for network namespaces and AF_PACKET; run as root';
  const missing = ['ip', 'ethtool', 'curl', PYTHON].filter(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
  );
  if (missing.length > 0)
    return `missing ${missing.join(', ')} (apt-get install iproute2 ethtool curl python3)`;
  const probe = `rstk-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

function sh(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** The namespaces, the relay and the stack, with optional seeded loss on the stack's side of the wire. */
class Bench {
  readonly linuxNs = `rstk-l-${process.pid}`;
  readonly relayNs = `rstk-r-${process.pid}`;
  readonly stack: NetworkStack;
  lossRate = 0;
  dropped = 0;
  private relay: ChildProcess | undefined;
  private readonly children: ChildProcess[] = [];
  private interval: ReturnType<typeof setInterval> | undefined;
  private readonly t0 = process.hrtime.bigint();
  private readonly random = new SeededRandom(99);

  constructor() {
    this.stack = new NetworkStack({
      mac: '02:00:00:77:00:02',
      ipv4: { address: STACK_IP, prefixLength: 24 },
      seed: 5,
      tcp: { minRtoNs: 200e6 },
    });
  }

  async start(): Promise<void> {
    const { linuxNs: l, relayNs: r } = this;
    sh('ip', 'netns', 'add', l);
    sh('ip', 'netns', 'add', r);
    sh(
      'ip',
      'link',
      'add',
      `vl${process.pid % 10000}`,
      'netns',
      l,
      'type',
      'veth',
      'peer',
      'name',
      'vr',
      'netns',
      r,
    );
    const vl = `vl${process.pid % 10000}`;
    for (const [ns, dev] of [
      [l, vl],
      [r, 'vr'],
    ] as const) {
      sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
      sh(
        'ip',
        'netns',
        'exec',
        ns,
        'ethtool',
        '-K',
        dev,
        'tx',
        'off',
        'tso',
        'off',
        'gso',
        'off',
        'gro',
        'off',
      );
      sh('ip', '-n', ns, 'link', 'set', dev, 'up');
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', l, 'link', 'set', vl, 'mtu', '1500');
    sh('ip', '-n', l, 'addr', 'add', `${LINUX_IP}/24`, 'dev', vl);
    const relay = spawn('ip', ['netns', 'exec', r, PYTHON, RELAY, 'vr'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.relay = relay;
    await new Promise<void>((ok, fail) => {
      relay.stderr.once('data', (d: Buffer) =>
        String(d).includes('READY') ? ok() : fail(new Error(String(d))),
      );
      relay.once('exit', (code) => fail(new Error(`relay exited with ${code}`)));
    });
    let pending = Buffer.alloc(0);
    relay.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const n = pending.readUInt32BE(0);
        if (pending.length < 4 + n) break;
        const frame = new Uint8Array(pending.subarray(4, 4 + n));
        pending = pending.subarray(4 + n);
        this.tick();
        if (this.lossRate > 0 && this.random.nextU32() / 2 ** 32 < this.lossRate) this.dropped++;
        else this.stack.receive(frame);
      }
    });
    this.stack.attach({
      send: (frame) => {
        if (this.lossRate > 0 && this.random.nextU32() / 2 ** 32 < this.lossRate) {
          this.dropped++;
          return;
        }
        const header = Buffer.alloc(4);
        header.writeUInt32BE(frame.length);
        relay.stdin.write(Buffer.concat([header, frame]));
      },
    });
    this.interval = setInterval(() => this.tick(), 1);
  }

  tick(): void {
    this.stack.tick(process.hrtime.bigint() - this.t0);
  }

  /** Runs a command in the Linux namespace and resolves with its output. */
  async linux(cmd: string, ...args: string[]): Promise<string> {
    const r = await execFileAsync('ip', ['netns', 'exec', this.linuxNs, cmd, ...args], { timeout: 60_000 });
    return r.stdout;
  }

  /** Starts a long-running command in the Linux namespace; resolves once it prints `ready`. */
  async background(ready: string, cmd: string, ...args: string[]): Promise<{ output: Promise<string> }> {
    const child = spawn('ip', ['netns', 'exec', this.linuxNs, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.children.push(child);
    let out = '';
    const output = new Promise<string>((ok) => child.once('exit', () => ok(out)));
    await new Promise<void>((ok) =>
      child.stdout.on('data', (d: Buffer) => {
        out += String(d);
        if (out.includes(ready)) ok();
      }),
    );
    return { output };
  }

  async until(done: () => boolean, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!done()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await new Promise((ok) => setTimeout(ok, 5));
    }
  }

  close(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    for (const c of this.children) c.kill();
    this.relay?.stdin?.end();
    this.relay?.kill();
    spawnSync('ip', ['netns', 'del', this.linuxNs]);
    spawnSync('ip', ['netns', 'del', this.relayNs]);
  }
}

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >>> 11)) & 0xff);
}

/** A stack-side TCP server that answers "<bytes> <sha256>\n" after the peer's FIN, then closes. */
function shaServer(stack: NetworkStack, port: number): void {
  const l = stack.tcp.listen(port, {
    onAccept(s: TcpSocket) {
      const h = createHash('sha256');
      let n = 0;
      s.handlers = {
        onData(d) {
          h.update(d);
          n += d.length;
        },
        onEnd() {
          s.send(new TextEncoder().encode(`${n} ${h.digest('hex')}\n`));
          s.close();
        },
      };
    },
  });
  assert.ok(l.ok);
}

const reason = unavailable();

test(
  'interoperates with the Linux kernel stack over a veth pair',
  { skip: reason ?? false, timeout: 180_000 },
  async (t) => {
    const bench = new Bench();
    try {
      await bench.start();
      const { stack } = bench;

      await t.test('Linux pings the stack (ICMP echo, ARP from the kernel)', async () => {
        const out = await bench.linux(PYTHON, PEER, 'ping', STACK_IP, '3');
        assert.deepEqual(out.trim().split('\n'), ['reply 0 56 ok', 'reply 1 56 ok', 'reply 2 56 ok']);
      });

      await t.test('the stack pings Linux', async () => {
        const req = stack.ping(LINUX_IP, { timeoutNs: 2e9 });
        await bench.until(() => req.result !== undefined);
        assert.equal(req.result?.kind, 'reply');
      });

      await t.test(
        'Linux TCP client sends 2 MB to the stack, which answers its SHA-256 (Linux closes first)',
        async () => {
          shaServer(stack, 7000);
          const out = await bench.linux(PYTHON, PEER, 'send-sha', STACK_IP, '7000', String(2_000_000));
          const [sent, answer] = out.trim().split('\n');
          const [, n, sha] = (sent ?? '').split(' ');
          assert.equal(answer, `answer ${n} ${sha}`);
        },
      );

      await t.test('curl fetches 1 MB over HTTP from the stack', async () => {
        const body = pattern(1_000_000);
        const l = stack.tcp.listen(8080, {
          onAccept(s) {
            let request = '';
            s.handlers = {
              onData(d) {
                request += new TextDecoder().decode(d);
                if (!request.includes('\r\n\r\n')) return;
                s.send(
                  new TextEncoder().encode(
                    `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
                  ),
                );
                let at = 0;
                const push = () => {
                  while (at < body.length) {
                    const r = s.send(body.subarray(at));
                    if (!r.ok || r.accepted === 0) return;
                    at += r.accepted;
                  }
                  s.close();
                };
                s.handlers = { ...s.handlers, onData: () => undefined, onWritable: push };
                push();
              },
            };
          },
        });
        assert.ok(l.ok);
        const out = await bench.linux(
          'sh',
          '-c',
          `curl -s --max-time 30 http://${STACK_IP}:8080/ | sha256sum`,
        );
        assert.equal(out.split(' ')[0], createHash('sha256').update(body).digest('hex'));
      });

      await t.test(
        'the stack sends 1 MB to a Linux TCP server and reads its answer (the stack closes first)',
        async () => {
          const server = await bench.background('LISTENING', PYTHON, PEER, 'serve-sha', '9000');
          const data = pattern(1_000_000);
          const c = stack.tcp.connect(0x0a4d0001, 9000);
          assert.ok(c.ok);
          let answer = '';
          let closed = false;
          let at = 0;
          const push = () => {
            while (at < data.length) {
              const r = c.socket.send(data.subarray(at));
              if (!r.ok || r.accepted === 0) return;
              at += r.accepted;
            }
            c.socket.close();
          };
          c.socket.handlers = {
            onConnect: push,
            onWritable: push,
            onData: (d) => (answer += new TextDecoder().decode(d)),
            onClose: () => (closed = true),
          };
          await bench.until(() => closed);
          assert.equal(answer, `${data.length} ${createHash('sha256').update(data).digest('hex')}\n`);
          assert.equal(c.socket.closeReason, 'closed');
          await server.output;
        },
      );

      await t.test('closed ports: Linux gets RST for TCP and ICMP port unreachable for UDP', async () => {
        assert.equal((await bench.linux(PYTHON, PEER, 'connect-closed', STACK_IP, '7999')).trim(), 'refused');
        assert.equal((await bench.linux(PYTHON, PEER, 'udp-closed', STACK_IP, '7999')).trim(), 'refused');
      });

      await t.test('with 5% loss both ways, 500 kB each direction still arrive intact', async () => {
        bench.lossRate = 0.05;
        shaServer(stack, 7001);
        const out = await bench.linux(PYTHON, PEER, 'send-sha', STACK_IP, '7001', String(500_000));
        const [sent, answer] = out.trim().split('\n');
        const [, n, sha] = (sent ?? '').split(' ');
        assert.equal(answer, `answer ${n} ${sha}`);
        const body = pattern(500_000);
        const server = await bench.background('LISTENING', PYTHON, PEER, 'serve-sha', '9001');
        const c = stack.tcp.connect(0x0a4d0001, 9001);
        assert.ok(c.ok);
        let reply = '';
        let closed = false;
        let at = 0;
        const push = () => {
          while (at < body.length) {
            const r = c.socket.send(body.subarray(at));
            if (!r.ok || r.accepted === 0) return;
            at += r.accepted;
          }
          c.socket.close();
        };
        c.socket.handlers = {
          onConnect: push,
          onWritable: push,
          onData: (d) => (reply += new TextDecoder().decode(d)),
          onClose: () => (closed = true),
        };
        await bench.until(() => closed, 120_000);
        assert.equal(reply, `${body.length} ${createHash('sha256').update(body).digest('hex')}\n`);
        await server.output;
        assert.ok(bench.dropped > 0);
        assert.ok(stack.stats().tcp.retransmittedSegments > 0);
      });
    } finally {
      bench.close();
    }
  },
);
