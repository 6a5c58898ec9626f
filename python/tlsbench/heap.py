"""A steady heap for measurements.

With its defaults, glibc serves large blocks with fresh ``mmap`` pages and hands
freed memory at the top of the heap back to the kernel; both are paid for again,
page fault by page fault, on the next allocation. How much of that a run sees
depends on what ran before it (glibc adapts its thresholds as it goes): measured
here, pyca's provider sealed 1 MiB at 1.4 GB/s in a fresh process and 4.1 GB/s
after other benchmarks, and the core's ``seal_many`` dropped from 13.8 to 3.3 GB/s
when only the top padding was fixed. So measurements keep every block on the heap
and the heap mapped, the same for every implementation.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc <malloc.h> parameters and the values we set.
SETTINGS = (
    (-1, 64 << 20),  # M_TRIM_THRESHOLD: keep up to 64 MiB free at the top
    (-2, 16 << 20),  # M_TOP_PAD: grow the heap 16 MiB at a time
    (-3, 32 << 20),  # M_MMAP_THRESHOLD: blocks under 32 MiB (glibc's maximum) from the heap
)


def steady_heap() -> bool:
    """Fix glibc's heap thresholds as above; False where that is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
