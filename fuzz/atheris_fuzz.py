"""libFuzzer (atheris) entry point for one target of ``fuzz_targets``.

    python3 fuzz/atheris_fuzz.py TARGET [libFuzzer options] [CORPUS_DIR ...]

TARGET is one of handshake, extensions, record, core_open, server, client. The engine
(``tlsbench``) and the targets are instrumented for coverage; a contract violation
raises, and atheris saves the input as ``crash-*``. See docs/fuzzing.md and run.sh.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["tlsbench", "fuzz_targets"]):
    import fuzz_targets


def main() -> None:
    """Pick the target named by the first argument and hand the rest to libFuzzer."""
    if len(sys.argv) < 2 or sys.argv[1] not in fuzz_targets.TARGETS:
        sys.exit(f"usage: atheris_fuzz.py {{{','.join(fuzz_targets.TARGETS)}}} [libFuzzer args]")
    target = fuzz_targets.TARGETS[sys.argv[1]]
    if sys.argv[1] in ("server", "client"):
        fuzz_targets.server_config()  # the credentials once, outside the timed inputs
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
