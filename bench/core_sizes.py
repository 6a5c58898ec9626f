"""GB/s of core seal_many, core seal_many_into and pyca AESGCM per 16 KiB record, by size.

Each (call, size) runs in a fresh process with default allocator settings; TLS 1.3
AES-128-GCM; the median of several timed repeats. Usage: python3 bench/core_sizes.py
"""

from __future__ import annotations

import json
import subprocess
import sys

SIZES = [64, 1024, 16384, 65536, 1 << 20, 4 << 20, 32 << 20]
CALLS = ["seal_many", "seal_many_into", "pyca_encrypt", "pyca_encrypt_into"]

CHILD = r"""
import json, os, statistics, sys, time
call, n = sys.argv[1], int(sys.argv[2])
data = os.urandom(n)
key, iv = bytes(16), bytes(12)
reps = max(3, min(2000, (64 << 20) // max(n, 1)))
if call.startswith("seal"):
    from tlsbench._core import RecordCipher
    rc = RecordCipher("1.3", "TLS_AES_128_GCM_SHA256", key, iv)
    out = bytearray(rc.sealed_size(n))
    f = (lambda: rc.seal_many(23, data)) if call == "seal_many" else (
        lambda: rc.seal_many_into(23, data, out))
else:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    g = AESGCM(key)
    view = memoryview(data)
    chunks = [view[i:i + 16384] for i in range(0, n, 16384)]
    hdr = b"\x17\x03\x03\x40\x11"
    if call == "pyca_encrypt":
        def f():
            return [g.encrypt(iv, c, hdr) for c in chunks]
    else:
        out = bytearray(n + 16 * len(chunks))
        mv = memoryview(out)
        def f():
            at = 0
            for c in chunks:
                g.encrypt_into(iv, c, hdr, mv[at:at + len(c) + 16])
                at += len(c) + 16
f()
times = []
for _ in range(7):
    t = time.perf_counter()
    for _ in range(reps):
        f()
    times.append((time.perf_counter() - t) / reps)
print(json.dumps(n / statistics.median(times) / 1e9))
"""


def run(call: str, n: int) -> float:
    r = subprocess.run(
        [sys.executable, "-c", CHILD, call, str(n)], capture_output=True, text=True, check=True
    )
    return float(json.loads(r.stdout))


def main() -> None:
    print("| size | " + " | ".join(CALLS) + " | fastest core / fastest pyca |")
    print("|---" * (len(CALLS) + 2) + "|")
    for n in SIZES:
        r = {c: run(c, n) for c in CALLS}
        core = max(r["seal_many"], r["seal_many_into"])
        pyca = max(r["pyca_encrypt"], r["pyca_encrypt_into"])
        cells = " | ".join(f"{r[c]:.2f}" for c in CALLS)
        print(f"| {n} | {cells} | {core / pyca:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
