"""TLS 1.2 client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8) in memory on every
provider, and ServerConfig/``tlsbench serve`` refusing client_auth without a CA."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from tls_peers import alerts, closed, pump

from tlsbench.cli import main as cli
from tlsbench.tls import (
    AlertDescription,
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import (
    CredentialFiles,
    load_certificate_chain,
    load_private_key,
    write_credentials,
)
from tlsbench.tls.constants import TLS12
from tlsbench.tls.events import Event

PROVIDERS = ("rust", "python", "cryptography")
KINDS = ("rsa2048", "ecdsa-p256")


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA file that issued none of the test certificates."""
    return write_credentials(tmp_path_factory.mktemp("other12"), "ecdsa-p256").ca_file


def _client(files: CredentialFiles, provider: str, with_cert: bool = True) -> ClientConfig:
    config = ClientConfig(
        server_name="localhost", ca_file=files.ca_file, provider=provider, versions=(TLS12,)
    )
    if not with_cert:
        return config
    chain = tuple(load_certificate_chain(files.cert_file))
    return replace(config, certificate_chain=chain, private_key=load_private_key(files.key_file))


def _server(
    files: CredentialFiles, provider: str, client_auth: str, ca: Path | None = None
) -> ServerConfig:
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, provider=provider, versions=(TLS12,)
    )
    return replace(config, client_auth=client_auth, client_ca_file=ca or files.ca_file)  # type: ignore[arg-type]


def _complete(events: list[Event]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_required_certificate_is_sent_and_checked(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    files = credentials[kind]
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    chain = tuple(load_certificate_chain(files.cert_file))
    assert _complete(server_events).peer_certificates == chain
    assert _complete(client_events).peer_certificates == chain


def test_optional_accepts_none(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, "cryptography", with_cert=False))
    s = ServerConnection(_server(files, "cryptography", "optional"))
    _, server_events = pump(c, s)
    assert _complete(server_events).peer_certificates == ()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_none_under_require_is_handshake_failure(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """TLS 1.2 has no certificate_required alert: an empty Certificate is handshake_failure."""
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider, with_cert=False))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.HANDSHAKE_FAILURE
    assert alerts(client_events) == [AlertDescription.HANDSHAKE_FAILURE]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_ca_is_unknown_ca(
    credentials: dict[str, CredentialFiles], other_ca: Path, provider: str
) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(_server(files, provider, "require", other_ca))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.UNKNOWN_CA
    assert alerts(client_events) == [AlertDescription.UNKNOWN_CA]


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize("client_auth", ["optional", "require"])
def test_client_auth_without_ca_is_refused(
    credentials: dict[str, CredentialFiles], client_auth: str
) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)
    with pytest.raises(ValueError, match="needs client_ca_file"):
        replace(config, client_auth=client_auth)  # type: ignore[arg-type]


def test_unknown_client_auth_is_refused(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)
    with pytest.raises(ValueError, match="client_auth must be"):
        replace(config, client_auth="always", client_ca_file=files.ca_file)  # type: ignore[arg-type]


def test_serve_client_auth_without_ca_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--client-auth", "require"])
    assert result.exit_code == 2, result.output
    assert "--client-auth needs --client-ca" in result.output
    assert "Traceback" not in result.output
