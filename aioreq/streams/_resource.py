"""`AsyncResource`: something to close, as an async context manager."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncResource"]


_R = TypeVar("_R", bound="AsyncResource")


class AsyncResource:
    """Something closed with `await x.aclose()`, and so usable as `async with x:`."""

    __slots__ = ()

    async def aclose(self) -> None:
        """Release the resource."""
        raise NotImplementedError

    async def __aenter__(self: _R) -> _R:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
