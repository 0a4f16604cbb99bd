"""The invite tasks staff publish for one live: the list with each task's progress, publishing one (checked
with the whole rule set, refused with the loader's own messages) and withdrawing one, through the same
service as the API's liveTaskPublish and liveTaskWithdraw."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..live_room import published_tasks
from ..models import LiveSession, PointsGrant, PublishedTask, TaskProgress
from .access import MANAGE_PRODUCTS
from .pages import Console, Outcome, Route, paginate

NUMBERS = ("watched_minutes", "target", "reward_points", "each_points")


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    live = console.query("live")
    rows = PublishedTask.objects.all() if not live else PublishedTask.objects.filter(live_id=live)
    page = paginate(console, rows.order_by("-published_at", "task_id"), "tasks/", live=live)
    ids = [t.task_id for t in page.rows]
    progress = {row["task"]: row for row in TaskProgress.objects.filter(task__in=ids).values("task").annotate(
        distributors=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))}
    points = dict(PointsGrant.objects.filter(rule_ids__0__in=ids).values_list("rule_ids__0")
                  .annotate(n=Sum("points")).values_list("rule_ids__0", "n"))
    form = console.request.POST if outcome is not None and outcome.errors else {}
    return console.render("tasks.html", {
        "area": "tasks/", "page": page, "live": live, "form": form,
        "items": [{"task": t, "progress": progress.get(t.task_id, {}), "points": points.get(t.task_id, 0)}
                  for t in page.rows],
        "lives": list(LiveSession.objects.exclude(status=LiveSession.ENDED).order_by("scheduled_start")
                      .values_list("id", flat=True)[:200]),
        "can_edit": console.can(MANAGE_PRODUCTS),
        "publish_url": console.url("tasks/publish", live=live),
        "withdraw_url": console.url("tasks/withdraw", live=live),
    }, outcome)


def task_fields(form: Any) -> dict[str, Any]:
    """The form's inputs as the service takes them (what the API's liveTaskPublish passes): blanks left out."""
    fields: dict[str, Any] = {}
    for name in NUMBERS:
        value = form.get(name, "").strip()
        if value:
            try:
                fields[name] = int(value)
            except ValueError:
                raise ServiceError(name, "INVALID", _("enter a whole number")) from None
    bonus = form.get("reward_bonus_percent", "").strip()
    if bonus:
        try:
            fields["reward_bonus_percent"] = Decimal(bonus)
        except InvalidOperation:
            raise ServiceError("reward_bonus_percent", "INVALID", _("enter a percentage such as 2.5")) from None
    for flag in ("entered", "ordered"):
        if form.get(flag):
            fields[flag] = True
    if form.get("description", "").strip():
        fields["description"] = form["description"].strip()
    return fields


def publish(console: Console) -> HttpResponse:
    form = console.request.POST
    try:
        task = published_tasks.publish_task(form.get("live", "").strip(), form.get("task_id", "").strip(),
                                            published_by=console.staff.id, **task_fields(form))
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=_("The task %(task)s is published.") % {"task": task.task_id}))


def withdraw(console: Console) -> HttpResponse:
    try:
        task = published_tasks.withdraw_task(console.request.POST.get("task_id", ""))
    except ServiceError as exc:
        return listing(console, Outcome.of(exc))
    return listing(console, Outcome(notice=_("The task %(task)s is withdrawn; points already granted stay.") % {
        "task": task.task_id}))


ROUTES = [Route("tasks/", get=listing), Route("tasks/publish", post=publish, permission=MANAGE_PRODUCTS),
          Route("tasks/withdraw", post=withdraw, permission=MANAGE_PRODUCTS)]
