"""How long and how much: `Timeout` and `Limits`, the configuration objects of the client."""

from __future__ import annotations

from typing import Any

__all__ = ["Limits", "Timeout", "TimeoutTypes"]

_UNSET: Any = object()


class Timeout:
    """Deadlines for the phases of a request, in seconds (None: no deadline).

    `Timeout(5)` sets the four phases to 5 seconds; `Timeout(5, connect=1)` all but connect.
    `total` bounds the whole request, redirects and retries included, whatever the phases say
    (aiohttp has only a total, httpx only phases; a slow server that trickles a byte a second
    passes every phase deadline but not this one).

    Args:
        default: the value of every phase not given (default: connect 10, others 30).
        connect: opening the connection, TLS handshake included.
        read: waiting for each read of the response (the gap between two reads).
        write: waiting for each write of the request to be taken.
        pool: waiting for a free connection when the pool is at its limit.
        total: the whole request.
    """

    __slots__ = ("connect", "pool", "read", "total", "write")

    def __init__(
        self,
        default: float | None = _UNSET,
        *,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
        total: float | None = None,
    ) -> None:
        def pick(value: float | None, fallback: float) -> float | None:
            if value is not _UNSET:
                return value
            return fallback if default is _UNSET else default

        self.connect = pick(connect, 10.0)
        self.read = pick(read, 30.0)
        self.write = pick(write, 30.0)
        self.pool = pick(pool, 10.0)
        self.total = total
        for name in ("connect", "read", "write", "pool", "total"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"the {name} timeout must not be negative, not {value!r}")

    @classmethod
    def of(cls, value: TimeoutTypes) -> Timeout:
        """The Timeout a client or request argument stands for (a number sets every phase;
        None means no deadline at all)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(None)
        return cls(float(value))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeout):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, "
            f"pool={self.pool}, total={self.total})"
        )


TimeoutTypes = Timeout | float | None


class Limits:
    """How many connections a client keeps, and for how long.

    Args:
        max_connections: open connections in all (None: no limit).
        max_connections_per_host: open connections to one origin (None: only the total).
        keepalive_expiry: seconds an idle connection is kept for reuse.
    """

    __slots__ = ("keepalive_expiry", "max_connections", "max_connections_per_host")

    def __init__(
        self,
        *,
        max_connections: int | None = 100,
        max_connections_per_host: int | None = None,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        for name, value in (
            ("max_connections", max_connections),
            ("max_connections_per_host", max_connections_per_host),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value!r}")
        self.max_connections = max_connections
        self.max_connections_per_host = max_connections_per_host
        self.keepalive_expiry = keepalive_expiry

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Limits(max_connections={self.max_connections}, "
            f"max_connections_per_host={self.max_connections_per_host}, "
            f"keepalive_expiry={self.keepalive_expiry})"
        )
