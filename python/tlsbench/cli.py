"""The ``tlsbench`` command line."""

from __future__ import annotations

import os
import ssl
import sys
from typing import Any

import click

from tlsbench import __version__
from tlsbench.crypto import PROVIDERS
from tlsbench.harness.commands import register
from tlsbench.swarm.command import locust_command


class OneLineErrors(click.Group):
    """A group whose errors are one line on stderr: exit 2 for usage, 1 for failures."""

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> None:
        """Run the command; never a traceback (set TLSBENCH_DEBUG=1 to see one)."""
        extra.pop("standalone_mode", None)
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("tlsbench: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            click.echo(f"tlsbench: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except Exception as exc:
            if os.environ.get("TLSBENCH_DEBUG"):
                raise
            click.echo(f"tlsbench: error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=OneLineErrors)
@click.version_option(__version__, prog_name="tlsbench")
def main() -> None:
    """TLS handshake and record benchmarks with a Rust core."""


@main.command()
def info() -> None:
    """Versions, CPU features and how the core was built."""
    from tlsbench import core
    from tlsbench.harness.results import cpu_info

    model, flags = cpu_info()
    click.echo(f"tlsbench     {__version__}")
    click.echo(f"python       {sys.version.split()[0]}")
    click.echo(f"ssl          {ssl.OPENSSL_VERSION}")
    try:
        import cryptography
        from cryptography.hazmat.backends.openssl.backend import backend

        click.echo(f"cryptography {cryptography.__version__} ({backend.openssl_version_text()})")
    except ImportError:  # pragma: no cover - a dependency
        click.echo("cryptography not installed")
    click.echo(f"cpu          {model}")
    click.echo(f"cpu flags    {' '.join(flags) or 'none of interest'}")
    for key, value in core.build_info().items():
        click.echo(f"core.{key:<14} {value}")


def _figure(x: float) -> str:
    """A rate for the speed table: whole numbers from 100 up (no exponent), else 4 digits."""
    return f"{x:.0f}" if x >= 100 else f"{x:.4g}"


@main.command()
@click.option(
    "--impl",
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(PROVIDERS),
    help="Provider to measure (repeatable; --provider is an alias); all by default.",
)
@click.option("--suite", default="TLS_AES_128_GCM_SHA256", show_default=True)
@click.option("--bytes", "size", default=1 << 20, show_default=True, help="Buffer per seal_many.")
@click.option("--budget", default=0.3, show_default=True, help="Seconds per sample.")
@click.option("--repeat", default=5, show_default=True, help="Samples per figure.")
def speed(providers: tuple[str, ...], suite: str, size: int, budget: float, repeat: int) -> None:
    """Record protection and key derivation of each provider, side by side."""
    from tlsbench.crypto.suites import get_suite
    from tlsbench.speed import measure

    try:
        get_suite(suite)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if size < 1 or budget <= 0 or repeat < 1:
        raise click.UsageError("--bytes, --budget and --repeat must be positive")
    chosen = list(providers) or list(PROVIDERS)
    results = measure(chosen, suite, size, budget, repeat)
    base = {m.operation: m.median for m in results if m.provider == chosen[0]}
    click.echo(f"{'provider':<13}{'operation':<58}{'median':>12}  {'min..max':<22}ratio")
    for m in results:
        spread = f"{_figure(m.low)}..{_figure(m.high)}"
        ratio = m.median / base[m.operation]
        click.echo(
            f"{m.provider:<13}{m.operation:<58}{_figure(m.median):>10} {m.unit:<6}{spread:<21} "
            f"{ratio:>6.3g}x"
        )
    click.echo(f"(ratios against {chosen[0]}; each figure is the median of {repeat} samples)")


register(main)
main.add_command(locust_command)
