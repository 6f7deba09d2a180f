"""The retry policy, `aioreq.client._retry`: pure, against a scripted `send` and a fake clock.

Connection errors are retried for any method, errors after the request may have reached the
server only for idempotent ones, forced statuses only for idempotent ones, and nothing else;
each kind has its own count under `total`; the waits follow urllib3's backoff, lengthened by
Retry-After; and no wait ends past the deadline.
"""

from __future__ import annotations

import asyncio
import calendar
import math
import random
import time
from collections.abc import AsyncGenerator
from email.utils import formatdate
from typing import Any

import pytest

from aioreq import _exceptions as exc
from aioreq.client import _retry
from aioreq.client._models import Request, Response
from aioreq.client._retry import Retry, parse_retry_after, send_with_retries
from aioreq.client._urls import parse_url

URL = parse_url("http://example.test/resource")
# Sunday, 6 November 1994, 08:49:00 GMT: the date RFC 9110's examples use, less 37 seconds.
NOW = float(calendar.timegm((1994, 11, 6, 8, 49, 0)))


def make_request(method: str = "GET", content: Any = b"") -> Request:
    return Request(method, URL, [], content)


async def _no_body() -> AsyncGenerator[bytes, None]:
    chunks: list[bytes] = []
    for chunk in chunks:
        yield chunk  # pragma: no cover - never reached: the body is empty


class Script:
    """A `send` that plays outcomes in order: an exception is raised, a status is answered.

    Each response is streamed, so closing it is seen: `closed` holds the responses whose
    connection was released.
    """

    def __init__(self, *outcomes: BaseException | int | tuple[int, str]) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.responses: list[Response] = []
        self.closed: list[Response] = []

    async def __call__(self, request: Request) -> Response:
        outcome = self.outcomes[self.calls]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        status, retry_after = outcome if isinstance(outcome, tuple) else (outcome, None)
        fields = [(b"retry-after", retry_after.encode())] if retry_after is not None else []
        response = Response(
            status,
            b"",
            "HTTP/1.1",
            fields,
            request,
            stream=_no_body(),
            release=lambda completed: self.closed.append(response),
        )
        self.responses.append(response)
        return response


class Clock:
    """A monotonic clock that only the fake `sleep` moves; it records each wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(_retry, "_now", clock)
    return clock


async def run(
    retry: Retry, script: Script, clock: Clock, *, method: str = "GET", **kwargs: Any
) -> Response:
    return await send_with_retries(retry, make_request(method), script, sleep=clock.sleep, **kwargs)


# -- which errors are retried, for which methods ------------------------------------------------

CONNECT = "any method"
READ = "idempotent only"
NEVER = "never"

ERRORS = [
    (exc.ConnectError("refused"), CONNECT),
    (exc.ConnectTimeout("connect took too long"), CONNECT),
    (exc.ReadError("reset"), READ),
    (exc.IncompleteReadError("closed early", partial=b""), READ),
    (exc.LimitOverrunError("no delimiter"), READ),
    (exc.ReadTimeout("read took too long"), READ),
    (exc.WriteError("broken pipe"), READ),
    (exc.WriteTimeout("write took too long"), READ),
    (exc.RemoteProtocolError("bad status line"), READ),
    (exc.PoolTimeout("no free connection"), NEVER),
    (exc.LocalProtocolError("CR in a field"), NEVER),
    (exc.InvalidURL("no host"), NEVER),
    (exc.DecodingError("bad gzip"), NEVER),
    (exc.TooManyRedirects("too many"), NEVER),
    (exc.TransportError("unknown transport failure"), NEVER),
    (TimeoutError("the builtin one"), NEVER),
    (OSError("not translated"), NEVER),
    (ValueError("a bug"), NEVER),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST"])
@pytest.mark.parametrize(("error", "kind"), ERRORS, ids=lambda v: type(v).__name__)
async def test_which_errors_are_retried_for_which_methods(
    error: BaseException, kind: str, method: str, clock: Clock
) -> None:
    script = Script(error, 200)
    retried = kind == CONNECT or (kind == READ and method != "POST")
    if retried:
        response = await run(Retry(), script, clock, method=method)
        assert response.status == 200
        assert script.calls == 2
    else:
        with pytest.raises(type(error)) as raised:
            await run(Retry(), script, clock, method=method)
        assert raised.value is error
        assert script.calls == 1
        assert clock.sleeps == []


@pytest.mark.asyncio
async def test_cancellation_is_not_retried(clock: Clock) -> None:
    script = Script(asyncio.CancelledError(), 200)
    with pytest.raises(asyncio.CancelledError):
        await run(Retry(), script, clock)
    assert script.calls == 1


@pytest.mark.asyncio
async def test_cancellation_during_the_wait_is_not_swallowed(clock: Clock) -> None:
    async def cancelled_sleep(delay: float) -> None:
        raise asyncio.CancelledError

    script = Script(exc.ConnectError("refused"), 200)
    with pytest.raises(asyncio.CancelledError):
        await send_with_retries(Retry(), make_request(), script, sleep=cancelled_sleep)
    assert script.calls == 1


@pytest.mark.asyncio
async def test_allowed_methods_are_the_callers_choice(clock: Clock) -> None:
    retry = Retry(allowed_methods=["post"])
    assert retry.allowed_methods == frozenset({"POST"})
    script = Script(exc.ReadError("reset"), 503, 200)
    assert (await run(retry, script, clock, method="POST")).status == 200
    script = Script(exc.ReadError("reset"), 200)
    with pytest.raises(exc.ReadError):
        await run(retry, script, clock, method="GET")


# -- counts per kind and in all -----------------------------------------------------------------

C = exc.ConnectError("refused")
R = exc.ReadError("reset")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("retry", "outcomes", "calls", "result"),
    [
        # total alone bounds every kind.
        (Retry(total=3), [C, C, C, C, 200], 4, C),
        (Retry(total=3), [C, R, 503, 200], 4, 200),
        (Retry(total=2), [C, R, 503, 200], 3, 503),
        (Retry(total=0), [C, 200], 1, C),
        (Retry(total=0), [503, 200], 1, 503),
        # A kind's own limit stops it before total does...
        (Retry(total=5, connect=1), [C, C, 200], 2, C),
        (Retry(total=5, read=0), [R, 200], 1, R),
        (Retry(total=5, status=1), [503, 503, 200], 2, 503),
        # ...and does not stop the other kinds.
        (Retry(total=5, connect=1), [C, R, R, 503, 200], 5, 200),
        (Retry(total=5, connect=1, read=1, status=1), [C, R, 503, 200], 4, 200),
        (Retry(total=5, connect=1, read=1, status=1), [C, R, 503, C, 200], 4, C),
        (Retry(total=5, connect=1, read=1, status=1), [C, R, 503, 502, 200], 4, 502),
        # A kind's limit above total: total still wins.
        (Retry(total=1, connect=5), [C, C, 200], 2, C),
    ],
)
async def test_retry_counts(
    retry: Retry,
    outcomes: list[BaseException | int],
    calls: int,
    result: BaseException | int,
    clock: Clock,
) -> None:
    script = Script(*outcomes)
    if isinstance(result, BaseException):
        with pytest.raises(type(result)) as raised:
            await run(retry, script, clock)
        assert raised.value is result
    else:
        response = await run(retry, script, clock)
        assert response.status == result
        assert response is script.responses[-1]
    assert script.calls == calls
    assert len(clock.sleeps) == calls - 1


@pytest.mark.asyncio
async def test_used_up_errors_reraise_the_last_error(clock: Clock) -> None:
    errors = [exc.ConnectError(f"refused {n}") for n in range(4)]
    script = Script(*errors)
    with pytest.raises(exc.ConnectError) as raised:
        await run(Retry(total=3), script, clock)
    assert raised.value is errors[-1]


@pytest.mark.asyncio
async def test_used_up_statuses_return_the_last_response_open(clock: Clock) -> None:
    script = Script(503, 502, 504)
    response = await run(Retry(total=2), script, clock)
    assert response.status == 504
    assert response is script.responses[-1]
    # The retried responses released their connections; the one returned is the caller's.
    assert script.closed == script.responses[:2]
    with pytest.raises(exc.HTTPStatusError):
        response.raise_for_status()
    await response.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "status", "calls"),
    [
        ("GET", 503, 2),
        ("GET", 429, 2),
        ("GET", 500, 1),  # not in the forcelist
        ("GET", 200, 1),
        ("POST", 503, 1),  # not idempotent: the server may have acted on it
        ("PATCH", 429, 1),
    ],
)
async def test_which_statuses_are_retried(
    method: str, status: int, calls: int, clock: Clock
) -> None:
    script = Script(status, 200)
    response = await run(Retry(), script, clock, method=method)
    assert script.calls == calls
    assert response is script.responses[-1]
    assert script.closed == script.responses[:-1]
    await response.aclose()


# -- bodies that cannot be sent again -----------------------------------------------------------


async def _chunks() -> AsyncGenerator[bytes, None]:
    yield b"part"


@pytest.mark.asyncio
@pytest.mark.parametrize("outcome", [exc.ConnectError("refused"), exc.ReadError("reset"), 503])
async def test_a_body_that_cannot_be_sent_again_is_not_retried(
    outcome: BaseException | int, clock: Clock
) -> None:
    body = _chunks()
    request = make_request("PUT", body)
    assert not request.replayable
    script = Script(outcome, 200)
    if isinstance(outcome, BaseException):
        with pytest.raises(type(outcome)):
            await send_with_retries(Retry(), request, script, sleep=clock.sleep)
    else:
        response = await send_with_retries(Retry(), request, script, sleep=clock.sleep)
        assert response.status == outcome
        await response.aclose()
    assert script.calls == 1
    await body.aclose()


# -- backoff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "delays"),
    [
        (Retry(backoff_factor=0.5), [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]),
        (Retry(backoff_factor=0.1), [0.0, 0.2, 0.4, 0.8, 1.6, 3.2]),
        (Retry(backoff_factor=0.5, backoff_max=3.0), [0.0, 1.0, 2.0, 3.0, 3.0, 3.0]),
        (Retry(), [0.0] * 6),
    ],
)
def test_backoff_formula(retry: Retry, delays: list[float]) -> None:
    assert [retry.backoff(n) for n in range(1, 7)] == pytest.approx(delays)


def test_backoff_of_a_long_run_is_capped_not_overflowed() -> None:
    assert Retry(total=5000, backoff_factor=1.0).backoff(3000) == 120.0


@pytest.mark.asyncio
async def test_the_waits_between_attempts_follow_the_backoff(clock: Clock) -> None:
    # The kinds mix: every failed attempt counts towards the run of consecutive failures.
    script = Script(C, R, 503, C, (502, "garbage"), 200)
    response = await run(Retry(total=5, backoff_factor=0.5), script, clock)
    assert response.status == 200
    assert clock.sleeps == [0.0, 1.0, 2.0, 4.0, 8.0]


@pytest.mark.asyncio
async def test_jitter_is_added_after_the_cap(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return high

    monkeypatch.setattr(random, "uniform", uniform)
    retry = Retry(total=4, backoff_factor=1.0, backoff_max=3.0, jitter=0.25)
    await run(retry, Script(C, C, C, C, 200), clock)
    # No wait at all before the first retry (as urllib3); then 2, 4 -> 3, 8 -> 3, each + jitter.
    assert clock.sleeps == [0.0, 2.25, 3.25, 3.25]
    assert asked == [(0.0, 0.25)] * 3


def test_jitter_stays_within_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "random", random.Random(20240229))
    retry = Retry(backoff_factor=1.0, backoff_max=3.0, jitter=0.5)
    for failures, base in [(2, 2.0), (4, 3.0)]:
        delays = [retry.backoff(failures) for _ in range(500)]
        assert all(base <= delay <= base + 0.5 for delay in delays)
        # Spread over the range, not a constant.
        assert min(delays) < base + 0.05
        assert max(delays) > base + 0.45
    assert retry.backoff(1) == 0.0


# -- Retry-After --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("007", 7.0),
        ("9" * 400, math.inf),  # far too long to wait for, and no OverflowError
        # The three HTTP-date formats of RFC 9110 §5.6.7, 37 seconds after NOW.
        ("Sun, 06 Nov 1994 08:49:37 GMT", 37.0),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:49:37 GMT", 37.0),  # obsolete RFC 850
        ("Sun Nov  6 08:49:37 1994", 37.0),  # ANSI C asctime()
        # Robust to case and spacing.
        ("sun,  6 nov 1994 08:49:37 gmt", 37.0),
        ("Sun Nov 6 08:49:37 1994", 37.0),
        ("Sun Nov 06 08:49:37 1994", 37.0),
        ("SUNDAY, 06-NOV-94 08:49:37 GMT", 37.0),
        # The next day, and a leap second.
        ("Mon, 07 Nov 1994 08:49:00 GMT", 86400.0),
        ("Sun, 06 Nov 1994 08:49:60 GMT", 60.0),
        # A date in the past asks for no wait.
        ("Sun, 06 Nov 1994 08:48:00 GMT", 0.0),
        ("Sat, 06 Nov 1993 08:49:37 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "",
        "soon",
        "-1",
        "+5",
        "1.5",
        "1e3",
        "5 s",
        "\u0663",  # ARABIC-INDIC DIGIT THREE: a digit to str.isdigit, not to RFC 9110
        "Sun, 31 Feb 1994 08:49:37 GMT",  # no such day
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 +0100",  # HTTP-date is always GMT
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "06 Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",  # RFC 850 spells the day name out
        "Sunday, 06 Nov 1994 08:49:37 GMT extra",
        "Sun Nov  6 08:49:37 94",
    ],
)
def test_parse_retry_after_rejects_garbage(value: str) -> None:
    assert parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize(
    ("this_year", "two_digits", "year"),
    [
        (2025, 25, 2025),
        (2025, 30, 2030),
        (2025, 75, 2075),  # 50 years ahead is not *more* than 50
        (2025, 76, 1976),  # more than 50 years ahead: the most recent such year in the past
        (2025, 99, 1999),
        (2025, 0, 2000),
        (1994, 94, 1994),
        (2090, 10, 2110),  # 20 years ahead, across the century, rather than 80 years ago
        (2090, 40, 2140),  # 50 years ahead again
        (2090, 41, 2041),
    ],
)
def test_rfc850_two_digit_years(this_year: int, two_digits: int, year: int) -> None:
    now = float(calendar.timegm((this_year, 6, 1, 0, 0, 0)))
    value = f"Monday, 01-Jan-{two_digits:02d} 00:00:00 GMT"
    expected = calendar.timegm((year, 1, 1, 0, 0, 0)) - now
    assert parse_retry_after(value, now=now) == max(0.0, expected)
    assert _retry._full_year(two_digits, now) == year


def _http_dates(seconds_ahead: int) -> list[str]:
    when = time.time() + seconds_ahead
    gmt = time.gmtime(when)
    return [
        formatdate(when, usegmt=True),
        time.strftime("%A, %d-%b-%y %H:%M:%S GMT", gmt),
        time.strftime("%a %b %e %H:%M:%S %Y", gmt),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["IMF-fixdate", "RFC 850", "asctime"])
async def test_retry_after_date_is_waited_for(form: str, clock: Clock) -> None:
    value = _http_dates(100)[["IMF-fixdate", "RFC 850", "asctime"].index(form)]
    script = Script((503, value), 200)
    response = await run(Retry(), script, clock)
    assert response.status == 200
    [delay] = clock.sleeps
    assert 98.0 <= delay <= 100.0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("retry", "retry_after", "delays"),
    [
        (Retry(), "5", [5.0, 5.0]),
        # Retry-After wins over the backoff when longer, and only then.
        (Retry(backoff_factor=4.0), "5", [5.0, 8.0]),
        (Retry(backoff_factor=1.0), "0", [0.0, 2.0]),
        # Unreadable: the backoff alone.
        (Retry(backoff_factor=1.0), "later", [0.0, 2.0]),
        # Not respected: the backoff alone.
        (Retry(backoff_factor=1.0, respect_retry_after=False), "60", [0.0, 2.0]),
        # At the max is still waited for.
        (Retry(retry_after_max=30.0), "30", [30.0, 30.0]),
    ],
)
async def test_retry_after_lengthens_the_wait(
    retry: Retry, retry_after: str, delays: list[float], clock: Clock
) -> None:
    script = Script((503, retry_after), (429, retry_after), 200)
    response = await run(retry, script, clock)
    assert response.status == 200
    assert clock.sleeps == delays
    assert script.closed == script.responses[:2]


@pytest.mark.asyncio
@pytest.mark.parametrize("retry_after", ["301", "9" * 400, "Sun, 06 Nov 2094 08:49:37 GMT"])
async def test_retry_after_over_the_max_returns_the_response(
    retry_after: str, clock: Clock
) -> None:
    script = Script((503, retry_after), 200)
    response = await run(Retry(retry_after_max=300.0), script, clock)
    assert response is script.responses[0]
    assert response.headers["retry-after"] == retry_after
    assert clock.sleeps == []
    assert script.calls == 1
    assert script.closed == []  # the caller may still read it
    await response.aclose()


# -- the deadline -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_no_wait_ends_past_the_deadline_on_errors(clock: Clock) -> None:
    retry = Retry(total=5, backoff_factor=1.0)
    script = Script(C, C, C, C, 200)
    # Waits would be 0, 2, 4: the third ends at +6, past the deadline at +5.
    with pytest.raises(exc.ConnectError) as raised:
        await run(retry, script, clock, deadline=clock.now + 5.0)
    assert raised.value is script.outcomes[2]
    assert clock.sleeps == [0.0, 2.0]
    assert script.calls == 3


@pytest.mark.asyncio
async def test_a_wait_ending_at_the_deadline_is_made(clock: Clock) -> None:
    retry = Retry(total=5, backoff_factor=1.0)
    script = Script(C, C, 200)
    response = await run(retry, script, clock, deadline=clock.now + 2.0)
    assert response.status == 200
    assert clock.sleeps == [0.0, 2.0]


@pytest.mark.asyncio
async def test_no_retry_after_the_deadline_passed(clock: Clock) -> None:
    script = Script(C, 200)
    with pytest.raises(exc.ConnectError):
        await run(Retry(), script, clock, deadline=clock.now - 0.001)
    assert script.calls == 1
    assert clock.sleeps == []


@pytest.mark.asyncio
async def test_a_retry_after_past_the_deadline_returns_the_response(clock: Clock) -> None:
    script = Script((503, "10"), 200)
    response = await run(Retry(), script, clock, deadline=clock.now + 5.0)
    assert response is script.responses[0]
    assert clock.sleeps == []
    assert script.closed == []
    await response.aclose()


@pytest.mark.asyncio
async def test_a_backoff_past_the_deadline_returns_the_response(clock: Clock) -> None:
    script = Script(503, 503, 200)
    response = await run(Retry(backoff_factor=1.0), script, clock, deadline=clock.now + 1.0)
    assert response is script.responses[1]
    assert clock.sleeps == [0.0]
    assert script.closed == script.responses[:1]
    await response.aclose()


@pytest.mark.asyncio
async def test_the_default_sleep_is_asyncio_sleep() -> None:
    script = Script(C, 200)
    response = await send_with_retries(Retry(), make_request(), script)
    assert response.status == 200
    await response.aclose()


# -- Retry: coerce and validation ---------------------------------------------------------------

_POLICY = Retry(total=7, backoff_factor=0.3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, None),
        (False, None),
        (True, Retry()),
        (1, Retry(total=1)),
        (5, Retry(total=5)),
        (_POLICY, _POLICY),
    ],
)
def test_coerce(value: object, expected: Retry | None) -> None:
    result = Retry.coerce(value)
    assert result == expected
    if isinstance(value, Retry):
        assert result is value


@pytest.mark.parametrize("value", ["3", 2.5, [3], b"1", object()])
def test_coerce_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError, match="retries must be a Retry, an int or None"):
        Retry.coerce(value)


def test_coerce_rejects_a_negative_int() -> None:
    with pytest.raises(ValueError, match="total=-1 is negative"):
        Retry.coerce(-1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": -1}, "total=-1 is negative"),
        ({"connect": -1}, "connect=-1 is negative"),
        ({"read": -2}, "read=-2 is negative"),
        ({"status": -1}, "status=-1 is negative"),
        ({"backoff_factor": -0.5}, "backoff_factor=-0.5 is not a non-negative number"),
        ({"backoff_factor": math.nan}, "backoff_factor=nan is not a non-negative number"),
        ({"backoff_max": -1.0}, "backoff_max=-1.0 is not"),
        ({"jitter": -0.1}, "jitter=-0.1 is not"),
        ({"retry_after_max": -1}, "retry_after_max=-1 is not"),
    ],
)
def test_validation_rejects_negatives(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Retry(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allowed_methods": "GET"}, "allowed_methods='GET' is a string"),
        ({"status_forcelist": "503"}, "status_forcelist='503' is a string"),
    ],
)
def test_validation_rejects_a_lone_string(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Retry(**kwargs)


def test_collections_are_normalised_to_frozensets() -> None:
    retry = Retry(allowed_methods=["get", "Put", "GET"], status_forcelist=[500, 503, 500])
    assert retry.allowed_methods == frozenset({"GET", "PUT"})
    assert retry.status_forcelist == frozenset({500, 503})
    # Equal policies are equal and hash alike (usable as keys, shared between clients).
    same = Retry(allowed_methods=("PUT", "GET"), status_forcelist={503, 500})
    assert retry == same
    assert hash(retry) == hash(same)


def test_defaults() -> None:
    retry = Retry()
    assert retry.total == 3
    assert retry.connect is retry.read is retry.status is None
    assert retry.status_forcelist == frozenset({429, 502, 503, 504})
    assert retry.allowed_methods == frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    assert (retry.backoff_factor, retry.backoff_max, retry.jitter) == (0.0, 120.0, 0.0)
    assert retry.respect_retry_after is True
    assert retry.retry_after_max == 300.0


def test_a_policy_is_immutable() -> None:
    retry = Retry()
    with pytest.raises(AttributeError):
        retry.total = 5  # type: ignore[misc]
