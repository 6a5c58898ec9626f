"""Helpers of the reliability tests: our server in a thread on a real socket, raw peers."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tlsbench.server import ServerLimits
from tlsbench.server.loop import Server
from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles, write_credentials


@pytest.fixture(scope="session")
def creds(tmp_path_factory: pytest.TempPathFactory) -> CredentialFiles:
    """An ECDSA P-256 CA and localhost leaf."""
    return write_credentials(tmp_path_factory.mktemp("certs"), "ecdsa-p256")


@pytest.fixture(scope="session")
def server_config(creds: CredentialFiles) -> ServerConfig:
    """Our server on the rust provider."""
    return ServerConfig.from_files(creds.cert_file, creds.key_file, provider="rust")


@pytest.fixture(scope="session")
def client_config(creds: CredentialFiles) -> ClientConfig:
    """Our client, verifying the chain."""
    return ClientConfig(server_name="localhost", ca_file=creds.ca_file, provider="rust")


class RunningServer:
    """A :class:`Server` serving in a thread; ``log`` holds its lines."""

    def __init__(self, server: Server, thread: threading.Thread, log: list[str]) -> None:
        self.server = server
        self.thread = thread
        self.log = log
        self.port = int(server.listener.getsockname()[1])

    def failures(self) -> dict[str, int]:
        """Failure counts so far."""
        return dict(self.server.stats.failures)


StartServer = Callable[..., RunningServer]


@pytest.fixture
def start_server(server_config: ServerConfig) -> Iterator[StartServer]:
    """Start servers with given limits (and config changes); all are stopped at teardown."""
    running: list[RunningServer] = []

    def start(limits: ServerLimits | None = None, **kwargs: Any) -> RunningServer:
        config_changes = kwargs.pop("config", {})
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        log: list[str] = []
        server = Server(
            listener,
            dataclasses.replace(server_config, **config_changes),
            limits or ServerLimits(),
            log=log.append,
            grace=0.5,
            **kwargs,
        )
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        run = RunningServer(server, thread, log)
        running.append(run)
        return run

    yield start
    for run in running:
        run.server.stop()
        run.thread.join(5)
        run.server.listener.close()
        assert not run.thread.is_alive()
