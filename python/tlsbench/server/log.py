"""A line log that never blocks the event loop: a bounded queue and a writer thread.

A stdout nobody reads (a full pipe) would otherwise stop the whole server on its
next failure line; here the writer thread blocks instead, and once ``max_lines``
are waiting, further lines are dropped and counted.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO


class LineLog:
    """Callable with one line; :meth:`close` writes what is queued and stops the thread."""

    def __init__(self, stream: TextIO | None = None, max_lines: int = 10_000) -> None:
        self._stream = stream or sys.stdout
        self._queue: queue.Queue[str | None] = queue.Queue(max_lines)
        self.dropped = 0
        """Lines lost because the queue was full."""
        self._thread = threading.Thread(target=self._write, name="log", daemon=True)
        self._thread.start()

    def __call__(self, line: str) -> None:
        """Queue one line (without its newline); drop it if the writer is too far behind."""
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def _write(self) -> None:
        while (line := self._queue.get()) is not None:
            try:
                self._stream.write(line + "\n")
                if self._queue.empty():
                    self._stream.flush()
            except (OSError, ValueError):
                self.dropped += 1

    def close(self, timeout: float = 10.0) -> None:
        """Write every queued line, then stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout)
