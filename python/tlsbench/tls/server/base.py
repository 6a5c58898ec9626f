"""The server's common part: its config, its certificate and the hooks tests override."""

from __future__ import annotations

from ..connection import Connection
from ..constants import MAX_CLIENT_HELLO, TLS12, TLS13, SignatureScheme
from ..signatures import sign, sign_tls12
from .config import ServerConfig, spoken_versions


class ServerBase(Connection):
    """What every server state sees: the config, the chosen certificate and the hooks
    tests override; ``connection.ServerConnection`` adds the first state."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config.provider, config.middlebox_compat, config.max_handshake_message)
        if not config.certificate_chain:
            raise ValueError("a certificate chain is needed")
        if not config.versions or not set(config.versions) <= {TLS12, TLS13}:
            raise ValueError("versions must be a non-empty choice of TLS12 and TLS13")
        self.config = config
        self.ccs_sent = False
        self.spoken_versions = spoken_versions(config)
        """The versions this server negotiates: accepted, with a suite configured."""
        self.certificate = config.certificates[0]
        """The certificate this handshake presents (chosen with the suite)."""
        self._handshake.max_client_hello = MAX_CLIENT_HELLO

    def certificate_verify_signature(
        self, scheme: SignatureScheme, transcript_hash: bytes
    ) -> bytes:
        """Our CertificateVerify signature (§4.4.3); tests override it to inject faults."""
        return sign(self.certificate.key, scheme, transcript_hash, server=True)

    def finished_verify_data(self, finished_key: bytes) -> bytes:
        """verify_data of our Finished (§4.4.4); tests override it to inject faults."""
        return self.crypto.tls13_verify_data(self.hash_name, finished_key, self.transcript.digest())

    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        """verify_data of our TLS 1.2 Finished (RFC 5246 §7.4.9); tests override it."""
        return self.crypto.tls12_verify_data(
            self.hash_name, master_secret, b"server finished", self.transcript.digest()
        )

    def server_key_exchange_signature(self, scheme: SignatureScheme, content: bytes) -> bytes:
        """Our TLS 1.2 ServerKeyExchange signature (RFC 8422 §5.4); tests override it."""
        return sign_tls12(self.certificate.key, scheme, content)
