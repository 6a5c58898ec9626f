"""Key exchange: (EC)DHE shares (RFC 8446 §4.2.8, §7.4; RFC 8422 §5.10 for TLS 1.2)
and the TLS 1.2 RSA-encrypted pre-master secret (RFC 5246 §7.4.7.1)."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .alerts import ProtocolError
from .constants import AlertDescription, NamedGroup

_CURVES: dict[NamedGroup, type[ec.EllipticCurve]] = {
    NamedGroup.SECP256R1: ec.SECP256R1,
    NamedGroup.SECP384R1: ec.SECP384R1,
}


def _bad_share(message: str) -> ProtocolError:
    return ProtocolError(AlertDescription.ILLEGAL_PARAMETER, message)


class KeyShare:
    """Our ephemeral private key for one group and its public ``key_exchange`` value."""

    def __init__(self, group: NamedGroup) -> None:
        self.group = group
        if group == NamedGroup.X25519:
            self._x25519: x25519.X25519PrivateKey | None = x25519.X25519PrivateKey.generate()
            self._ec: ec.EllipticCurvePrivateKey | None = None
            self.public = self._x25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        elif group in _CURVES:
            self._x25519 = None
            self._ec = ec.generate_private_key(_CURVES[group]())
            # §4.2.8.2: the uncompressed point form, 0x04 || X || Y.
            self.public = self._ec.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
        else:
            raise ValueError(f"unsupported group {group!r}")

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with the peer's value; a malformed value is illegal_parameter."""
        if self._x25519 is not None:
            # §4.2.8.2 / RFC 7748 §6.1: 32 bytes, and an all-zero result is refused (§7.4.2).
            if len(peer_public) != 32:
                raise _bad_share("x25519 share is not 32 bytes")
            try:
                shared = self._x25519.exchange(
                    x25519.X25519PublicKey.from_public_bytes(peer_public)
                )
            except ValueError:
                raise _bad_share("x25519 share gives an all-zero secret") from None
            if not any(shared):
                raise _bad_share("x25519 share gives an all-zero secret")
            return shared
        assert self._ec is not None
        curve = _CURVES[self.group]()
        size = (curve.key_size + 7) // 8
        if len(peer_public) != 1 + 2 * size or peer_public[0] != 4:
            raise _bad_share("EC share is not an uncompressed point")
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, peer_public)
        except ValueError:
            raise _bad_share("EC share is not a point on the curve") from None
        # §7.4.2: the shared secret is the x-coordinate, as ECDH returns it.
        return self._ec.exchange(ec.ECDH(), peer)


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
