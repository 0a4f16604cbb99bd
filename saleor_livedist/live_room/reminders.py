"""Reminders before and when a live starts: everyone who clicked an invite link for it and has not joined is
reminded a set number of minutes before the scheduled start (REMINDER_OFFSETS, or the live's own offsets; the
periodic `send_due_reminders`) and when it starts, by e-mail (Django's mail backend) and, if configured, through
a signed webhook to the merchant's gateway (SMS, WeChat official account). Exactly once per person per live and
offset, whatever happens twice: the reminder's row is claimed under a unique key before anything is sent."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ..conf import MAX_REMINDER_OFFSET, get_setting, reminder_offsets
from ..i18n import DEFAULT_LANGUAGE, package_language
from ..identity import GUEST_PREFIX, user_pk
from ..inbox import broker
from ..models import (
    Alias, Click, FirstOrderCoupon, LiveCouponIssue, LiveSession, Reminder, ReminderOptOut, Watch,
)
from .coupons import first_order_title, issue_for_live

logger = logging.getLogger(__name__)

Notifier = Callable[[LiveSession, str, str | None], None]  # (live, person, e-mail or None)
_minutes_before: ContextVar[int] = ContextVar("livedist_reminder_minutes_before", default=0)


def minutes_before() -> int:
    """For a notifier: how many minutes before the live's scheduled start this reminder is; 0 when it started."""
    return _minutes_before.get()


def recipients(live: LiveSession, before: datetime | None = None) -> list[str]:
    """People who clicked a link to the live before `before` (default: its start), have not joined, and did not
    opt out."""
    before = before or live.actual_start
    if before is None:
        return []
    raw = set(Click.objects.filter(kind="live", target=live.id, at__lt=before)
              .values_list("identity", flat=True))
    stitched = dict(Alias.objects.filter(visitor__in=raw).values_list("visitor", "customer"))
    clicked = {stitched.get(identity, identity) for identity in raw}  # a visitor who signed up is that customer
    joined = set(Watch.objects.filter(live=live.id).values_list("viewer", flat=True))
    opted_out = set(ReminderOptOut.objects.filter(person__in=clicked).values_list("person", flat=True))
    return sorted(clicked - joined - opted_out)


def email_of(person: str) -> str | None:
    if person.startswith(GUEST_PREFIX):
        return person[len(GUEST_PREFIX):]
    pk = user_pk(person)
    if pk is None:
        return None  # an anonymous visitor: only the gateway can reach them, by visitor id
    return get_user_model().objects.filter(pk=pk).values_list("email", flat=True).first() or None


def language_of(person: str) -> str:
    """The language to write to the person in: their account's (`language_code`, as Saleor's User keeps it) if
    the package speaks it, else the project's LANGUAGE_CODE."""
    pk = user_pk(person)
    model = get_user_model()
    chosen = None
    if pk is not None and any(f.name == "language_code" for f in model._meta.get_fields()):
        chosen = model.objects.filter(pk=pk).values_list("language_code", flat=True).first()
    return package_language(chosen) or package_language(settings.LANGUAGE_CODE) or DEFAULT_LANGUAGE


def coupons_for(live: LiveSession, person: str) -> list[dict[str, str]]:
    """The live coupons issued to the person for this live (issued when the live started)."""
    return [{"code": code, "title": title} for code, title in LiveCouponIssue.objects.filter(
        coupon__live=live, person=person).order_by("coupon_id").values_list("code_id", "coupon__title")]


def first_order_coupon_for(person: str) -> FirstOrderCoupon | None:
    """The person's first-order coupon (two-sided invites), once the store made it and while it is valid."""
    people = [person, *Alias.objects.filter(customer=person).values_list("visitor", flat=True)]
    return FirstOrderCoupon.objects.filter(person__in=people, status=FirstOrderCoupon.ISSUED,
                                           valid_until__gt=timezone.now()).first()


def _first_order_line(person: str) -> str:
    from ..display import show

    coupon = first_order_coupon_for(person)
    if coupon is None:
        return ""
    return "\n\n" + _("Your first-order coupon: %(code)s (%(title)s), valid until %(until)s.") % {
        "code": coupon.code, "title": first_order_title(coupon), "until": show(coupon.valid_until)}


def by_email(live: LiveSession, person: str, email: str | None) -> bool:
    """Django's mail backend, to the person's address, in their language; False (not sent) for an anonymous
    visitor."""
    if not email:
        return False
    with translation.override(language_of(person)):
        words = {"title": live.title, "url": live.stream_url or live.id, "minutes": minutes_before()}
        if minutes_before():
            from ..display import show

            subject = _("%(title)s starts in %(minutes)s minutes") % words
            text = _("%(title)s starts at %(when)s, in %(minutes)s minutes. Watch it here: %(url)s") % {
                **words, "when": show(live.scheduled_start)}
        else:
            subject = _("%(title)s is live now") % words
            text = _("%(title)s has started. Join now: %(url)s") % words
        for coupon in coupons_for(live, person):
            text += "\n\n" + _("Your live coupon: %(code)s (%(title)s), valid while the live is on air.") % coupon
        text += _first_order_line(person)
        send_mail(subject, text, None, [email])
    return True


def by_webhook(live: LiveSession, person: str, email: str | None) -> bool:
    """A signed POST to the merchant's gateway (SMS, WeChat official account); False when none is configured."""
    url = get_setting("REMINDER_WEBHOOK_URL")
    if not url:
        return False
    body = json.dumps({"type": "live.reminder", "live": live.id, "title": live.title, "person": person,
                       "email": email, "stream_url": live.stream_url, "coupons": coupons_for(live, person),
                       "minutes_before": minutes_before(), "starts_at": live.scheduled_start.isoformat(),
                       **_first_order_field(person)},
                      sort_keys=True).encode()
    secret = str(get_setting("REMINDER_WEBHOOK_SECRET")).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Livedist-Signature": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the merchant's own gateway
        if response.status >= 300:
            raise OSError(f"the gateway answered {response.status}")
    return True


def _first_order_field(person: str) -> dict[str, Any]:
    coupon = first_order_coupon_for(person)
    if coupon is None:
        return {}
    return {"first_order_coupon": {"code": coupon.code, "valid_until": coupon.valid_until.isoformat()}}


# Where the built-in notifiers were before the live room had a package of its own: settings that name them there
# keep working (README, "Settings").
FORMER_PATHS = {
    "saleor_livedist.reminders.by_email": "saleor_livedist.live_room.reminders.by_email",
    "saleor_livedist.reminders.by_webhook": "saleor_livedist.live_room.reminders.by_webhook",
}


def notifier(path: str) -> Notifier:
    """The callable a REMINDER_NOTIFIERS entry names; ImportError if there is none."""
    return import_string(FORMER_PATHS.get(path, path))


def notifiers() -> list[tuple[str, Notifier]]:
    """The REMINDER_NOTIFIERS setting: dotted paths of callables (live, person, email) -> bool (True: sent,
    False: not for this person, e.g. no address; raise: failed)."""
    out = []
    for path in get_setting("REMINDER_NOTIFIERS"):
        out.append((path.rsplit(".", 1)[-1], notifier(path)))
    return out


def send_reminders(live_id: str, using: Iterable[tuple[str, Notifier]] | None = None) -> int:
    """Remind everyone due for this live; returns how many were reminded now. Safe to call twice, or from two
    workers at once: a person's reminder row is claimed before anything is sent. Each notifier is tried; the
    row says which delivered and which failed (sent, partial, failed, or skipped when none could reach them)."""
    live = LiveSession.objects.filter(id=live_id).first()
    if live is None:
        return 0
    using = list(using) if using is not None else notifiers()
    try:
        issue_for_live(live_id)  # the live's coupons to everyone invited so far, so reminders can carry them
    except Exception:
        logger.exception("could not issue the coupons of live %s; reminding without them", live_id)
    return _remind(live, recipients(live), 0, using)


def offsets_of(live: LiveSession) -> list[int]:
    """The minutes before the start at which the live's invited are reminded, largest first."""
    if live.reminder_offsets is not None:
        return reminder_offsets(live.reminder_offsets, f"live {live.id}'s reminder_offsets")
    return list(get_setting("REMINDER_OFFSETS"))


def due_offset(live: LiveSession, now: datetime) -> int | None:
    """The offset whose reminder is due at `now`: the smallest whose time has come, while the live has not
    started. An earlier offset is then past: someone who clicked after it was sent gets only this one."""
    if live.status != LiveSession.SCHEDULED or now >= live.scheduled_start:
        return None
    due = [m for m in offsets_of(live) if live.scheduled_start - timedelta(minutes=m) <= now]
    return min(due) if due else None


def send_due_reminders(now: datetime | None = None, using: Iterable[tuple[str, Notifier]] | None = None) -> int:
    """The periodic task's work (every minute): remind the invited of every scheduled live whose next reminder
    time has come; returns how many were reminded now. Due times are read from the live's scheduled start at
    each run, so rescheduling a live moves the reminders not sent yet; each offset reaches a person once."""
    now = now or timezone.now()
    using = list(using) if using is not None else notifiers()
    sent = 0
    for live in LiveSession.objects.filter(status=LiveSession.SCHEDULED, scheduled_start__gt=now,
                                           scheduled_start__lte=now + timedelta(minutes=MAX_REMINDER_OFFSET)):
        try:
            offset = due_offset(live, now)
        except ValueError:  # a live's offsets edited into something invalid: logged, the others go on
            logger.exception("live %s: reminder offsets", live.id)
            continue
        if offset is not None:
            sent += _remind(live, recipients(live, before=now), offset, using)
    return sent


def _remind(live: LiveSession, people: list[str], offset: int, using: list[tuple[str, Notifier]]) -> int:
    sent = 0
    token = _minutes_before.set(offset)
    try:
        for person in people:
            sent += _remind_one(live, person, offset, using)
    finally:
        _minutes_before.reset(token)
    return sent


def _remind_one(live: LiveSession, person: str, offset: int, using: list[tuple[str, Notifier]]) -> bool:
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(live=live, person=person, offset=offset, channel="")
    except IntegrityError:
        return False  # already reminded (or being reminded) for this live at this offset
    email = email_of(person)
    delivered, failed = [], []
    for name, notify in using:
        try:
            if notify(live, person, email):
                delivered.append(name)
        except Exception as exc:  # recorded on the row; never sent twice
            logger.warning("reminder %s for %s about %s failed: %s", name, person, live.id, exc)
            failed.append(f"{name}: {exc!r}")
    reminder.channel = ",".join(delivered)[:100]
    reminder.status = ("partial" if delivered else "failed") if failed else ("sent" if delivered else "skipped")
    reminder.error = "\n".join(failed)
    reminder.sent_at = timezone.now() if delivered else None
    reminder.save(update_fields=["channel", "status", "sent_at", "error"])
    return bool(delivered)


def set_opt_out(person: str, opt_out: bool) -> bool:
    if opt_out:
        ReminderOptOut.objects.get_or_create(person=person)
    else:
        ReminderOptOut.objects.filter(person=person).delete()
    return opt_out


def schedule(live_id: str) -> Any:
    """After the start commits: a Celery task where a broker is configured, else inline."""
    if broker.broker_configured():
        transaction.on_commit(lambda: broker.publish(broker.SEND_LIVE_REMINDERS, (live_id,)))
    else:
        transaction.on_commit(lambda: send_reminders(live_id))
