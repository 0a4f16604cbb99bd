"""Fraud guards outside the engine: the share-link endpoint's rate limits and daily click limits per client
address and per visitor (the rules' `guards`), and staff's review of invitees held past the daily limit.
Limits and their meaning: docs/rules.md, "guards"; docs/saleor.md, "Share links"."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..counters import add_counts
from ..exceptions import ServiceError
from ..inbox import processing
from ..models import HeldInvitee
from ..rules.model import Guards

DAY_SECONDS = 86400


@dataclass(frozen=True)
class ClickAdmission:
    refused_for: int | None  # seconds to wait: the click is refused (429) and nothing is recorded
    counted: bool  # within the day's limits: the click binds and counts; else it only redirects
    first_from_address: bool  # the first click on this link from this address today (the public click count)


def client_key(address: str) -> str:
    """A client address as a keyed hash: counters never hold the address itself."""
    return salted_hmac("saleor_livedist.click.address", address).hexdigest()[:32]


def admit_click(token: str, address: str, visitor: str, guards: Guards, at: datetime) -> ClickAdmission:
    """Count one click on link `token` from `address` by `visitor` against the per-minute
    rate limits (CLICK_RATE_PER_ADDRESS, CLICK_RATE_PER_LINK_ADDRESS) and the rules' daily guards. If the
    cache is down, every click is admitted and counted (the engine's own guards still apply)."""
    source = client_key(address)
    minute, stamp = int(at.timestamp() // 60), at.timestamp()
    day = at.astimezone(ZoneInfo(guards.time_zone)).date().isoformat()
    link = client_key(f"{address}\x00{token}")
    names = {
        "rate": f"livedist:click:rate:{source}:{minute}",
        "link_rate": f"livedist:click:link-rate:{link}:{minute}",
        "source_day": f"livedist:click:source:{source}:{day}",
        "seen": f"livedist:click:seen:{link}:{day}",
        "visitor_day": f"livedist:click:visitor:{client_key(visitor)}:{day}",
    }
    timeouts = {key: (61 if key.endswith("rate") else DAY_SECONDS + 3600) for key in names}
    try:
        totals = add_counts({name: 1 for name in names.values()}, {names[k]: timeouts[k] for k in names})
    except Exception:  # the cache is down: shoppers still reach the store
        return ClickAdmission(refused_for=None, counted=True, first_from_address=True)
    count = {key: totals[name] for key, name in names.items()}
    if count["rate"] > get_setting("CLICK_RATE_PER_ADDRESS") or \
            count["link_rate"] > get_setting("CLICK_RATE_PER_LINK_ADDRESS"):
        return ClickAdmission(refused_for=max(1, math.ceil((minute + 1) * 60 - stamp)), counted=False,
                              first_from_address=False)
    counted = _within(count["source_day"], guards.clicks_per_source_per_day) and _within(
        count["visitor_day"], guards.clicks_per_visitor_per_day)
    return ClickAdmission(refused_for=None, counted=counted, first_from_address=count["seen"] == 1)


def _within(count: int, limit: int | None) -> bool:
    return limit is None or count <= limit


def review_held_invitee(key: str, decision: str, by: str | None = None) -> HeldInvitee:
    """Staff approve or reject an invitee held past guards.invitees_per_distributor_per_day; the engine applies
    it at once (an invitee.reviewed event, so replays of the event stream see the same decision)."""
    if decision not in ("approve", "reject"):
        raise ServiceError("decision", "INVALID", _("decide with approve or reject, not %(d)r") % {"d": decision})
    held = HeldInvitee.objects.filter(key=key).first()
    if held is None:
        raise ServiceError("key", "NOT_FOUND", _("no invitee is held under %(key)r") % {"key": key})
    if held.status != "held":
        raise ServiceError("key", "ALREADY_REVIEWED", _("this invitee was already %(status)s") % {
            "status": held.get_status_display()})
    event = {"id": f"review:{uuid.uuid4().hex}", "type": "invitee.reviewed", "at": timezone.now().isoformat(),
             "held": key, "decision": decision, **({"by": by} if by else {})}
    with transaction.atomic():
        processing.submit(event, process=False)
    processing.process_pending()
    held.refresh_from_db()
    if held.status == "held":  # the engine kept it held (its task left the rules), or a worker has it queued
        raise ServiceError("key", "NOT_APPLIED", _("the decision is recorded but not applied yet: the invitee's task "
                                                   "may no longer be in the rules; see the failed events"))
    return held
