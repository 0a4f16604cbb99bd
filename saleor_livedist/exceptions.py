"""The project's exceptions: one root, each also the builtin it resembles."""
from __future__ import annotations

from dataclasses import dataclass


class LiveDistError(Exception):
    """Root of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a rule file, reported as `path:line:col: message [code]`."""

    path: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based; 0 when unknown
    code: str  # stable, e.g. LD101
    message: str
    hint: str = ""
    excerpt: str = ""  # the offending source line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message} [{self.code}]"

    def render(self) -> str:
        """The message with the offending line, a caret under the column and the hint."""
        out = [str(self)]
        if self.excerpt:
            out.append(f"    {self.excerpt}")
            if self.column:
                out.append("    " + " " * (self.column - 1) + "^")
        if self.hint:
            out.append(f"    hint: {self.hint}")
        return "\n".join(out)


class ServiceError(LiveDistError):
    """What an API call, an admin action or an endpoint refuses: the input field at fault (if any), a stable
    code and a message for the person who made the request; nothing was changed."""

    def __init__(self, field: str | None, code: str, message: str):
        self.field, self.code, self.message = field, code, message
        super().__init__(message)


class RuleFileError(LiveDistError, ValueError):
    """The rule files are invalid. `problems` holds every problem found, in file and line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.column, p.code, p.message))
        super().__init__("\n".join(p.render() for p in self.problems))


class EventError(LiveDistError, ValueError):
    """An event is malformed: missing field, wrong type, naive datetime, unknown type."""


class ExtensionError(LiveDistError, LookupError):
    """A custom condition or action is unknown or misbehaved."""


class EngineUnavailable(LiveDistError, RuntimeError):
    """The selected rule backend cannot be used here (e.g. durable-rules is not installed)."""


class ClickRateLimited(LiveDistError):
    """Too many share-link clicks from one client address: refused (429), nothing recorded."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many clicks from this address; retry in {retry_after} s")
