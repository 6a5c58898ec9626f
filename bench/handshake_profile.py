"""cProfile of one side of in-memory handshakes, grouped by where the time goes.

Used by ``profile_server.py`` and ``profile_client.py``. Only the chosen side's calls are
profiled (its constructor and ``receive_data``); the other side runs unprofiled in the
same thread. Groups: engine file, pyca's asymmetric calls, the core, other builtins.
``phase_cpu.py`` takes its configs from :func:`case_configs` too.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import tempfile
from typing import Literal

from tlsbench.tls import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from tlsbench.tls.certs import write_credentials
from tlsbench.tls.constants import TLS12, TLS13, CipherSuite

# Builtin names of pyca's asymmetric calls (methods of key objects, x25519/ec functions).
ASYMMETRIC = ("'sign'", "'verify'", "'exchange'", "'public_key'", "x25519.", "ec.", "rsa.")
# What each --case negotiates: (certificate kind, client versions, client suites).
CASES = {
    "tls13": ("ecdsa-p256", (TLS13,), (CipherSuite.TLS_AES_128_GCM_SHA256,)),
    "tls12-ecdhe": (
        "ecdsa-p256",
        (TLS12,),
        (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,),
    ),
    "tls12-rsa": ("rsa2048", (TLS12,), (CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,)),
}


def group(filename: str, name: str) -> str:
    """Where a profiled function belongs."""
    if filename != "~":
        return filename.split("/tlsbench/")[-1] if "/tlsbench/" in filename else "other Python"
    if "_core" in name or "RecordCipher" in name or "KeySchedule" in name:
        return "core"
    if "cryptography" in name or any(a in name for a in ASYMMETRIC):
        return "pyca asymmetric"
    return "other builtins"


def case_configs(case: str, provider: str) -> tuple[ClientConfig, ServerConfig]:
    """The client and server configs of ``case`` on ``provider``, with fresh credentials.

    No tickets, as in `tlsbench run`'s handshake workload (full handshakes only).
    """
    kind, versions, suites = CASES[case]
    files = write_credentials(tempfile.mkdtemp(prefix="tlsbench-profile-"), kind)
    server_config = dataclasses.replace(
        ServerConfig.from_files(files.cert_file, files.key_file, provider=provider), tickets=0
    )
    client_config = ClientConfig(
        server_name="localhost",
        ca_file=files.ca_file,
        provider=provider,
        versions=versions,
        cipher_suites=suites,
    )
    return client_config, server_config


def profile(side: Literal["client", "server"], n: int, case: str, provider: str) -> None:
    """Run 50 unprofiled handshakes, then ``n`` with ``side`` profiled; print the split."""
    client_config, server_config = case_configs(case, provider)
    prof = cProfile.Profile()

    def on(profiled: bool) -> None:
        if profiled:
            prof.enable()

    def off(profiled: bool) -> None:
        if profiled:
            prof.disable()

    def handshake(profiled: bool) -> None:
        client_side = profiled and side == "client"
        server_side = profiled and side == "server"
        on(client_side)
        client = ClientConnection(client_config)
        off(client_side)
        on(server_side)
        server = ServerConnection(server_config)
        off(server_side)
        while True:
            to_server, to_client = client.data_to_send(), server.data_to_send()
            if not to_server and not to_client:
                break
            if to_server:
                on(server_side)
                server.receive_data(to_server)
                off(server_side)
            if to_client:
                on(client_side)
                client.receive_data(to_client)
                off(client_side)
        if not (client.handshake_complete and server.handshake_complete):
            raise SystemExit("the handshake did not complete")

    for _ in range(50):
        handshake(False)
    for _ in range(n):
        handshake(True)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"{side} side, {case}, {provider}: {total / n * 1e6:.0f} us per handshake under cProfile")
    spent: dict[str, float] = {}
    for (filename, _line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        where = group(filename, name)
        spent[where] = spent.get(where, 0.0) + entry[2]  # own time
    for where, t in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{t / n * 1e6:8.1f} us  {t / total * 100:5.1f}%  {where}")


def main(side: Literal["client", "server"]) -> None:
    """The command line of both scripts."""
    parser = argparse.ArgumentParser(description=f"cProfile of our {side}'s handshakes")
    parser.add_argument("handshakes", nargs="?", type=int, default=1000)
    parser.add_argument("--case", choices=sorted(CASES), default="tls13")
    parser.add_argument("--impl", default="rust", choices=["rust", "python", "cryptography"])
    args = parser.parse_args()
    profile(side, args.handshakes, args.case, args.impl)
