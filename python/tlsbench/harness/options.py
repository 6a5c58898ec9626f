"""Command-line options that several commands share, so each idea has one name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def impl_option(
    choices: tuple[str, ...], default: str = "rust", what: str = ""
) -> Callable[[Any], Any]:
    """``--impl`` (``--provider`` is a documented alias): which implementation runs."""
    names = ", ".join(choices)
    return click.option(
        "--impl",
        "--provider",
        "impl",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help=f"Implementation{what}: {names} (--provider is an alias).",
    )
