"""Servers for the conformance tests: ``tlsbench serve`` processes and ``openssl s_server``.

The peers' helpers live beside other tests (``tests/cli/cli_peers.py`` starts serve,
``tests/tls/tls_peers.py`` finds a free port); their folders are put on the path so
they are imported, not copied.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "cli", HERE.parent / "tls"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from cli_peers import Served  # noqa: E402
from conformance_servers import OpenSSLServer  # noqa: E402


def _served(tmp: Path, *args: str) -> Iterator[Served]:
    server = Served(tmp, "--quiet", *args)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``tlsbench serve`` with its defaults (rust, both versions, every suite and group)."""
    yield from _served(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def serve_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``tlsbench serve --http``."""
    yield from _served(tmp_path_factory.mktemp("serve_http"), "--http")


@pytest.fixture(scope="module")
def serve_p256(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``tlsbench serve --group secp256r1``: an x25519 key share draws a HelloRetryRequest."""
    yield from _served(tmp_path_factory.mktemp("serve_p256"), "--group", "secp256r1")


@pytest.fixture(scope="module")
def serve_knob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``tlsbench serve --max-handshake-message 8192``."""
    yield from _served(tmp_path_factory.mktemp("serve_knob"), "--max-handshake-message", "8192")


def _openssl(serve: Served, *extra: str) -> Iterator[OpenSSLServer]:
    server = OpenSSLServer(serve.directory, *extra)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def openssl(serve: Served) -> Iterator[OpenSSLServer]:
    """``openssl s_server -rev`` (TLS 1.3 and 1.2, its defaults) with serve's RSA leaf: it
    answers each line reversed, so a round trip shows the connection works."""
    yield from _openssl(serve, "-rev")


@pytest.fixture(scope="module")
def openssl_www(serve: Served) -> Iterator[OpenSSLServer]:
    """``openssl s_server -www``."""
    yield from _openssl(serve, "-www")


@pytest.fixture(scope="module")
def openssl_p256(serve: Served) -> Iterator[OpenSSLServer]:
    """``openssl s_server -groups P-256``: an x25519 key share draws a HelloRetryRequest."""
    yield from _openssl(serve, "-rev", "-groups", "P-256")
