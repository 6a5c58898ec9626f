"""The examples in docs/api.md run as written, on every provider."""

from __future__ import annotations

import re
from pathlib import Path

from tlsbench.crypto import Provider

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_api_examples_run(provider: Provider) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 4
    for block in blocks:
        code = block.replace("from tlsbench import core\n", "")
        exec(compile(code, str(DOC), "exec"), {"core": provider})
