"""The least a TLS 1.3 bulk receiver can cost against the plain-TCP one, per MiB.

The bulk workload's receiver reads the stream and folds it into a CRC-32; over TLS it
also opens the records. Measured here in one process, as thread CPU per MiB (median of
several rounds): a loopback TCP receive of 1 MiB (a sender thread feeds it), zlib's
CRC-32 of 1 MiB, and the core's ``open_many_packed`` of 1 MiB of 16 KiB TLS 1.3
AES-128-GCM records. The floor of the workload's TLS/TCP ratio is then
(receive + open + CRC) / (receive + CRC): what the ratio would be with no Python and no
handshake on the TLS side (the open includes allocating its output).

Usage: python3 bench/bulk_floor.py [ROUNDS]
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import threading
import time
import zlib
from collections.abc import Callable

from tlsbench._core import RecordCipher

MIB = 1 << 20
BATCH = 32
"""MiB per timed batch."""


def thread_cpu_per_mib(fn: Callable[[bytes], object], inputs: list[bytes]) -> float:
    """Thread CPU µs per call of ``fn`` over ``inputs`` (each one MiB of data)."""
    start = time.thread_time()
    for data in inputs:
        fn(data)
    return (time.thread_time() - start) / len(inputs) * 1e6


def tcp_receive() -> float:
    """Receiver thread CPU µs per MiB read from a loopback TCP connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    sender = socket.create_connection(listener.getsockname())
    receiver, _ = listener.accept()
    listener.close()
    block = os.urandom(MIB)

    def send() -> None:
        for _ in range(BATCH):
            sender.sendall(block)
        sender.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=send)
    buf = bytearray(MIB)
    start = time.thread_time()
    thread.start()
    while receiver.recv_into(buf):
        pass
    cpu = time.thread_time() - start
    thread.join()
    sender.close()
    receiver.close()
    return cpu / BATCH * 1e6


def main() -> None:
    """Print each part per MiB and the floor of the TLS/TCP ratio."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    key, iv = os.urandom(16), os.urandom(12)
    data = os.urandom(MIB)
    sealer = RecordCipher("1.3", "TLS_AES_128_GCM_SHA256", key, iv)
    opener = RecordCipher("1.3", "TLS_AES_128_GCM_SHA256", key, iv)
    parts: dict[str, list[float]] = {"receive": [], "open": [], "crc32": []}
    for _ in range(rounds):
        wire = [sealer.seal_many(23, data) for _ in range(BATCH)]
        parts["open"].append(thread_cpu_per_mib(opener.open_many_packed, wire))
        parts["crc32"].append(thread_cpu_per_mib(zlib.crc32, [data] * BATCH))
        parts["receive"].append(tcp_receive())
    med = {name: statistics.median(values) for name, values in parts.items()}
    for name, values in parts.items():
        print(f"{name:8s} {med[name]:6.0f} µs/MiB  ({min(values):.0f}..{max(values):.0f})")
    tcp = med["receive"] + med["crc32"]
    tls = tcp + med["open"]
    print(f"receiver, plain TCP {tcp:.0f} µs/MiB, TLS at the least {tls:.0f} µs/MiB")
    print(f"floor of the bulk TLS/TCP ratio: {tls / tcp:.2f}x")


if __name__ == "__main__":
    main()
