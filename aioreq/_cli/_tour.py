"""The frame of `aioreq demo`: a tour printed section by section, each checking what it shows.

A section is an async function that prints what it shows (`intro`), its results (`facts`,
`timings`) and checks them (`check`). `run_sections` runs them in order under numbered headings,
an exception counting as a failed check; `summary` prints a table of them all and gives the exit
code: 0 only when every check held.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Section", "Tour", "cell", "rate_text", "seconds_text"]

#: A section: its title, what it shows in a few words (for the summary), and what runs it.
Section = tuple[str, str, Callable[[], Awaitable[None]]]


def cell(value: object) -> Text:
    """A table cell shown as it is (never read as rich markup)."""
    return Text(value if isinstance(value, str) else str(value))


def seconds_text(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def rate_text(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


@dataclass
class _Outcome:
    """What one section showed, and the checks of it that failed."""

    title: str
    shown: str
    seconds: float = 0.0
    checks: int = 0
    failures: list[str] = field(default_factory=list)


class Tour:
    """Prints sections and keeps their outcomes."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.outcomes: list[_Outcome] = []

    # -- printing and checking --------------------------------------------------------------------

    def intro(self, what: str, code: str) -> None:
        """What the section shows, then the code that does it (indented, in colour)."""
        self.console.print(Text(what))
        for line in code.splitlines():
            self.console.print(Text("    " + line, style="cyan"), soft_wrap=True)

    def facts(self, rows: list[tuple[str, object]]) -> None:
        """A table of named results."""
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for name, value in rows:
            table.add_row(name, cell(value))
        self.console.print(table)

    def timings(self, rows: list[tuple[str, int, float]]) -> None:
        """A table of modes, each with its request count and wall time, against the first."""
        table = Table(box=box.SIMPLE_HEAD)
        table.add_column("mode")
        for name in ("requests", "wall time", "req/s", "speed-up"):
            table.add_column(name, justify="right")
        first = rows[0][2]
        for mode, count, seconds in rows:
            speed_up = f"{first / seconds:.1f}×" if seconds > 0 else "-"
            table.add_row(
                cell(mode), str(count), seconds_text(seconds), rate_text(count, seconds), speed_up
            )
        self.console.print(table)

    def check(self, held: bool, expectation: str) -> None:
        """Record a check of the current section; say so at once when it does not hold."""
        outcome = self.outcomes[-1]
        outcome.checks += 1
        if not held:
            outcome.failures.append(expectation)
            self.console.print(Text(f"✗ expected: {expectation}", style="bold red"))

    # -- running ----------------------------------------------------------------------------------

    async def run_sections(self, sections: list[Section]) -> None:
        """Run each section under a numbered heading, timed; an exception fails its section."""
        for number, (title, shown, section) in enumerate(sections, 1):
            self.console.print()
            self.console.rule(f"[bold]{number}. {title}", align="left")
            self.outcomes.append(_Outcome(title, shown))
            start = time.perf_counter()
            try:
                await section()
            except Exception as exc:
                self.check(False, f"no exception, but {type(exc).__name__}: {exc}")
            outcome = self.outcomes[-1]
            outcome.seconds = time.perf_counter() - start
            if not outcome.failures:
                self.console.print(Text(f"✓ {outcome.checks} checks held", style="green"), end=" ")
                self.console.print(Text(f"({seconds_text(outcome.seconds)})"))

    def summary(self, problems: list[str], seconds: float, after: str) -> int:
        """Print the summary table, any `problems` seen besides, and `after`; the exit code."""
        self.console.print()
        self.console.rule(f"[bold]{len(self.outcomes) + 1}. Summary", align="left")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("#", justify="right")
        table.add_column("section")
        table.add_column("shown")
        table.add_column("result")
        table.add_column("time", justify="right")
        for number, outcome in enumerate(self.outcomes, 1):
            result = (
                Text("ok", style="green")
                if not outcome.failures
                else Text(f"FAILED ({len(outcome.failures)})", style="bold red")
            )
            table.add_row(
                str(number),
                cell(outcome.title),
                cell(outcome.shown),
                result,
                seconds_text(outcome.seconds),
            )
        self.console.print(table)
        for problem in problems:
            self.console.print(Text(f"✗ the fake servers saw: {problem}", style="bold red"))
        failed = sum(bool(outcome.failures) for outcome in self.outcomes)
        verdict = "every section held" if not failed else f"{failed} section(s) failed"
        self.console.print(Text(f"Total: {seconds_text(seconds)}, {verdict}.", style="bold"))
        self.console.print(Text(after))
        return 1 if failed or problems else 0
