/**
 * A small network lab on the real kernel for the differential tests: network namespaces joined by
 * veth pairs, iptables-nft rulesets, tcpdump captures, and Python (Debian's /usr/bin/python3, standard
 * library only) to run real TCP/UDP endpoints and to inject hand-made frames through AF_PACKET.
 * Everything created is removed by `close()`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Reason the lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'needs root (network namespaces, iptables); run as root';
  const missing = ['ip', 'iptables-nft-restore', 'iptables-nft-save', 'tcpdump', 'ethtool', PYTHON].filter(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
  );
  if (missing.length > 0)
    return `missing ${missing.join(', ')} (apt-get install iproute2 iptables tcpdump ethtool python3)`;
  const probe = `rampart-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  const nft = spawnSync('ip', ['netns', 'exec', probe, 'iptables-nft-save'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  if (nft.status !== 0) return `iptables-nft does not work here: ${nft.stderr.trim()}`;
  return undefined;
}

export const PYTHON = '/usr/bin/python3';

export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export class Lab {
  readonly dir = mkdtempSync(join(tmpdir(), 'rampart-lab-'));
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  /** What background processes printed after they became ready. */
  readonly output = new Map<ChildProcess, string>();
  private readonly tag = `${process.pid % 10000}`;

  ns(name: string): string {
    const full = `rp${this.tag}${name}`;
    run('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    this.exec(full, 'ip', 'link', 'set', 'lo', 'up');
    this.exec(full, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    this.exec(full, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    return full;
  }

  exec(ns: string, cmd: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  execInput(ns: string, input: string, cmd: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** A veth pair between two namespaces, addressed, up, with transmit checksum offload off. */
  link(
    nsA: string,
    ifA: string,
    addrA: string,
    nsB: string,
    ifB: string,
    addrB: string,
  ): { macA: string; macB: string } {
    run('ip', ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    for (const [ns, ifn, addr] of [
      [nsA, ifA, addrA],
      [nsB, ifB, addrB],
    ] as const) {
      this.exec(ns, 'ip', 'addr', 'add', addr, 'dev', ifn);
      this.exec(ns, 'ip', 'link', 'set', ifn, 'up');
      // Locally built packets must carry real checksums in the capture.
      this.exec(ns, 'ethtool', '-K', ifn, 'tx', 'off');
    }
    return { macA: this.mac(nsA, ifA), macB: this.mac(nsB, ifB) };
  }

  mac(ns: string, ifn: string): string {
    const j = JSON.parse(this.exec(ns, 'ip', '-j', 'link', 'show', ifn)) as { address: string }[];
    return j[0]!.address;
  }

  /** Frames received and sent by an interface so far (to check that a capture missed nothing). */
  frames(ns: string, ifn: string): { rx: number; tx: number } {
    const read = (what: string) =>
      Number(this.exec(ns, 'cat', `/sys/class/net/${ifn}/statistics/${what}_packets`).trim());
    return { rx: read('rx'), tx: read('tx') };
  }

  neighbour(ns: string, ifn: string, addr: string, mac: string): void {
    this.exec(ns, 'ip', 'neigh', 'replace', addr, 'lladdr', mac, 'dev', ifn, 'nud', 'permanent');
  }

  file(name: string, content: string | Uint8Array): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  /** Starts a background process in a namespace; resolves when `ready` appears on its output. */
  async background(ns: string, ready: RegExp, cmd: string, ...args: string[]): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd} did not become ready: ${seen}`)), 10_000);
      const onData = (b: Buffer) => {
        seen += b.toString();
        if (ready.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${cmd} exited (${code}) before ready: ${seen}`));
      });
    });
    child.removeAllListeners('exit');
    child.stdout?.on('data', (b: Buffer) =>
      this.output.set(child, (this.output.get(child) ?? '') + b.toString()),
    );
    child.stderr?.on('data', (b: Buffer) =>
      this.output.set(child, (this.output.get(child) ?? '') + b.toString()),
    );
    return child;
  }

  /** tcpdump on an interface of a namespace, nanosecond timestamps, every packet written at once. */
  capture(ns: string, ifn: string, path: string, inboundOnly = false): Promise<ChildProcess> {
    const args = [
      '-i',
      ifn,
      '-n',
      '-U',
      '--immediate-mode',
      '-s',
      '0',
      '--time-stamp-precision=nano',
      '-w',
      path,
    ];
    if (inboundOnly) args.push('-Q', 'in');
    return this.background(ns, /listening on/, 'tcpdump', ...args);
  }

  /** Stops a background process (SIGINT, as tcpdump needs to flush) and waits for it. */
  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }

  async close(): Promise<void> {
    for (const c of this.children) await this.stop(c);
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Python: TCP servers that greet and echo, UDP servers that echo; prints "ready". */
export const SERVERS_PY = `
import socket, sys, threading
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port)); s.listen(16)
    while True:
        c, _ = s.accept()
        def serve(c):
            try:
                c.settimeout(2); c.sendall(b'hello from %d\\n' % port)
                while True:
                    d = c.recv(4096)
                    if not d: break
                    c.sendall(d)
            except Exception: pass
            finally: c.close()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', port))
    while True:
        d, a = s.recvfrom(4096); s.sendto(d, a)
for p in [int(x) for x in sys.argv[1].split(',') if x]:
    threading.Thread(target=tcp, args=(p,), daemon=True).start()
for p in [int(x) for x in sys.argv[2].split(',') if x]:
    threading.Thread(target=udp, args=(p,), daemon=True).start()
print('ready', flush=True)
threading.Event().wait()
`;

/**
 * Python: plays a scenario file, one step a line:
 *   tcp HOST PORT [SPORT]       connect (0.3 s timeout), read the greeting, send, read, close
 *   udp HOST PORT SPORT N       send N datagrams, wait briefly for answers
 *   ping HOST N                 N ICMP echo requests (raw socket)
 *   frames IFACE FILE           inject length-prefixed frames through AF_PACKET, 3 ms apart
 *   sleep SECONDS
 */
export const CLIENT_PY = `
import socket, struct, sys, time
def tcp(host, port, sport=None):
    s = socket.socket(); s.settimeout(0.3)
    if sport: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', int(sport)))
    try:
        s.connect((host, int(port))); s.recv(100); s.sendall(b'x' * 100); s.recv(4096)
    except Exception as e: pass
    finally: s.close()
def udp(host, port, sport, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(sport))); s.settimeout(0.05)
    for i in range(int(n)):
        s.sendto(b'q%d' % i, (host, int(port)))
        try: s.recvfrom(100)
        except Exception: pass
    s.close()
def csum(b):
    if len(b) % 2: b += b'\\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def ping(host, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    for i in range(int(n)):
        h = struct.pack('!BBHHH', 8, 0, 0, 0x4242, i) + b'ping' * 8
        h = h[:2] + struct.pack('!H', csum(h)) + h[4:]
        s.sendto(h, (host, 0)); time.sleep(0.002)
def frames(iface, path):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((iface, 0))
    data = open(path, 'rb').read(); i = 0
    while i < len(data):
        n = struct.unpack('!I', data[i:i+4])[0]; s.send(data[i+4:i+4+n]); i += 4 + n; time.sleep(0.003)
for line in open(sys.argv[1]):
    w = line.split()
    if not w: continue
    {'tcp': tcp, 'udp': udp, 'ping': ping, 'frames': frames, 'sleep': lambda t: time.sleep(float(t))}[w[0]](*w[1:])
print('done', flush=True)
`;

/** Frames for CLIENT_PY's `frames` step: each prefixed by its 32-bit length. */
export function frameFile(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  let at = 0;
  for (const f of frames) {
    new DataView(out.buffer).setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

/** `iptables-save -c` text to per-chain counters, for comparison. */
export function countersOf(save: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    let m = /^:(\S+) (\S+) (\[\d+:\d+\])$/.exec(line);
    if (m) {
      out.set(m[1]!, [`policy ${m[2]} ${m[3]}`]);
      continue;
    }
    m = /^(\[\d+:\d+\]) -A (\S+)(.*)$/.exec(line);
    if (m) out.get(m[2]!)?.push(`${m[1]} -A ${m[2]}${m[3]}`);
  }
  return out;
}
