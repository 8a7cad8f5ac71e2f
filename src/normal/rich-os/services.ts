/**
 * The rich OS's network services on the gateway: an HTTP responder (80), an echo service (RFC 862, 7),
 * and a D-Bus-like listener on TCP 6667 — the port through which the 2015 Jeep attack reached the head
 * unit's D-Bus daemon, here the service the Secure World's firewall must make unreachable. Each logs
 * what it served (`http:`, `echo:`, `dbus:` lines on the Normal World console).
 */
import { formatIpv4 } from '../../lib/net/address.js';
import type { NetworkStack, TcpSocket } from '../../lib/net/stack/index.js';
import { decodeUtf8, encodeUtf8 } from '../../common/utf8.js';
import { SERVICE_PORTS } from './network-config.js';

const peer = (s: TcpSocket) => `${formatIpv4(s.remoteAddress)}:${s.remotePort}`;

export function startServices(stack: NetworkStack, log: (line: string) => void): void {
  const listen = (port: number, onAccept: (s: TcpSocket) => void) => {
    const r = stack.tcp.listen(port, { onAccept });
    if (!r.ok) log(`net: cannot listen on tcp ${port}: ${r.code}`);
  };

  listen(SERVICE_PORTS.http, (s) => {
    let request = '';
    s.handlers = {
      onData(data) {
        request += decodeUtf8(data);
        if (!request.includes('\r\n\r\n') && request.length < 8192) return;
        const [method = '?', path = '?'] = (request.split('\r\n')[0] ?? '').split(' ');
        const ok = method === 'GET' || method === 'HEAD';
        const body = ok ? `rampart iot-gateway: ${path}\n` : 'method not allowed\n';
        const status = ok ? '200 OK' : '405 Method Not Allowed';
        s.send(
          encodeUtf8(
            `HTTP/1.0 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${method === 'HEAD' ? '' : body}`,
          ),
        );
        s.close();
        log(`http: ${method} ${path} from ${peer(s)} -> ${status}`);
      },
    };
  });

  listen(SERVICE_PORTS.echo, (s) => {
    let bytes = 0;
    s.handlers = {
      onData(data) {
        bytes += data.length;
        s.send(data);
      },
      onEnd() {
        s.close();
        log(`echo: ${bytes} bytes echoed to ${peer(s)}`);
      },
    };
  });

  // D-Bus over TCP (the Jeep's port): SASL ANONYMOUS, then anything is accepted. Reaching it is the attack.
  listen(SERVICE_PORTS.dbus, (s) => {
    log(`dbus: connection from ${peer(s)}`);
    let text = '';
    s.handlers = {
      onData(data) {
        text += decodeUtf8(data);
        while (text.includes('\r\n')) {
          const at = text.indexOf('\r\n');
          const line = text.slice(0, at).replace(/^\0/, '');
          text = text.slice(at + 2);
          if (line.startsWith('AUTH')) s.send(encodeUtf8('OK 7265616c6c7920756e736166650a0000\r\n'));
          else if (line === 'BEGIN') log(`dbus: session open for ${peer(s)}`);
          else s.send(encodeUtf8('ERROR\r\n'));
        }
      },
      onEnd() {
        s.close();
      },
    };
  });
  log(
    `net: listening on tcp ${SERVICE_PORTS.echo} (echo), ${SERVICE_PORTS.http} (http), ${SERVICE_PORTS.dbus} (dbus)`,
  );
}
