"""What one benchmark case is: implementations, protocol parameters, workload, bounds.

Names follow DESIGN.md: implementations ``rust``, ``python``, ``cryptography`` (our
engine on that provider), ``ssl`` (Python's stdlib, i.e. OpenSSL) and ``tlslite``
(tlslite-ng); suites are IANA names; groups ``x25519``, ``secp256r1``, ``secp384r1``;
certificates ``rsa2048`` or ``ecdsa-p256``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

IMPLS = ("rust", "python", "cryptography", "ssl", "tlslite")
OUR_IMPLS = ("rust", "python", "cryptography")
REFERENCES = ("tcp",)
"""`run --impl` only, never a default: ``tcp`` is plain TCP through Python sockets, the same
workloads with no TLS (what the socket path costs alone; pairs only with itself)."""
VERSIONS = ("1.2", "1.3")
GROUPS = ("x25519", "secp256r1", "secp384r1")
CERTS = ("rsa2048", "ecdsa-p256")
WORKLOADS = ("handshake", "bulk")
"""The default matrix's workloads."""
ALL_WORKLOADS = (*WORKLOADS, "resume")
"""Every workload; ``resume`` (each connection resumes a session) only when asked for."""
RESUMPTIONS = ("tickets", "session-id")
"""How a TLS 1.2 ``resume`` case resumes (TLS 1.3 always uses tickets)."""
TRANSPORTS = ("tcp", "memory")

TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
# TLS 1.2 suites: IANA name -> OpenSSL name (for ``ssl``).
TLS12_SUITES = {
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
ALL_SUITES = (*TLS13_SUITES, *TLS12_SUITES)

# Bulk bytes per connection are capped for the slow implementations (a per-implementation
# byte budget): the pure-Python provider moves ~15 MB/s, tlslite-ng ~0.4 MB/s.
BULK_CAP = {"python": 1 << 20, "tlslite": 64 << 10}


def suite_version(suite: str) -> str:
    """ "1.3" or "1.2" for a known suite name; ValueError otherwise."""
    if suite in TLS13_SUITES:
        return "1.3"
    if suite in TLS12_SUITES:
        return "1.2"
    raise ValueError(f"unknown suite {suite!r} (known: {', '.join(ALL_SUITES)})")


def default_suite(tls: str, cert: str) -> str:
    """AES-128-GCM with ECDHE, signed with the certificate's key kind."""
    if tls == "1.3":
        return "TLS_AES_128_GCM_SHA256"
    if cert == "rsa2048":
        return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


def suite_fits(suite: str, cert: str) -> bool:
    """Whether a TLS 1.2 suite can be used with a certificate kind (1.3 suites always can)."""
    if suite in TLS13_SUITES:
        return True
    if "_ECDSA_" in suite:
        return cert == "ecdsa-p256"
    return cert == "rsa2048"


def kx_label(suite: str) -> str:
    """Key exchange of a suite, for tables: ``ecdhe``, ``rsa`` (TLS 1.2 only) or ``tls13``."""
    if suite in TLS13_SUITES:
        return "tls13"
    return "rsa" if suite.startswith("TLS_RSA_") else "ecdhe"


@dataclass(frozen=True)
class Tls:
    """Protocol parameters shared by client and server of a case, plus credential files."""

    version: str
    suite: str
    group: str
    cert: str
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    resumption: str = ""
    """``tickets`` or ``session-id`` for a resume case (servers then issue what it needs,
    clients offer it); empty: full handshakes only (no tickets issued)."""
    client_auth: bool = False
    """Servers require a client certificate (verified against ``ca_file``); clients send
    ``client_cert_file``."""


@dataclass(frozen=True)
class Case:
    """One benchmark case: who talks to whom, with what, doing what."""

    client_impl: str
    server_impl: str
    tls: str
    suite: str
    group: str
    cert: str
    workload: str
    transport: str = "tcp"
    bulk_bytes: int = 0
    record_size: int = 16384
    resumption: str = ""
    """``resume`` workload: ``tickets`` or ``session-id`` (TLS 1.2); empty otherwise."""
    client_auth: bool = False
    """Every server requires a client certificate."""

    def key(self) -> tuple[str, ...]:
        """What identifies the case across runs (for ``compare``)."""
        return (
            self.client_impl,
            self.server_impl,
            self.tls,
            self.suite,
            self.group,
            self.cert,
            self.workload,
            self.transport,
            str(self.record_size) if self.workload == "bulk" else "",
            *([self.resumption] if self.resumption else []),
            *(["mtls"] if self.client_auth else []),
        )

    @property
    def label(self) -> str:
        """``impl`` when both sides run it, else ``client:server``."""
        if self.client_impl == self.server_impl:
            return self.client_impl
        return f"{self.client_impl}:{self.server_impl}"


@dataclass
class Bounds:
    """How much to measure per repeat: a count or a duration, a time cap, the warm-up."""

    handshakes: int | None = None
    duration: float = 1.0
    budget: float = 10.0
    """Hard cap in seconds on one repeat's measurement, whatever the count."""
    warmup: float = 0.2
    """Seconds of unmeasured operations before each repeat (at least one operation)."""
    timeout: float = 10.0
    """Socket timeout per operation: slower is a timed-out connection."""


@dataclass
class WorkerSpec:
    """Everything a worker process needs, passed as JSON on its command line."""

    role: str
    """``server``, ``client`` or ``memory``."""
    case: Case
    tls: Tls
    bounds: Bounds
    port: int = 0
    reuse_port: bool = False
    ops: int | None = None
    """Operations for this client (its share of ``--handshakes``), None for duration-bound."""
    deadline: float = 60.0
    """The worker exits after this many seconds whatever happens."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (json.dumps-able)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerSpec:
        """The inverse of :meth:`to_json`."""
        return cls(
            role=data["role"],
            case=Case(**data["case"]),
            tls=Tls(**data["tls"]),
            bounds=Bounds(**data["bounds"]),
            port=data["port"],
            reuse_port=data["reuse_port"],
            ops=data["ops"],
            deadline=data["deadline"],
            extra=data["extra"],
        )
