"""The Locust tests run real processes; Locust itself (the ``locust`` extra) must be there.

``tests/cli`` is put on the path so its peers (``tlsbench serve`` as a process) are reused.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))


@pytest.fixture(autouse=True, scope="session")
def locust_installed() -> None:
    """Fail, naming the install command, when Locust is missing."""
    try:
        metadata.version("locust")
    except metadata.PackageNotFoundError:
        pytest.fail("Locust is not installed: python3 -m pip install -e '.[locust]' (the extra)")
