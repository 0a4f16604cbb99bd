"""The live room's part of the engine: lives, replays and clips, viewers' watch time, and the invite tasks and
points it earns distributors. A mixin of Engine (engine.py), split out to keep each file readable."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..exceptions import ExtensionError
from ..rules import registry
from ..rules.model import Guards, Reward, Task
from ..rules.provider import ActiveRules
from .attribution import clip_key
from .events import Event
from .money import round_money
from .records import (
    ActionContext, Click, HeldInvitee, LiveRecord, OrderRecord, PaidOrder, PointsGrant, ReplayRecord, TaskCash,
    TaskProgress, WatchRecord,
)
from .store import Store


MAX_ACTION_POINTS = 10**9  # what one custom action may grant or take back at once (the column holds 2^31)


def _whole_points(action: str, points: Any) -> int | None:
    """What a custom action returned, as points: None, or a whole number within MAX_ACTION_POINTS."""
    if points is None:
        return None
    try:
        whole = int(points)
        fits = not isinstance(points, bool) and whole == points and abs(whole) <= MAX_ACTION_POINTS
    except (TypeError, ValueError, OverflowError):
        fits = False
    if not fits:
        raise ExtensionError(f"custom action {action!r} returned {str(points)[:40]!r}: an action returns None or "
                             f"a whole number of points from -{MAX_ACTION_POINTS} to {MAX_ACTION_POINTS}")
    return whole


_need_a_watch: tuple[Any, bool] = (None, True)  # (tasks, whether each of them needs a watch), for the last tasks seen


def _all_need_a_watch(tasks: tuple[Task, ...]) -> bool:
    """Whether every task qualifies only a viewer with a watch of the live (entered, or watched minutes)."""
    global _need_a_watch
    memo = _need_a_watch
    if memo[0] is not tasks:
        memo = _need_a_watch = (tasks, all(t.qualify.entered or t.qualify.watched_minutes is not None for t in tasks))
    return memo[1]


class LiveRoom:
    store: Store

    def _notice(self, event: Event, reason: str) -> None:
        raise NotImplementedError  # Engine's

    def _project(self, record: OrderRecord, active: ActiveRules, now: datetime | None = None) -> None:
        raise NotImplementedError  # Engine's

    def _banned(self, distributor: str, at: datetime) -> bool:
        raise NotImplementedError  # Engine's

    # ------------------------------------------------------------------ lives and viewers

    def _on_live_scheduled(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        live = self.store.get_live(d["live"]) or LiveRecord(id=d["live"])
        live.starts_at, live.products, live.host = d["starts_at"], frozenset(d["products"]), d["host"]
        self.store.put_live(live)

    def _on_live_started(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        live = self.store.get_live(d["live"]) or LiveRecord(id=d["live"])
        if live.started_at is not None:
            return self._notice(event, f"live {live.id} already started at {live.started_at.isoformat()}")
        live.started_at = event.at
        self.store.put_live(live)

    def _on_live_ended(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        live = self.store.get_live(d["live"]) or LiveRecord(id=d["live"])
        if live.ended_at is not None:
            return self._notice(event, f"live {live.id} already ended")
        live.ended_at = event.at
        self.store.put_live(live)
        silent = active.ruleset.viewing.silent_after_seconds
        for watch in self.store.open_watches(live.id):
            watch.close(event.at, silent, left=False)
            self.store.put_watch(watch)
            self._qualify(active, live.id, watch.viewer, event.at)

    def _on_replay_published(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        self.store.put_replay(ReplayRecord(id=d["replay"], live=d["live"], available_from=event.at, until=d["until"]))

    def _on_clip_published(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        """A clip converts like its replay, for as long as the replay is available (`until`), or for good when it
        was cut from the live itself. Kept with the replays, under a clip: key."""
        self.store.put_replay(ReplayRecord(id=clip_key(d["clip"]), live=d["live"], available_from=event.at,
                                           until=d["until"]))

    def _on_live_joined(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        live = self.store.get_live(d["live"])
        if live is not None and live.ended_at is not None and event.at >= live.ended_at:
            return self._notice(event, f"live {live.id} had ended at {live.ended_at.isoformat()}")
        viewer = self.store.resolve(d["viewer"])
        if d.get("signed_in"):
            self.store.mark_customer(viewer)
        watch = self.store.get_watch(d["live"], viewer) or WatchRecord(live=d["live"], viewer=viewer)
        if live is not None and live.ended_at is not None:  # sent on air, processed after the end
            silent = active.ruleset.viewing.silent_after_seconds
            if watch.extend_closed(event.at, live.ended_at, silent):
                self.store.put_watch(watch)
            return self._qualify(active, d["live"], viewer, live.ended_at)
        if watch.open_count == 0:
            watch.active_since = event.at
        watch.open_count += 1
        watch.seen(event.at, active.ruleset.viewing.silent_after_seconds)
        self.store.put_watch(watch)
        self._qualify(active, d["live"], viewer, event.at)

    def _on_live_heartbeat(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        viewer = self.store.resolve(d["viewer"])
        watch = self.store.get_watch(d["live"], viewer)
        if watch is None or watch.open_count == 0:
            return self._on_live_joined(event, d, active)  # a heartbeat implies presence
        if d.get("signed_in"):
            self.store.mark_customer(viewer)
        if watch.last_seen is None or event.at > watch.last_seen:
            watch.seen(event.at, active.ruleset.viewing.silent_after_seconds)
            self.store.put_watch(watch)
        self._qualify(active, d["live"], viewer, event.at)

    def _on_live_left(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        viewer = self.store.resolve(d["viewer"])
        watch = self.store.get_watch(d["live"], viewer)
        if watch is None or watch.open_count == 0:
            return self._notice(event, f"viewer {viewer} was not watching live {d['live']}")
        silent = active.ruleset.viewing.silent_after_seconds
        if watch.open_count == 1:
            watch.close(event.at, silent)  # up to the leave, or the silence before it
        else:
            watch.open_count -= 1
            watch.seen(event.at, silent)
        self.store.put_watch(watch)
        self._qualify(active, d["live"], viewer, event.at)

    # ------------------------------------------------------------------ invite tasks and points

    def _inviter(self, viewer: str, live_id: str | None, task: Task, at: datetime,
                 paid: PaidOrder | None = None) -> str | None:
        """The distributor whose invitee the viewer is for this task (docs/rules.md, "Who is an invitee"): the
        first whose link the viewer clicked, by `at`. A link to the live counts (any live, for scope 'all'; a
        coupon code counts as a click on its live's link); for 'ordered' tasks, also a link to the live's replay
        or a clip of it, or to a product if the order came from this live (any link for scope 'all'), clicked
        before the paid order was placed."""
        if task.qualify.ordered and paid is None:
            paid = self.store.paying_order(viewer)
        ordered = task.qualify.ordered and paid is not None
        any_link = False
        if paid is not None and ordered:
            at = min(at, paid.at)
            any_link = task.scope == "all" or paid.live == live_id
        for click in self.store.clicks(viewer):
            if click.at > at:
                break
            if click.kind == "live" and (task.scope == "all" or click.target == live_id):
                return click.distributor
            if ordered and (any_link or self._live_of(click) == live_id):
                return click.distributor
        return None

    def _live_of(self, click: Click) -> str | None:
        """The live a replay or clip link leads to."""
        if click.kind not in ("replay", "clip"):
            return None
        replay = self.store.get_replay(click.target if click.kind == "replay" else clip_key(click.target))
        return replay.live if replay is not None else None

    def _qualify(self, active: ActiveRules, live_id: str | None, viewer: str, at: datetime) -> None:
        """Count the viewer for every task they now qualify for, in this live (None: only tasks of scope 'all',
        for a buyer who watched no live)."""
        ruleset = active.ruleset
        if not ruleset.tasks:
            return
        if live_id is None and _all_need_a_watch(ruleset.tasks):
            return  # no live, no watch: no task can count the viewer
        if ruleset.guards.invitees == "customers" and not self.store.is_customer(viewer):
            return  # an anonymous visitor id counts once it is a customer's (registered, signed in, or paid)
        watch = self.store.get_watch(live_id, viewer) if live_id is not None else None
        if watch is None and _all_need_a_watch(ruleset.tasks):
            return
        paid: PaidOrder | None = None
        for task in ruleset.tasks:
            if task.scope == "live" and (live_id is None or not task.applies_to(live_id)):
                continue
            q = task.qualify
            if q.entered and watch is None:
                continue
            if q.watched_minutes is not None and (watch is None or watch.watched_seconds(
                    at, ruleset.viewing.silent_after_seconds) < q.watched_minutes * 60 - 1e-6):  # float seconds
                continue
            if q.ordered:
                paid = paid or self.store.paying_order(viewer)
                if paid is None or paid.at > at:
                    continue
            inviter = self._inviter(viewer, live_id, task, at, paid if q.ordered else None)
            if inviter is None or inviter == viewer:
                continue
            scope_key = live_id if task.scope == "live" and live_id is not None else ""
            if not self.store.add_qualified(task.id, scope_key, viewer):
                continue
            order = paid.order if q.ordered and paid is not None else None
            if self._banned(inviter, at):
                continue  # qualified while their inviter was banned: counts for nobody, held for nobody
            if not self._held(ruleset.guards, task, inviter, scope_key, viewer, live_id, at, order):
                self._count_invitee(active, task, inviter, scope_key, viewer, live_id, at, order)

    def _held(self, guards: Guards, task: Task, inviter: str, scope_key: str, invitee: str, live_id: str | None,
              at: datetime, order: str | None) -> bool:
        """Past the inviter's daily limit (guards.invitees_per_distributor_per_day), hold the qualification for
        review instead of counting it."""
        limit = guards.invitees_per_distributor_per_day
        if limit is None or self.store.count_invitee(inviter, at.astimezone(ZoneInfo(guards.time_zone)).date()) \
                <= limit:
            return False
        self.store.put_held_invitee(HeldInvitee(
            key=f"task:{task.id}:{scope_key}:{invitee}", task=task.id, scope_key=scope_key, invitee=invitee,
            inviter=inviter, live=live_id, order=order, at=at))
        return True

    def _count_invitee(self, active: ActiveRules, task: Task, inviter: str, scope_key: str, invitee: str,
                       live_id: str | None, at: datetime, order: str | None) -> None:
        """The invitee counts for the inviter: the leaderboard, task progress and rewards; for nothing while the
        inviter is banned (a banned distributor earns no task rewards or points)."""
        if self._banned(inviter, at):
            return
        if task.scope == "live" and live_id is not None and self.store.add_live_qualified(live_id, invitee):
            self.store.bump_live_stat(live_id, inviter, qualified=1)
        self._task_progress(active, task, inviter, scope_key, invitee, live_id, at, order)

    def _on_invitee_reviewed(self, event: Event, d: dict[str, Any], active: ActiveRules) -> None:
        """Staff's decision on a held invitee: approved, it counts now (dated by the review); rejected, never."""
        held = self.store.get_held_invitee(d["held"])
        if held is None:
            return self._notice(event, f"no invitee is held under {d['held']!r}")
        if held.status != "held":
            return self._notice(event, f"invitee {held.key} was already {held.status}")
        task = active.ruleset.task(held.task)
        if task is None and d["decision"] == "approve":
            return self._notice(event, f"task {held.task} is no longer in the rules: {held.key} stays held")
        status = "approved" if d["decision"] == "approve" else "rejected"
        self.store.put_held_invitee(replace(held, status=status, reviewed_at=event.at))
        if task is not None and status == "approved":
            self._count_invitee(active, task, held.inviter, held.scope_key, held.invitee, held.live, event.at,
                                held.order)

    def _task_progress(
        self, active: ActiveRules, task: Task, inviter: str, scope_key: str, invitee: str, live_id: str | None,
        at: datetime, order: str | None,
    ) -> None:
        """`order`: the invitee's paid order that qualified them (for 'ordered' tasks); task cash is booked on it."""
        if task.each is not None:
            self._reward(active, task, task.each, inviter, at, key=f"task:{task.id}:{scope_key}:{invitee}",
                         live_id=live_id, invitee=invitee, order=order)
        if task.target is None:
            return
        progress = self.store.get_task_progress(task.id, inviter, scope_key) or TaskProgress(
            task=task.id, distributor=inviter, scope_key=scope_key)
        progress.qualified += 1
        completed_now = progress.completed_at is None and progress.qualified >= task.target
        if completed_now:
            progress.completed_at = at
        self.store.put_task_progress(progress)
        if completed_now and task.reward is not None:
            self._reward(active, task, task.reward, inviter, at, key=f"task:{task.id}:{scope_key}:{inviter}:done",
                         live_id=live_id, order=order)

    def _reward(
        self, active: ActiveRules, task: Task, reward: Reward, beneficiary: str, at: datetime, key: str,
        live_id: str | None, invitee: str | None = None, order: str | None = None,
    ) -> None:
        if reward.cash and order is not None:  # cash needs a purchase (LD303): 'ordered' tasks always have one
            self._book_task_cash(active, task, reward, beneficiary, at, key, order)
        if reward.points:
            self.store.add_points(PointsGrant(
                key=key, beneficiary=beneficiary, points=reward.points, reason=f"task {task.id}",
                rule_ids=(task.id,), rules_version=active.version, at=at, live=live_id, invitee=invitee,
            ))
        for name, params in reward.actions:
            ctx = ActionContext(beneficiary=beneficiary, at=at, rules_version=active.version, task=task.id,
                                live=live_id, points=reward.points)
            self._run_action(name, params, ctx, key=f"{key}:{name}", rule_ids=(task.id,))

    def _book_task_cash(self, active: ActiveRules, task: Task, reward: Reward, beneficiary: str, at: datetime,
                        key: str, order_id: str) -> None:
        """Book the reward on the qualifying order, so it is settled, approved and reversed with that order."""
        record = self.store.get_order(order_id)
        if record is None or record.snapshot is None or any(r.key == key for r in record.rewards):
            return
        amount = round_money(reward.cash, record.snapshot.currency)
        if amount <= 0:
            return
        record.rewards.append(TaskCash(key=key, beneficiary=beneficiary, task=task.id, amount=amount,
                                       rules_version=active.version, at=at))
        self._project(record, active)

    def _run_action(self, name: str, params: Any, ctx: ActionContext, key: str, rule_ids: tuple[str, ...]) -> None:
        fn = registry.get_action(name)
        try:
            points = fn(ctx, dict(params))
        except Exception as exc:
            raise ExtensionError(f"custom action {name!r} failed: {exc!r}") from exc
        points = _whole_points(name, points)
        if points:
            self.store.add_points(PointsGrant(
                key=key, beneficiary=ctx.beneficiary, points=int(points), reason=f"action {name}",
                rule_ids=rule_ids, rules_version=ctx.rules_version, at=ctx.at, live=ctx.live,
            ))
