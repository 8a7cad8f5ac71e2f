#!/usr/bin/env python3
"""The Linux side of the stack's real-peer test, run inside the Linux network namespace.

  serve-sha PORT          accept one TCP connection, read to EOF, answer "<bytes> <sha256>\\n", close
  send-sha HOST PORT N    connect, send N pattern bytes, half-close, print what the peer answers
  ping HOST COUNT         ICMP echo over a raw socket; prints one line per reply: "reply SEQ BYTES"
  udp-closed HOST PORT    send a UDP datagram, print the ICMP error errno the kernel reports
  connect-closed HOST PORT  print "refused" if the connection is refused by RST
"""
import hashlib
import os
import socket
import struct
import sys
import time


def pattern(n: int) -> bytes:
    return bytes((i * 31 + (i >> 11)) & 0xFF for i in range(n))


def serve_sha(port: int) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("LISTENING", flush=True)
    conn, _ = srv.accept()
    h = hashlib.sha256()
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        h.update(data)
        total += len(data)
    conn.sendall(f"{total} {h.hexdigest()}\n".encode())
    conn.close()
    print(f"{total} {h.hexdigest()}", flush=True)


def send_sha(host: str, port: int, n: int) -> None:
    s = socket.create_connection((host, port), timeout=20)
    data = pattern(n)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    print(f"sent {n} {hashlib.sha256(data).hexdigest()}")
    print(f"answer {answer.decode().strip()}", flush=True)


def checksum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ping(host: str, count: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    ident = os.getpid() & 0xFFFF
    for seq in range(count):
        payload = bytes(range(56))
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq) + payload
        s.sendto(pkt, (host, 0))
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0xF) * 4
            t, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
            if t == 0 and rid == ident and rseq == seq:
                ok = checksum(data[ihl:]) == 0 and data[ihl + 8 :] == payload
                print(f"reply {seq} {len(data) - ihl - 8} {'ok' if ok else 'bad'}", flush=True)
                break


def udp_closed(host: str, port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(3)
    s.send(b"hello")
    try:
        s.recv(100)
        print("answered")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")


def connect_closed(host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=5).close()
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "serve-sha":
        serve_sha(int(args[0]))
    elif cmd == "send-sha":
        send_sha(args[0], int(args[1]), int(args[2]))
    elif cmd == "ping":
        ping(args[0], int(args[1]))
    elif cmd == "udp-closed":
        udp_closed(args[0], int(args[1]))
    elif cmd == "connect-closed":
        connect_closed(args[0], int(args[1]))
    else:
        sys.exit(f"unknown command {cmd}")
