"""The active rules of a process, with hot reload: a changed rules directory is picked up without a restart,
and an invalid change keeps the last good version active and reports its problems."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Hashable, Mapping

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
    texts: Mapping[str, bytes] = field(default_factory=dict)  # each document's content, by name (if known)

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


@dataclass(frozen=True)
class Overlay:
    """Rule documents kept elsewhere than the directory (tasks staff publish, in the database), loaded with
    the files as one rule set. `fingerprint` is called at every reload check and must be cheap; `texts` only
    when the fingerprint changed."""

    fingerprint: Callable[[], Hashable]
    texts: Callable[[], Mapping[str, str]]


class DirectoryRules:
    """Rules loaded from a directory (plus an optional overlay), re-checked at most every `interval` seconds."""

    def __init__(self, directory: str | Path, backend: str | None = None, interval: float | None = None,
                 overlay: Overlay | None = None):
        self.directory = Path(directory)
        self.overlay = overlay
        self.backend = backend
        if interval is None:
            from ..conf import get_setting

            interval = get_setting("RELOAD_INTERVAL")
        self.interval = interval
        self.problems: list[Problem] = []  # of the last rejected change; empty when the active version is current
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] = ()
        self._fingerprint = self._scan()
        self._checked = time.monotonic()
        try:
            ruleset, texts = self._load()
        except Exception as exc:
            if self.overlay is None:
                raise  # an invalid directory at start-up is fatal: nothing good to keep
            # The files alone must be valid; overlay documents that clash with them, or cannot be read, are
            # reported and left out (unreadable ones are looked for again at the next check).
            ruleset, texts = self._load(with_overlay=False)
            if isinstance(exc, RuleFileError):
                self.problems = exc.problems
                logger.error("rule documents in the database clash with the rule files in %s and are left "
                             "out:\n%s", self.directory, exc)
            else:
                logger.warning("could not read the published rule documents; starting with the files alone",
                               exc_info=True)
                self._fingerprint = ()
        self._active = self._activate(ruleset, texts)
        self._retired: ActiveRules | None = None

    def _load(self, with_overlay: bool = True) -> tuple[RuleSet, dict[str, bytes]]:
        from .loader import load_rules_and_texts

        extra = self.overlay.texts() if self.overlay is not None and with_overlay else {}
        return load_rules_and_texts(self.directory, extra)

    def _activate(self, ruleset: RuleSet, texts: Mapping[str, bytes]) -> ActiveRules:
        compiled = compile_rules(ruleset)
        return ActiveRules(ruleset, compiled, make_matcher(self.backend, compiled), texts)

    def check(self, extra: Mapping[str, str]) -> RuleSet:
        """The rule set the files, the overlay and `extra` documents would make (raises RuleFileError)."""
        from .loader import load_rules_and_texts

        overlay = dict(self.overlay.texts()) if self.overlay is not None else {}
        return load_rules_and_texts(self.directory, {**overlay, **extra})[0]

    def _scan(self) -> tuple[object, ...]:
        try:
            entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
        except OSError:
            entries = []
        files = tuple(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in entries
            if e.name.endswith((".yaml", ".yml")) and e.is_file()
        )
        if self.overlay is None:
            return files
        try:
            return files + (self.overlay.fingerprint(),)
        except Exception:  # the database is away: keep what is active, look again next time
            logger.warning("could not check the published rule documents; keeping the active rules", exc_info=True)
            return self._fingerprint

    def current(self) -> ActiveRules:
        if time.monotonic() - self._checked >= self.interval:
            self.reload_if_changed()
        return self._active

    def reload_if_changed(self, force: bool = False) -> bool:
        """Reload if the files (or the overlay) changed; True if a new version became active."""
        with self._lock:
            self._checked = time.monotonic()
            fingerprint = self._scan()
            if fingerprint == self._fingerprint and not force:
                return False
            previous_fingerprint, self._fingerprint = self._fingerprint, fingerprint
            try:
                ruleset, texts = self._load()
            except RuleFileError as exc:
                self.problems = exc.problems
                logger.error(
                    "rules in %s are invalid; keeping version %s active:\n%s",
                    self.directory, self._active.version, exc,
                )
                return False
            except Exception:  # the overlay could not be read: keep what is active, try again next time
                self._fingerprint = previous_fingerprint
                logger.warning("could not read the published rule documents; keeping version %s",
                               self._active.version, exc_info=True)
                return False
            self.problems = []
            if ruleset.version == self._active.version:
                return False
            previous, self._active = self._active, self._activate(ruleset, texts)
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
