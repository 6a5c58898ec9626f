"""Our client's CPU per phase of a connection, over loopback TCP and in memory.

    python3 bench/phase_cpu.py [CONNECTIONS] [--case tls13|tls12-ecdhe|tls12-rsa] [--impl P]

Over TCP the server is a forked process looping on ``driver.accept`` and the client's
thread CPU (user and system) is read around each phase; in memory both sides run in this
thread and the client's share is booked as ``tlsbench run --transport memory`` books it.
The phases: building the ``ClientConnection`` (its ClientHello and key share), the
handshake, and the close (close_notify both ways). Medians in µs. The construction is
computation and two ``getrandom`` calls, so its TCP/memory ratio shows what having just
waited for the peer costs the work done right after it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import time

from handshake_profile import CASES, case_configs
from tlsbench.harness.impls import OurEndpoint
from tlsbench.harness.memory import SideClock, pump
from tlsbench.tls import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from tlsbench.tls.driver import TlsStream, accept

PHASES = ("construct", "handshake", "close")


def over_tcp(client: ClientConfig, server: ServerConfig, n: int) -> dict[str, list[float]]:
    """Thread CPU per phase of ``n`` connections to a forked server."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    child = os.fork()
    if child == 0:  # the server, until killed
        while True:
            accept(listener, server).close()
    listener.close()
    spent: dict[str, list[float]] = {p: [] for p in PHASES}
    try:
        for i in range(n + 20):  # the first 20 warm up
            sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t0 = time.thread_time()
            conn = ClientConnection(client)
            t1 = time.thread_time()
            stream = TlsStream(sock, conn)
            stream.do_handshake()
            t2 = time.thread_time()
            stream.close()
            t3 = time.thread_time()
            if i >= 20:
                for phase, t in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                    spent[phase].append(t)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    return spent


def in_memory(client: ClientConfig, server: ServerConfig, n: int) -> dict[str, list[float]]:
    """The client's CPU per phase of ``n`` in-memory connections, booked as
    ``tlsbench run --transport memory`` books it (the harness's pump and SideClock)."""
    spent: dict[str, list[float]] = {p: [] for p in PHASES}
    clock = SideClock()
    for i in range(n + 20):
        before = clock.client
        with clock.operation():
            c = clock.client_call(lambda: OurEndpoint(ClientConnection(client)))
        construct, before = clock.client - before, clock.client
        with clock.operation():
            s = OurEndpoint(ServerConnection(server))
            pump(c, s, clock)
        handshake, before = clock.client - before, clock.client
        with clock.operation():
            clock.client_call(c.close)
            pump(c, s, clock)
            s.close()
            pump(c, s, clock)
        close = clock.client - before
        if not (c.handshake_done and s.handshake_done):
            raise SystemExit("the handshake did not complete")
        if i >= 20:
            for phase, v in zip(PHASES, (construct, handshake, close), strict=True):
                spent[phase].append(v)
    return spent


def main() -> None:
    """Print the medians of both transports and their ratio."""
    parser = argparse.ArgumentParser(description="our client's CPU per phase, TCP and memory")
    parser.add_argument("connections", nargs="?", type=int, default=300)
    parser.add_argument("--case", choices=sorted(CASES), default="tls13")
    parser.add_argument("--impl", default="rust", choices=["rust", "python", "cryptography"])
    args = parser.parse_args()
    client, server = case_configs(args.case, args.impl)
    tcp = over_tcp(client, server, args.connections)
    memory = in_memory(client, server, args.connections)
    print(f"client CPU per phase, {args.case}, {args.impl}, {args.connections} connections")
    print(f"{'phase':10s} {'tcp µs':>8s} {'memory µs':>10s} {'ratio':>6s}")
    for phase in PHASES:
        a, b = statistics.median(tcp[phase]) * 1e6, statistics.median(memory[phase]) * 1e6
        print(f"{phase:10s} {a:8.0f} {b:10.0f} {a / b:6.2f}")


if __name__ == "__main__":
    main()
