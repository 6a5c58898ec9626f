"""The concurrent server of ``tlsbench serve``: one selectors loop, many sans-I/O connections.

:class:`~.loop.Server` drives a :class:`~tlsbench.tls.ServerConnection` per socket with
per-connection deadlines, a connection cap and bounded buffers (:class:`ServerLimits`);
:class:`Stats` counts connections, good handshakes and failures by reason.
"""

from __future__ import annotations

from .limits import ServerLimits, Stats

__all__ = ["ServerLimits", "Stats"]
