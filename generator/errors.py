"""The few exceptions the CLI turns into one-line messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, located by file, line and key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


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
