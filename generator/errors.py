"""The few exceptions the CLI turns into one-line messages and exit codes."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, located by file, line and key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return one_line(f"{self.file}:{self.line}: {self.path}: {self.message}")


# Characters that end a line somewhere (a terminal, str.splitlines, a log reader).
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every line-ending or control character written as an escape, so a
    problem about a hostile key or value is still one line."""
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# Set by the command's Ctrl+C and kill handler. Python prints and drops a KeyboardInterrupt
# raised inside a __del__ or a weakref callback, so a build checks this before it publishes.
interrupted = threading.Event()


class EsafetyError(Exception):
    """Base class: every error the CLI reports without a traceback."""

    exit_code = 1


class ConfigError(EsafetyError):
    """The school's config is invalid; carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[Problem]]]:
        # Survives pickling (PDF worker processes) with its problems, not its message's letters.
        return (type(self), (self.problems,))


class UsageError(EsafetyError):
    """The command was called wrongly (missing file, bad folder)."""

    exit_code = 2


class BuildError(EsafetyError):
    """Rendering or publishing failed; the previous site is left untouched."""

    exit_code = 1


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """ " (did you mean 'name'?)" for the choice closest to ``word``, or "" if none is."""
    choices = sorted(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        close = [c for c in choices if c.lower() == word.lower().replace(" ", "_")]
    return f" (did you mean {close[0]!r}?)" if close else ""


_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def date_hint(value: object) -> str:
    """' (did you mean 2027-01-20?)' for a date written day first, as people in the UK
    write it (20/01/2027); '' for anything else."""
    found = _DAY_FIRST.fullmatch(str(value).strip())
    if not found:
        return ""
    day, month, year = (int(part) for part in found.groups())
    try:
        return f" (did you mean {dt.date(year, month, day).isoformat()}?)"
    except ValueError:
        return ""
