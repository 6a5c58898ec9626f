"""The in-memory transport's split of one thread's CPU time between client and server."""

from __future__ import annotations

import time

from tlsbench.harness.memory import SideClock


def _spin(seconds: float) -> None:
    """Burn this thread's CPU for ``seconds`` of thread CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_each_side_is_booked_its_own_calls() -> None:
    clock = SideClock()
    start = time.thread_time()
    with clock.operation():
        clock.client_call(lambda: _spin(0.06))
        clock.server_call(lambda: _spin(0.02))
    spent = time.thread_time() - start
    assert clock.client > 2 * clock.server > 0
    # The spans are scaled down to the operation's CPU time, never beyond it.
    assert clock.client + clock.server <= spent
    assert clock.client + clock.server > 0.5 * 0.08


def test_work_between_the_calls_is_nobodys() -> None:
    clock = SideClock()
    with clock.operation():
        clock.client_call(lambda: _spin(0.01))
        _spin(0.05)  # the harness's own work, between the sides' calls
        clock.server_call(lambda: _spin(0.01))
    assert clock.client + clock.server < 0.04


def test_time_off_the_cpu_is_not_booked() -> None:
    clock = SideClock()
    with clock.operation():
        clock.client_call(lambda: time.sleep(0.1))  # waiting, not running
        clock.server_call(lambda: _spin(0.01))
    assert clock.client < 0.02


def test_operations_add_up_and_reset_their_spans() -> None:
    clock = SideClock()
    for _ in range(3):
        with clock.operation():
            clock.server_call(lambda: _spin(0.01))
    assert clock.client == 0.0
    assert 0.015 < clock.server
