"""``tlsbench locust``: Locust with tlsbench's users, every other argument passed unchanged."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import click

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
_NO_CHECK = {"-h", "--help", "-V", "--version", "-l", "--list", "--list-commands"}


def _own_options(args: list[str]) -> argparse.Namespace:
    """tlsbench's options among ``args`` (the rest are Locust's), with their defaults."""
    from .settings import add_options

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_options(parser, web_ui=False)
    try:
        known, _ = parser.parse_known_args(args)
    except SystemExit:
        raise click.UsageError("bad tlsbench option (see tlsbench locust --help)") from None
    return known


@click.command(
    "locust",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def locust_command(args: tuple[str, ...]) -> None:
    """Locust with tlsbench's users: handshakes, bulk and hostile clients from many machines.

    Every argument goes to Locust unchanged, plus tlsbench's own: --target HOST:PORT,
    --impl, --tls, --suite, --group, --alpn, --ca-file or --insecure, --server-name,
    --bytes, --tls-timeout (also fields of Locust's web UI). Users: Handshake (the default),
    Bulk, Garbage, Truncated, Stall, Reset; name them at the end to choose. Master:
    tlsbench locust --master --headless -u 50 -r 10 -t 60s --csv out --target H:P;
    each worker: tlsbench locust --worker --master-host M. See docs/load.md and
    tlsbench locust --help (Locust's help, with these options in it).
    """
    if importlib.util.find_spec("locust") is None:
        raise click.UsageError(
            "Locust is not installed; install it with: pip install 'tlsbench[locust]'"
        )
    from .settings import plan_from, profile_of, write_openssl_conf

    argv = list(args)
    own = _own_options(argv)
    env = dict(os.environ)
    if "--worker" not in argv:  # a worker needs every class: the master says which run
        env.setdefault("LOCUST_USER_CLASSES", "Handshake")
    # Our ssl client must never start the command again for OPENSSL_CONF (clients.py):
    # the file is written here, before Locust starts, or the user is told what to do.
    env["TLSBENCH_OPENSSL_CONF_SET"] = "1"
    checking = not _NO_CHECK.intersection(argv)
    if checking and own.target:
        plan_from(own)  # without --target here, Locust's config files may give one (users.py)
    if checking and own.impl == "ssl":
        profile = profile_of(own)
        digest = hashlib.sha256(repr(profile).encode()).hexdigest()[:16]
        directory = Path(tempfile.gettempdir()) / f"tlsbench-locust-{digest}"
        directory.mkdir(exist_ok=True)
        env["OPENSSL_CONF"] = write_openssl_conf(profile, directory)
    if {"-h", "--help"}.intersection(argv):
        _print_own_help()
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *argv]
    os.execve(sys.executable, command, env)


def _print_own_help() -> None:
    """tlsbench's options first (Locust's --help, which follows, cannot list them)."""
    from .settings import OPTIONS

    click.echo("tlsbench locust [LOCUST OPTIONS] [TLSBENCH OPTIONS] [USER CLASSES]\n")
    click.echo("tlsbench options (also fields of Locust's web UI):")
    for flags, keywords in OPTIONS:
        metavar = "" if keywords.get("action") == "store_true" else " VALUE"
        click.echo(f"  {', '.join(flags) + metavar:<24}{keywords['help']}")
    click.echo("User classes: Handshake (the default), Bulk, Garbage, Truncated, Stall, Reset.\n")
    click.echo("Locust's own options:\n")
