#!/usr/bin/env python3
"""Relays Ethernet frames between an interface (AF_PACKET) and stdin/stdout, for the stack's real-peer test.

Frames travel as a 4-byte big-endian length followed by the frame. Frames the interface itself sends
(the ones we inject) are not echoed back. Prints READY on stderr once the socket is bound.
"""
import os
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main() -> None:
    ifname = sys.argv[1]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((ifname, 0))
    stdin = sys.stdin.buffer.fileno()
    stdout = sys.stdout.buffer
    pending = b""
    sys.stderr.write("READY\n")
    sys.stderr.flush()
    while True:
        ready, _, _ = select.select([sock, stdin], [], [])
        if sock in ready:
            frame, addr = sock.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING:
                stdout.write(struct.pack(">I", len(frame)) + frame)
                stdout.flush()
        if stdin in ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return
            pending += chunk
            while len(pending) >= 4:
                (n,) = struct.unpack(">I", pending[:4])
                if len(pending) < 4 + n:
                    break
                sock.send(pending[4 : 4 + n])
                pending = pending[4 + n :]


if __name__ == "__main__":
    main()
