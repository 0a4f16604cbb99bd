"""The active rules of a process, with hot reload: a changed rules directory is picked up without a restart,
and an invalid change keeps the last good version active and reports its problems."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import Problem, RuleFileError
from .backends import Matcher, make_matcher
from .compiler import CompiledRules, compile_rules
from .model import RuleSet

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveRules:
    ruleset: RuleSet
    compiled: CompiledRules
    matcher: Matcher

    @property
    def version(self) -> str:
        return self.ruleset.version


class StaticRules:
    """One rule set, never reloaded: for tests, simulations and replays against a fixed version."""

    def __init__(self, ruleset: RuleSet, backend: str | None = None):
        compiled = compile_rules(ruleset)
        self._active = ActiveRules(ruleset, compiled, make_matcher(backend, compiled))
        self.problems: list[Problem] = []

    def current(self) -> ActiveRules:
        return self._active

    def close(self) -> None:
        self._active.matcher.close()


class DirectoryRules:
    """Rules loaded from a directory, re-checked at most every `interval` seconds."""

    def __init__(self, directory: str | Path, backend: str | None = None, interval: float | None = None):
        from .loader import load_rules

        self._load = load_rules
        self.directory = Path(directory)
        self.backend = backend
        if interval is None:
            from ..conf import get_setting

            interval = get_setting("RELOAD_INTERVAL")
        self.interval = interval
        self.problems: list[Problem] = []  # of the last rejected change; empty when the active version is current
        self._lock = threading.Lock()
        self._fingerprint = self._scan()
        self._checked = time.monotonic()
        ruleset = self._load(self.directory)  # an invalid directory at start-up is fatal: nothing good to keep
        self._active = self._activate(ruleset)
        self._retired: ActiveRules | None = None

    def _activate(self, ruleset: RuleSet) -> ActiveRules:
        compiled = compile_rules(ruleset)
        return ActiveRules(ruleset, compiled, make_matcher(self.backend, compiled))

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        try:
            entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
        except OSError:
            return ()
        return tuple(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in entries
            if e.name.endswith((".yaml", ".yml")) and e.is_file()
        )

    def current(self) -> ActiveRules:
        if time.monotonic() - self._checked >= self.interval:
            self.reload_if_changed()
        return self._active

    def reload_if_changed(self) -> bool:
        """Reload if the files changed; True if a new version became active."""
        with self._lock:
            self._checked = time.monotonic()
            fingerprint = self._scan()
            if fingerprint == self._fingerprint:
                return False
            self._fingerprint = fingerprint
            try:
                ruleset = self._load(self.directory)
            except RuleFileError as exc:
                self.problems = exc.problems
                logger.error(
                    "rules in %s are invalid; keeping version %s active:\n%s",
                    self.directory, self._active.version, exc,
                )
                return False
            self.problems = []
            if ruleset.version == self._active.version:
                return False
            previous, self._active = self._active, self._activate(ruleset)
            # A thread may still be evaluating with the version just replaced: free the one before it instead.
            if self._retired is not None:
                self._retired.matcher.close()
            self._retired = previous
            logger.info("rules version %s active (was %s)", ruleset.version, previous.version)
            return True

    def close(self) -> None:
        self._active.matcher.close()
        if self._retired is not None:
            self._retired.matcher.close()
            self._retired = None
