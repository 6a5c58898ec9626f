"""tlslite-ng as an in-memory :class:`~tlsbench.harness.impls.Endpoint`, client or server.

tlslite drives a socket; here its socket is two buffers (``server.foreign._MemorySocket``)
and its async generators (``handshakeClientCert(async_=True)``, ``handshakeServerAsync``,
``readAsync``) run until they wait for bytes, as the server loop's tlslite adapter does.
Used by ``--metric instructions``; the wall-clock memory transport keeps tlslite out.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from tlsbench.server.foreign import _MemorySocket

from .impls import Endpoint, tlslite_api, tlslite_settings
from .params import Tls


class TlsliteEndpoint:
    """One tlslite TLSConnection over a buffer socket; bytes pumped by the caller."""

    def __init__(self, api: Any, start: Callable[[Any], Generator[Any, None, None]]) -> None:
        self._sock = _MemorySocket()
        self._tls = api.TLSConnection(self._sock)
        self._op: Generator[Any, None, None] | None = start(self._tls)
        self.handshake_done = False
        self.closed = False
        self._data: list[bytes] = []
        self._advance()

    def _step(self) -> tuple[bool, Any]:
        """Run the operation until it waits for bytes (False) or ends (True, its result)."""
        assert self._op is not None
        while True:
            try:
                value = next(self._op)
            except StopIteration:
                self._op = None
                return True, None
            if isinstance(value, int):
                if value == 0:
                    return False, None  # waiting to read
                continue  # waiting to write: our socket takes everything at once
            self._op.close()
            self._op = None
            return True, value

    def _advance(self) -> None:
        if self.closed:
            return
        if not self.handshake_done:
            finished, _ = self._step()
            if not finished:
                return
            self.handshake_done = True
        while not self._tls.closed:
            if self._op is None:
                self._op = self._tls.readAsync()
            finished, result = self._step()
            if not finished:
                break
            if result:
                self._data.append(bytes(result))
        if self._tls.closed:
            self.closed = True

    def feed(self, data: bytes) -> None:
        """Hand the peer's bytes to tlslite and let it progress."""
        if self.closed:
            return
        self._sock.incoming += data
        self._advance()

    def take(self) -> bytes:
        """What tlslite wrote."""
        data = bytes(self._sock.outgoing)
        self._sock.outgoing.clear()
        return data

    def write(self, data: bytes) -> None:
        """Encrypt application data (a read waiting in the record layer is left as it is)."""
        for _ in self._tls.writeAsync(data):
            pass

    def read(self) -> bytes:
        """Application data so far."""
        data = b"".join(self._data)
        self._data.clear()
        return data

    def close(self) -> None:
        """Queue close_notify (tlslite runs one operation at a time: the read is dropped)."""
        if self.closed:
            return
        if self._op is not None:
            self._op.close()
            self._op = None
        for _ in self._tls.closeAsync():
            pass
        self.closed = True


def tlslite_endpoint_factory(tls: Tls, server: bool) -> Callable[[], Endpoint]:
    """What makes a fresh in-memory tlslite endpoint for each connection."""
    api = tlslite_api()
    settings = tlslite_settings(tls)
    if not server:
        return lambda: TlsliteEndpoint(
            api,
            lambda conn: conn.handshakeClientCert(
                settings=settings, serverName="localhost", async_=True
            ),
        )
    chain = api.X509CertChain()
    chain.parsePemList(Path(tls.cert_file).read_text())
    key = api.parsePEMKey(Path(tls.key_file).read_text(), private=True)
    return lambda: TlsliteEndpoint(
        api,
        lambda conn: conn.handshakeServerAsync(certChain=chain, privateKey=key, settings=settings),
    )
