"""Fuzz tests: the targets live in fuzz/fuzz_targets.py, shared with the atheris harnesses.

Hypothesis profiles: ``fuzz-ci`` (default, bounded, the whole directory in well under a
minute) and ``fuzz-long`` (100x the examples), chosen with TLSBENCH_FUZZ_PROFILE.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
