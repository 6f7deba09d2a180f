"""`Retry`: the policy for sending a request again, and `send_with_retries`, which applies it.

The rules, in the order the driver asks them:

1. A request whose body cannot be sent again (`request.replayable` is False: a stream was
   consumed) is never retried.
2. A connection error (`ConnectError`, `ConnectTimeout`) means the request never reached the
   server, so any method is retried; it counts against `connect` and `total`. Except a
   `TLSError` whose reason is a refusal -- a certificate that is untrusted, expired or for
   another host, or no TLS version in common ("protocol"): that is how the server (or the
   client) is configured, and it would fail the same way again. A TLS handshake that failed
   otherwise (reason "handshake": a reset, garbage) is retried as any connection error.
3. An error once the request may have reached the server (`ReadError`, `ReadTimeout`,
   `WriteError`, `WriteTimeout`, `RemoteProtocolError`) is retried only for a method in
   `allowed_methods`: RFC 9110 §9.2.2, "a user agent SHOULD NOT automatically retry a request
   with a non-idempotent method unless it has some means to know that the request semantics
   are actually idempotent". It counts against `read` and `total`.
4. A response whose status is in `status_forcelist`, for a method in `allowed_methods`, is
   closed and the request sent again; it counts against `status` and `total`. When the
   retries are used up the last response is returned, not raised: the caller decides, with
   `raise_for_status()`.
5. Nothing else is retried: a `ProxyError` or a refusing `TLSError` (see 2), `PoolTimeout`
   (the pool is saturated; another wait only adds load), `LocalProtocolError` and `InvalidURL`
   (the same request fails the same way), `DecodingError`, `TooManyRedirects`, cancellation,
   and any exception that is not aioreq's.

Before each retry the driver waits: the backoff (see `Retry.backoff`), or the response's
Retry-After when that is longer. A Retry-After longer than `retry_after_max`, or a wait that
would end past the caller's deadline, is not waited for: the response is returned, or the
error raised, at once.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime
import random
import re
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TLSError,
    WriteError,
    WriteTimeout,
)
from ._models import Request, Response

__all__ = ["Retry", "parse_retry_after", "send_with_retries"]

# The deadline is a time.monotonic() value (a name of this module, so tests can move the clock).
_now = time.monotonic

# The request never reached the server.
_CONNECT_ERRORS = (ConnectError, ConnectTimeout)
# The request may have reached the server (and had its effect there).
_READ_ERRORS = (ReadError, ReadTimeout, WriteError, WriteTimeout, RemoteProtocolError)

_IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))


@dataclass(frozen=True)
class Retry:
    """When and how often a request is sent again; `aioreq.Retry`.

    Attributes:
        total: the most retries in all (0: none).
        connect: the most retries after a connection error (None: only `total` bounds them).
        read: the most retries after an error once the request may have reached the server.
        status: the most retries after a response whose status is in `status_forcelist`.
        status_forcelist: the statuses that are retried (for a method in `allowed_methods`).
        allowed_methods: the methods retried after the request may have reached the server;
            the idempotent ones of RFC 9110 §9.2.2 by default. Upper-cased.
        backoff_factor: the scale of the exponential backoff, in seconds (see `backoff`).
        backoff_max: the longest backoff, in seconds (before jitter).
        jitter: up to this many seconds of random extra delay.
        respect_retry_after: wait as long as a retried response's Retry-After asks, when that
            is longer than the backoff.
        retry_after_max: a longer Retry-After is not waited for: the response is returned.

    Raises:
        ValueError: a negative count, factor or duration.
        TypeError: `allowed_methods` or `status_forcelist` is a single string.
    """

    total: int = 3
    connect: int | None = None
    read: int | None = None
    status: int | None = None
    status_forcelist: Collection[int] = frozenset({429, 502, 503, 504})
    allowed_methods: Collection[str] = _IDEMPOTENT
    backoff_factor: float = 0.0
    backoff_max: float = 120.0
    jitter: float = 0.0
    respect_retry_after: bool = True
    retry_after_max: float = 300.0

    def __post_init__(self) -> None:
        for name in ("total", "connect", "read", "status"):
            count = getattr(self, name)
            if count is not None and count < 0:
                raise ValueError(f"Retry {name}={count!r} is negative")
        for name in ("backoff_factor", "backoff_max", "jitter", "retry_after_max"):
            value = getattr(self, name)
            if not value >= 0:  # NaN fails this too
                raise ValueError(f"Retry {name}={value!r} is not a non-negative number")
        # A lone string is a collection of its characters: "GET" would allow "G", "E" and "T".
        if isinstance(self.allowed_methods, (str, bytes)):
            raise TypeError(
                f"Retry allowed_methods={self.allowed_methods!r} is a string, not a collection "
                "of method names"
            )
        if isinstance(self.status_forcelist, (str, bytes)):
            raise TypeError(
                f"Retry status_forcelist={self.status_forcelist!r} is a string, not a "
                "collection of status codes"
            )
        methods = frozenset(method.upper() for method in self.allowed_methods)
        object.__setattr__(self, "allowed_methods", methods)
        object.__setattr__(self, "status_forcelist", frozenset(self.status_forcelist))

    @classmethod
    def coerce(cls, value: object) -> Retry | None:
        """The policy a `retries=` argument asks for.

        None, 0 and False mean no retries (None); True the default policy; an int n is
        `Retry(total=n)`; a `Retry` is returned as it is.

        Raises:
            TypeError: any other value.
            ValueError: a negative int.
        """
        if value is None or value is False or value is True:
            return cls() if value else None
        if isinstance(value, Retry):
            return value
        if isinstance(value, int):
            return cls(total=value) if value else None
        raise TypeError(f"retries must be a Retry, an int or None, not {value!r}")

    def backoff(self, failures: int) -> float:
        """The seconds to wait before the retry that follows `failures` consecutive failures.

        As urllib3 2.x (`Retry.get_backoff_time`) computes it, from the count n of consecutive
        failed attempts: no wait before the first retry (n = 1), then
        `backoff_factor * 2 ** (n - 1)`, capped at `backoff_max`, plus
        `random.uniform(0, jitter)`. For backoff_factor=0.5 and no jitter:

        | retry | n | wait (s) |
        | ----- | - | -------- |
        | 1st   | 1 | 0        |
        | 2nd   | 2 | 1.0      |
        | 3rd   | 3 | 2.0      |
        | 4th   | 4 | 4.0      |
        | 5th   | 5 | 8.0      |

        One difference from urllib3: the jitter is added after the cap, not before it, so
        clients that all reached `backoff_max` are still spread apart.
        """
        if failures <= 1:
            return 0.0
        # The exponent is bounded: 2.0 ** 1024 raises OverflowError (a product past it is inf).
        wait = min(self.backoff_max, self.backoff_factor * 2.0 ** min(failures - 1, 1000))
        if self.jitter:
            # Spreading clients apart, not cryptography.
            wait += random.uniform(0.0, self.jitter)  # noqa: S311
        return wait


# -- Retry-After ---------------------------------------------------------------------------------

# RFC 9110 §5.6.7: "A recipient that parses a timestamp value in an HTTP field MUST accept all
# three HTTP-date formats." Names and spaces are matched leniently ("Recipients of timestamp
# values are encouraged to be robust in parsing timestamps"); the day name is not checked
# against the date.
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_TIME = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
_DAY_NAME = "(?:mon|tue|wed|thu|fri|sat|sun)"
_DAY_NAME_LONG = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_FLAGS = re.ASCII | re.IGNORECASE
# IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE = re.compile(
    rf"{_DAY_NAME},\s*(?P<day>[0-9]{{1,2}})\s+{_MONTH}\s+(?P<year>[0-9]{{4}})\s+{_TIME}\s+GMT",
    _FLAGS,
)
# obsolete RFC 850 format: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850_DATE = re.compile(
    rf"{_DAY_NAME_LONG},\s*(?P<day>[0-9]{{1,2}})-{_MONTH}-(?P<year>[0-9]{{2}})\s+{_TIME}\s+GMT",
    _FLAGS,
)
# ANSI C's asctime() format: Sun Nov  6 08:49:37 1994
_ASCTIME_DATE = re.compile(
    rf"{_DAY_NAME}\s+{_MONTH}\s+(?P<day>[0-9]{{1,2}})\s+{_TIME}\s+(?P<year>[0-9]{{4}})", _FLAGS
)


def _full_year(two_digits: int, now: float) -> int:
    """The year an RFC 850 date's two digits stand for, seen from `now`.

    RFC 9110 §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a
    two-digit year, MUST interpret a timestamp that appears to be more than 50 years in the
    future as representing the most recent year in the past that had the same last two
    digits." The year is taken from the century around `now`: the one of the hundred years
    from 49 years ago to 50 years ahead that ends in those digits (never more than 50 years
    ahead, as that rule requires, and the nearest otherwise). email.utils pivots at 69
    instead, whatever the date.
    """
    this_year = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).year
    year = this_year - this_year % 100 + two_digits
    if year > this_year + 50:
        year -= 100
    elif year <= this_year - 50:
        year += 100
    return year


def _parse_http_date(value: str, now: float) -> float | None:
    """The POSIX timestamp of an HTTP-date in any of its three formats; None if it is not one."""
    for pattern in (_IMF_FIXDATE, _RFC850_DATE, _ASCTIME_DATE):
        match = pattern.fullmatch(value)
        if match is not None:
            break
    else:
        return None
    year = int(match["year"])
    if pattern is _RFC850_DATE:
        year = _full_year(year, now)
    fields = (
        year,
        _MONTHS[match["month"].lower()],
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"]),
    )
    try:
        # Checks the day of the month and the clock; second 60 is a leap second (RFC 9110
        # §5.6.7), which datetime refuses and timegm counts as the next minute's 00.
        datetime.datetime(*fields[:5], min(fields[5], 59))
    except ValueError:
        return None
    return float(calendar.timegm(fields))


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """The seconds a Retry-After field value asks to wait.

    RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`, where `delay-seconds =
    1*DIGIT` is "a non-negative decimal integer, representing time in seconds". An HTTP-date
    may be in any of the three formats of RFC 9110 §5.6.7 (IMF-fixdate, RFC 850, asctime).

    Args:
        value: the field value.
        now: the current time as a POSIX timestamp, for a date (`time.time()` by default).

    Returns:
        The seconds to wait (0 for a date in the past), or None when the value is neither
        form.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)  # a huge delay becomes inf, not an OverflowError
    if now is None:
        now = time.time()
    when = _parse_http_date(value, now)
    if when is None:
        return None
    return max(0.0, when - now)


# -- the driver ----------------------------------------------------------------------------------


def _past(deadline: float | None, delay: float) -> bool:
    """Whether a wait of `delay` seconds would end past the deadline."""
    return deadline is not None and _now() + delay > deadline


def _over(limit: int | None, count: int) -> bool:
    """Whether `count` retries of one kind exceed that kind's limit (None: no limit of its own)."""
    return limit is not None and count > limit


async def send_with_retries(
    retry: Retry,
    request: Request,
    send: Callable[[Request], Awaitable[Response]],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    deadline: float | None = None,
) -> Response:
    """Send a request with `send`, sending it again as `retry` allows (see the module's rules).

    Args:
        retry: the policy.
        request: the request; sent as it is each time.
        send: sends one attempt and returns its response.
        sleep: waits between attempts (`asyncio.sleep`; tests pass a recorder).
        deadline: a `time.monotonic()` value that no wait may end past: the error is raised,
            or the response returned, instead.

    Returns:
        The first response that is not retried, or the last one when the retries are used up.

    Raises:
        The last error of `send` when it is not retried or the retries are used up; anything
        `sleep` raises (cancellation).
    """
    allowed = request.method in retry.allowed_methods
    replayable = request.replayable
    # Retries made so far, in all and of each kind. Every attempt before the current one
    # failed, so the backoff before retry number made + 1 sees made + 1 failures in a row.
    made = connects = reads = statuses = 0
    while True:
        try:
            response = await send(request)
        except ProxyError:
            raise  # the proxy's refusal (407, 403...) would only come again
        except _CONNECT_ERRORS as exc:
            if isinstance(exc, TLSError) and exc.reason != "handshake":
                raise  # a refused certificate or protocol would only be refused again
            connects += 1
            if not replayable or made >= retry.total or _over(retry.connect, connects):
                raise
            delay = retry.backoff(made + 1)
            if _past(deadline, delay):
                raise
        except _READ_ERRORS:
            reads += 1
            if not allowed or not replayable or made >= retry.total or _over(retry.read, reads):
                raise
            delay = retry.backoff(made + 1)
            if _past(deadline, delay):
                raise
        else:
            if response.status not in retry.status_forcelist or not allowed or not replayable:
                return response
            statuses += 1
            if made >= retry.total or _over(retry.status, statuses):
                return response
            delay = retry.backoff(made + 1)
            if retry.respect_retry_after:
                field = response.headers.get("retry-after")
                asked = parse_retry_after(field) if field is not None else None
                if asked is not None:
                    if asked > retry.retry_after_max:
                        return response
                    delay = max(delay, asked)
            if _past(deadline, delay):
                return response
            await response.aclose()
        made += 1
        await sleep(delay)
