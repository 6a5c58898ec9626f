"""The server's limits (each with a safe default) and its counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_HANDSHAKE_MESSAGE = 1 << 16
"""The engine's default cap on one handshake message (``tlsbench.tls.record``), for options."""


@dataclass(frozen=True)
class ServerLimits:
    """What one server process allows; every field bounds time or memory per peer."""

    max_connections: int = 512
    """Connections served at once; one more is accepted and closed at once, unanswered."""
    handshake_timeout: float = 10.0
    """Seconds from accept to a complete handshake; then closed without an alert."""
    idle_timeout: float = 60.0
    """Seconds without progress after the handshake; then close_notify and close."""
    max_buffer: int = 1 << 20
    """Unsent bytes per connection past which we stop reading from it (backpressure)."""
    max_request: int = 16 << 10
    """``--http``: longest request head kept while waiting for its end."""
    linger: float = 2.0
    """Seconds to drain a peer after our alert or close_notify before closing anyway."""
    read_size: int = 1 << 16
    """Bytes read from one socket per readiness event (fairness across connections)."""

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.max_buffer < 1 or self.max_request < 1:
            raise ValueError("connection and buffer limits must be positive")
        if min(self.handshake_timeout, self.idle_timeout, self.linger) <= 0:
            raise ValueError("timeouts must be positive")


@dataclass
class Stats:
    """What a server did: connections, good handshakes, clean closes and failures by reason."""

    connections: int = 0
    """Connections accepted, refused ones (over the cap) included."""
    handshakes: int = 0
    """Handshakes completed."""
    resumed: int = 0
    """Of those, handshakes that resumed a session."""
    unclean: int = 0
    """Connections that ended after a good handshake by a reset or end of stream without
    close_notify (as ``openssl s_time`` does): not failures, counted apart."""
    dropped_log_lines: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    """Failed connections by reason (one count per connection)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "connections": self.connections,
            "handshakes": self.handshakes,
            "resumed": self.resumed,
            "unclean_closes": self.unclean,
            "dropped_log_lines": self.dropped_log_lines,
            "failed": sum(self.failures.values()),
            "failures": dict(sorted(self.failures.items())),
        }

    def add(self, other: dict[str, Any]) -> None:
        """Add another process's :meth:`to_dict` (``--workers``)."""
        self.connections += int(other["connections"])
        self.handshakes += int(other["handshakes"])
        self.resumed += int(other.get("resumed", 0))
        self.unclean += int(other["unclean_closes"])
        self.dropped_log_lines += int(other["dropped_log_lines"])
        self.failures.update({str(k): int(v) for k, v in other["failures"].items()})

    def summary(self) -> str:
        """One line for the end of ``tlsbench serve``."""
        failed = sum(self.failures.values())
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.failures.items()))
        line = (
            f"summary: {self.connections} connections, {self.handshakes} good handshakes, "
            f"{failed} failed" + (f" ({reasons})" if reasons else "")
        )
        if self.resumed:
            line += f"; {self.resumed} of the handshakes resumed"
        if self.unclean:
            line += f"; {self.unclean} closed without close_notify after the handshake"
        if self.dropped_log_lines:
            line += f"; {self.dropped_log_lines} log lines dropped"
        return line
