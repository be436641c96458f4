"""Errors the user can act on: what went wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in user input: file, 1-based line (None if unknown), message, hint."""

    path: Path | None
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class CollectionError(Exception):
    """Raised when a collection (or a CLI override) cannot be loaded; carries all problems."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls, path: Path | None, line: int | None, message: str, hint: str = ""
    ) -> CollectionError:
        return cls([Problem(path, line, message, hint)])


@dataclass(slots=True)
class ProblemList:
    """Accumulates problems so a loader can report all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, path: Path | None, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(path, line, message, hint))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CollectionError(list(self.problems))
