"""The process ``--metric instructions`` runs under callgrind: both sides in one thread.

Each side's calls go through a C function of the interpreter that does nothing but call
its argument, and callgrind is told to collect only inside those two
(``--toggle-collect``): ``operator.call`` (``_operator_call``) for the client,
``Context.run`` (``context_run``) for the server, so the instructions inside each are
exactly that side's work. ``sys.getswitchinterval()`` (``sys_getswitchinterval``) is the
marker callgrind dumps its counts before (``--dump-before``), so each measured segment
lands in a file of its own; ``icount.py`` reads them in order.

Per case: warm-up connections outside the gates, a calibration segment (``CALIBRATE``
empty calls through each gate, whose cost per call is subtracted), then ``rounds``
rounds of measured connections, each a segment; for bulk each round is followed by as
many connections moving zero bytes, whose counts are subtracted, so that per MB is the
transfer alone. ``icount.py`` takes the median of the rounds.

The cyclic garbage collector is off in the measured part and runs (``gc.collect()``)
before every segment, outside the gates: a collection started by one side's allocation
walks both sides' and the harness's objects, and when it starts depends on how many
were allocated since the last one, i.e. on where the segments begin, not on the
implementation; tlslite-ng triggered 3-6 a case when it was on.

Randomness is pinned (:func:`pin_randomness`): ``os.urandom`` and the X25519 / EC key
generation of pyca (our engine's key shares) draw from a generator seeded afresh for
each round (a bulk round's two segments alike), so the keys, and the code paths that
depend on their values (the pure Python AES-GCM's integer sizes, python-ecdsa in
tlslite), are the same in every rerun.
pyca's ``ec.ECDSA`` (what our engine signs with, ``tls/signatures.py``) is replaced by
one with RFC 6979 nonces, so the server's signature, the transcript and the traffic keys
are the same too. OpenSSL's own randomness (``ssl``, the RSA PKCS#1 v1.5 encryption
padding of TLS 1.2 RSA key exchange) stays random.
"""

from __future__ import annotations

import contextvars
import dataclasses
import gc
import json
import operator
import os
import random
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from .impls import Endpoint, Unsupported, check_supported, memory_endpoint_factory
from .memory import SideClock, memory_op
from .params import Case, Tls
from .workloads import expected_digest, payload

T = TypeVar("T")
CALIBRATE = 64
"""Empty calls through each gate in the calibration segment."""


class GateClock(SideClock):
    """A :class:`SideClock` whose side calls run inside the two callgrind gates."""

    def __init__(self) -> None:
        super().__init__()
        self._context = contextvars.copy_context()
        self.client_calls = 0
        self.server_calls = 0

    def client_call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` inside ``_operator_call``."""
        self.client_calls += 1
        result: T = operator.call(fn)
        return result

    def server_call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` inside ``context_run``."""
        self.server_calls += 1
        return self._context.run(fn)


_dumps = [0]


_rng = [random.Random(0)]


def reseed(seed: str) -> None:
    """Restart the pinned random stream (per segment, so counts do not depend on history)."""
    _rng[0] = random.Random(seed)


def _bytes(n: int) -> bytes:
    return _rng[0].randbytes(n)


def pin_randomness() -> None:
    """Route ``os.urandom`` and pyca's X25519/EC key generation through the seeded stream;
    make pyca's ECDSA signatures deterministic (RFC 6979), so the transcript is too."""
    from cryptography.hazmat.primitives.asymmetric import ec, x25519

    os.urandom = _bytes

    def x25519_key(cls: Any) -> x25519.X25519PrivateKey:
        return x25519.X25519PrivateKey.from_private_bytes(_bytes(32))

    def ec_key(curve: ec.EllipticCurve, backend: Any = None) -> ec.EllipticCurvePrivateKey:
        # fewer bytes than the order has: always a valid scalar, never zero
        return ec.derive_private_key(int.from_bytes(_bytes(curve.key_size // 8 - 1)) + 1, curve)

    x25519.X25519PrivateKey.generate = classmethod(x25519_key)  # type: ignore[method-assign,assignment]
    ec.generate_private_key = ec_key

    class DeterministicECDSA(ec.ECDSA):
        """``ec.ECDSA`` with RFC 6979 nonces: the same key and message, the same signature."""

        def __init__(self, algorithm: Any, deterministic_signing: bool = True) -> None:
            super().__init__(algorithm, deterministic_signing=True)

    ec.ECDSA = DeterministicECDSA  # type: ignore[misc]


VGDB_ENV = "TLSBENCH_ICOUNT_VGDB"
"""Set by ``icount.py`` to vgdb's path when callgrind starts uninstrumented."""
_instrumented = [not os.environ.get(VGDB_ENV)]


def instrument(on: bool) -> None:
    """Switch callgrind's instrumentation on or off (``vgdb instrumentation on|off``) when
    it started without (``--instr-atstart=no``): imports, setup and warm-up then run
    several times faster, uncounted as before. This process spins while vgdb talks to
    its gdbserver: valgrind polls for vgdb between blocks of running code, so no ptrace
    of a process blocked in a system call is needed."""
    vgdb = os.environ.get(VGDB_ENV)
    if not vgdb or _instrumented[0] == on:
        return
    import subprocess
    import time

    state = "on" if on else "off"
    # the pid at a fixed width: the heap this leaves behind is the same whatever the pid
    cmd = [vgdb, f"--pid={os.getpid():010d}", "instrumentation", state]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            break
    out = proc.communicate()[0]
    if proc.returncode != 0:
        raise RuntimeError(f"vgdb could not switch instrumentation {state}: {out.strip()}")
    _instrumented[0] = on


def marker() -> int:
    """End the current segment (callgrind dumps before ``sys_getswitchinterval``); its part
    (0 while uninstrumented: no dump)."""
    if not _instrumented[0]:
        return 0
    sys.getswitchinterval()
    _dumps[0] += 1
    return _dumps[0]


def _nothing() -> None:
    return None


def endpoint_factory(impl: str, tls: Tls, server: bool) -> Callable[[], Endpoint]:
    """The in-memory endpoints of ``impl``, tlslite included."""
    if impl == "tlslite":
        from .tlslite_memory import tlslite_endpoint_factory

        return tlslite_endpoint_factory(tls, server)
    return memory_endpoint_factory(impl, tls, server)


def _ops(
    new_client: Callable[[], Endpoint],
    new_server: Callable[[], Endpoint],
    case: Case,
    count: int,
    clock: SideClock,
) -> None:
    block = payload(case) if case.workload == "bulk" else b""
    digest = expected_digest(case, block) if case.workload == "bulk" else b""
    for _ in range(count):
        memory_op(new_client, new_server, case, block, digest, clock)


def _collections() -> int:
    """The collector's runs so far, all generations."""
    return sum(g["collections"] for g in gc.get_stats())


def measure_case(job: dict[str, Any]) -> dict[str, Any]:
    """Warm up, calibrate, then ``rounds`` rounds of measured connections (bulk: each
    followed by as many moving nothing); every segment's calls."""
    case = Case(**job["case"])
    tls = Tls(**job["tls"])
    ops, warm, rounds = int(job["ops"]), int(job["warmup"]), int(job.get("rounds", 1))
    try:
        for impl in {case.client_impl, case.server_impl}:
            if impl == "tlslite":
                continue  # it runs in memory here (tlslite_memory.py)
            check_supported(impl, tls, "memory")
        new_client = endpoint_factory(case.client_impl, tls, server=False)
        new_server = endpoint_factory(case.server_impl, tls, server=True)
    except Unsupported as exc:
        return {"unsupported": str(exc), "segments": []}
    variants = [("main", case)]
    if case.workload == "bulk":
        variants.append(("zero", dataclasses.replace(case, bulk_bytes=0)))
    reseed(f"warm-up {case}")  # the zero-byte connections' path is part of these
    _ops(new_client, new_server, case, warm, SideClock())
    segments: list[dict[str, Any]] = []
    instrument(True)
    marker()
    gc.disable()  # collections run between segments, outside the gates (module docstring)
    try:
        gc.collect()
        gates = GateClock()
        for _ in range(CALIBRATE):
            gates.client_call(_nothing)
            gates.server_call(_nothing)
        segments.append(
            {
                "kind": "calibrate",
                "part": marker(),
                "client_calls": CALIBRATE,
                "server_calls": CALIBRATE,
            }
        )
        for round_ in range(rounds):
            for kind, variant in variants:
                gc.collect()
                before = _collections()
                # a round's main and zero connections draw the same random bytes, so
                # their handshakes are the same and the subtraction leaves the transfer
                reseed(f"round {round_} {case}")
                gates = GateClock()
                _ops(new_client, new_server, variant, ops, gates)
                segments.append(
                    {
                        "kind": kind,
                        "round": round_,
                        "part": marker(),
                        "ops": ops,
                        "client_calls": gates.client_calls,
                        "server_calls": gates.server_calls,
                        "collections": _collections() - before,
                    }
                )
    finally:
        gc.enable()
    instrument(False)
    return {"unsupported": "", "segments": segments}


def main() -> None:
    """``python -m tlsbench.harness.icount_worker JOBS.json OUT.json``."""
    from tlsbench.heap import steady_heap

    steady_heap()
    pin_randomness()
    jobs = json.loads(open(sys.argv[1]).read())
    out: list[dict[str, Any]] = []
    for job in jobs:
        try:
            out.append(measure_case(job))
        except Exception as exc:  # one case failing must not lose the others' segments
            out.append({"error": f"{type(exc).__name__}: {exc}", "segments": []})
            marker()  # close whatever segment the failure left open
            instrument(False)
        with open(sys.argv[2], "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
