"""`livedist demo`: the sandbox project on an embedded PostgreSQL, the sample live session played through the
same database path Saleor's hooks use (inbox -> processing), then the ledger, balances and ranks."""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_DB = "livedist_demo"
PERSON_KEYS = ("customer", "visitor", "viewer", "distributor", "host")


def setup_django(database: str = DEMO_DB) -> None:
    """Point the sandbox at a fresh demo database (DATABASE_URL's server, else the embedded one)."""
    import psycopg

    from .database import embedded_url, parse_database_url

    base = os.environ.get("DATABASE_URL") or embedded_url()
    params = parse_database_url(base)
    admin = psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"] or None,
                            host=params["HOST"] or None, port=params["PORT"] or None, autocommit=True)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = _with_database(base, database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor_livedist.sandbox.settings"
    import django

    django.setup()


def use_demo_database(database: str = DEMO_DB) -> None:
    """Point the sandbox at the database `livedist demo` left (on DATABASE_URL's server, else the embedded one),
    without recreating it; a missing one is a one-line LiveDistError saying what to do."""
    import psycopg

    from ..exceptions import LiveDistError
    from .database import embedded_url, parse_database_url

    url = _with_database(os.environ.get("DATABASE_URL") or embedded_url(), database)
    params = parse_database_url(url)
    try:
        psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"] or None,
                        host=params["HOST"] or None, port=params["PORT"] or None).close()
    except psycopg.Error:
        raise LiveDistError(f"no sandbox database {database!r}: run `livedist demo` first, or set "
                            "DJANGO_SETTINGS_MODULE (and DATABASE_URL) to your project's") from None
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor_livedist.sandbox.settings"


def _with_database(url: str, database: str) -> str:
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + database))


def people() -> dict[str, dict[str, str]]:
    return json.loads((FIXTURES / "people.json").read_text(encoding="utf-8"))


def load_people() -> dict[str, str]:
    """Sandbox accounts for the people in the fixture stream; returns stream name -> identity."""
    from django.contrib.auth import get_user_model

    from ..identity import of_user

    users = get_user_model()
    mapping = {}
    for name, person in people().items():
        user, _ = users.objects.get_or_create(username=name, defaults={"email": person["email"]})
        if person.get("staff"):
            user.is_staff = user.is_superuser = True
            user.set_password(person.get("password", "demo"))
            user.save()
        mapping[name] = of_user(user)
    return mapping


def stream(mapping: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The fixture events with people renamed to their sandbox identities."""
    for line in (FIXTURES / "live-demo.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        event = json.loads(line)
        for key in PERSON_KEYS:
            if isinstance(event.get(key), str):
                event[key] = mapping.get(event[key], event[key])
        ref = event.get("ref")
        if isinstance(ref, str):
            event["ref"] = mapping.get(ref, ref)
        elif isinstance(ref, dict):
            ref["distributor"] = mapping.get(ref["distributor"], ref["distributor"])
        coupon = event.get("coupon")
        if isinstance(coupon, dict) and isinstance(coupon.get("distributor"), str):
            coupon["distributor"] = mapping.get(coupon["distributor"], coupon["distributor"])
        yield event


def room() -> dict[str, Any]:
    return json.loads((FIXTURES / "live-room.json").read_text(encoding="utf-8"))


def open_room(spec: dict[str, Any], mapping: dict[str, str]) -> None:
    """Before the events: the live session as staff schedule it, the task they publish for it and its coupon
    with a code per distributor, through the same services the API uses (the sandbox's voucher port)."""
    from ..live_room import coupons, published_tasks
    from ..core.events import parse_datetime
    from ..models import LiveSession

    live = spec["live"]
    LiveSession.objects.create(
        id=live["id"], title=live["title"], host=mapping.get(live["host"], live["host"]), channel=live["channel"],
        scheduled_start=parse_datetime(live["scheduled_start"], "scheduled_start"),
        featured_products=live["featured_products"], stream_url=live["stream_url"])
    for task in spec["tasks"]:
        published_tasks.publish_task(live["id"], task["id"], published_by=mapping["boss"],
                               **{k: v for k, v in task.items() if k != "id"})
    for raw in spec["coupons"]:
        coupon = coupons.create_coupon(live["id"], raw["id"], raw["title"], raw["kind"], raw["value"],
                                       raw["currency"], min_spent=raw.get("min_spent"), created_by=mapping["boss"])
        for name, code in raw["codes"].items():
            coupons.code_for(coupon, mapping[name], code=code)


def close_room(spec: dict[str, Any]) -> None:
    """After the events: the live as it ran (started and ended at the events' times), its replay and clips,
    and the coupon's store voucher valid for exactly the time it was on air."""
    from ..live_room import coupons
    from ..core.events import parse_datetime
    from ..models import LiveClip, LiveReplay, LiveSession

    live, replay = spec["live"], spec["replay"]
    session = LiveSession.objects.get(id=live["id"])
    session.actual_start = parse_datetime(live["actual_start"], "actual_start")
    session.actual_end = parse_datetime(live["actual_end"], "actual_end")
    session.status = LiveSession.ENDED
    session.save()
    coupons.close_window(session)
    kept = LiveReplay.objects.create(
        id=replay["id"], live=session, url=replay["url"],
        available_from=parse_datetime(replay["available_from"], "available_from"),
        available_until=parse_datetime(replay["available_until"], "available_until"))
    for clip in spec["clips"]:
        LiveClip.objects.create(live=session, replay=kept, **clip)


def room_report(spec: dict[str, Any], names: dict[str, str]) -> str:
    """The live room as the merchant would look it over: the live, replay, clips, the published task's
    progress and the coupon's codes with the orders placed with them."""
    from ..display import show
    from ..models import InboxEvent, LedgerEntry, LiveSession, PointsGrant, TaskProgress

    session = LiveSession.objects.get(id=spec["live"]["id"])
    lines = [(f"Live room: {session.title} ({session.id}), {session.status}, on air "
              f"{show(session.actual_start)} to {show(session.actual_end)}")]
    for replay in session.replays.all():
        lines.append(f"  replay {replay.id}: {replay.url}, until {show(replay.available_until)}")
    for clip in session.clips.order_by("start_seconds"):
        lines.append(f"  clip {clip.id}: {clip.title} ({clip.start_seconds}-{clip.end_seconds} s)")
    for task in session.published_tasks.all():
        progress = {p.distributor: p for p in TaskProgress.objects.filter(task=task.task_id)}
        points = {g.beneficiary: g.points for g in PointsGrant.objects.filter(rule_ids=[task.task_id])}
        for who, p in sorted(progress.items()):
            lines.append(f"  task {task.task_id} (published by staff): {names.get(who, who)} {p.qualified} "
                         f"qualified, {'done' if p.completed_at else 'open'}, {points.get(who, 0)} points")
    for coupon in session.coupons.all():
        lines.append(f"  coupon {coupon.id}: {coupon.title}, valid only while the live was on air")
        for code in coupon.codes.order_by("code"):
            used = InboxEvent.objects.filter(type="order.created", payload__coupon__code=code.code)
            orders = sorted(e.payload["order"] for e in used)
            paid = {order: amount for order, amount in LedgerEntry.objects.filter(
                order__in=orders, beneficiary=code.distributor, level=1).values_list("order", "amount")}
            lines.append(f"    {code.code} ({names.get(code.distributor, code.distributor)}): orders "
                         + (", ".join(f"{o} (commission {paid.get(o, 0):.2f})" for o in orders) or "none"))
    return "\n".join(lines)


def play() -> tuple[dict[str, str], dict[str, Any], list[dict[str, Any]], int, datetime]:
    """The sample live room and session, played into the current database: the people, the room staff open,
    the events through the inbox, approvals as of the last event, the room as it ran and the rules version.
    Returns the people (name -> identity), the room, the events, how many were applied and the last event's time."""
    from ..core.events import parse_event
    from ..inbox import processing

    mapping = load_people()
    spec = room()
    open_room(spec, mapping)
    events = list(stream(mapping))
    for event in events:
        processing.submit(event, process=False)  # as the hooks do: into the inbox...
    applied = processing.process_pending()  # ...and applied by the processing a worker runs
    last = max(parse_event(e).at for e in events)
    processing.settle(last)
    close_room(spec)
    processing.record_rule_version(processing.rules_source())
    return mapping, spec, events, applied, last


def pay_pools(last: datetime, names: dict[str, str]) -> str:
    """The month's pool bonuses, as the periodic task pays them once the month's after-sale window has passed."""
    from ..core.pools import period_of
    from ..display import show
    from ..distribution.pools import describe, due_at, pay_period
    from ..inbox import processing

    active = processing.rules_source().current()
    lines = []
    for pool in active.ruleset.pools:
        period = period_of(pool.period, last, pool.time_zone)
        due = due_at(period, active.ruleset)
        lines.append(f"pool bonuses as of {show(due)} (the after-sale window of {period.key} has passed):")
        lines.append(describe(pay_period(active.ruleset, active.version, pool, period, due), names))
    return "\n".join(lines)


def points_report(names: dict[str, str]) -> str:
    """What each distributor's points buy under the rules' `redemption`, and the richest one spending the minimum on
    a gift card as `redeemPoints` would (exactly once: the request id is fixed)."""
    from ..distribution.redemption import points_balance, redeem, redemption_options
    from ..models import Distributor, PointsRedemption

    lines = []
    for who in Distributor.objects.order_by("joined_at", "id").values_list("id", flat=True):
        options = redemption_options(who)
        if options is None:
            return "points redemption: not offered (the rules have no 'redemption' section)"
        if not lines:
            lines.append(f"points redemption ({options.step} points = {options.step_value:.2f} {options.currency}, "
                         f"from {options.minimum} points; a voucher or a gift card):")
        buys = (f"buys up to {options.max_value:.2f} {options.currency} for {options.max_points} points"
                if options.max_points else f"needs {options.minimum - options.balance} more points")
        lines.append(f"  {names.get(who, who)}: {options.balance} points, {buys}")
    richest = max(Distributor.objects.values_list("id", flat=True), key=points_balance, default=None)
    options = redemption_options(richest) if richest else None
    if options is not None and options.max_points and PointsRedemption.GIFT_CARD in (o.kind for o in options.offers):
        made = redeem(richest, "demo-redemption", options.minimum, PointsRedemption.GIFT_CARD)
        lines.append(f"  {names.get(richest, richest)} redeems {made.points} points: a {made.value:.2f} {made.currency} "
                     f"gift card ({made.status}), {points_balance(richest)} points left")
    return "\n".join(lines)


def next_live_report(mapping: dict[str, str], names: dict[str, str]) -> str:
    """After the session: a new visitor clicking bob's link gets the rules' first-order coupon (the two-sided
    invite) through the click service the endpoint uses; then staff schedule the next live, two customers click a
    link to it, and the reminders go out 30 and 5 minutes before its start (each once: the 5-minute run repeated
    sends nothing), by e-mail through Django's mail backend (kept in memory here)."""
    from datetime import timedelta

    from django.core import mail
    from django.test.utils import override_settings
    from django.utils import timezone

    from ..display import show
    from ..distribution import services
    from ..distribution.invite_coupons import first_order_coupon_of
    from ..inbox import processing
    from ..live_room import lives, reminders

    lines = ["after the live:"]
    bob = mapping["bob"]
    link = services.create_share_link(bob, "product", "p-dress")
    click = services.record_click(link.token, None, address="192.0.2.7")
    coupon = first_order_coupon_of(click.visitor)
    if coupon is None:
        lines.append("  first-order coupon: not offered (the rules have no 'invite_coupon' section)")
    else:
        off = f"{coupon.value:.0f}%" if coupon.kind == "percent" else f"{coupon.value:.2f} {coupon.currency}"
        spend = f" of {coupon.min_spent:.2f} or more" if coupon.min_spent else ""
        lines.append(f"  a new visitor clicks {names.get(bob, bob)}'s link to p-dress: a first-order coupon, {off} off "
                     f"a first order{spend}, until {show(coupon.valid_until)} ({coupon.status}; {names.get(bob, bob)} "
                     "is paid by the rules as for any invitee)")
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    live = lives.schedule_live("live-2", "Winter coats, live", start, ["p-coat"],
                               host=mapping.get("host-mei", "host-mei"), channel="default",
                               stream_url="https://live.example.com/live-2")
    to_live = services.create_share_link(bob, "live", live.id)
    for name in ("v09", "v10"):
        services.record_click(to_live.token, None, viewer=mapping[name], address=f"192.0.2.{20 + int(name[1:])}")
    processing.process_pending()
    lines.append(f"  live-2 {live.title} scheduled for {show(start)}; v09 and v10 clicked {names.get(bob, bob)}'s "
                 f"link to it; reminders {', '.join(str(m) for m in reminders.offsets_of(live))} minutes before:")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        for minutes in (30, 5, 5):
            sent = reminders.send_due_reminders(start - timedelta(minutes=minutes),
                                                using=[("email", reminders.by_email)])
            subjects = sorted({m.subject for m in mail.outbox})
            lines.append(f"    at {show(start - timedelta(minutes=minutes))}: {sent} reminded"
                         + (f" ({'; '.join(subjects)})" if sent else " (each offset reaches a person once)"))
            mail.outbox = []
    return "\n".join(lines)


def run(out: TextIO, serve: bool = False, address: str = "127.0.0.1:8000") -> int:
    out.write("livedist demo: starting the sandbox on PostgreSQL...\n")
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from ..inbox import processing
    from ..core.report import render_text, summary
    from ..db.store import DbStore
    from ..display import show

    mapping, spec, events, applied, last = play()
    out.write(f"{len(events)} events in the inbox, {applied} applied (a redelivered one was ignored); "
              f"approvals as of {show(last)}\n\n")
    names = {identity: name for name, identity in mapping.items()}
    out.write(pay_pools(last, names) + "\n\n")
    doc = _rename(summary(DbStore(), processing.rules_source().current().version), names)
    out.write(render_text(doc) + "\n\n" + room_report(spec, names) + "\n\n" + points_report(names) + "\n\n"
              + next_live_report(mapping, names) + "\n")
    if serve:
        return _serve(out, address, mapping)
    return 0


def _rename(value: Any, names: dict[str, str]) -> Any:
    """Show the merchant the demo's people by name (the identities are user:<pk>)."""
    if isinstance(value, dict):
        return {names.get(k, k) if isinstance(k, str) else k: _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def _serve(out: TextIO, address: str, mapping: dict[str, str]) -> int:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from ..web.endpoints import sandbox_token

    alice = get_user_model().objects.get(username="alice")
    out.write(
        f"\nThe sandbox is serving on http://{address}/\n"
        f"  GraphQL:  http://{address}/graphql/   (POST {{\"query\": \"{{ me {{ rank balances {{ currency pending approved }} }} }}\"}})\n"
        f"  as alice: Authorization: Bearer {sandbox_token(alice)}\n"
        f"  alice's distributor center: http://{address}/center/#token={sandbox_token(alice)}\n"
        f"  admin:    http://{address}/admin/   (user boss, password demo)\n"
        f"  console:  http://{address}/console/   (the merchant's pages; sign in as boss)\n"
        "Press Ctrl+C to stop.\n"
    )
    out.flush()
    call_command("runserver", address, use_reloader=False, verbosity=0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.stdout, serve="--serve" in sys.argv))
