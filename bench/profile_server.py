"""cProfile of our server's side of in-memory TLS 1.3 handshakes (rust provider, ECDSA P-256).

    python3 bench/profile_server.py [HANDSHAKES]

Only the server's calls are profiled (its constructor and ``receive_data``); the client
runs unprofiled in the same thread. Prints the server's own time per handshake, grouped
by engine file, pyca's asymmetric calls, the core, and other builtins.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile

from tlsbench.tls import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from tlsbench.tls.certs import write_credentials

# Builtin names of pyca's asymmetric calls (methods of key objects, x25519/ec functions).
ASYMMETRIC = ("'sign'", "'verify'", "'exchange'", "'public_key'", "x25519.", "ec.", "rsa.")


def group(filename: str, name: str) -> str:
    """Where a profiled function belongs."""
    if filename != "~":
        return filename.split("/tlsbench/")[-1] if "/tlsbench/" in filename else "other Python"
    if "_core" in name or "RecordCipher" in name or "KeySchedule" in name:
        return "core"
    if "cryptography" in name or any(a in name for a in ASYMMETRIC):
        return "pyca asymmetric"
    return "other builtins"


def main(n: int) -> None:
    files = write_credentials(tempfile.mkdtemp(prefix="tlsbench-profile-"), "ecdsa-p256")
    server_config = ServerConfig.from_files(files.cert_file, files.key_file, provider="rust")
    client_config = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider="rust")
    prof = cProfile.Profile()

    def handshake(profiled: bool) -> None:
        client = ClientConnection(client_config)
        with_profile = prof if profiled else None
        if with_profile:
            with_profile.enable()
        server = ServerConnection(server_config)
        if with_profile:
            with_profile.disable()
        while True:
            to_server, to_client = client.data_to_send(), server.data_to_send()
            if not to_server and not to_client:
                return
            if to_server:
                if with_profile:
                    with_profile.enable()
                server.receive_data(to_server)
                if with_profile:
                    with_profile.disable()
            if to_client:
                client.receive_data(to_client)

    for _ in range(50):
        handshake(False)
    for _ in range(n):
        handshake(True)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"server side: {total / n * 1e6:.0f} us per handshake under cProfile")
    spent: dict[str, float] = {}
    for (filename, _line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        where = group(filename, name)
        spent[where] = spent.get(where, 0.0) + entry[2]  # own time
    for where, t in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{t / n * 1e6:8.1f} us  {t / total * 100:5.1f}%  {where}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
