"""The loop serving Python ``ssl`` and tlslite-ng (server/foreign.py) to real peers.

openssl s_client, gnutls-cli and our own client connect to the loop on 127.0.0.1; each
case checks the echo, what the peer says was negotiated against the loop's handshake
line, and the loop's Stats. The loop runs in a thread, or in a process of its own when
OpenSSL must read an ``OPENSSL_CONF`` at start.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from foreign_peers import (
    ThreadServer,
    gnutls_cli,
    s_client,
    start_process_server,
    start_thread_server,
)
from reliability_helpers import plaintext_alert, raw_connect, read_until_closed

from tlsbench.server import ServerLimits
from tlsbench.server.foreign import (
    factory,
    ssl_openssl_conf,
    ssl_server_context,
    tlslite_settings,
)
from tlsbench.tls import AlertReceived, CipherSuite, ClientConfig, NamedGroup
from tlsbench.tls.alerts import describe
from tlsbench.tls.certs import CredentialFiles, write_credentials
from tlsbench.tls.constants import TLS12, TLS13
from tlsbench.tls.driver import TlsConnectionError, TlsStream, connect

IMPLS = ("ssl", "tlslite")
OPENSSL_GROUP = {"X25519": "x25519", "P-256": "secp256r1", "P-384": "secp384r1"}
GNUTLS_GROUP = {"X25519": "x25519", "SECP256R1": "secp256r1", "SECP384R1": "secp384r1"}
HANDSHAKE_FAILURE = 40


@dataclass(frozen=True)
class Creds:
    """Both certificate kinds, a bundle of their CAs, and a CA that issued neither."""

    rsa: CredentialFiles
    ecdsa: CredentialFiles
    bundle: Path
    other_ca: Path

    @property
    def both(self) -> list[tuple[Path, Path]]:
        """ECDSA first, then RSA (what ``serve`` loads by default)."""
        return [(f.cert_file, f.key_file) for f in (self.ecdsa, self.rsa)]


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> Creds:
    directory = tmp_path_factory.mktemp("foreign-certs")
    rsa = write_credentials(directory, "rsa2048")
    ecdsa = write_credentials(directory, "ecdsa-p256")
    bundle = directory / "both-ca.pem"
    bundle.write_bytes(rsa.ca_file.read_bytes() + ecdsa.ca_file.read_bytes())
    other = write_credentials(directory, "ecdsa-p256", prefix="other-").ca_file
    return Creds(rsa, ecdsa, bundle, other)


Serve = Callable[..., ThreadServer]


@pytest.fixture
def serve(creds: Creds) -> Iterator[Serve]:
    """Start the loop on a foreign stack (both certificates unless told); stopped at teardown."""
    running: list[ThreadServer] = []

    def start(impl: str, **kwargs: Any) -> ThreadServer:
        certificates = kwargs.pop("certificates", creds.both)
        run = start_thread_server(impl, certificates, **kwargs)
        running.append(run)
        return run

    yield start
    for run in running:
        run.stop()


def our_client(creds: Creds, version: int, suite: CipherSuite, **changes: Any) -> ClientConfig:
    """Our client offering one version and one suite, verifying against both CAs."""
    settings: dict[str, Any] = {
        "server_name": "localhost",
        "ca_file": creds.bundle,
        "versions": (version,),
        "cipher_suites": (suite,),
        "provider": "rust",
    }
    settings.update(changes)
    return ClientConfig(**settings)


def got_close_notify(stream: TlsStream) -> bool:
    """Whether the server's close_notify alert itself arrived (not just an end of stream)."""
    return any(isinstance(e, AlertReceived) and e.description == 0 for e in stream.events)


def handshake_lines(run: ThreadServer) -> list[str]:
    return [line for line in run.log if " handshake " in line and " failed: " not in line]


def assert_logged(run: ThreadServer, version: str, suite: str, group: str) -> None:
    """The loop logged exactly one handshake, with these values."""
    lines = handshake_lines(run)
    pattern = rf"127\.0\.0\.1:\d+ TLS {re.escape(version)} {suite} {group} handshake [\d.]+ ms"
    assert len(lines) == 1 and re.fullmatch(pattern, lines[0]), run.log


def openssl_negotiated(output: str) -> tuple[str, str | None]:
    """The suite s_client reports (OpenSSL's name) and its ephemeral group, if any."""
    cipher = re.search(r"Cipher is (\S+)", output)
    assert cipher is not None, output
    temp = re.search(r"Server Temp Key: ([\w-]+),", output)
    return cipher.group(1), OPENSSL_GROUP[temp.group(1)] if temp else None


def alert_seen_by_s_client(output: str) -> int | None:
    found = re.search(r"SSL alert number (\d+)", output)
    return int(found.group(1)) if found else None


def echo_with_s_client(port: int, line: bytes, *args: str) -> str:
    """One s_client connection that must see ``line`` echoed; its output."""
    with s_client(port, *args) as peer:
        peer.send(line)
        echoed = peer.wait_for(line)
        code = peer.finish()
        assert echoed and code == 0, peer.output()
        return peer.output()


# -- openssl s_client -------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_openssl_tls13_echo(impl: str, serve: Serve, creds: Creds) -> None:
    run = serve(impl)
    verify = ["-CAfile", str(creds.bundle), "-verify_return_error", "-verify_hostname", "localhost"]
    output = echo_with_s_client(run.port, b"ping over TLS 1.3\n", "-tls1_3", *verify)
    assert "Verify return code: 0 (ok)" in output
    cipher, group = openssl_negotiated(output)
    assert group is not None
    run.settle()
    assert_logged(run, "1.3", cipher, group)
    assert run.server.stats.handshakes == 1 and run.failures() == {}, run.log


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("cipher", "suite", "kind"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ecdsa"),
        ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", "rsa"),
    ],
    ids=["ecdhe", "rsa-key-exchange"],
)
def test_openssl_tls12_echo(
    impl: str, cipher: str, suite: str, kind: str, serve: Serve, creds: Creds
) -> None:
    run = serve(impl)
    ca = (creds.rsa if kind == "rsa" else creds.ecdsa).ca_file  # only the right chain verifies
    output = echo_with_s_client(
        run.port,
        b"ping over TLS 1.2\n",
        "-tls1_2",
        "-cipher",
        cipher,
        "-CAfile",
        str(ca),
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
    )
    negotiated, group = openssl_negotiated(output)
    assert negotiated == cipher
    if kind == "rsa":
        assert group is None and "Server public key is 2048 bit" in output, output
    else:
        assert group is not None
    run.settle()
    assert_logged(run, "1.2", suite, group or "rsa")
    assert run.server.stats.handshakes == 1 and run.failures() == {}, run.log


# -- gnutls-cli ---------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    "priority", [None, "NORMAL:-VERS-ALL:+VERS-TLS1.2"], ids=["default", "tls1.2"]
)
def test_gnutls_echo(impl: str, priority: str | None, serve: Serve) -> None:
    run = serve(impl)
    args = ["--priority", priority] if priority else []
    with gnutls_cli(run.port, *args) as peer:
        peer.send(b"ping from gnutls\n")
        echoed = peer.wait_for(b"ping from gnutls\n")
        code = peer.finish()
        output = peer.output()
    assert echoed and code == 0, output
    description = re.search(r"- Description: \(TLS(1\.[23])-X\.509\)-\(ECDHE-(\w+)\)", output)
    assert description is not None, output
    version, group = description.group(1), GNUTLS_GROUP[description.group(2)]
    assert version == ("1.2" if priority else "1.3")
    run.settle()
    lines = handshake_lines(run)
    assert len(lines) == 1 and f" TLS {version} " in lines[0] and f" {group} " in lines[0]
    assert run.server.stats.handshakes == 1 and run.failures() == {}, run.log


# -- our own client -----------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("version", "suite", "group"),
    [
        (TLS13, CipherSuite.TLS_AES_128_GCM_SHA256, NamedGroup.X25519),
        (TLS13, CipherSuite.TLS_CHACHA20_POLY1305_SHA256, NamedGroup.SECP384R1),
        (TLS12, CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, NamedGroup.SECP256R1),
        (TLS12, CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384, None),
    ],
    ids=["1.3-aes128-x25519", "1.3-chacha-p384", "1.2-ecdhe-rsa-p256", "1.2-rsa"],
)
def test_our_client_echo(
    impl: str,
    version: int,
    suite: CipherSuite,
    group: NamedGroup | None,
    serve: Serve,
    creds: Creds,
) -> None:
    run = serve(impl)
    groups = {"groups": (group,)} if group is not None else {}
    stream = connect("127.0.0.1", run.port, our_client(creds, version, suite, **groups))
    done = stream.handshake
    assert done is not None
    assert (done.version, done.cipher_suite, done.group) == (version, suite, group)
    payload = bytes(range(256)) * 160  # 40 KiB: several records each way
    stream.send(payload)
    assert stream.recv_exactly(len(payload)) == payload
    stream.close()
    assert stream.closed is not None and stream.closed.error is None
    assert got_close_notify(stream)  # answered with the server's own (RFC 8446 §6.1)
    run.settle()
    name = "1.3" if version == TLS13 else "1.2"
    assert_logged(run, name, suite.name, group.name.lower() if group else "rsa")
    assert run.server.stats.handshakes == 1 and run.failures() == {}, run.log
    assert run.server.stats.unclean == 0


# -- a suite the server lacks ---------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A server serving one suite, and a client offering only one it lacks."""

    served: str
    """The one suite served (IANA name, which s_client prints for TLS 1.3 too)."""
    served_openssl: str
    lacking: CipherSuite
    bad_args: tuple[str, ...]
    good_args: tuple[str, ...]


REFUSALS = {
    "1.2": Refusal(
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ),
    "1.3": Refusal(
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
        CipherSuite.TLS_AES_256_GCM_SHA384,
        ("-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"),
        ("-tls1_3",),
    ),
}


@pytest.mark.parametrize(
    ("impl", "version"),
    [("ssl", "1.2"), ("tlslite", "1.2"), ("tlslite", "1.3")],
    # ssl's TLS 1.3 suites need OPENSSL_CONF: test_ssl_tls13_profile_through_openssl_conf
)
def test_refused_suite_then_a_good_client(
    impl: str, version: str, serve: Serve, creds: Creds
) -> None:
    case = REFUSALS[version]
    run = serve(impl, suites=[case.served])
    with s_client(run.port, *case.bad_args) as bad:
        code = bad.finish()
        assert code != 0 and alert_seen_by_s_client(bad.output()) == HANDSHAKE_FAILURE, bad.output()
    code_point = TLS13 if version == "1.3" else TLS12
    with pytest.raises(TlsConnectionError) as caught:
        connect("127.0.0.1", run.port, our_client(creds, code_point, case.lacking))
    assert caught.value.alert == HANDSHAKE_FAILURE and caught.value.by_peer
    output = echo_with_s_client(run.port, b"and now a good one\n", *case.good_args)
    assert openssl_negotiated(output)[0] == case.served_openssl
    run.settle()
    assert run.server.stats.connections == 3 and run.server.stats.handshakes == 1
    assert run.failures() == {"sent handshake_failure": 2}, run.log
    failed = [line for line in run.log if " failed: sent handshake_failure" in line]
    assert len(failed) == 2 and len(handshake_lines(run)) == 1, run.log


def test_ssl_tls13_profile_through_openssl_conf(tmp_path: Path, creds: Creds) -> None:
    """TLS 1.3 suites (and groups) for ``ssl`` come from OPENSSL_CONF, read at start."""
    conf = tmp_path / "openssl.cnf"
    conf.write_text(ssl_openssl_conf(["TLS_AES_128_GCM_SHA256"], ["x25519", "secp256r1"]))
    spec = {
        "impl": "ssl",
        "certificates": [[str(c), str(k)] for c, k in creds.both],
        "profile": {
            "versions": [TLS13],
            "suites": ["TLS_AES_128_GCM_SHA256"],
            "groups": ["x25519", "secp256r1"],
        },
        "count": 4,
    }
    proc, port = start_process_server(spec, dict(os.environ, OPENSSL_CONF=str(conf)))
    try:
        for bad_args in (["-ciphersuites", "TLS_AES_256_GCM_SHA384"], ["-groups", "P-384"]):
            with s_client(port, "-tls1_3", *bad_args) as bad:
                code = bad.finish()
                assert code != 0 and alert_seen_by_s_client(bad.output()) == HANDSHAKE_FAILURE, (
                    bad.output()
                )
        with pytest.raises(TlsConnectionError) as caught:
            connect("127.0.0.1", port, our_client(creds, TLS13, CipherSuite.TLS_AES_256_GCM_SHA384))
        assert caught.value.alert == HANDSHAKE_FAILURE and caught.value.by_peer
        output = echo_with_s_client(port, b"configured\n", "-tls1_3", "-CAfile", str(creds.bundle))
        assert openssl_negotiated(output) == ("TLS_AES_128_GCM_SHA256", "x25519")
        out, err = proc.communicate(timeout=30)  # it stops after `count` connections
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    stats = json.loads(lines[-1].removeprefix("stats "))
    assert stats["handshakes"] == 1 and stats["failures"] == {"sent handshake_failure": 3}
    done = [line for line in lines if " handshake " in line and " failed: " not in line]
    assert len(done) == 1 and " TLS 1.3 TLS_AES_128_GCM_SHA256 x25519 " in done[0], lines


# -- the loop's limits and endings, the same for every stack ------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_handshake_and_idle_timeouts(impl: str, serve: Serve, creds: Creds) -> None:
    run = serve(impl, limits=ServerLimits(handshake_timeout=0.5, idle_timeout=0.5))
    with raw_connect(run.port) as silent:
        assert read_until_closed(silent) == (b"", "eof")  # closed without an alert
    stream = connect(
        "127.0.0.1", run.port, our_client(creds, TLS13, CipherSuite.TLS_AES_128_GCM_SHA256)
    )
    assert stream.recv(100) == b""  # the server's close_notify, after the idle timeout
    assert stream.closed is not None and stream.closed.error is None and stream.closed.by_peer
    assert got_close_notify(stream)
    stream.close()
    run.settle()
    assert run.server.stats.handshakes == 1
    assert run.failures() == {"handshake timeout": 1, "idle timeout": 1}, run.log


@pytest.mark.parametrize("impl", IMPLS)
def test_http_request_and_close(impl: str, serve: Serve, creds: Creds) -> None:
    run = serve(impl, http=True)
    config = our_client(creds, TLS12, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    stream: TlsStream = connect("127.0.0.1", run.port, config)
    stream.send(
        b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\nGET / HTTP/1.1\r\nconnection: close\r\n\r\n"
    )
    received = b""
    while chunk := stream.recv():
        received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2 and received.endswith(b"tlsbench\n")
    assert stream.closed is not None and stream.closed.error is None
    assert got_close_notify(stream)
    stream.close()
    run.settle()
    assert run.server.stats.handshakes == 1 and run.failures() == {}, run.log


@pytest.mark.parametrize("impl", IMPLS)
def test_peer_alert_and_garbage_are_counted_as_the_peer_sees_them(
    impl: str, serve: Serve, creds: Creds
) -> None:
    run = serve(impl)
    wrong_ca = our_client(creds, TLS13, CipherSuite.TLS_AES_128_GCM_SHA256, ca_file=creds.other_ca)
    with pytest.raises(TlsConnectionError) as caught:
        connect("127.0.0.1", run.port, wrong_ca)
    assert not caught.value.by_peer and caught.value.alert is not None
    client_alert = describe(int(caught.value.alert))
    with raw_connect(run.port) as garbage:
        garbage.sendall(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
        data, _ = read_until_closed(garbage)
    seen = plaintext_alert(data)
    run.settle()
    failures = run.failures()
    assert failures.pop(f"received {client_alert}") == 1, run.log
    assert len(failures) == 1 and set(failures.values()) == {1}, run.log
    (sent,) = failures
    line = next(line for line in run.log if f"failed: {sent}" in line)
    if seen is None:  # nothing came back: the loop must say so
        assert data == b"" and "sent no alert" in line, (data, run.log)
    else:
        assert sent == f"sent {describe(seen)}", (data, run.log)
    if impl == "ssl":  # OpenSSL answers an HTTP request with no alert at all
        assert seen is None


# -- what the factories refuse -------------------------------------------------------------


def test_factories_refuse_what_the_stack_cannot_serve(
    creds: Creds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENSSL_CONF", raising=False)
    with pytest.raises(ValueError, match="OPENSSL_CONF"):  # TLS 1.3 suites: not from Python
        ssl_server_context(creds.both, suites=["TLS_AES_128_GCM_SHA256"])
    with pytest.raises(ValueError, match="OPENSSL_CONF"):  # two groups of three
        ssl_server_context(creds.both, groups=["x25519", "secp384r1"])
    ssl_server_context(creds.both, groups=["secp384r1"])  # one group: set_ecdh_curve
    with pytest.raises(ValueError) as caught:
        tlslite_settings(suites=["TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"])
    assert "TLS_AES_256_GCM_SHA384" in str(caught.value)
    assert "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in str(caught.value)
    only13 = tlslite_settings(suites=["TLS_AES_128_GCM_SHA256"])  # no 1.2 suite: no TLS 1.2
    assert only13.minVersion == only13.maxVersion == (3, 4)
    with pytest.raises(ValueError, match="unknown suites"):
        factory("ssl", creds.both, suites=["TLS_NULL_WITH_NULL_NULL"])
    with pytest.raises(ValueError, match="unknown foreign implementation"):
        factory("rustls", creds.both)
