"""My tasks (a live's invite tasks: invited, entered, qualified, the target and the reward) and a live's
leaderboard, with the distributor's own place on it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..core.money import round_money
from ..db.rows import plain
from ..graphql.live import LEADERBOARD_ORDER, leaderboard, ranked
from ..graphql.schema import task_progress
from ..models import LiveSession, LiveStat
from .pages import Center, Route

LIVES_LISTED = 20


@dataclass(frozen=True)
class TaskRow:
    task: str
    description: str
    invited: int
    entered: int
    qualified: int
    target: int | None
    percent_done: int
    reward: str
    points: int
    completed_at: Any


def reward_text(task: Any) -> str:
    """The task's reward in words: per qualified invitee and/or once the target is reached."""
    parts = []
    if task.each is not None and _worded(task.each):
        parts.append(_("each qualified invitee: %(reward)s") % {"reward": _worded(task.each)})
    if task.reward is not None and task.target and _worded(task.reward):
        parts.append(_("at %(n)d qualified: %(reward)s") % {"n": task.target, "reward": _worded(task.reward)})
    return "; ".join(parts) or "-"


def _worded(reward: Any) -> str:
    bits = []
    if reward.points:
        bits.append(_("%(n)d points") % {"n": reward.points})
    if reward.cash:
        bits.append(_("%(amount)s in cash") % {"amount": plain(Decimal(reward.cash))})
    if reward.bonus_percent:
        bits.append(_("+%(percent)s%% commission") % {"percent": plain(Decimal(reward.bonus_percent))})
    return _(" + ").join(bits)


def _lives() -> list[LiveSession]:
    return list(LiveSession.objects.order_by("-scheduled_start")[:LIVES_LISTED])


def _chosen(center: Center, lives: list[LiveSession]) -> LiveSession | None:
    wanted = center.query("live")
    if wanted:
        return LiveSession.objects.filter(id=wanted).first()
    on_air = [live for live in lives if live.status == LiveSession.LIVE]
    return (on_air or lives or [None])[0]


def tasks(center: Center) -> HttpResponse:
    from ..inbox.processing import rules_source

    lives = _lives()
    live = _chosen(center, lives)
    rows = []
    if live is not None:
        ruleset = rules_source().current().ruleset
        for progress in task_progress(center.identity, live.id):
            task = ruleset.task(progress.task)
            done = min(100, int(100 * progress.qualified / progress.target)) if progress.target else 0
            rows.append(TaskRow(task=progress.task, description=progress.description, invited=progress.invited,
                                entered=progress.entered, qualified=progress.qualified, target=progress.target,
                                percent_done=done, reward=reward_text(task) if task else "-",
                                points=progress.points, completed_at=progress.completed_at))
    return center.render("tasks.html", {
        "title": _("My tasks"), "lives": lives, "live": live, "rows": rows,
        "not_found": bool(center.query("live")) and live is None}, area="tasks/")


def board(center: Center, live_id: str) -> HttpResponse:
    live = LiveSession.objects.filter(id=live_id).first()
    if live is None:
        return center.render("refusal.html", {"title": _("Not possible"),
                                              "message": _("There is no live %(id)s.") % {"id": live_id}}, status=404)
    by = center.query("by") or "gmv"
    if by not in LEADERBOARD_ORDER:
        by = "gmv"
    rows = leaderboard(live.id, by, 20)
    order = list(ranked(live.id, by).values_list("distributor", flat=True)[:1000])  # as the public board ranks
    mine = LiveStat.objects.filter(live=live.id, distributor=center.identity).first()
    my_rank = order.index(center.identity) + 1 if center.identity in order else None
    return center.render("leaderboard.html", {
        "title": _("Leaderboard"), "live": live, "rows": rows, "by": by, "my_rank": my_rank, "mine": mine,
        "my_gmv": round_money(mine.gmv, mine.currency) if mine is not None and mine.currency else None,
        "orders_by": [(key, center.url(f"leaderboard/{live.id}", by=key)) for key in LEADERBOARD_ORDER]},
        area="tasks/")


ROUTES = [
    Route("tasks/", get=tasks),
    Route(r"leaderboard/(?P<live_id>[-\w]{1,100})", get=board),
]
