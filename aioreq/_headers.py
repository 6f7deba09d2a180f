"""`Headers`: the case-insensitive, multi-valued mapping of a message's fields.

Shared by the client's responses and the server's requests. Field names compare without regard
to case (RFC 9110 §5.1) and keep the case they were given; a field may occur more than once, and
the order of the lines is kept (RFC 9110 §5.3: the order of a repeated field's lines matters).

Names and values are text. Bytes from the wire are decoded as ASCII, or UTF-8, or ISO-8859-1 (in
that order, per value), so no received value fails to decode; `raw` gives the bytes as sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Union

__all__ = ["Headers", "HeadersLike", "set_fields"]

HeadersLike = Union[
    "Headers",
    Mapping[str, str],
    Mapping[bytes, bytes],
    Iterable[tuple[str, str]],
    Iterable[tuple[bytes, bytes]],
]


def _text(value: str | bytes) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("iso-8859-1")


def _wire(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        return value.encode("utf-8")


class Headers(MutableMapping[str, str]):
    """A case-insensitive multi-dict of header fields, in the order they came.

    `headers["Content-Type"]` gives the value (several lines of one field joined with ", ", as
    RFC 9110 §5.3 allows, except Set-Cookie, which cannot be joined: use `get_all`).
    Assigning replaces every line of the field; `add` appends one more.

    Args:
        headers: a mapping or an iterable of (name, value) pairs, as str or bytes.
    """

    __slots__ = ("_items", "_raw")

    def __init__(self, headers: HeadersLike | None = None) -> None:
        self._raw: list[tuple[bytes, bytes]] | None = None
        self._items: list[tuple[str, str]] = []
        if headers is None:
            return
        if isinstance(headers, Headers):
            self._items = list(headers._items)
            return
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self._items = [(_text(name), _text(value)) for name, value in pairs]

    @classmethod
    def from_raw(cls, fields: list[tuple[bytes, bytes]]) -> Headers:
        """Headers over parsed field lines (decoded now, the bytes kept for `raw`)."""
        headers = cls.__new__(cls)
        headers._raw = fields
        headers._items = [(_text(name), _text(value)) for name, value in fields]
        return headers

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The field lines as bytes, in order."""
        if self._raw is None:
            self._raw = [(_wire(name), _wire(value)) for name, value in self._items]
        return self._raw

    def get_all(self, name: str) -> list[str]:
        """Every value of the field `name`, one per line, in order ([] when absent)."""
        key = name.lower()
        return [value for item, value in self._items if item.lower() == key]

    getall = get_all

    def add(self, name: str, value: str) -> None:
        """Append one more line of the field `name`."""
        self._items.append((name, value))
        self._raw = None

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) line, names as given, repeated fields repeated."""
        return list(self._items)

    def copy(self) -> Headers:
        """A shallow copy."""
        return Headers(self)

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        if len(values) == 1:
            return values[0]
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        key = name.lower()
        items = self._items
        for index, (item, _) in enumerate(items):
            if item.lower() == key:
                items[index] = (name, value)
                items[index + 1 :] = [pair for pair in items[index + 1 :] if pair[0].lower() != key]
                break
        else:
            items.append((name, value))
        self._raw = None

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        kept = [pair for pair in self._items if pair[0].lower() != key]
        if len(kept) == len(self._items):
            raise KeyError(name)
        self._items = kept
        self._raw = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return any(item.lower() == key for item, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        """Each field name once, lowercased, in the order of first appearance."""
        return iter({name.lower(): None for name, _ in self._items})

    def __len__(self) -> int:
        return len({name.lower() for name, _ in self._items})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            mine, theirs = self._items, other._items
        elif isinstance(other, (Mapping, list, tuple)):
            try:
                theirs = Headers(other)._items
            except (TypeError, ValueError):
                return NotImplemented
            mine = self._items
        else:
            return NotImplemented
        return sorted((n.lower(), v) for n, v in mine) == sorted((n.lower(), v) for n, v in theirs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def set_fields(target: Headers, headers: HeadersLike) -> None:
    """Set the fields of `headers` on `target`: each name's lines replace the ones `target`
    had of that name, and a name given several times keeps every line (unlike assigning)."""
    given = headers if isinstance(headers, Headers) else Headers(headers)
    names = {name.lower() for name, _ in given._items}
    kept = [pair for pair in target._items if pair[0].lower() not in names]
    target._items = kept + given._items
    target._raw = None
