"""Key exchange: (EC)DHE shares (RFC 8446 §4.2.8, §7.4; RFC 8422 §5.10 for TLS 1.2)
and the TLS 1.2 RSA-encrypted pre-master secret (RFC 5246 §7.4.7.1)."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..crypto.base import Provider
from .alerts import ProtocolError
from .constants import AlertDescription, NamedGroup

_GROUPS = frozenset((NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1))


class KeyShare:
    """Our ephemeral private key for one group, made by the provider's ``KeyAgreement``,
    and its public ``key_exchange`` value."""

    def __init__(self, group: NamedGroup, provider: Provider) -> None:
        if group not in _GROUPS:
            raise ValueError(f"unsupported group {group!r}")
        self.group = group
        self._key = provider.KeyAgreement(int(group))
        self.public = self._key.public

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with the peer's value; a malformed value is illegal_parameter
        (§4.2.8.2: x25519's 32 bytes, else an uncompressed point on the curve; §7.4.2:
        an all-zero x25519 secret is refused)."""
        try:
            return self._key.exchange(peer_public)
        except ValueError as e:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, str(e)) from None


PRE_MASTER_SECRET_LENGTH = 48


def rsa_pre_master_secret(client_version: int) -> bytes:
    """§7.4.7.1: client_version (the ClientHello's, not the negotiated one) and 46 random bytes."""
    return client_version.to_bytes(2, "big") + os.urandom(PRE_MASTER_SECRET_LENGTH - 2)


def rsa_encrypt_pre_master_secret(public_key: rsa.RSAPublicKey, pre_master_secret: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 under the server certificate's key (§7.4.7.1)."""
    try:
        return public_key.encrypt(pre_master_secret, padding.PKCS1v15())
    except ValueError:  # a modulus too small to carry 48 bytes with PKCS#1 v1.5 padding
        raise ProtocolError(
            AlertDescription.UNSUPPORTED_CERTIFICATE, "RSA key too small for the pre-master secret"
        ) from None


def rsa_decrypt_pre_master_secret(
    private_key: rsa.RSAPrivateKey, encrypted: bytes, client_version: int
) -> bytes:
    """The pre-master secret, or 48 random bytes when it is not one (§7.4.7.1).

    The random secret is drawn before decrypting, and a padding failure, a wrong
    length and a wrong version all lead to it through the same steps, so the only
    visible outcome of a bad secret is a Finished that does not verify, like that
    of a well-formed but wrong one (Bleichenbacher's oracle closed).
    """
    fallback = os.urandom(PRE_MASTER_SECRET_LENGTH)
    try:
        # pyca's OpenSSL answers bad padding with a synthetic message (implicit
        # rejection) or ValueError; both end in the fallback below.
        decrypted = private_key.decrypt(encrypted, padding.PKCS1v15())
    except ValueError:
        decrypted = fallback[:2]
    well_formed = (len(decrypted) == PRE_MASTER_SECRET_LENGTH) & (
        decrypted[:2] == client_version.to_bytes(2, "big")
    )
    return decrypted if well_formed else fallback
