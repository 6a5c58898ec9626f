"""``--workers N``: N forked processes, each with its own SO_REUSEPORT listener on one port.

The kernel spreads new connections over the listeners. The parent forwards SIGINT and
SIGTERM to the workers, and adds up the :class:`Stats` each one writes to a pipe as it ends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Callable

from .limits import Stats


def reuseport_listeners(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` listening sockets on one (host, port); port 0 picks one for all of them."""
    listeners: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            listeners.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
    except BaseException:
        for sock in listeners:
            sock.close()
        raise
    return listeners


def run_workers(listeners: list[socket.socket], serve: Callable[[socket.socket], Stats]) -> Stats:
    """Fork one worker per listener, each running ``serve`` on its own; the summed stats."""
    children: dict[int, int] = {}
    for index, listener in enumerate(listeners):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_end)
            for other in listeners[:index] + listeners[index + 1 :]:
                other.close()
            code = 0
            try:
                stats = serve(listener)
                os.write(write_end, json.dumps(stats.to_dict()).encode())
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        children[pid] = read_end
    for listener in listeners:
        listener.close()

    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    total = Stats()
    try:
        for pid, read_end in children.items():
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()  # until the worker exits
            os.waitpid(pid, 0)
            if data:
                total.add(json.loads(data))
            else:
                total.failures["worker died"] += 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return total
