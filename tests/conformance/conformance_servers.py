"""``openssl s_server`` as a conformance peer (the folders of the shared peer helpers are
put on the path by this folder's conftest)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from tls_peers import _listening, free_port, openssl_binary


class OpenSSLServer:
    """``openssl s_server`` serving the same RSA-2048 leaf as our serve, many connections."""

    def __init__(self, cert_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                openssl_binary(),
                "s_server",
                "-accept",
                f"127.0.0.1:{self.port}",
                "-cert",
                str(cert_dir / "rsa2048-cert.pem"),
                "-key",
                str(cert_dir / "rsa2048-key.pem"),
                "-quiet",
                *extra,
            ],
            stdin=subprocess.PIPE,  # kept open: at end of stdin s_server closes its connection
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"openssl s_server {' '.join(extra)} did not start listening")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
