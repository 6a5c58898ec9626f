"""Alerts (RFC 8446 §6) and the error that makes the engine send one."""

from __future__ import annotations

from dataclasses import dataclass

from tlsbench.errors import TlsError

from .constants import AlertDescription, AlertLevel


class ProtocolError(TlsError):
    """A violation detected locally: the connection ends with ``alert``."""

    def __init__(self, alert: AlertDescription, message: str = "") -> None:
        super().__init__(message or alert.name.lower())
        self.alert = alert
        self.description = AlertDescription(alert)


_NAMES = {int(a): a.name.lower() for a in AlertDescription}
_LEVELS = frozenset((AlertLevel.WARNING, AlertLevel.FATAL))
_CLOSURES = frozenset((AlertDescription.CLOSE_NOTIFY, AlertDescription.USER_CANCELED))


def describe(code: int) -> str:
    """The RFC name of an alert code, or its number when unknown."""
    name = _NAMES.get(code)
    return name if name is not None else f"alert_{code}"


@dataclass(frozen=True)
class Alert:
    """One alert message: level and description (RFC 8446 §6)."""

    level: int
    description: int

    def encode(self) -> bytes:
        """The two bytes on the wire."""
        return bytes((self.level, self.description))

    @classmethod
    def decode(cls, data: bytes) -> Alert:
        """Decode exactly one alert; §5.1 forbids fragmenting or coalescing them."""
        if len(data) != 2:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "alert record is not 2 bytes")
        if data[0] not in _LEVELS:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "unknown alert level")
        return cls(data[0], data[1])

    @property
    def is_closure(self) -> bool:
        """close_notify and user_canceled are closure alerts (§6.1); all others are fatal."""
        return self.description in _CLOSURES
