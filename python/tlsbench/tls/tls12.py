"""What both sides of a TLS 1.2 handshake derive (RFC 5246 §6.3, §8.1, RFC 7627 §4).

Every derivation goes through the connection's provider: the master secret
(extended when both sides offered it), the key block and the Finished values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import Connection


@dataclass
class Tls12Secrets:
    """The randoms of both hellos, then the master secret and the keys of each direction.

    ``messages`` keeps every handshake message so far (references, no copies) for a
    CertificateVerify, which signs them all (RFC 5246 §7.4.8); ``add`` and ``send``
    put a message into it and into the transcript hash.
    """

    client_random: bytes
    server_random: bytes
    master_secret: bytes = field(default=b"", repr=False)
    client_write: tuple[bytes, bytes] = field(default=(b"", b""), repr=False)
    """(key, iv) protecting the client's records."""
    server_write: tuple[bytes, bytes] = field(default=(b"", b""), repr=False)
    """(key, iv) protecting the server's records."""
    messages: list[bytes] = field(default_factory=list, repr=False)

    def add(self, conn: Connection, raw: bytes) -> None:
        """A message received: into the transcript and ``messages``."""
        conn.transcript.add(raw)
        self.messages.append(raw)

    def send(self, conn: Connection, raw: bytes) -> None:
        """A message of ours: queued, into the transcript and ``messages``."""
        conn.send_handshake(raw)
        self.messages.append(raw)

    def derive(self, conn: Connection, pre_master_secret: bytes) -> None:
        """Master secret and key block, once ClientKeyExchange is in the transcript."""
        crypto = conn.crypto
        if conn.extended_master_secret:
            # RFC 7627 §4: the session hash covers ClientHello through ClientKeyExchange.
            self.master_secret = crypto.tls12_extended_master_secret(
                conn.hash_name, pre_master_secret, conn.transcript.digest()
            )
        else:  # RFC 5246 §8.1
            self.master_secret = crypto.tls12_master_secret(
                conn.hash_name, pre_master_secret, self.client_random, self.server_random
            )
        self.key_block(conn)

    def resume(self, conn: Connection, master_secret: bytes) -> None:
        """§7.3 abbreviated handshake: the session's master secret, keys from the new randoms."""
        self.master_secret = master_secret
        self.key_block(conn)

    def key_block(self, conn: Connection) -> None:
        """Both directions' keys and IVs from the master secret and the randoms (§6.3)."""
        client_key, server_key, client_iv, server_iv = conn.crypto.tls12_key_block(
            int(conn.suite), self.master_secret, self.client_random, self.server_random
        )
        self.client_write = (client_key, client_iv)
        self.server_write = (server_key, server_iv)

    def expected_verify_data(self, conn: Connection, label: bytes) -> bytes:
        """The peer's Finished as it should be, over the transcript so far (§7.4.9)."""
        return conn.crypto.tls12_verify_data(
            conn.hash_name, self.master_secret, label, conn.transcript.digest()
        )
