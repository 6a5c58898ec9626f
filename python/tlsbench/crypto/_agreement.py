"""(EC)DH key shares over pyca ``cryptography``, for the ``python`` and ``cryptography``
providers (the ``rust`` provider has its own in the core)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsbench.crypto.base import Buffer

X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018
_CURVES: dict[int, type[ec.EllipticCurve]] = {SECP256R1: ec.SECP256R1, SECP384R1: ec.SECP384R1}
_FIELD_LEN = {X25519: 32, SECP256R1: 32, SECP384R1: 48}


class KeyAgreement:
    """Our key of one named group (TLS code point) and its public ``key_exchange`` value;
    a fresh key unless ``private_key`` is given."""

    def __init__(self, group: int, private_key: Buffer | None = None) -> None:
        if group not in _FIELD_LEN:
            raise ValueError(f"unsupported group {group:#06x} (x25519, secp256r1, secp384r1)")
        self.group = group
        if private_key is not None and len(private_key) != _FIELD_LEN[group]:
            raise ValueError("private key has the wrong length")
        if group == X25519:
            self._ec: ec.EllipticCurvePrivateKey | None = None
            self._x25519 = (
                x25519.X25519PrivateKey.generate()
                if private_key is None
                else x25519.X25519PrivateKey.from_private_bytes(bytes(private_key))
            )
            self.public = self._x25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            return
        curve = _CURVES[group]()
        if private_key is None:
            self._ec = ec.generate_private_key(curve)
        else:
            try:
                self._ec = ec.derive_private_key(int.from_bytes(private_key, "big"), curve)
            except ValueError:
                raise ValueError("private key is not a scalar of the group") from None
        # RFC 8446 §4.2.8.2: the uncompressed point, 0x04 || X || Y.
        self.public = self._ec.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )

    def exchange(self, peer: Buffer) -> bytes:
        """The shared secret (x25519's 32 bytes, or the x-coordinate); ValueError if the
        peer's value is malformed, off the curve, or gives an all-zero secret."""
        peer = bytes(peer)
        if self._ec is None:
            if len(peer) != 32:
                raise ValueError("x25519 share is not 32 bytes")
            try:
                shared = self._x25519.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
            except ValueError:
                shared = b""
            if not any(shared):  # RFC 8446 §7.4.2, RFC 7748 §6.1
                raise ValueError("x25519 share gives an all-zero secret")
            return shared
        curve = _CURVES[self.group]()
        if len(peer) != 1 + 2 * _FIELD_LEN[self.group] or peer[0] != 4:
            raise ValueError("EC share is not an uncompressed point")
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(curve, peer)
        except ValueError:
            raise ValueError("EC share is not a point on the curve") from None
        return self._ec.exchange(ec.ECDH(), point)
