"""Signatures: TLS 1.3 CertificateVerify (RFC 8446 §4.4.3), TLS 1.2 ServerKeyExchange.

In TLS 1.2 (RFC 5246 §7.4.1.4.1) a scheme names a hash and a key type only: ECDSA
with SHA-384 may sign with a P-256 key, and RSASSA-PKCS1-v1_5 is allowed.
"""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .alerts import ProtocolError
from .certs import PrivateKey
from .constants import AlertDescription, SignatureScheme, scheme_of

_SERVER_CONTEXT = b"TLS 1.3, server CertificateVerify"
_CLIENT_CONTEXT = b"TLS 1.3, client CertificateVerify"

_PSS_HASH: dict[SignatureScheme, type[hashes.HashAlgorithm]] = {
    SignatureScheme.RSA_PSS_RSAE_SHA256: hashes.SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384: hashes.SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512: hashes.SHA512,
}
_ECDSA: dict[SignatureScheme, tuple[type[ec.EllipticCurve], type[hashes.HashAlgorithm]]] = {
    SignatureScheme.ECDSA_SECP256R1_SHA256: (ec.SECP256R1, hashes.SHA256),
    SignatureScheme.ECDSA_SECP384R1_SHA384: (ec.SECP384R1, hashes.SHA384),
}
# §4.4.3: RSASSA-PKCS1-v1_5 may appear in certificates but never in CertificateVerify.
CERTIFICATE_VERIFY_SCHEMES = frozenset(_PSS_HASH) | frozenset(_ECDSA)


@functools.cache
def _ecdsa(ecdsa: type[ec.ECDSA], hash_type: type[hashes.HashAlgorithm]) -> ec.ECDSA:
    """pyca's ECDSA algorithm object, made once (~4 µs a signature otherwise). Keyed by
    the class as well, so that a replaced ``ec.ECDSA`` (icount's deterministic one) holds."""
    return ecdsa(hash_type())


def signed_content(transcript_hash: bytes, server: bool) -> bytes:
    """64 spaces, the context string, a zero byte and the transcript hash (§4.4.3)."""
    return b" " * 64 + (_SERVER_CONTEXT if server else _CLIENT_CONTEXT) + b"\x00" + transcript_hash


def _pss(hash_type: type[hashes.HashAlgorithm]) -> padding.PSS:
    # §4.2.3: the salt is as long as the digest.
    algorithm = hash_type()
    return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)


def schemes_for_key(key: PrivateKey) -> list[SignatureScheme]:
    """The schemes this key can sign CertificateVerify with, best first."""
    if isinstance(key, rsa.RSAPrivateKey):
        return list(_PSS_HASH)
    return [s for s, (curve, _) in _ECDSA.items() if isinstance(key.curve, curve)]


def sign(
    key: PrivateKey, scheme: SignatureScheme, transcript_hash: bytes, server: bool = True
) -> bytes:
    """Sign the CertificateVerify content with ``scheme``."""
    content = signed_content(transcript_hash, server)
    if scheme in _PSS_HASH and isinstance(key, rsa.RSAPrivateKey):
        hash_type = _PSS_HASH[scheme]
        return key.sign(content, _pss(hash_type), hash_type())
    if scheme in _ECDSA and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(content, _ecdsa(ec.ECDSA, _ECDSA[scheme][1]))
    raise ValueError(f"cannot sign {scheme!r} with this key")


def verify(
    public_key: CertificatePublicKeyTypes,
    scheme: int,
    signature: bytes,
    transcript_hash: bytes,
    server: bool = True,
) -> None:
    """Check a CertificateVerify; a scheme that does not fit the key is illegal_parameter."""
    content = signed_content(transcript_hash, server)
    try:
        if scheme in _PSS_HASH and isinstance(public_key, rsa.RSAPublicKey):
            hash_type = _PSS_HASH[scheme_of(scheme)]
            public_key.verify(signature, content, _pss(hash_type), hash_type())
            return
        if scheme in _ECDSA and isinstance(public_key, ec.EllipticCurvePublicKey):
            curve, hash_type = _ECDSA[scheme_of(scheme)]
            if not isinstance(public_key.curve, curve):
                raise ProtocolError(
                    AlertDescription.ILLEGAL_PARAMETER, "ECDSA scheme for another curve"
                )
            public_key.verify(signature, content, _ecdsa(ec.ECDSA, hash_type))
            return
    except InvalidSignature:
        raise ProtocolError(
            AlertDescription.DECRYPT_ERROR, "CertificateVerify signature is wrong"
        ) from None
    raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "signature scheme does not fit the key")


_PKCS1_HASH: dict[SignatureScheme, type[hashes.HashAlgorithm]] = {
    SignatureScheme.RSA_PKCS1_SHA256: hashes.SHA256,
    SignatureScheme.RSA_PKCS1_SHA384: hashes.SHA384,
    SignatureScheme.RSA_PKCS1_SHA512: hashes.SHA512,
}
_ECDSA_HASH_TLS12: dict[SignatureScheme, type[hashes.HashAlgorithm]] = {
    SignatureScheme.ECDSA_SECP256R1_SHA256: hashes.SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384: hashes.SHA384,
}
TLS12_SCHEMES = frozenset(_PSS_HASH) | frozenset(_PKCS1_HASH) | frozenset(_ECDSA_HASH_TLS12)


def schemes_for_key_tls12(key: PrivateKey) -> list[SignatureScheme]:
    """The schemes this key can sign a TLS 1.2 ServerKeyExchange with, best first."""
    if isinstance(key, rsa.RSAPrivateKey):
        return [*_PSS_HASH, *_PKCS1_HASH]
    # The hash that matches the curve first, as OpenSSL does.
    own = [s for s, (curve, _) in _ECDSA.items() if isinstance(key.curve, curve)]
    return own + [s for s in _ECDSA_HASH_TLS12 if s not in own]


def sign_tls12(key: PrivateKey, scheme: SignatureScheme, content: bytes) -> bytes:
    """Sign ``content`` (the ServerKeyExchange's randoms and parameters) with ``scheme``."""
    if isinstance(key, rsa.RSAPrivateKey):
        if scheme in _PSS_HASH:
            return key.sign(content, _pss(_PSS_HASH[scheme]), _PSS_HASH[scheme]())
        if scheme in _PKCS1_HASH:
            return key.sign(content, padding.PKCS1v15(), _PKCS1_HASH[scheme]())
    if isinstance(key, ec.EllipticCurvePrivateKey) and scheme in _ECDSA_HASH_TLS12:
        return key.sign(content, _ecdsa(ec.ECDSA, _ECDSA_HASH_TLS12[scheme]))
    raise ValueError(f"cannot sign {scheme!r} with this key")


def verify_tls12(
    public_key: CertificatePublicKeyTypes, scheme: int, signature: bytes, content: bytes
) -> None:
    """Check a ServerKeyExchange signature: decrypt_error if wrong (RFC 5246 §7.2.2)."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if scheme in _PSS_HASH:
                hash_type = _PSS_HASH[scheme_of(scheme)]
                public_key.verify(signature, content, _pss(hash_type), hash_type())
                return
            if scheme in _PKCS1_HASH:
                hash_type = _PKCS1_HASH[scheme_of(scheme)]
                public_key.verify(signature, content, padding.PKCS1v15(), hash_type())
                return
        if isinstance(public_key, ec.EllipticCurvePublicKey) and scheme in _ECDSA_HASH_TLS12:
            hash_type = _ECDSA_HASH_TLS12[scheme_of(scheme)]
            public_key.verify(signature, content, _ecdsa(ec.ECDSA, hash_type))
            return
    except InvalidSignature:
        raise ProtocolError(
            AlertDescription.DECRYPT_ERROR, "ServerKeyExchange signature is wrong"
        ) from None
    raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "signature scheme does not fit the key")
