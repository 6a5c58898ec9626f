"""TLS 1.2 against OpenSSL: our client and ``openssl s_server -tls1_2``, our server and
``openssl s_client -tls1_2``, for every provider, suite, group and fitting certificate."""

from __future__ import annotations

import os

import pytest
from tls_peers import (
    MIB,
    OPENSSL_CIPHER,
    OPENSSL_GROUP,
    listener,
    matrix12,
    openssl_client,
    openssl_server,
    tls12_client_groups,
)

from tlsbench.tls import CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12
from tlsbench.tls.driver import accept, connect


def _openssl_groups(groups: tuple[NamedGroup, ...]) -> str:
    return ":".join(OPENSSL_GROUP[g] for g in groups)


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12())
def test_client_against_openssl_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    files = credentials[cert]
    up, down = os.urandom(MIB), os.urandom(MIB)
    args = ["-cipher", OPENSSL_CIPHER[suite]]
    if group is not None:
        args += ["-groups", OPENSSL_GROUP[group]]
    with openssl_server(files.cert_file, files.key_file, args, version="-tls1_2") as (server, port):
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=tls12_client_groups(suite, group),
            provider=provider,
            versions=(TLS12,),
        )
        stream = connect("127.0.0.1", port, config)
        hs = stream.handshake
        assert hs is not None
        assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
        assert hs.extended_master_secret  # OpenSSL offers and accepts RFC 7627
        stream.send(up)
        assert server.stdout.wait_for(len(up)) == up, server.output()
        server.write(down)
        assert stream.recv_exactly(len(down)) == down
        stream.close()
        assert stream.closed is not None and stream.closed.error is None, stream.events
        assert server.wait() == 0, server.output()


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12())
def test_server_against_openssl_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    """Our server speaks both versions; s_client -tls1_2 gets TLS 1.2."""
    files = credentials[cert]
    up, down = os.urandom(MIB), os.urandom(MIB)
    config = ServerConfig.from_files(
        files.cert_file,
        files.key_file,
        cipher_suites=(suite,),
        groups=(group or NamedGroup.X25519,),
        provider=provider,
    )
    with listener() as sock:
        args = ["-cipher", OPENSSL_CIPHER[suite], "-servername", "localhost"]
        args += ["-groups", _openssl_groups(tls12_client_groups(suite, group))]
        args += ["-CAfile", str(files.ca_file), "-verify_return_error"]
        args += ["-verify_hostname", "localhost"]
        with openssl_client(sock.getsockname()[1], args, version="-tls1_2") as client:
            stream = accept(sock, config)
            hs = stream.handshake
            assert hs is not None
            assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
            assert hs.extended_master_secret and hs.server_name == "localhost"
            client.write(up)
            assert stream.recv_exactly(len(up)) == up
            stream.send(down)
            assert client.stdout.wait_for(len(down)) == down, client.output()
            stream.close()
            client.close_stdin()
            assert client.wait() == 0, client.output()
            assert stream.closed is not None and stream.closed.error is None, stream.events
