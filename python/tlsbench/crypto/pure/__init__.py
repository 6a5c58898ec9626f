"""Pure-Python AEAD ciphers (stdlib only): the ``python`` provider's baseline.

``AESGCM`` and ``ChaCha20Poly1305`` take the same arguments as the classes of
the same names in pyca ``cryptography`` and raise ``tlsbench.errors.BadRecordMac``
when a tag does not verify.
"""

from __future__ import annotations

from tlsbench.crypto.pure.chacha20poly1305 import ChaCha20Poly1305
from tlsbench.crypto.pure.gcm import AESGCM

__all__ = ["AESGCM", "ChaCha20Poly1305"]
