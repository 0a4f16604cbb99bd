"""Binding and attribution: who a buyer is bound to, and who an order pays.

The model (docs/attribution.md): the binding decides who is paid (level 1); the last distributor link
clicked before the order is recorded as `last_click`; earlier distributors' clicks are `assists`, and lives
the buyer watched are `lives_watched`. Everything is decided by the events' `at`, never arrival order.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..rules.model import Binding
from .records import Attribution, BindingRecord, Click, LiveRecord
from .store import Store


def bind(store: Store, policy: Binding, identity: str, distributor: str, at: datetime, via: str) -> bool:
    """Bind `identity` to `distributor` per the policy; True if the binding changed."""
    if identity == distributor:
        return False  # nobody is bound to themselves
    if store.get_distributor(identity) is not None and _is_upline_of(store, identity, distributor):
        return False  # a distributor is never bound to their own downline: that would be a loop
    existing = store.get_binding(identity)
    if existing is not None and existing.distributor == distributor and existing.at <= at:
        # The same distributor again: under "first kept" a valid binding keeps its date; an expired one, or
        # any under "latest wins", is renewed from this click.
        if existing.valid_at(at) and policy.overwrite == "first":
            return False
    if existing is not None and existing.valid_at(at):
        keep = existing.at <= at if policy.overwrite == "first" else existing.at > at
        if keep:
            return False
    expires = None if policy.valid_days is None else at + timedelta(days=policy.valid_days)
    if existing is not None and existing.at > at:
        # An older click arriving late: under "latest wins" it never replaces a newer binding; under "first
        # kept" it does, unless it would have expired before the newer click was made.
        if policy.overwrite == "latest" or (expires is not None and expires <= existing.at):
            return False
    store.put_binding(BindingRecord(identity=identity, distributor=distributor, at=at, expires_at=expires, via=via))
    return True


def _is_upline_of(store: Store, identity: str, distributor: str) -> bool:
    """True if `identity` appears in `distributor`'s upline chain (or is the distributor)."""
    seen: set[str] = set()
    current: str | None = distributor
    while current is not None and current not in seen:
        if current == identity:
            return True
        seen.add(current)
        record = store.get_distributor(current)
        current = record.upline if record is not None else None
    return False


def clip_key(clip: str) -> str:
    """Clips are kept with the replays (same fields: live, available from, until), under this key."""
    return "clip:" + clip


def valid_clicks(clicks: list[Click], at: datetime, policy: Binding) -> list[Click]:
    """Clicks up to `at` that are still within the binding validity window."""
    horizon = None if policy.valid_days is None else at - timedelta(days=policy.valid_days)
    return [c for c in clicks if c.at <= at and (horizon is None or c.at > horizon)]


def live_context(
    store: Store, clicks: list[Click], lives_watched: list[str], at: datetime
) -> tuple[str, LiveRecord | None]:
    """Where the order came from: an on-air live, a replay (or clip), or neither.

    The last link clicked decides when it points at a live on air or an available replay; otherwise an on-air
    live the buyer joined counts (the most recently started one)."""
    last = clicks[-1] if clicks else None
    if last is not None:
        if last.kind == "live":
            live = store.get_live(last.target)
            if live is not None and live.on_air(at):
                return "live", live
        elif last.kind == "replay":
            replay = store.get_replay(last.target)
            if replay is not None and replay.available(at):
                return "replay", store.get_live(replay.live)
        elif last.kind == "clip":
            clip = store.get_replay(clip_key(last.target))
            if clip is None:  # a clip the engine was not told about: replay context, no live
                return "replay", None
            if clip.available(at):
                return "replay", store.get_live(clip.live)
    on_air = [live for live_id in lives_watched if (live := store.get_live(live_id)) is not None and live.on_air(at)]
    if on_air:
        return "live", max(on_air, key=lambda live: (live.started_at, live.id))
    return "none", None


def attribute(
    store: Store, policy: Binding, buyer: str, at: datetime, clicks: list[Click], lives_watched: list[str],
    context: str, live: LiveRecord | None,
) -> Attribution:
    # clicks come oldest first: when the last is not after the order, none is (the engine passes them so)
    earlier = clicks if not clicks or clicks[-1].at <= at else [c for c in clicks if c.at <= at]
    last_click = earlier[-1].distributor if earlier else None
    assists: list[str] = []
    for click in earlier:
        if click.distributor != last_click and click.distributor not in assists:
            assists.append(click.distributor)
    binding = store.get_binding(buyer)
    if policy.self_purchase and store.get_distributor(buyer) is not None:
        paid_to, reason = buyer, "self-purchase commission is on and the buyer is a distributor"
    elif binding is not None and binding.valid_at(at):
        paid_to, reason = binding.distributor, f"bound to {binding.distributor} by {binding.via} at {binding.at.isoformat()}"
    elif binding is not None and binding.at > at:
        paid_to, reason = None, f"bound to {binding.distributor} only after the order, at {binding.at.isoformat()}"
    elif binding is not None:
        paid_to, reason = None, f"binding to {binding.distributor} expired at {binding.expires_at}"
    else:
        paid_to, reason = None, "not bound to any distributor"
    return Attribution(
        paid_to=paid_to, last_click=last_click, assists=tuple(assists), lives_watched=tuple(lives_watched),
        context=context, live=live.id if live is not None else None, reason=reason,
    )
