"""The live room in the API: public reading of lives, replays and clips; staff mutations to run them."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import graphene
from django.utils.translation import gettext as _

from ..live_room import lifecycle, lives, published_tasks, questions
from ..models import LiveClip, LiveReplay, LiveSession
from .payload import PermissionDenied, payload_mutation


class ReplayType(graphene.ObjectType):
    class Meta:
        name = "LiveReplay"

    id = graphene.String(required=True)
    url = graphene.String(required=True)
    available_from = graphene.DateTime(required=True)
    available_until = graphene.DateTime()


class ClipType(graphene.ObjectType):
    class Meta:
        name = "LiveClip"

    id = graphene.String(required=True)
    title = graphene.String(required=True)
    start_seconds = graphene.Int(required=True)
    end_seconds = graphene.Int(required=True)
    url = graphene.String(required=True)
    replay = graphene.Field(ReplayType)


class LiveType(graphene.ObjectType):
    class Meta:
        name = "Live"

    id = graphene.String(required=True)
    title = graphene.String(required=True)
    status = graphene.String(required=True, description="scheduled, live or ended")
    channel = graphene.String(required=True)
    scheduled_start = graphene.DateTime(required=True)
    actual_start = graphene.DateTime()
    actual_end = graphene.DateTime()
    featured_products = graphene.List(graphene.NonNull(graphene.String), required=True)
    stream_url = graphene.String(required=True)
    reminder_offsets = graphene.List(graphene.NonNull(graphene.Int), required=True,
                                     description="Minutes before the start at which the invited are reminded.")

    def resolve_reminder_offsets(root: Any, info: Any) -> list[int]:
        from ..live_room.reminders import offsets_of

        return offsets_of(root)
    replays = graphene.List(graphene.NonNull(ReplayType), required=True)
    clips = graphene.List(graphene.NonNull(ClipType), required=True)
    coupons = graphene.List(graphene.NonNull("saleor_livedist.graphql.coupons.LiveCouponType"), required=True,
                            description="Coupons valid only while this live is on air.")

    def resolve_coupons(root: LiveSession, info: Any) -> Any:
        return root.coupons.order_by("created_at", "id")

    def resolve_replays(root: LiveSession, info: Any) -> Any:
        return root.replays.order_by("available_from")

    def resolve_clips(root: LiveSession, info: Any) -> Any:
        return root.clips.order_by("start_seconds")


class PublishedTaskType(graphene.ObjectType):
    class Meta:
        name = "PublishedTask"
        description = "An invite task staff published for one live (a rule document kept in the database)."

    id = graphene.String(required=True)
    live = graphene.String(required=True)
    document = graphene.String(required=True, description="The rule document (YAML), as in a rule file.")
    published_at = graphene.DateTime(required=True)
    withdrawn_at = graphene.DateTime()

    def resolve_id(root: Any, info: Any) -> str:
        return root.task_id

    def resolve_live(root: Any, info: Any) -> str:
        return root.live_id


class QuestionType(graphene.ObjectType):
    class Meta:
        name = "LiveQuestion"

    id = graphene.Int(required=True)
    text = graphene.String(required=True)
    status = graphene.String(required=True, description="open or answered")
    asked_by = graphene.String(required=True, description="The distributor who queued it (masked).")
    customer = graphene.String(description="Whose question it is (masked).")
    created_at = graphene.DateTime(required=True)
    answered_at = graphene.DateTime()

    def resolve_asked_by(root: Any, info: Any) -> str:
        from ..identity import display_name

        return display_name(root.asked_by)

    def resolve_customer(root: Any, info: Any) -> str | None:
        from ..identity import display_name

        return display_name(root.customer) if root.customer else None


class LeaderboardRow(graphene.ObjectType):
    rank = graphene.Int(required=True)
    name = graphene.String(required=True, description="The distributor, masked.")
    invited = graphene.Int(required=True, description="Viewers who came through their link.")
    qualified = graphene.Int(required=True, description="Of those, viewers who qualified for an invite task.")
    orders = graphene.Int(required=True,
                          description="Paid orders placed on air through them, less cancelled or wholly refunded ones.")
    gmv = graphene.Decimal(required=True, description="What the customers kept of those orders (refunds come off).")
    currency = graphene.String(required=True)


LEADERBOARD_ORDER = {"gmv": ("-gmv", "-orders", "-invited"), "orders": ("-orders", "-gmv", "-invited"),
                     "invited": ("-invited", "-qualified", "-gmv"), "qualified": ("-qualified", "-invited", "-gmv")}


def ranked(live: str, by: str = "gmv") -> Any:
    """The live's counters (LiveStat) in the board's order; a distributor banned now is left off (their counters
    are kept: after an unban they are ranked again)."""
    from ..models import DistributorBan, LiveStat

    return (LiveStat.objects.filter(live=live)
            .exclude(distributor__in=DistributorBan.objects.values("distributor"))
            .order_by(*LEADERBOARD_ORDER[by], "distributor"))


def leaderboard(live: str, by: str = "gmv", first: int = 20) -> list[LeaderboardRow]:
    """One indexed query over the counters the engine keeps, as `ranked` orders them; names masked."""
    from ..core.money import round_money
    from ..db.rows import plain
    from ..identity import display_names

    rows = list(ranked(live, by)[: max(1, min(first, 100))])
    names = display_names([r.distributor for r in rows])
    return [
        LeaderboardRow(rank=n, name=names[r.distributor], invited=r.invited, qualified=r.qualified,
                       orders=r.orders, gmv=round_money(r.gmv, r.currency) if r.currency else plain(r.gmv),
                       currency=r.currency)
        for n, r in enumerate(rows, 1)
    ]


LEADERBOARD_CACHE_SECONDS = 2.0  # every viewer's widget polls every 3 s: one query per process per 2 s per board
LEADERBOARD_CACHE_SIZE = 1000
_board_lock = threading.Lock()
_boards: dict[tuple[str, str, int], tuple[float, list[LeaderboardRow]]] = {}


def cached_leaderboard(live: str, by: str, first: int) -> list[LeaderboardRow]:
    """The public board as it was at most LEADERBOARD_CACHE_SECONDS ago (a few seconds' lag is the point of a
    live board; thousands of viewers' widgets then cost one query per process every two seconds)."""
    key, clock = (live, by, first), time.monotonic()
    with _board_lock:
        hit = _boards.get(key)
    if hit is not None and hit[0] > clock:
        return hit[1]
    rows = leaderboard(live, by, first)
    with _board_lock:
        if len(_boards) >= LEADERBOARD_CACHE_SIZE:
            for stale in [k for k, (expires, _) in _boards.items() if expires <= clock] or list(_boards):
                del _boards[stale]
        _boards[key] = (clock + LEADERBOARD_CACHE_SECONDS, rows)
    return rows


class LiveQueries(graphene.ObjectType):
    leaderboard = graphene.List(
        graphene.NonNull(LeaderboardRow), required=True, live=graphene.String(required=True),
        by=graphene.String(description="gmv (default), orders, invited or qualified"), first=graphene.Int(),
        description="Distributors of a live ranked by GMV, orders, invited or qualified viewers (public, masked; "
                    "at most 2 s old).")
    live_questions = graphene.List(
        graphene.NonNull(QuestionType), required=True, live=graphene.String(required=True),
        status=graphene.String(), description="The host (or staff) sees the live's queue; a distributor sees the "
                                              "questions they queued.")
    lives = graphene.List(graphene.NonNull(LiveType), required=True, status=graphene.String(),
                          first=graphene.Int(), description="Lives, newest first (public).")
    live = graphene.Field(LiveType, id=graphene.String(required=True))

    def resolve_leaderboard(root: Any, info: Any, live: str, by: str | None = None, first: int | None = None) -> Any:
        by = by or "gmv"
        if by not in LEADERBOARD_ORDER:
            raise ValueError(_("'by' must be one of %(names)s, got %(by)r") % {
                "names": ", ".join(LEADERBOARD_ORDER), "by": by})
        return cached_leaderboard(live, by, max(1, min(first or 20, 100)))

    def resolve_live_questions(root: Any, info: Any, live: str, status: str | None = None) -> Any:
        from ..models import LiveQuestion

        session = LiveSession.objects.filter(id=live).first()
        identity, staff = info.context.identity, info.context.is_staff
        if session is None:
            return []
        if not identity and not staff:
            raise PermissionDenied(_("sign in to see questions"))
        rows = LiveQuestion.objects.filter(live=session)
        if not questions.can_host(session, identity, staff):
            rows = rows.filter(asked_by=identity)
        if status:
            rows = rows.filter(status=status)
        return rows[:500]

    def resolve_lives(root: Any, info: Any, status: str | None = None, first: int | None = None) -> Any:
        rows = LiveSession.objects.all()
        if status:
            rows = rows.filter(status=status)
        return rows[: min(max(first or 50, 1), 200)]

    def resolve_live(root: Any, info: Any, id: str) -> Any:
        return LiveSession.objects.filter(id=id).first()


def _staff_mutation(name: str, arguments: dict[str, Any], field: str, output: Any,
                    run: Callable[..., Any]) -> type:
    return payload_mutation(name, arguments, field, output, lambda context, **kw: run(**kw), staff=True)


REMINDER_OFFSETS = ("Minutes before the start to remind the invited, e.g. [30, 5]; [] for none before the start; "
                    "left out: the REMINDER_OFFSETS setting.")


def live_mutations() -> type:
    schedule = _staff_mutation(
        "LiveSchedule", {
            "id": graphene.String(required=True), "title": graphene.String(required=True),
            "scheduled_start": graphene.DateTime(required=True),
            "featured_products": graphene.List(graphene.NonNull(graphene.String), required=True),
            "host": graphene.String(), "channel": graphene.String(), "stream_url": graphene.String(),
            "reminder_offsets": graphene.List(graphene.NonNull(graphene.Int), description=REMINDER_OFFSETS),
        }, "live", LiveType,
        lambda id, title, scheduled_start, featured_products, host="", channel="", stream_url="",
        reminder_offsets=None: lives.schedule_live(
            id, title, scheduled_start, featured_products, host=host, channel=channel, stream_url=stream_url,
            reminder_offsets=reminder_offsets))
    reschedule = _staff_mutation(
        "LiveReschedule", {
            "id": graphene.String(required=True), "scheduled_start": graphene.DateTime(required=True),
            "reminder_offsets": graphene.List(graphene.NonNull(graphene.Int), description=REMINDER_OFFSETS),
        }, "live", LiveType,
        lambda id, scheduled_start, reminder_offsets=None: lives.reschedule_live(id, scheduled_start,
                                                                                reminder_offsets))
    start = _staff_mutation("LiveStart", {"id": graphene.String(required=True)}, "live", LiveType,
                            lambda id: lifecycle.start_live(id))
    end = _staff_mutation("LiveEnd", {"id": graphene.String(required=True)}, "live", LiveType,
                          lambda id: lifecycle.end_live(id))
    replay = _staff_mutation(
        "ReplayPublish", {"live_id": graphene.String(required=True), "id": graphene.String(required=True),
                          "url": graphene.String(required=True), "available_until": graphene.DateTime()},
        "replay", ReplayType,
        lambda live_id, id, url, available_until=None: lives.publish_replay(live_id, id, url, available_until))
    clip = _staff_mutation(
        "ClipCreate", {"live_id": graphene.String(required=True), "id": graphene.String(required=True),
                       "start_seconds": graphene.Int(required=True), "end_seconds": graphene.Int(required=True),
                       "title": graphene.String(), "url": graphene.String(), "replay_id": graphene.String()},
        "clip", ClipType,
        lambda live_id, id, start_seconds, end_seconds, title="", url="", replay_id=None: lives.create_clip(
            live_id, id, start_seconds, end_seconds, title=title, url=url, replay_id=replay_id))
    publish = payload_mutation(
        "LiveTaskPublish", {
            "live": graphene.String(required=True),
            "id": graphene.String(required=True, description="The task's id in the rules (unique, never reused)."),
            "description": graphene.String(),
            "watched_minutes": graphene.Int(description="Qualify: watched at least this many minutes."),
            "entered": graphene.Boolean(description="Qualify: entered the live."),
            "ordered": graphene.Boolean(description="Qualify: placed an order that was paid."),
            "target": graphene.Int(description="Qualified invitees that earn the reward once."),
            "reward_points": graphene.Int(), "reward_bonus_percent": graphene.Decimal(),
            "each_points": graphene.Int(description="Points for every qualified invitee."),
        }, "task", PublishedTaskType,
        lambda context, live, id, **fields: published_tasks.publish_task(
            live, id, published_by=context.identity or "", **{k: v for k, v in fields.items() if v is not None}),
        staff=True)
    withdraw = payload_mutation(
        "LiveTaskWithdraw", {"id": graphene.String(required=True)}, "task", PublishedTaskType,
        lambda context, id: published_tasks.withdraw_task(id), staff=True)
    return type("LiveMutations", (graphene.ObjectType,), {
        "live_task_publish": publish.Field(), "live_task_withdraw": withdraw.Field(),
        "live_schedule": schedule.Field(), "live_reschedule": reschedule.Field(), "live_start": start.Field(), "live_end": end.Field(),
        "replay_publish": replay.Field(), "clip_create": clip.Field(),
        "live_question_ask": _question_mutation("LiveQuestionAsk", ask=True).Field(),
        "live_question_answer": _question_mutation("LiveQuestionAnswer", ask=False).Field(),
    })


def _question_mutation(name: str, ask: bool) -> type:
    """Distributors queue questions; the host or staff mark them answered."""
    if ask:
        return payload_mutation(
            name, {"live": graphene.String(required=True), "text": graphene.String(required=True),
                   "customer": graphene.String(description="The identity of a customer bound to you, if the "
                                                              "question is theirs (NOT_YOUR_CUSTOMER otherwise).")},
            "question", QuestionType,
            lambda context, live, text, customer=None: questions.ask_question(live, context.identity, text,
                                                                          customer or ""))
    return payload_mutation(
        name, {"id": graphene.Int(required=True)}, "question", QuestionType,
        lambda context, id: questions.answer_question(id, context.identity, context.is_staff))


__all__ = ["LiveQueries", "live_mutations", "LiveType", "LiveReplay", "LiveClip"]
