"""The viewer endpoint's rate limits, counted for a whole batch of requests at once: fixed-window counters in
Django's cache, one Redis round trip per batch when the cache is Redis (else per-process counters, as the
local-memory cache keeps them). Limits and their meaning: docs/events.md, "Rate limits"."""
from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from ..counters import add_counts
from . import contract
from .contract import ViewerError, digest

if TYPE_CHECKING:
    from .contract import Pending

logger = logging.getLogger(__name__)


def admit(batch: list[Pending], at: datetime) -> None:
    """Count every request of the batch against its client address and its viewer (a viewer whose id this
    request issues is not counted), in arrival order; a request over a limit is answered 429 and goes no
    further. If the cache is down, nothing is refused (a warning is logged)."""
    stamp = at.timestamp()
    # Read at call time: a deployment (or a test, or the bench) may change the module's limits.
    scopes = [("ip", contract.IP_LIMIT, contract.IP_WINDOW), ("viewer", contract.VIEWER_LIMIT, contract.VIEWER_WINDOW)]
    wanted: list[list[tuple[str, str, int, int]]] = []  # per request: (scope, counter name, limit, window)
    for item in batch:
        keys = [item.address, None if item.viewer.issued else item.viewer.id]
        wanted.append([(scope, f"livedist:rate:{scope}:{digest(key)}:{int(stamp // window)}", limit, window)
                       for (scope, limit, window), key in zip(scopes, keys) if key is not None])
    adds = Counter(name for counters in wanted for _, name, _, _ in counters)
    timeouts = {name: window + 1 for counters in wanted for _, name, _, window in counters}
    try:
        totals = add_counts(adds, timeouts)
    except Exception:  # the cache is down: viewers keep watching unlimited rather than all refused
        logger.warning("livedist viewer rate limit skipped: the cache is unavailable", exc_info=True)
        return
    seen: Counter[str] = Counter()
    for item, counters in zip(batch, wanted):
        for scope, name, limit, window in counters:
            seen[name] += 1
            count = totals[name] - adds[name] + seen[name]  # this request's place in its window
            if count > limit and item.result is None:
                item.result = _refusal(scope, limit, window, stamp)


def _refusal(scope: str, limit: int, window: int, stamp: float) -> ViewerError:
    retry_after = max(1, math.ceil((int(stamp // window) + 1) * window - stamp))
    message = (gettext_lazy("too many requests for this viewer (at most %(limit)d per %(window)d s); nothing was "
                            "recorded, retry in %(retry)d s") if scope == "viewer" else
               gettext_lazy("too many requests for this client address (at most %(limit)d per %(window)d s); "
                            "nothing was recorded, retry in %(retry)d s"))
    # Made on the batch thread: put in words when the request's answer is written, in its language.
    return ViewerError(429, "RATE_LIMITED", message, retry_after,
                       params={"limit": limit, "window": window, "retry": retry_after})
